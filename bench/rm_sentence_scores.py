"""What each sentence adds to a pool=sum reward model's score: the head's per-token scores summed over
the prompt, each sentence of the reply, and the end.

A preference fixes only differences of summed scores. Where one sentence carries a large score of its
own that moves with the number it names, that swing can outweigh the small difference one false fact
makes; `train-rm token_l2` keeps such scores near zero (docs/reward-models.md).

    python bench/rm_sentence_scores.py runs/r1/reward_models/helpfulness "Describe the number 243." \\
        "243 is odd. Its digit sum is 9." "Its digit sum is 10. I hope this helps you a lot."
"""

from __future__ import annotations

import argparse
import bisect
import re

import torch

from r1.models.load import load_tokenizer
from r1.reward_models.model import forward_token_scores, load_for_scoring, reward_model_info
from r1.reward_models.render import rm_input

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentence_scores(model, tokenizer, prompt: str, reply: str) -> list[tuple[str, float]]:
    """(piece, summed score) for the prompt, each sentence of `reply` (a summary, as the model reads
    it), and the end (whatever the chat template adds after the reply)."""
    text = rm_input(tokenizer, [{"role": "user", "content": prompt}], reply, "whole")
    start = text.rindex(reply)
    cuts = [start] + [start + m.end() for m in SENTENCE_END.finditer(reply)] + [start + len(reply), len(text)]
    # encoded as r1.reward_models.render.encode does, with each token's character span
    spans = tokenizer(text, add_special_tokens=not tokenizer.chat_template, return_offsets_mapping=True)
    with torch.no_grad():
        per_token = forward_token_scores(model, [spans["input_ids"]], tokenizer.pad_token_id, "cpu")[0][0]  # [T]
    scores = [0.0] * len(cuts)
    for (_, end), score in zip(spans["offset_mapping"], per_token.tolist()):
        scores[bisect.bisect_left(cuts, end)] += score  # the piece the token's text ends in
    labels = ["(prompt)"] + [text[a:b].strip() for a, b in zip(cuts[:-2], cuts[1:-1])] + ["(end)"]
    return list(zip(labels, scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a pool=sum reward model (a train-rm output_dir or its final/)")
    parser.add_argument("prompt")
    parser.add_argument("replies", nargs="+", help="summaries, as the helpfulness model reads them")
    args = parser.parse_args()
    model = load_for_scoring(args.model, "cpu")
    pool = reward_model_info(args.model).get("pool", "last")
    if pool != "sum":
        raise SystemExit(f"{args.model}: pool is {pool}; only a pool=sum model adds a score per token")
    tokenizer = load_tokenizer(args.model)
    for reply in args.replies:
        rows = sentence_scores(model, tokenizer, args.prompt, reply)
        print(f"{sum(score for _, score in rows):8.2f}  {reply}")
        for label, score in rows:
            print(f"    {score:8.2f}  {label}")


if __name__ == "__main__":
    main()
