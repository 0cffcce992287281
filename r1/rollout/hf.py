"""Rollouts from an in-memory Hugging Face model: batched, left-padded, KV-cached, stopping at eos or
stop strings.

Llama-family models take the lean path (r1.rollout.lean: each prompt prefilled once for its n samples,
preallocated cache, finished rows dropped); any other model goes through `model.generate`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from transformers import GenerationConfig, PreTrainedModel, PreTrainedTokenizerBase

from r1.models.fast import FastLM, unsupported
from r1.models.weights import sharding
from r1.progress import console
from r1.rollout.base import Rollout, SamplingParams
from r1.rollout.lean import lean_sample
from r1.runtime import max_over_processes


class HFEngine:
    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, batch_size: int = 64,
                 lean: bool = True, compile: bool = False):
        self.model, self.tokenizer, self.batch_size = model, tokenizer, batch_size
        self.why_not_lean = unsupported(model) if lean else "lean=False"
        self.lean = FastLM(model, compile=compile) if self.why_not_lean is None else None
        if compile and self.lean is None:
            console.print(f"[yellow]compile: sampling runs uncompiled (model.generate), the lean path "
                          f"does not take this model ({self.why_not_lean})[/]")
        # Sharded parameters (FSDP2/ZeRO-3): each forward all-gathers, so every rank keeps stepping
        # until all ranks' sequences are done (callers make every rank call generate equally often).
        self.synced = (sharding(model) is not None and torch.distributed.is_initialized()
                       and torch.distributed.get_world_size() > 1)
        self.eos_ids = eos_ids(model, tokenizer)
        self.context_length = getattr(model.config, "max_position_embeddings", None)

    asleep = False  # the in-memory policy is never put to sleep

    def sleep(self) -> bool:
        return False

    def wake_up(self) -> bool:
        return False

    def load_policy(self, model) -> None:
        """Nothing to do: this engine samples from the very model the trainer updates."""

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
        if self.lean is not None:
            return self._generate_lean(prompts, params)
        jobs = [(i, j) for i in range(len(prompts)) for j in range(params.n)]
        # Similar lengths together: less padding per batch.
        jobs.sort(key=lambda job: len(prompts[job[0]]))
        out: list[list[Rollout | None]] = [[None] * params.n for _ in prompts]
        chunks = [jobs[start : start + self.batch_size] for start in range(0, len(jobs), self.batch_size)]
        # Sharded: a rank with fewer batches joins the others' remaining forwards and discards them.
        idle = max_over_processes(len(chunks), self.model.device) - len(chunks) if self.synced else 0
        for chunk in chunks:
            for (i, j), rollout in zip(chunk, self._generate_batch([prompts[i] for i, _ in chunk], params)):
                rollout.prompt_index, rollout.sample_index = i, j
                out[i][j] = rollout
        for _ in range(idle):
            self._generate_batch([prompts[0] if prompts else self.tokenizer.eos_token], params)
        return out  # type: ignore[return-value]

    def _generate_lean(self, prompts: list[str], params: SamplingParams) -> list[list[Rollout]]:
        tok = self.tokenizer
        stop_ids, stop_strings = self._stop_ids(params.stop)
        ids = tok(prompts, add_special_tokens=False)["input_ids"]
        order = sorted(range(len(prompts)), key=lambda i: len(ids[i]))  # less padding per batch
        per_batch = max(1, self.batch_size // params.n)
        out: list[list[Rollout]] = [[] for _ in prompts]
        was_training = self.model.training
        self.model.eval()
        for start in range(0, len(order), per_batch):
            chunk = order[start : start + per_batch]
            completions = lean_sample(self.lean, [ids[i] for i in chunk], params.n, params.max_new_tokens,
                                      params.temperature, params.top_p, {*self.eos_ids, *stop_ids},
                                      stop_strings, tok, tok.pad_token_id)
            for k, i in enumerate(chunk):
                for j in range(params.n):
                    rollout = self._rollout(completions[k * params.n + j], stop_ids, stop_strings)
                    rollout.prompt_index, rollout.sample_index = i, j
                    out[i].append(rollout)
        self.model.train(was_training)
        return out

    def _generate_batch(self, prompts: list[str], params: SamplingParams) -> list[Rollout]:
        tok, model = self.tokenizer, self.model
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        stop_ids, stop_strings = self._stop_ids(params.stop)
        sampling = params.temperature > 0
        was_training = model.training
        model.eval()
        with only_these_settings(model):
            generated = model.generate(
                **enc, max_new_tokens=params.max_new_tokens, do_sample=sampling,
                temperature=params.temperature if sampling else None,
                top_p=params.top_p if sampling else None, top_k=0 if sampling else None,
                eos_token_id=[*self.eos_ids, *stop_ids], pad_token_id=tok.pad_token_id,
                stop_strings=stop_strings or None, tokenizer=tok if stop_strings else None,
                synced_gpus=self.synced,
            )
        model.train(was_training)
        completions = generated[:, enc["input_ids"].shape[1] :].tolist()
        return [self._rollout(ids, stop_ids, stop_strings) for ids in completions]

    def _rollout(self, ids: list[int], stop_ids: list[int], stop_strings: list[str]) -> Rollout:
        """The sampled tokens up to what ended them: an eos id (kept aside as `eos_id`), a single-token
        stop string, or a stop string spanning tokens. `generate` pads a row after it ends; a pad token
        sampled before that is a real token and stays, so training sees exactly what was sampled."""
        pad = self.tokenizer.pad_token_id
        for t, token in enumerate(ids):
            if token in stop_ids:
                return self._make(ids[: t + 1], True)
            if token in self.eos_ids:
                if self._ends_with_stop(ids[:t], stop_strings):  # a pad that is also an eos id
                    return self._make(ids[:t], True)
                return self._make(ids[:t], True, eos_id=token)
        end = len(ids)
        while end and ids[end - 1] == pad:
            end -= 1
        if end < len(ids) and self._ends_with_stop(ids[:end], stop_strings):  # then `generate` padded
            return self._make(ids[:end], True)
        return self._make(ids, self._ends_with_stop(ids, stop_strings))

    def _ends_with_stop(self, ids: list[int], stop_strings: list[str]) -> bool:
        if not stop_strings:
            return False
        text = self.tokenizer.decode(ids, skip_special_tokens=False)
        return any(text.endswith(s) for s in stop_strings)

    def _make(self, ids: list[int], finished: bool, eos_id: int | None = None) -> Rollout:
        return Rollout(-1, -1, self.tokenizer.decode(ids, skip_special_tokens=False), list(ids), finished,
                       eos_id=eos_id)


@contextlib.contextmanager
def only_these_settings(model: PreTrainedModel) -> Iterator[None]:
    """`generate` with r1's sampling settings alone. transformers fills every setting a call leaves unset
    from the checkpoint's generation_config (Qwen2.5 ships repetition_penalty 1.1 and top_k 20), which
    the lean sampler, vLLM and the GRPO loss know nothing of; a neutral config stands in meanwhile. The
    checkpoint's end-of-sequence ids are passed explicitly (HFEngine.eos_ids)."""
    model = model.get_base_model() if hasattr(model, "get_base_model") else model  # LoRA: peft's wrapper
    saved = model.generation_config
    model.generation_config = GenerationConfig()
    try:
        yield
    finally:
        model.generation_config = saved


def eos_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """Every id that ends a sequence: the tokenizer's eos and the model's `generation_config` list
    (Qwen2.5 and Llama 3 ship several, e.g. `<|im_end|>` and `<|endoftext|>`), as vLLM stops on."""
    config = getattr(model, "generation_config", None)
    listed = getattr(config, "eos_token_id", None) if config is not None else None
    listed = [] if listed is None else [listed] if isinstance(listed, int) else list(listed)
    found = [tokenizer.eos_token_id, *listed]
    return list(dict.fromkeys(i for i in found if i is not None))
