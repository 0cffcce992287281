"""Why a helpfulness reward model ranks held-out pairs wrong: for each pair, what makes the rejected
reply worse by the oracle's rules (a false claim of each kind, a claim about another number, filler,
length, fewer true claims), and the model's accuracy on the pairs of each reason.

A model that checks a fact alone (bench/rm_claim_probe.py) may still misrank replies where that fact
sits among others; this shows where, on the pairs the held-out accuracy counts. Several models: the
ranking of their summed raw scores (an ensemble's, as bench/rm_ensemble.py).

    python bench/rm_pair_errors.py runs/r1/rm_data/pairs_test.jsonl runs/r1/reward_models/helpfulness
"""

from __future__ import annotations

import re
from collections import Counter

from r1.rewards.extract import summary_text
from r1.tasks import oracle

from rm_ensemble import scored_pairs

_NUMBER = re.compile(r"(?:about|number) (\d+)[.?]")


def faults(prompt: str, response: str) -> set[str]:
    """What the oracle holds against a reply to a prompt about a number (empty for other prompts)."""
    asked = _NUMBER.search(prompt)
    if not asked:
        return set()
    n, summary = int(asked[1]), summary_text(response).strip()
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


def main() -> None:
    args, rows, scores = scored_pairs(__doc__)
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


if __name__ == "__main__":
    main()
