"""Rollouts with Hugging Face `generate`: batched, left-padded, KV-cached, stopping at eos or stop strings."""

from __future__ import annotations

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from r1.rollout.base import Rollout, SamplingParams


class HFEngine:
    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, batch_size: int = 64):
        self.model, self.tokenizer, self.batch_size = model, tokenizer, batch_size

    def _stop_ids(self, stop: list[str]) -> tuple[list[int], list[str]]:
        """Stop strings that are single tokens become eos ids (cheap); the rest go to `stop_strings`."""
        ids, strings = [], []
        for s in stop:
            tokens = self.tokenizer.encode(s, add_special_tokens=False)
            (ids if len(tokens) == 1 else strings).append(tokens[0] if len(tokens) == 1 else s)
        return ids, strings

    @torch.no_grad()
    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[Rollout]]:
        if params.seed is not None:
            torch.manual_seed(params.seed)
        jobs = [(i, j) for i in range(len(prompts)) for j in range(params.n)]
        # Similar lengths together: less padding per batch.
        jobs.sort(key=lambda job: len(prompts[job[0]]))
        out: list[list[Rollout | None]] = [[None] * params.n for _ in prompts]
        for start in range(0, len(jobs), self.batch_size):
            chunk = jobs[start : start + self.batch_size]
            for (i, j), rollout in zip(chunk, self._generate_batch([prompts[i] for i, _ in chunk], params)):
                rollout.prompt_index, rollout.sample_index = i, j
                out[i][j] = rollout
        return out  # type: ignore[return-value]

    def _generate_batch(self, prompts: list[str], params: SamplingParams) -> list[Rollout]:
        tok, model = self.tokenizer, self.model
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        stop_ids, stop_strings = self._stop_ids(params.stop)
        eos_ids = [tok.eos_token_id, *stop_ids]
        sampling = params.temperature > 0
        was_training = model.training
        model.eval()
        generated = model.generate(
            **enc, max_new_tokens=params.max_new_tokens, do_sample=sampling,
            temperature=params.temperature if sampling else None,
            top_p=params.top_p if sampling else None, top_k=0 if sampling else None,
            eos_token_id=eos_ids, pad_token_id=tok.pad_token_id,
            stop_strings=stop_strings or None, tokenizer=tok if stop_strings else None,
        )
        model.train(was_training)
        completions = generated[:, enc["input_ids"].shape[1] :].tolist()
        return [self._rollout(ids, stop_ids, stop_strings) for ids in completions]

    def _rollout(self, ids: list[int], stop_ids: list[int], stop_strings: list[str]) -> Rollout:
        tok = self.tokenizer
        kept, finished = [], False
        for t in ids:
            if t == tok.eos_token_id:
                finished = True
                break
            if t == tok.pad_token_id and tok.pad_token_id != tok.eos_token_id:
                continue
            kept.append(t)
            if t in stop_ids:
                finished = True
                break
        text = tok.decode(kept, skip_special_tokens=False)
        if stop_strings and not finished:
            finished = any(text.endswith(s) for s in stop_strings)
        return Rollout(-1, -1, text, kept, finished)
