"""bench/grpo_realistic.py: its locally trained Qwen-style tokenizer, and an end-to-end run of the
benchmark on a SHRUNK model (2 layers, hidden 64, vocabulary 1024) so it takes seconds. No speed or
memory ratio is asserted (the real size is measured by hand: bench/RESULTS.md), only that every
figure is there and positive and that both frameworks generated the same, full-length completions."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"
BENCH = BENCH_DIR / "grpo_realistic.py"

needs_trl = pytest.mark.skipif(importlib.util.find_spec("trl") is None,
                               reason="TRL is not installed (pip install -e '.[dev]' or '.[bench]')")
SHRUNK = ["--layers", "2", "--hidden", "64", "--heads", "4", "--kv-heads", "2", "--intermediate", "128",
          "--vocab", "1024"]


@pytest.fixture(scope="module")
def realistic():
    sys.path.insert(0, str(BENCH_DIR))
    try:
        import grpo_realistic
        yield grpo_realistic
    finally:
        sys.path.remove(str(BENCH_DIR))


def test_tokenizer_has_qwen_layout_and_an_unreachable_eos(realistic):
    vocab = 1024
    texts = ["Compute 482+201.\n482+201=683", "Solve 3x + 4 = 19. Think step by step."] * 50
    tokenizer, trained = realistic.build_tokenizer(vocab, texts)
    bpe = vocab - realistic.QWEN_TAIL  # 731, as Qwen2.5's 151,643 under 151,936 rows
    assert 256 < trained <= bpe
    assert tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_start|>", "<|im_end|>"]) == [bpe, bpe + 1, bpe + 2]
    assert tokenizer.eos_token_id == vocab == len(tokenizer) - 1  # past the model's last output row
    assert tokenizer.pad_token_id == bpe
    text = tokenizer.apply_chat_template([{"role": "user", "content": "Compute 482+201."}], tokenize=False,
                                         add_generation_prompt=True)
    assert text == ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                    "<|im_start|>user\nCompute 482+201.<|im_end|>\n<|im_start|>assistant\n")
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert ids[0] == bpe + 1 and tokenizer.decode(ids) == text
    digits = tokenizer("482", add_special_tokens=False)["input_ids"]
    assert len(digits) == 3  # Qwen2's split: one token per digit
    assert max(ids) < vocab


@needs_trl
def test_shrunk_run_prints_both_frameworks_memory_and_the_ratios_last(tmp_path):
    out_json = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), *SHRUNK, "--new-tokens", "8", "--steps", "2", "--warmup", "0",
         "--threads", "1", "--workdir", str(tmp_path / "work"), "--json", str(out_json)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    lines = proc.stdout.strip().splitlines()
    last = re.fullmatch(r"ratios: TRL s/step / r1 s/step (\d+\.\d\d), r1 peak RSS / TRL peak RSS (\d+\.\d\d), "
                        r"TRL CPU s/step / r1 CPU s/step (\d+\.\d\d)", lines[-1])
    assert last, lines[-1]
    assert all(float(x) > 0 for x in last.groups())
    data = json.loads(out_json.read_text())
    assert data["world"]["vocab"] == 1024 and data["world"]["shape"]["layers"] == 2
    for name in ("trl", "r1"):
        res = data["results"][name]
        assert res["tokens_per_step"] == 2 * 4 * 8  # eos unreachable: every completion is 8 tokens
        assert len(res["step_s"]) == 2 and all(t > 0 for t in res["step_s"])
        assert len(res["cpu_s"]) == 2 and all(t > 0 for t in res["cpu_s"])
        memory = res["memory"]
        assert memory["peak_mb"] >= max(memory["step_peak_mb"]) > 0
        # each phase timed once per step with its peak (r1 and TRL alike), none above the step's
        assert set(res["phases"]) == {"generate", "reference", "policy_forward", "backward", "optimizer"}, name
        assert all(0 < v["peak_mb"] <= max(memory["step_peak_mb"]) and v["s"] > 0 for v in res["phases"].values())
        assert memory["peak_mb"] >= memory["setup_rss_mb"] > 0
    parts = data["results"]["parts"]
    assert set(parts["parts"]) == {"generate", "reward", "reference", "fwd_bwd", "optimizer"}
    assert all(v > 0 for v in parts["parts"].values())
    assert all(m["peak_mb"] >= m["before_mb"] > 0 for m in parts["memory"].values())
    assert any(line.startswith("r1 memory (GiB): peak RSS") for line in lines)
    assert any(line.startswith("r1 step phases (mean per timed step; peak RSS while each ran)") for line in lines)
