"""A generative judge for answers that rules cannot check, through any OpenAI-compatible chat endpoint.

DeepSeek-R1 (section 2.3.3) widened its rejection-sampling data with prompts whose answers no rule
can check, judged by DeepSeek-V3 from the reference answer and the model's prediction. Here any
server that speaks OpenAI's `/v1/chat/completions` plays that part: `vllm serve`, SGLang,
llama.cpp's server, or a hosted API. The key comes from an environment variable whose *name* the
config holds, so it never lands in a recipe or in the saved config.

Verdicts are parsed strictly: the reply's last non-empty line must be exactly `VERDICT: CORRECT` or
`VERDICT: INCORRECT`. Anything else (a missing line, another wording, a body that is not an OpenAI
chat completion) is an unparseable verdict: the sample is rejected and counted as such.

Requests run on a thread pool, each with a timeout; a refused connection, a timeout, HTTP 429 or a
5xx is retried after an exponentially growing wait. When the tries run out, or the server rejects a
request outright (another 4xx: a wrong model name, a bad key), the stage stops with one line naming
the endpoint and the cause. Only the standard library's urllib is used.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from r1.errors import R1Error

DEFAULT_PROMPT = """You are checking a student's final answer against the reference answer.

Problem:
{problem}

Reference answer:
{reference}

Student's final answer:
{prediction}

Is the student's answer equivalent to the reference answer? Think briefly if you need to, then end \
your reply with one line that is exactly "VERDICT: CORRECT" or exactly "VERDICT: INCORRECT"."""
PLACEHOLDERS = ("{problem}", "{reference}", "{prediction}")
_VERDICT = re.compile(r"VERDICT: (CORRECT|INCORRECT)")


class JudgeSettings(BaseModel):
    """Where the judge is and how it is asked. Used when task=judge."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, validate_assignment=True)

    base_url: str | None = None
    """The endpoint's OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (`vllm serve`)."""
    model: str | None = None
    """The model name the endpoint serves (vLLM: the model path, or its --served-model-name)."""
    api_key_env: str = "R1_JUDGE_API_KEY"
    """Name of the environment variable that holds the API key, sent as a Bearer token when set."""
    prompt: str = DEFAULT_PROMPT
    """The user message; {problem}, {reference} and {prediction} are replaced by the record's
    problem, its reference answer and the response after its reasoning."""
    reference_field: str = "answer"
    """The record field that holds the reference answer."""
    max_tokens: Annotated[int, Field(ge=1)] = 512
    """Longest reply of the judge (one that reasons before its verdict needs room)."""
    temperature: Annotated[float, Field(ge=0)] = 0.0
    """Sampling temperature of the judge (0: greedy, the same verdict every time)."""
    extra_body: dict[str, Any] = Field(default_factory=dict)
    """More request fields for servers that take them, e.g. vLLM's structured outputs
    {"structured_outputs": {"choice": ["VERDICT: CORRECT", "VERDICT: INCORRECT"]}}."""
    concurrency: Annotated[int, Field(ge=1)] = 8
    """Requests in flight at once."""
    timeout: Annotated[float, Field(gt=0)] = 60.0
    """Seconds a request may wait to connect, and for each read of the reply."""
    retries: Annotated[int, Field(ge=0)] = 3
    """Further tries after a refused connection, a timeout, HTTP 429 or a 5xx."""
    backoff: Annotated[float, Field(ge=0)] = 1.0
    """Seconds before the first retry; each later retry waits twice as long as the one before."""

    def check(self) -> None:
        """Refuse settings the judge cannot run with, in one line (an R1Error)."""
        if not self.base_url or not self.model:
            raise R1Error("judge: task=judge needs judge.base_url (e.g. http://127.0.0.1:8000/v1) and "
                          "judge.model")

    @field_validator("prompt")
    @classmethod
    def _has_placeholders(cls, prompt: str) -> str:
        missing = [p for p in PLACEHOLDERS if p not in prompt]
        if missing:
            raise ValueError(f"the judge prompt must contain {', '.join(missing)}")
        return prompt


def parse_verdict(reply: str | None) -> bool | None:
    """True/False from a reply whose last non-empty line is exactly the verdict; None otherwise.

    >>> parse_verdict("The answers match.\\nVERDICT: CORRECT"), parse_verdict("VERDICT: INCORRECT\\n")
    (True, False)
    >>> [parse_verdict(r) for r in ["VERDICT: CORRECT\\nbut wait", "verdict: correct", "VERDICT: 1", None]]
    [None, None, None, None]
    """
    lines = [line.strip() for line in (reply or "").splitlines() if line.strip()]
    match = _VERDICT.fullmatch(lines[-1]) if lines else None
    return None if match is None else match.group(1) == "CORRECT"


def prediction_of(completion: str) -> str:
    """What the judge grades: the response after its reasoning (all of it when there is no </think>).

    >>> prediction_of("<think>3+4=7</think><answer>7</answer>"), prediction_of("just 7")
    ('<answer>7</answer>', 'just 7')
    """
    _, closed, after = completion.rpartition("</think>")
    return (after if closed and after.strip() else completion).strip()


def _cause(err: BaseException, timeout: float) -> str:
    """One line on why a request failed, for the error message."""
    reason = getattr(err, "reason", err)
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return f"no reply within the {timeout:g} s timeout"
    return (str(reason).splitlines() or [type(reason).__name__])[0]


class Judge:
    """Asks the endpoint for one verdict per (problem, reference, prediction); see the module docstring."""

    def __init__(self, settings: JudgeSettings):
        settings.check()
        self.settings = settings
        self.url = settings.base_url.rstrip("/") + "/chat/completions"
        key = os.environ.get(settings.api_key_env)
        self.headers = {"Content-Type": "application/json"}
        if key:
            self.headers["Authorization"] = f"Bearer {key}"

    def request_body(self, problem: str, reference: str, prediction: str) -> dict[str, Any]:
        s = self.settings
        text = s.prompt
        for placeholder, value in zip(PLACEHOLDERS, (problem, reference, prediction)):
            text = text.replace(placeholder, value)
        return {**s.extra_body, "model": s.model, "messages": [{"role": "user", "content": text}],
                "max_tokens": s.max_tokens, "temperature": s.temperature}

    def reply(self, body: dict[str, Any]) -> str | None:
        """The judge's message, or None when the server's answer is not an OpenAI chat completion."""
        raw = self._post(json.dumps(body).encode())
        try:
            content = json.loads(raw)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            return None
        return content if isinstance(content, str) else None

    def _post(self, payload: bytes) -> bytes:
        s = self.settings
        for attempt in range(s.retries + 1):
            if attempt:
                time.sleep(s.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(self.url, data=payload, headers=self.headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=s.timeout) as response:
                    return response.read()
            except urllib.error.HTTPError as err:
                detail = _error_detail(err)
                if err.code != 429 and err.code < 500:  # the same request would be refused again
                    raise R1Error(f"judge {self.url}: HTTP {err.code}: {detail}") from None
                cause = f"HTTP {err.code}: {detail}"
            except (OSError, http.client.HTTPException) as err:  # URLError and timeouts are OSErrors
                cause = _cause(err, s.timeout)
        raise R1Error(f"judge {self.url}: {cause} ({s.retries + 1} tries)")

    def verdicts(self, items: list[tuple[str, str, str]]) -> list[tuple[bool | None, str | None]]:
        """(verdict, reply) per (problem, reference, prediction), `concurrency` requests at a time;
        the first request that fails for good stops the others and raises its one-line R1Error."""
        def ask(item: tuple[str, str, str]) -> tuple[bool | None, str | None]:
            text = self.reply(self.request_body(*item))
            return parse_verdict(text), text

        with ThreadPoolExecutor(max_workers=self.settings.concurrency) as pool:
            futures = [pool.submit(ask, item) for item in items]
            try:
                return [future.result() for future in futures]
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def reference(self, record: dict[str, Any]) -> str:
        field = self.settings.reference_field
        if record.get(field) is None:
            raise R1Error(f"judge: record {record.get('id')} has no '{field}' field (the reference answer; "
                          "see judge.reference_field)")
        return str(record[field])

    def score(self, task: str, records: list[dict[str, Any]], completions: list[str]
              ) -> list[tuple[str, bool | None]]:
        """`r1.eval.run.generate_samples`' scorer: (prediction, verdict); None is an unparseable verdict."""
        predictions = [prediction_of(c) for c in completions]
        items = [(r["problem"], self.reference(r), p) for r, p in zip(records, predictions)]
        return [(p, verdict) for p, (verdict, _) in zip(predictions, self.verdicts(items))]


def _error_detail(err: urllib.error.HTTPError) -> str:
    """The server's error message (OpenAI's {"error": {"message": ...}} when it sends one), one line."""
    try:
        body = err.read().decode("utf-8", "replace")
    except OSError:
        body = ""
    finally:
        err.close()
    try:
        message = json.loads(body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = body or err.reason
    return " ".join(str(message).split())[:200]
