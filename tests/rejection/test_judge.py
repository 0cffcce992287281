"""The generative judge's client against real servers on 127.0.0.1 (tests/rejection/servers.py):
strict verdict parsing with unparseable replies counted, the request it sends, the key from the
environment, concurrency, retries with backoff, and one-line errors for a refused connection, a
server that never answers, and a request the server rejects. The same client against `vllm serve`
is in test_judge_vllm.py."""

from __future__ import annotations

import threading
import time

import pytest

from r1.config import load_config
from r1.errors import R1Error
from r1.rejection import RejectionConfig
from r1.rejection.judge import Judge, JudgeSettings, parse_verdict
from tests.rejection.servers import canned_judge, refused_url, silent_server

PROMPT = "P={problem}|R={reference}|A={prediction}"


def judge(url: str, **extra) -> Judge:
    base = dict(base_url=url, model="judge-model", prompt=PROMPT, timeout=5.0, retries=2, backoff=0.05,
                concurrency=4)
    return Judge(JudgeSettings(**{**base, **extra}))


def prediction(request: dict) -> str:
    return request["body"]["messages"][0]["content"].split("|A=")[1]


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message
    return message


REPLIES = {
    "good": "The two are the same number.\nVERDICT: CORRECT",
    "bad": "VERDICT: INCORRECT\n",
    "chatty": "VERDICT: CORRECT\nHope that helps!",  # the verdict must be the last line
    "lower": "verdict: correct",
    "maybe": "VERDICT: PROBABLY",
    "html": b"<html>502 from a proxy, but status 200</html>",
    "no choices": {"choices": []},
    "null content": {"choices": [{"message": {"role": "assistant", "content": None}}]},
}


def test_verdicts_are_strict_and_every_unparseable_one_is_a_rejection():
    with canned_judge(lambda request: (200, REPLIES[prediction(request)])) as (url, seen):
        items = [("Compute 3+4.", "7", name) for name in REPLIES]
        verdicts = judge(url).verdicts(items)
    assert [v for v, _ in verdicts] == [True, False, None, None, None, None, None, None]
    assert verdicts[0][1] == REPLIES["good"] and verdicts[5][1] is None  # the raw reply comes back
    assert len(seen) == len(REPLIES)  # one request each, none retried
    request = seen[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["model"] == "judge-model" and request["body"]["temperature"] == 0
    assert request["body"]["max_tokens"] == 512
    assert {prediction(r) for r in seen} == set(REPLIES)
    assert all(r["body"]["messages"][0]["content"].startswith("P=Compute 3+4.|R=7|A=") for r in seen)
    assert "Authorization" not in request["headers"]  # no key in the environment: none sent


def test_parse_verdict_reads_only_the_last_line():
    assert parse_verdict("Let me think.\n\nVERDICT: INCORRECT\n\n") is False
    assert parse_verdict("  VERDICT: CORRECT  ") is True
    assert parse_verdict("VERDICT:CORRECT") is None and parse_verdict("VERDICT: CORRECT.") is None
    assert parse_verdict("") is None


def test_score_sends_problem_reference_and_the_response_after_its_reasoning(monkeypatch):
    monkeypatch.setenv("MY_JUDGE_KEY", "sk-test-123")
    records = [{"id": "a", "problem": "Name the capital of France.", "answer": "Paris"},
               {"id": "b", "problem": "Name the capital of Italy.", "answer": "Rome"}]
    completions = ["<think>It is Paris.</think>Paris", "<think>Milan? no.</think>It is Milan."]
    def paris_only(request):
        return 200, "VERDICT: CORRECT" if "Paris" in prediction(request) else "VERDICT: INCORRECT"

    with canned_judge(paris_only) as (url, seen):
        client = judge(url, api_key_env="MY_JUDGE_KEY", extra_body={"top_k": 1}, concurrency=1)
        scores = client.score("judge", records, completions)
    assert scores == [("Paris", True), ("It is Milan.", False)]
    assert [r["body"]["messages"][0]["content"] for r in seen] == [
        "P=Name the capital of France.|R=Paris|A=Paris", "P=Name the capital of Italy.|R=Rome|A=It is Milan."]
    assert all(r["headers"]["Authorization"] == "Bearer sk-test-123" for r in seen)
    assert seen[0]["body"]["top_k"] == 1  # extra_body travels with every request
    assert "sk-test-123" not in client.settings.model_dump_json()  # only the variable's name is kept


def test_a_record_without_reference_is_refused():
    with pytest.raises(R1Error, match="record q7 has no 'answer' field"):
        judge("http://127.0.0.1:9/v1").reference({"id": "q7", "problem": "Say hi."})


def test_requests_run_concurrently_up_to_the_limit():
    active, peak, lock = [0], [0], threading.Lock()

    def slow(request):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.3)
        with lock:
            active[0] -= 1
        return 200, "VERDICT: CORRECT"

    with canned_judge(slow) as (url, seen):
        started = time.monotonic()
        verdicts = judge(url, concurrency=4).verdicts([("p", "r", str(i)) for i in range(8)])
        elapsed = time.monotonic() - started
    assert [v for v, _ in verdicts] == [True] * 8 and len(seen) == 8
    assert peak[0] == 4
    assert 0.6 <= elapsed < 2.0  # two waves of four, not eight requests one after another (2.4 s)


def test_5xx_and_429_are_retried_with_backoff():
    tries: dict[str, int] = {}

    def flaky(request):
        name = prediction(request)
        tries[name] = tries.get(name, 0) + 1
        if tries[name] == 1:
            return 429, {"error": {"message": "slow down"}}
        if tries[name] == 2:
            return 503, {"error": {"message": "overloaded"}}
        return 200, "VERDICT: CORRECT"

    with canned_judge(flaky) as (url, seen):
        started = time.monotonic()
        client = judge(url, retries=2, backoff=0.2, concurrency=2)
        verdicts = client.verdicts([("p", "r", "x"), ("p", "r", "y")])
        elapsed = time.monotonic() - started
    assert [v for v, _ in verdicts] == [True, True]
    assert tries == {"x": 3, "y": 3}
    assert elapsed >= 0.2 + 0.4  # waited 0.2 s, then twice that


def test_a_server_error_on_every_try_is_one_line_naming_the_endpoint():
    with canned_judge(lambda r: (500, {"error": {"message": "CUDA out of memory.\nTraceback ..."}})
                      ) as (url, seen), pytest.raises(R1Error) as err:
        judge(url, retries=2, concurrency=1).verdicts([("p", "r", "x")])
    expected = f"judge {url}/chat/completions: HTTP 500: CUDA out of memory. Traceback ... (3 tries)"
    assert one_line(err) == expected
    assert len(seen) == 3


def test_a_rejected_request_stops_at_once():
    reply = {"error": {"message": "The model `judge-model` does not exist.", "code": 404}}
    with canned_judge(lambda r: (404, reply)) as (url, seen), pytest.raises(R1Error) as err:
        judge(url, concurrency=1).verdicts([("p", "r", "x")])
    assert one_line(err) == f"judge {url}/chat/completions: HTTP 404: The model `judge-model` does not exist."
    assert len(seen) == 1  # the same request would be refused again: no retry


def test_refused_connection_is_one_line_after_the_retries():
    url = refused_url()
    started = time.monotonic()
    with pytest.raises(R1Error) as err:
        judge(url, retries=2, backoff=0.1).verdicts([("p", "r", str(i)) for i in range(3)])
    elapsed = time.monotonic() - started
    assert one_line(err) == f"judge {url}/chat/completions: connection refused (3 tries)"
    assert 0.1 + 0.2 <= elapsed < 5


def test_a_server_that_never_answers_times_out_then_fails_in_bounded_time():
    with silent_server() as (url, accepted):
        started = time.monotonic()
        with pytest.raises(R1Error) as err:
            judge(url, timeout=0.5, retries=1, backoff=0.1, concurrency=1).verdicts([("p", "r", "x")])
        elapsed = time.monotonic() - started
        assert len(accepted) == 2  # the first try and one retry, each connected and left waiting
    assert one_line(err) == f"judge {url}/chat/completions: no reply within the 0.5 s timeout (2 tries)"
    assert 2 * 0.5 + 0.1 <= elapsed < 4


def test_judge_settings_are_checked(tmp_path):
    with pytest.raises(R1Error, match="task=judge needs judge.base_url"):
        Judge(JudgeSettings(model="m"))
    with pytest.raises(R1Error, match=r"key 'judge.concurrency' = 0: Input should be greater than or equal to 1"):
        load_config(RejectionConfig, None, ["output_dir=out", "model=m", "judge.concurrency=0"])
    recipe = tmp_path / "r.yaml"
    recipe.write_text("output_dir: out\nmodel: m\njudge:\n  prompt: 'Grade {prediction}'\n")
    with pytest.raises(R1Error) as err:
        load_config(RejectionConfig, recipe)
    assert "judge.prompt" in one_line(err) and "{problem}, {reference}" in str(err.value)
