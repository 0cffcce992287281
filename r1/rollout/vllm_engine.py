"""Rollouts with vLLM (optional extra `r1[vllm]`), behind the same interface as HFEngine.

Weight sync for RL (load the trainer's weights after each update) and sleep/wake between phases
come with the scale-out work; this engine already serves evaluation of any local checkpoint.
"""

from __future__ import annotations

from r1.errors import R1Error
from r1.rollout.base import Rollout, SamplingParams


def vllm_available() -> bool:
    try:
        import vllm  # noqa: F401
    except ImportError:
        return False
    return True


class VLLMEngine:
    def __init__(self, model_dir: str, gpu_memory_utilization: float = 0.5, dtype: str = "auto",
                 seed: int = 0, max_model_len: int | None = None):
        if not vllm_available():
            raise R1Error("engine: vllm is not installed (pip install 'r1[vllm]'), use engine=hf")
        from vllm import LLM

        self.llm = LLM(model=model_dir, gpu_memory_utilization=gpu_memory_utilization, dtype=dtype,
                       seed=seed, max_model_len=max_model_len, enable_prefix_caching=True)
        self.eos_id = self.llm.get_tokenizer().eos_token_id

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[Rollout]]:
        from vllm import SamplingParams as VLLMParams

        sampling = VLLMParams(
            n=params.n, temperature=params.temperature, top_p=params.top_p, max_tokens=params.max_new_tokens,
            stop=params.stop or None, include_stop_str_in_output=True, seed=params.seed,
            skip_special_tokens=False,  # the reasoning tags may be special tokens
        )
        results = self.llm.generate(prompts, sampling, use_tqdm=False)
        out = []
        for i, result in enumerate(results):
            rollouts = []
            for j, sample in enumerate(result.outputs):
                ids = [t for t in sample.token_ids if t != self.eos_id]
                rollouts.append(Rollout(i, j, sample.text, ids, sample.finish_reason == "stop"))
            out.append(rollouts)
        return out
