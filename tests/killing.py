"""Run a training script in a child process and SIGKILL it once its checkpoint reaches a step."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch


def checkpoint_step(out: Path) -> int:
    """Step of output_dir/checkpoint, 0 when none is there (yet, or mid-swap)."""
    try:
        return torch.load(out / "checkpoint" / "trainer_state.pt", weights_only=False)["step"]
    except (FileNotFoundError, EOFError, RuntimeError):
        return 0


def kill_after_checkpoint(script: str, out: Path, step: int, timeout: float) -> int:
    """Start `python -c script` (one thread), SIGKILL it at the first checkpoint >= step; returns the
    step of the checkpoint it left behind."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.time() + timeout
    while checkpoint_step(out) < step and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    return checkpoint_step(out)


def interrupt_at(monkeypatch, module, name: str, step: int) -> None:
    """Make `module.name(cfg, run, step)` (a trainer's step function) raise at `step`, as a Ctrl-C would;
    `monkeypatch.undo()` or another setattr restores it."""
    real = getattr(module, name)

    def stopping(cfg, state, at):
        if at == step:
            raise KeyboardInterrupt
        return real(cfg, state, at)

    monkeypatch.setattr(module, name, stopping)
