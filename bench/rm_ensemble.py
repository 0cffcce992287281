"""Held-out pair accuracy of helpfulness reward models, alone and as ensembles (the sum of their raw
scores: the ranking of the mean centred score a list of `rm:` rewards gives), per prompt kind.

Trained with different seeds on the same pairs, the models disagree on which number facts they check;
this shows how far each one lands from the others, and what averaging them gives. The last line is
the worst accuracy among the ensembles of the most models.

    python bench/rm_ensemble.py runs/r1/rm_data/pairs_test.jsonl runs/r1/reward_models/helpfulness \\
        runs/rm-seed1 runs/rm-seed2
"""

from __future__ import annotations

import argparse
import itertools
from collections import defaultdict

import torch

from r1.eval.data import read_jsonl
from r1.reward_models.reward import reward_model


def pair_scores(path: str, rows: list[dict]) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's raw scores of every pair's chosen and rejected response: [N], [N]."""
    rm = reward_model(f"rm:{path}?on=summary&transform=raw&batch_size=64&device=cpu")
    prompts = [r["prompt"] for r in rows]
    return (rm.scores([r["chosen"] for r in rows], prompt=prompts),
            rm.scores([r["rejected"] for r in rows], prompt=prompts))


def by_kind(right: torch.Tensor, rows: list[dict]) -> str:
    counts = defaultdict(lambda: [0, 0])
    for r, ok in zip(rows, right.tolist()):
        counts[r.get("kind", "-")][0] += ok
        counts[r.get("kind", "-")][1] += 1
    return ", ".join(f"{kind} {a}/{n}" for kind, (a, n) in sorted(counts.items()))


def scored_pairs(description: str, parser: argparse.ArgumentParser | None = None
                 ) -> tuple[argparse.Namespace, list[dict], list[tuple[torch.Tensor, torch.Tensor]]]:
    """The command line (PAIRS MODEL..., after the options of `parser` if given), the pairs, and each
    model's scores of them."""
    parser = parser or argparse.ArgumentParser(description=description,
                                               formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pairs", help="held-out pairs (JSONL with prompt, chosen, rejected; e.g. rm-data's pairs_test)")
    parser.add_argument("models", nargs="+", help="reward-model directories (a train-rm output_dir or its final/)")
    args = parser.parse_args()
    rows = read_jsonl(args.pairs, "pairs")
    return args, rows, [pair_scores(path, rows) for path in args.models]


def main() -> None:
    args, rows, scores = scored_pairs(__doc__)
    print(f"{len(rows)} held-out pairs from {args.pairs}")
    for size in range(1, len(scores) + 1):
        worst = 1.0
        for combo in itertools.combinations(range(len(scores)), size):
            right = sum(scores[i][0] for i in combo) > sum(scores[i][1] for i in combo)  # [N]
            accuracy = right.float().mean().item()
            worst = min(worst, accuracy)
            names = " + ".join(args.models[i] for i in combo)
            print(f"{accuracy:.1%}  {names}  ({by_kind(right, rows)})")
    print(f"worst held-out pair accuracy of an ensemble of {len(scores)}: {worst:.1%}")


if __name__ == "__main__":
    main()
