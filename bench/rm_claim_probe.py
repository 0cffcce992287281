"""Does a helpfulness reward model check facts? One claim at a time, true against false.

For each held-out `about_number` prompt and each fact its number has (r1.tasks.writer.fact_names),
two replies that differ only in that fact's truth ("84 is even." against "84 is odd."); the oracle
prefers the true one every time. A model that checks facts ranks it above the false one (chance: 50%);
one that learnt only how good replies look (length, sentence count, refusals) does not. This prints
each model's share per fact kind and overall; the last line is the lowest overall share.

    python bench/rm_claim_probe.py runs/demo/reward_models/helpfulness [MORE_MODELS ...] [--n 60]

With --lm, the models are causal LMs and a reply counts as ranked right when the LM gives the true
sentence the higher log-probability: whether the knowledge is there at all, before any score head.
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict

import torch

from r1.models.load import check_model_dir, load_tokenizer
from r1.reward_models.render import as_messages, encode, rm_input
from r1.reward_models.reward import reward_model
from r1.tasks.general_prompts import general_prompt_records
from r1.tasks.writer import fact, fact_names


def claim_pairs(records: list[dict], rng: random.Random) -> list[tuple[dict, str, str, str]]:
    """(record, fact name, true reply, false reply) for every fact of every record's number."""
    out = []
    for record in records:
        n = int(record["fields"]["n"])
        for name in fact_names(n):
            true, false = fact(name, n, False, rng)[0], fact(name, n, True, rng)[0]
            out.append((record, name, *(f"<think>The user asks about {n}.</think><summary>{s}</summary>"
                                        for s in (true, false))))
    return out


def rm_right(path: str, pairs: list[tuple[dict, str, str, str]]) -> list[bool]:
    """Whether the reward model scores each pair's true reply above its false one."""
    rm = reward_model(f"rm:{path}?on=summary&transform=raw&batch_size=64&device=cpu")
    replies = [reply for _, _, true, false in pairs for reply in (true, false)]
    scores = rm.scores(replies, prompt=[r["prompt"] for r, *_ in pairs for _ in range(2)]).view(-1, 2)
    return (scores[:, 0] > scores[:, 1]).tolist()


@torch.no_grad()
def lm_right(path: str, pairs: list[tuple[dict, str, str, str]]) -> list[bool]:
    """Whether the causal LM gives each pair's true summary the higher log-probability after the prompt."""
    from transformers import AutoModelForCausalLM

    final = check_model_dir(path, "model")
    tokenizer = load_tokenizer(final)
    model = AutoModelForCausalLM.from_pretrained(final, local_files_only=True).eval()

    def logprob(record: dict, reply: str) -> float:
        # the whole rendered text: the two replies share the prompt, so its share cancels
        ids = torch.tensor(encode(tokenizer, [rm_input(tokenizer, as_messages(record["prompt"], "prompt"),
                                                       reply, "summary")]))
        return float(model(input_ids=ids).logits[0, :-1].log_softmax(-1).gather(-1, ids[0, 1:, None]).sum())

    return [logprob(r, true) > logprob(r, false) for r, _, true, false in pairs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="reward-model directories (or causal LMs with --lm)")
    parser.add_argument("--n", type=int, default=60, help="held-out about_number prompts")
    parser.add_argument("--lm", action="store_true", help="rank by a causal LM's log-probability instead")
    args = parser.parse_args()
    records = general_prompt_records(args.n, "test", kinds=["about_number"])
    pairs = claim_pairs(records, random.Random(0))
    print(f"{len(records)} held-out prompts, {len(pairs)} true/false claim pairs; chance is 50%")
    lowest = 1.0
    for path in args.models:
        right = (lm_right if args.lm else rm_right)(path, pairs)
        by_name: dict[str, list[bool]] = defaultdict(list)
        for (_, name, _, _), ok in zip(pairs, right):
            by_name[name].append(ok)
        overall = sum(right) / len(right)
        lowest = min(lowest, overall)
        print(f"{path}: true claim ranked above false {overall:.1%}; "
              + ", ".join(f"{name} {sum(v) / len(v):.0%}" for name, v in sorted(by_name.items())))
    print(f"true claim ranked above the false one, lowest share over the models: {lowest:.1%}")


if __name__ == "__main__":
    main()
