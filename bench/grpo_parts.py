"""r1's GRPO step parts, each alone on one batch of the step's shape: the `parts` worker of the GRPO
benchmarks (bench/grpo_vs_trl.py, bench/grpo_realistic.py).

Each part runs once to warm up, then --part-reps times; its time is the median, and its memory is
what the process held before it (rss) and the most it held while it ran (VmHWM, reset before it).
AdamW's moments are made before the first part (one step on zero gradients), so every part runs
with what a real step has in memory; `loaded_mb` says what the process held after loading each model
(weights load lazily: they count once touched) and after making the moments.
With `plain` (grpo_vs_trl's default) it also times plain Hugging Face `model.generate` and a policy
forward+backward through `model()` and one log_softmax on the same batch.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from grpo_common import load_world, r1_config, render_prompts, set_threads
from grpo_workers import memory_mb, reset_peak


def worker_parts(args: argparse.Namespace, work: Path) -> dict:
    """Times (and memory) of rollout, reward, reference forward, policy fwd+bwd and optimizer step."""
    import torch

    from r1.grpo.batch import build_batch
    from r1.models.load import load_model, load_tokenizer
    from r1.rewards.combine import RewardCombiner
    from r1.rollout import HFEngine, SamplingParams

    set_threads(args.threads)
    world, records = load_world(work)
    cfg = r1_config(args, world, work / "parts")
    tokenizer = load_tokenizer(world["model_dir"])
    loaded = {"start": memory_mb()["rss"]}
    policy = load_model(world["model_dir"]).train()
    loaded["policy"] = memory_mb()["rss"]
    reference = load_model(world["model_dir"]).eval().requires_grad_(False)
    loaded["reference"] = memory_mb()["rss"]
    optimizer = torch.optim.AdamW(policy.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    for param in policy.parameters():  # AdamW's moments exist between real steps: make them now
        param.grad = torch.zeros_like(param)  # a zero gradient, no weight decay: the weights do not move
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    loaded["adamw"] = memory_mb()["rss"]
    batch_records = records[: args.prompts]
    prompts = render_prompts(tokenizer, batch_records)
    G, B = args.group, args.prompts * args.group
    memory: dict[str, dict] = {}

    def timed(name, fn, reps=args.part_reps, keep_grads=False):
        fn()  # warm-up
        if not keep_grads:  # a step's parts start without gradients (but for the optimizer's)
            policy.zero_grad(set_to_none=True)
        reset_peak()
        before, out = memory_mb()["rss"], []
        for _ in range(reps):
            tick = time.perf_counter()
            fn()
            out.append(time.perf_counter() - tick)
        memory[name] = {"before_mb": before, "peak_mb": memory_mb()["peak"]}
        return statistics.median(out)

    engine = HFEngine(policy, tokenizer, cfg.rollout_batch_size, compile=cfg.compile)
    params = SamplingParams(n=G, temperature=cfg.temperature, top_p=1.0, max_new_tokens=cfg.max_new_tokens,
                            stop=[], seed=args.seed)
    result = {}

    def rollout():
        result["groups"] = engine.generate(prompts, params)

    t_rollout = timed("generate", rollout)
    flat = [ro for group in result["groups"] for ro in group]
    rollout_tokens = sum(len(ro.token_ids) for ro in flat)

    combiner = RewardCombiner(cfg.reward)
    fields = {k: [r.get(k) for r in batch_records for _ in range(G)] for k in batch_records[0]}
    texts = [ro.text for ro in flat]
    t_reward = timed("reward", lambda: combiner.score(texts, **fields))

    # one training batch, as grpo_step builds it
    prompt_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    batch = build_batch([prompt_ids[i] for i in range(args.prompts) for _ in range(G)], flat, torch.randn(B),
                        tokenizer.pad_token_id)
    losses = StepLosses(cfg, policy, reference, batch)
    t_ref = timed("reference", losses.ref_logprobs)
    t_fwd_bwd = timed("fwd_bwd", losses.fwd_bwd)

    def opt_step():
        torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
        optimizer.step()

    losses.fwd_bwd()  # gradients for the optimizer to apply (kept across its repeats)
    t_opt = timed("optimizer", opt_step, keep_grads=True)
    optimizer.zero_grad(set_to_none=True)

    parts = {"generate": t_rollout, "reward": t_reward, "reference": t_ref, "fwd_bwd": t_fwd_bwd,
             "optimizer": t_opt}
    out = {"threads": torch.get_num_threads(), "parts": parts, "sum_s": sum(parts.values()),
           "rollout_tokens": rollout_tokens, "rollout_tok_s": rollout_tokens / t_rollout,
           "memory": memory, "loaded_mb": loaded}
    if getattr(args, "plain", True):
        out.update(plain_parts(cfg, policy, tokenizer, prompts, G, losses, timed))
    return out


class StepLosses:
    """The step's reference forward and policy forward+backward on one batch, as `grpo_step` runs them."""

    def __init__(self, cfg, policy, reference, batch):
        self.cfg, self.policy, self.ref_model, self.batch = cfg, policy, reference, batch
        self.ref_logp = None

    def ref_logprobs(self):
        import torch

        from r1.grpo.forward import completion_logprobs

        with torch.inference_mode():
            logp = completion_logprobs(self.ref_model, self.batch, self.cfg.temperature, compile=self.cfg.compile)
        self.ref_logp = logp[0].clone()  # [b, L]

    def fwd_bwd(self):  # as in the step: gradients start from none (the step zeroes them with set_to_none)
        from r1.grpo.forward import completion_logprobs

        self.policy.zero_grad(set_to_none=True)
        logp, _ = completion_logprobs(self.policy, self.batch, self.cfg.temperature, with_entropy=True,
                                      compile=self.cfg.compile)
        self.backward(logp)

    def plain_fwd_bwd(self):  # the same loss through the model's own forward and one log_softmax
        import torch

        b = self.batch
        self.policy.zero_grad(set_to_none=True)
        logits = self.policy(input_ids=b.input_ids, attention_mask=b.attention_mask,
                             position_ids=b.position_ids, use_cache=False).logits
        start = b.prompt_width - 1
        logp = torch.log_softmax(logits[:, start:-1] / self.cfg.temperature, -1)
        self.backward(logp.gather(-1, b.input_ids[:, start + 1:, None]).squeeze(-1))

    def backward(self, logp):
        from r1.grpo.loss import grpo_loss

        cfg, b = self.cfg, self.batch
        loss, _ = grpo_loss(logp, logp.detach(), self.ref_logp, b.advantages, b.completion_mask,
                            eps_low=cfg.eps_low, eps_high=cfg.eps_high, beta=cfg.beta,
                            loss_type=cfg.loss_type, max_len=cfg.max_new_tokens + 1)
        loss.backward()


def plain_parts(cfg, policy, tokenizer, prompts: list[str], G: int, losses: StepLosses, timed) -> dict:
    """Plain HF `model.generate` on the rollout's batch, and the policy fwd+bwd through `model()`."""
    import torch

    enc = tokenizer([p for p in prompts for _ in range(G)], return_tensors="pt", padding=True,
                    add_special_tokens=False)
    result = {}

    def plain_generate():
        policy.eval()
        with torch.no_grad():
            result["plain"] = policy.generate(**enc, max_new_tokens=cfg.max_new_tokens, do_sample=True,
                                              temperature=cfg.temperature, top_p=1.0, top_k=0,
                                              eos_token_id=tokenizer.eos_token_id,
                                              pad_token_id=tokenizer.pad_token_id)
        policy.train()

    t_plain = timed("plain_generate", plain_generate)
    plain_tokens = int((result["plain"][:, enc["input_ids"].shape[1]:] != tokenizer.pad_token_id).sum())
    t_plain_fwd_bwd = timed("plain_fwd_bwd", losses.plain_fwd_bwd)
    policy.zero_grad(set_to_none=True)
    return {"plain_generate_s": t_plain, "plain_tokens": plain_tokens, "plain_tok_s": plain_tokens / t_plain,
            "plain_fwd_bwd_s": t_plain_fwd_bwd}
