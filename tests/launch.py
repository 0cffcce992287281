"""Start a script on N CPU processes (gloo), the way a user would, and never leave workers behind.

    launch(["script.py", "arg"], processes=2)                  # accelerate launch (DDP on CPU)
    launch(["tests/fsdp2_cli.py", "grpo", ...], processes=2, torchrun=True)

One thread per process, no GPU visible. A run that outlives `timeout` (a hung collective) is stopped
with its workers, so none is left behind, and the test fails.
"""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(args: list[str], processes: int = 2, timeout: int = 300, torchrun: bool = False
           ) -> subprocess.CompletedProcess:
    """Run `args` (a script or `-m module` and its arguments); asserts exit 0 and returns the result.

    accelerate: `--multi_gpu` is what makes it start several CPU processes through torchrun
    (`--cpu` alone starts several only through mpirun); with 1 process, plain `--cpu`."""
    # PYTHONFAULTHANDLER: a worker that aborts (SIGABRT) prints where each of its threads was
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "CUDA_VISIBLE_DEVICES": "",
           "PYTHONFAULTHANDLER": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}  # tests.*
    if torchrun:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes),
               "--master_port", str(free_port())]
    else:
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(processes),
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "--main_process_port", str(free_port()), "--multi_gpu" if processes > 1 else "--cpu"]
    proc = subprocess.Popen(cmd + [str(a) for a in args], env=env, cwd=ROOT, text=True, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # torchrun puts its workers in sessions of their own: SIGTERM lets it stop them, then kill
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        raise AssertionError(f"{' '.join(map(str, args[:3]))} ran past {timeout} s (hung collective?):\n"
                             f"{(out + err)[-3000:]}") from None
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    assert done.returncode == 0, _without_launcher_traceback(out + err)[-4000:]
    return done


def _without_launcher_traceback(text: str) -> str:
    """The output without the launcher's own traceback: it only says a worker failed, and at the end of
    the output it would push the workers' last lines (the actual error) out of the test's message.
    The launcher's summary (which rank, which signal) stays."""
    end = text.rfind("ChildFailedError")
    start = text.rfind("Traceback (most recent call last):", 0, end)
    if end < 0 or start < 0:
        return text
    return text[:start] + "[the launcher's traceback]\n" + text[text.find("\n", end) + 1:]
