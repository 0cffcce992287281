"""The reward model's training forward on r1's lean path (r1.models.fast), for Llama-family models.

Two savings over the model's own forward, with the same scores (tests/reward_models/test_lean.py):
- A pair's chosen and rejected share a beginning: the prompt, and often the start of the reply (a
  twin pair changes one claim). Each pair becomes one row, [shared prefix | rest of chosen | rest of
  rejected], whose attention mask lets each rest see the prefix and itself, never the other rest, with
  each rest's positions continuing from the prefix; so the prefix goes through the network once. On
  the tiny R1 recipe's helpfulness pairs it is 63 of a response's 91 tokens on average.
- The rows run in chunks of similar length (r1.models.fast.length_chunks), so one long pair does not
  pad every row to its width.
Every example still counts in the one loss of the step, so the gradient is that of the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from r1.models.fast import FastLM, length_chunks


@dataclass
class Scored:
    scores: torch.Tensor  # [n] one per sequence, group after group
    square_sum: torch.Tensor | None  # per-token scores squared, summed over every sequence's real tokens
    tokens: int  # real tokens of every sequence (a shared prefix counts once per sequence reading it)


def shared_prefix(seqs: list[list[int]]) -> int:
    """Tokens every sequence starts with, leaving each at least one of its own (its last token is
    where pool=last reads the score).

    >>> shared_prefix([[5, 6, 7, 8], [5, 6, 9]])
    2
    >>> shared_prefix([[5, 6], [5, 6, 7]])
    1
    """
    most = min(len(s) for s in seqs) - 1
    first = seqs[0]
    for i in range(most):
        if any(s[i] != first[i] for s in seqs[1:]):
            return i
    return max(most, 0)


@dataclass
class Packed:
    """One chunk of groups, a row each: token ids, segments (-1 padding, 0 the shared prefix, j + 1
    the rest of sequence j), positions in each sequence, and where each sequence's last token is."""
    ids: torch.Tensor  # [b, T]
    segment: torch.Tensor  # [b, T]
    position: torch.Tensor  # [b, T]
    last: torch.Tensor  # [b, k]

    def mask(self) -> torch.Tensor:
        """[b, T, T]: causal, within a segment or onto the prefix; padding sees only itself."""
        seg, t = self.segment, self.segment.shape[1]
        causal = torch.ones(t, t, dtype=torch.bool, device=seg.device).tril()
        allowed = (seg[:, :, None] == seg[:, None, :]) | (seg == 0)[:, None, :]
        return (causal & allowed & (seg >= 0)[:, None, :]) | torch.eye(t, dtype=torch.bool, device=seg.device)


def pack(groups: list[list[list[int]]], cuts: list[int], pad_id: int, device) -> Packed:
    """Groups of k sequences each as rows [prefix | rest 1 | ... | rest k], right-padded; cuts: each
    group's shared_prefix."""
    rows = []
    for group, cut in zip(groups, cuts):
        ids, segment, position, last = list(group[0][:cut]), [0] * cut, list(range(cut)), []
        for j, seq in enumerate(group):
            rest = seq[cut:]
            ids += rest
            segment += [j + 1] * len(rest)
            position += range(cut, len(seq))
            last.append(len(ids) - 1)
        rows.append((ids, segment, position, last))
    width = max(len(r[0]) for r in rows)

    def padded(i: int, fill: int) -> torch.Tensor:
        return torch.tensor([r[i] + [fill] * (width - len(r[i])) for r in rows], device=device)

    return Packed(padded(0, pad_id), padded(1, -1), padded(2, 0),
                  torch.tensor([r[3] for r in rows], device=device))


def lean_scores(lean: FastLM, head: torch.nn.Module, groups: list[list[list[int]]], pad_id: int, device,
                pool: str, squares: bool = False) -> Scored:
    """Scores of every sequence of `groups` (each an example's k sequences: chosen and rejected, or
    one response; the same k for all), flattened group after group; squares: also the per-token
    square sum that token_l2 needs (else None: not computed at all)."""
    k = len(groups[0])
    if any(len(g) != k for g in groups):
        raise ValueError("lean_scores: every group needs the same number of sequences")
    cuts = [shared_prefix(g) for g in groups]
    lengths = [cut + sum(len(s) - cut for s in g) for g, cut in zip(groups, cuts)]  # of the packed rows
    order = sorted(range(len(groups)), key=lambda i: lengths[i])  # shortest first
    w = lean.weights()  # once for all chunks
    scores = torch.empty(len(groups), k, device=device)
    square_sum = torch.zeros((), device=device) if squares else None
    for a, b in length_chunks([lengths[i] for i in order]):
        chunk = order[a:b]
        rows = pack([groups[i] for i in chunk], [cuts[i] for i in chunk], pad_id, device)
        hidden = lean.packed_hidden(w, rows.ids, rows.position, rows.mask())  # [b, T, H]
        per_token = F.linear(hidden, head.weight, head.bias)[..., 0].float()  # [b, T]
        if pool == "sum":  # the prefix's sum plus each rest's
            sums = torch.einsum("bt,bts->bs", per_token, F.one_hot(rows.segment + 1, k + 2).to(per_token.dtype))
            scores[chunk] = sums[:, 1:2] + sums[:, 2:]  # columns: padding, prefix, rest 1 .. k
        else:  # last: the head at each sequence's last token
            scores[chunk] = per_token.gather(1, rows.last)
        if square_sum is not None:  # a prefix token is read by all k sequences
            readers = torch.where(rows.segment == 0, float(k), (rows.segment > 0).to(per_token.dtype))  # [b, T]
            square_sum = square_sum + (per_token.pow(2) * readers).sum()
    return Scored(scores.reshape(-1), square_sum, sum(len(s) for g in groups for s in g))
