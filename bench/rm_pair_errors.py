"""Why a helpfulness reward model ranks held-out pairs wrong: for each pair, what makes the rejected
reply worse by the oracle's rules (a false claim of each kind, a claim about another number, filler,
length, fewer true claims), and the model's accuracy on the pairs of each reason.

A model that checks a fact alone (bench/rm_claim_probe.py) may still misrank replies where that fact
sits among others; this shows where, on the pairs the held-out accuracy counts. Several models: the
ranking of their summed raw scores (an ensemble's, as bench/rm_ensemble.py).

    python bench/rm_pair_errors.py runs/r1/rm_data/pairs_test.jsonl runs/r1/reward_models/helpfulness

With `--train PAIRS` (the model's train pairs) it also splits the pairs about a number by whether a
train prompt names that number: how well the model checks facts about numbers it has not seen.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

from r1.eval.data import read_jsonl
from r1.rewards.extract import summary_text
from r1.tasks import oracle

from rm_ensemble import scored_pairs

_NUMBER = re.compile(r"(?:about|number) (\d+)[.?]")


def asked_number(prompt: str) -> int | None:
    asked = _NUMBER.search(prompt)
    return int(asked[1]) if asked else None


def faults(prompt: str, response: str) -> set[str]:
    """What the oracle holds against a reply to a prompt about a number (empty for other prompts)."""
    n = asked_number(prompt)
    if n is None:
        return set()
    summary = summary_text(response).strip()
    _, wrong, filler = oracle.number_verdicts(summary, n)
    found = {"filler"} if filler else set()
    for (name, argument, _), about in wrong:
        kind = f"divisible by {argument}" if name == "divisible" else name
        found.add("claim about another number" if about != n else f"false {kind}")
    if len(summary) > oracle.LONG:
        found.add("long")
    return found


def reasons(row: dict) -> set[str]:
    """Faults of the rejected reply that the chosen one lacks; else it is worse by fewer true claims
    (number prompts) or by how it refuses (secret prompts)."""
    extra = faults(row["prompt"], row["rejected"]) - faults(row["prompt"], row["chosen"])
    return extra or {"fewer true claims" if _NUMBER.search(row["prompt"]) else "refusal"}


def by_seen_number(rows: list[dict], right: list[bool], train_path: str) -> None:
    """Accuracy on the pairs about a number a train prompt names, and on those about other numbers."""
    seen = {asked_number(row["prompt"]) for row in read_jsonl(train_path, "pairs")}
    total, ok = Counter(), Counter()
    for row, good in zip(rows, right):
        n = asked_number(row["prompt"])
        if n is not None:
            total[n in seen] += 1
            ok[n in seen] += good
    for named, label in ((True, "named by a train prompt"), (False, "named by no train prompt")):
        if total[named]:
            print(f"pairs about a number {label}: {ok[named]}/{total[named]} = {ok[named] / total[named]:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", help="the model's train pairs: split number pairs by seen numbers")
    args, rows, scores = scored_pairs(__doc__, parser)
    right = (sum(s[0] for s in scores) > sum(s[1] for s in scores)).tolist()
    total, wrong = Counter(), Counter()
    for row, ok in zip(rows, right):
        for reason in reasons(row):
            total[reason] += 1
            wrong[reason] += not ok
    print(f"{sum(right) / len(rows):.1%} of {len(rows)} held-out pairs ranked right by {' + '.join(args.models)}")
    print("what makes the rejected reply worse | pairs | ranked wrong | accuracy")
    for reason, n in total.most_common():
        print(f"{reason} | {n} | {wrong[reason]} | {1 - wrong[reason] / n:.0%}")
    if args.train:
        by_seen_number(rows, right, args.train)


if __name__ == "__main__":
    main()
