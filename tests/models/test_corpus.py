"""The base corpus: shares as configured, reasoning always right, train-split problems only."""

import math
import re
from collections import Counter

import pytest

from r1.models.corpus import CorpusMix, render_chat, render_completion, sample_documents
from r1.tasks import FAMILIES, split_of
from r1.tasks.expr import evaluate

DOC = re.compile(r"<\|user\|>(.*)<\|end\|><\|assistant\|><think>(.*)</think><answer>(.*)</answer><\|end\|>",
                 re.DOTALL)
CJK = re.compile(r"[\u4e00-\u9fff]")
N = 3000


def parse(doc):
    m = DOC.fullmatch(doc)
    assert m, doc
    return m[1], m[2], m[3]


def family_of(problem):
    return {"Compute": "arithmetic", "Solve": "linear", "Use": "countdown"}[problem.split()[0]]


def is_right(problem, answer):
    """Checked from the problem text alone, not from the generator's own answer."""
    family = family_of(problem)
    if family == "countdown":
        m = re.fullmatch(r"Use ([\d ]+) to make (\d+)\.", problem)
        record = {"task": "countdown", "numbers": [int(n) for n in m[1].split()], "target": int(m[2])}
        return FAMILIES["countdown"].verify(record, answer)
    if family == "arithmetic":
        truth = evaluate(re.fullmatch(r"Compute (.+)\.", problem)[1])[0]
    else:
        m = re.fullmatch(r"Solve (\d+)x\+(\d+)=(?:(\d+)x\+)?(\d+)\.", problem)
        a, b, c, e = int(m[1]), int(m[2]), int(m[3] or 0), int(m[4])
        truth = (e - b) / (a - c)
    return answer.lstrip("-").isdigit() and int(answer) == truth


def within(share, expected, n, sigmas=4.5):
    return abs(share - expected) <= sigmas * math.sqrt(expected * (1 - expected) / n) + 1e-9


@pytest.fixture(scope="module")
def mix():
    return CorpusMix({"arithmetic": 0.5, "linear": 0.3, "countdown": 0.2}, None, cot_share=0.3,
                     direct_right=0.4, zh_step_share=0.25)


@pytest.fixture(scope="module")
def docs(mix):
    return [parse(d) for d in sample_documents(mix, N, seed=11)]


def test_render_helpers():
    assert render_completion("r", "a") == "<think>r</think><answer>a</answer>"
    assert render_chat("p") == "<|user|>p<|end|><|assistant|>"
    assert render_chat("p", "c") == "<|user|>p<|end|><|assistant|>c<|end|>"


def test_deterministic_by_seed(mix):
    assert sample_documents(mix, 50, seed=3) == sample_documents(mix, 50, seed=3)
    assert sample_documents(mix, 50, seed=3) != sample_documents(mix, 50, seed=4)


def test_family_shares(mix, docs):
    counts = Counter(family_of(problem) for problem, _, _ in docs)
    for family, weight in mix.families.items():
        assert within(counts[family] / N, weight, N), (family, counts)


def test_cot_share(mix, docs):
    cot = sum(bool(think) for _, think, _ in docs)
    assert within(cot / N, mix.cot_share, N), cot / N


def test_reasoning_documents_are_always_right(docs):
    cot = [(p, a) for p, think, a in docs if think]
    assert len(cot) > 500
    wrong = [(p, a) for p, a in cot if not is_right(p, a)]
    assert not wrong, wrong[:5]


def test_direct_answers_right_at_the_configured_rate(mix, docs):
    direct = [(p, a) for p, think, a in docs if not think]
    right = sum(is_right(p, a) for p, a in direct) / len(direct)
    assert within(right, mix.direct_right, len(direct)), right


def test_problems_come_from_the_train_split(docs):
    assert {split_of(problem) for problem, _, _ in docs} == {"train"}


def test_both_languages_when_mixed(docs):
    lines = [line for _, think, _ in docs for line in think.splitlines()]
    zh = sum(bool(CJK.search(line)) for line in lines)
    assert within(zh / len(lines), 0.25, len(lines), sigmas=6)  # steps are not independent draws
    assert 0 < zh < len(lines)


def test_no_chinese_when_share_is_zero(mix):
    english = CorpusMix(mix.families, None, cot_share=0.5, direct_right=0.3, zh_step_share=0.0)
    docs = [parse(d) for d in sample_documents(english, 800, seed=12)]
    assert sum(bool(think) for _, think, _ in docs) > 300
    assert not any(CJK.search(think) for _, think, _ in docs)


def test_difficulty_is_passed_on(mix):
    hard = CorpusMix({"arithmetic": 1.0}, 3, cot_share=0.0, direct_right=0.0, zh_step_share=0.0)
    problems = [parse(d)[0] for d in sample_documents(hard, 100, seed=13)]
    assert all(len(re.findall(r"\d+", p)) == 4 for p in problems)
