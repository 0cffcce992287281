"""The vLLM engine behind the rollout interface: greedy output equals Hugging Face's (needs vLLM + GPU)."""

import pytest
import torch

from r1.rollout import HFEngine, SamplingParams, make_engine
from r1.rollout.vllm_engine import vllm_available

pytestmark = pytest.mark.skipif(not (vllm_available() and torch.cuda.is_available()),
                                reason="vLLM engine needs the vllm extra and a GPU (run on a GPU machine)")


def test_vllm_greedy_matches_hf(tiny_model_dir, tiny_model, tiny_tokenizer):
    prompts = [tiny_tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                                  add_generation_prompt=True)
               for p in ("Compute 347+285.", "Solve 3x+8=26.")]
    params = SamplingParams(n=1, temperature=0.0, max_new_tokens=24, stop=["</answer>"])
    hf = HFEngine(tiny_model, tiny_tokenizer).generate(prompts, params)
    vllm = make_engine("vllm", str(tiny_model_dir)).generate(prompts, params)
    assert [r[0].token_ids for r in vllm] == [r[0].token_ids for r in hf]
