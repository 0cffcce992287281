"""Loss variants under TRL's names: hand-computed values, TRL's own implementation on the same tensors,
grad_accum invariance for every loss_type, and the config's old names.

The TRL comparisons build a real `trl.GRPOTrainer` from TRL's own `GRPOConfig` (a random 1-layer model;
building one takes milliseconds) and call its `_compute_loss` with the forward replaced by the test's
log-probs and entropies, so the arithmetic compared is TRL's code, not a copy of it. The model is in
eval mode, where TRL divides by neither its gradient-accumulation count nor its steps per generation:
its loss is then the loss of the whole batch on one process, which is what r1's loss is.
Not compared with TRL, and why:
- scale_rewards: TRL computes advantages inside `_generate_and_score_completions`, together with
  generation and rewards; there is no function to call on given rewards. Hand values instead.
- all-masked rows: TRL's grpo counts them in its mean over sequences, r1 skips them (test_loss.py);
  the tensors here have none.
"""

import math

import pytest
import torch

from r1.config import load_config
from r1.errors import R1Error
from r1.grpo.advantages import group_advantages
from r1.grpo.batch import build_batch, micro_batches
from r1.grpo.config import GRPOConfig
from r1.grpo.forward import completion_logprobs, entropy_masks
from r1.grpo.loss import (IS_LEVELS, LOSS_TYPES, aggregate, clipped_objective, entropy_threshold, grpo_loss,
                          high_entropy_mask)
from r1.rollout import Rollout

# TRL's GRPOConfig sets a field transformers deprecates
pytestmark = pytest.mark.filterwarnings("ignore:`gradient_checkpointing` is deprecated:FutureWarning")

# The 2x3 example of test_loss.py: old_logp = -1, logp = -1 + ln(ratio), A = [+1, -2], row 1 has 2 tokens.
RATIOS = torch.tensor([[1.0, 1.3, 0.9], [1.0, 0.7, 1.1]])
OLD = torch.full((2, 3), -1.0)
ADV = torch.tensor([1.0, -2.0])
MASK = torch.tensor([[True, True, True], [True, True, False]])


def run(logp=None, old=OLD, adv=ADV, mask=MASK, **kw):
    logp = (OLD + RATIOS.log()).requires_grad_() if logp is None else logp.requires_grad_()
    loss, metrics = grpo_loss(logp, old, None, adv, mask, **kw)
    loss.backward()
    return loss.item(), metrics, logp.grad


def test_cispo_hand_computed():
    # weights sg(min(r, 1 + 0.2)): row 0 [1.0, 1.2, 0.9], row 1 [1.0, 0.7]; loss_t = -w * A * logp
    # logp row 0 [-1, -1 + ln 1.3, -1 + ln 0.9] = [-1, -0.737636, -1.105361], row 1 [-1, -1.356675]
    # row 0: 1 + 1.2 * 0.737636 + 0.9 * 1.105361 = 1 + 0.885163 + 0.994825
    # row 1: -(1 * 2 * 1) - (0.7 * 2 * 1.356675) = -2 - 1.899345; token mean over 5 = -0.203871
    loss, m, grad = run(loss_type="cispo", eps_high=0.2)
    assert loss == pytest.approx((1 + 0.885163 + 0.994825 - 2 - 1.899345) / 5, abs=1e-5)
    # d/dlogp = -w * A / 5: the token PPO would clip (ratio 1.3, A > 0) still learns, at weight 1.2
    torch.testing.assert_close(grad, torch.tensor([[-1.0, -1.2, -0.9], [2.0, 1.4, 0.0]]) / 5)
    assert m["clip_frac_high"] == pytest.approx(1 / 5) and m["clip_frac_low"] == 0.0


def test_gspo_hand_computed():
    # row 0: mean log-ratio (ln 1.3 + ln 0.9) / 3 = 0.0523344 -> s = 1.053728, A = +1 inside [0.9, 1.2]
    # row 1: mean (0 + ln 0.7) / 2 -> s = sqrt(0.7) = 0.836660 < 1 - 0.1 with A < 0: clipped to 0.9,
    #        objective min(-2 * 0.83666, -2 * 0.9) = -1.8, no gradient
    # grpo: (-1.053728 + 1.8) / 2 = 0.373136; grad row 0: -s * (1/3 per token) / 2 rows
    loss, m, grad = run(importance_sampling_level="sequence", eps_low=0.1)
    assert loss == pytest.approx((-1.053728 + 1.8) / 2, abs=1e-5)
    torch.testing.assert_close(grad, torch.tensor([[-1.053728 / 6] * 3, [0.0] * 3]))
    assert m["clip_frac_low"] == pytest.approx(2 / 5) and m["ratio_max"] == pytest.approx(1.053728, abs=1e-5)


@pytest.mark.parametrize("loss_type", ["grpo", "dapo"])
def test_gspo_equals_the_stop_gradient_gspo_token_form(loss_type):
    """GSPO-token: s_it = sg[s_i] * pi_t / sg[pi_t], the same value and gradient as r1's (TRL's) mean."""
    g = torch.Generator().manual_seed(1)
    old = -torch.rand(3, 5, generator=g) - 0.5
    logp = old + torch.randn(3, 5, generator=g) * 0.3 + torch.tensor([[0.3], [-0.3], [0.0]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 0, 0, 0]]).bool()
    adv = torch.tensor([1.0, -1.0, 0.5])
    _, _, grad = run(logp.clone(), old, adv, mask, loss_type=loss_type, importance_sampling_level="sequence")
    token = logp.clone().requires_grad_()
    per_seq = ((token - old) * mask).sum(-1, keepdim=True) / mask.sum(-1, keepdim=True)  # [3, 1]
    log_ratio = token - token.detach() + per_seq.detach()  # [3, 5]
    loss = aggregate(-clipped_objective(log_ratio, adv, 0.2, 0.2).objective, mask, loss_type)
    loss.backward()
    torch.testing.assert_close(grad, token.grad * mask)


def test_two_sided_clipping_hand_computed():
    # one token per row, ratios [3.0, 1.3, 3.0], A [-1, -1, +1], eps 0.2, delta 2, dapo:
    #   row 0: min(min(3, 2) * -1, 1.2 * -1) = -2, constant: no gradient (plain PPO: -3, gradient 3)
    #   row 1: min(-1.3, -1.2) = -1.3, gradient r / 3 = 1.3 / 3
    #   row 2: min(2, 1.2) = 1.2, clipped high
    logp, adv = torch.tensor([[3.0], [1.3], [3.0]]).log(), torch.tensor([-1.0, -1.0, 1.0])
    mask = torch.ones(3, 1)
    loss, m, grad = run(logp.clone(), torch.zeros(3, 1), adv, mask, loss_type="dapo", delta=2.0)
    assert loss == pytest.approx((2 + 1.3 - 1.2) / 3, abs=1e-6)
    torch.testing.assert_close(grad, torch.tensor([[0.0], [1.3 / 3], [0.0]]))
    assert (m["clip_frac_delta"], m["clip_frac_high"], m["clip_frac"]) == pytest.approx((1 / 3, 1 / 3, 2 / 3))
    plain, _, plain_grad = run(logp.clone(), torch.zeros(3, 1), adv, mask, loss_type="dapo")
    assert plain == pytest.approx((3 + 1.3 - 1.2) / 3, abs=1e-6) and plain_grad[0, 0] == pytest.approx(1.0)


def test_top_entropy_quantile_hand_computed():
    # loss-token entropies 0.1 0.5 0.9 | 0.3 0.7 (9.0 is padding); sorted 0.1 0.3 0.5 0.7 0.9; q = 0.4:
    # quantile 0.6 at position 4 * 0.6 = 2.4 -> 0.5 + 0.4 * (0.7 - 0.5) = 0.58: tokens (0, 2) and (1, 1)
    entropies = torch.tensor([[0.1, 0.5, 0.9], [0.3, 0.7, 9.0]])
    threshold = entropy_threshold(entropies[MASK], 0.4)
    assert threshold == pytest.approx(0.58)
    keep = high_entropy_mask(entropies, MASK, threshold)
    assert keep.tolist() == [[False, False, True], [False, True, False]]
    # kept: (0, 2) ratio 0.9, A = 1 -> -0.9; (1, 1) ratio 0.7, A = -2, clipped low -> 1.6; dapo divides
    # by all 5 loss tokens (TRL: the normaliser is not the kept count): 0.7 / 5
    loss, _, grad = run(loss_type="dapo", entropy_mask=keep)
    assert loss == pytest.approx(0.7 / 5, abs=1e-6)
    torch.testing.assert_close(grad, torch.tensor([[0.0, 0.0, -0.9 / 5], [0.0, 0.0, 0.0]]))


@pytest.mark.parametrize("n", [1, 2, 7, 100])
@pytest.mark.parametrize("q", [0.0, 0.2, 0.5, 1.0])
def test_entropy_threshold_is_torch_quantile(n, q):
    values = torch.rand(n, generator=torch.Generator().manual_seed(n))
    assert entropy_threshold(values, q) == pytest.approx(torch.quantile(values, 1 - q).item(), abs=1e-7)
    assert entropy_threshold(torch.zeros(0), q) == math.inf  # nothing to keep


def test_scale_rewards_batch_hand_computed():
    # rewards [1 0 0 0 | 1 1 0 0]: centred by group [0.75 -0.25 -0.25 -0.25 | 0.5 0.5 -0.5 -0.5];
    # all 8: mean 0.375, squares 3 * 0.625^2 + 5 * 0.375^2 = 1.875, unbiased std sqrt(1.875 / 7) = 0.517549
    rewards = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    centred = torch.tensor([0.75, -0.25, -0.25, -0.25, 0.5, 0.5, -0.5, -0.5])
    adv = group_advantages(rewards, 4, scale_rewards="batch", eps=0.0)
    torch.testing.assert_close(adv, centred / 0.517549)
    # the std of every process's rewards, when given, replaces this process's own
    torch.testing.assert_close(group_advantages(rewards, 4, scale_rewards="batch", eps=0.0, batch_std=2.0),
                               centred / 2.0)
    with pytest.raises(ValueError, match="scale_rewards"):
        group_advantages(rewards, 4, scale_rewards="global")


# --- against TRL's GRPOTrainer._compute_loss -------------------------------------------------------


@pytest.fixture(scope="module")
def trl_trainer(tmp_path_factory):
    """TRL's trainer for given GRPOConfig settings, on a random 1-layer model (the forward is replaced)."""
    trl = pytest.importorskip("trl")
    from datasets import Dataset
    from transformers import LlamaConfig, LlamaForCausalLM

    from r1.models.tokenizer import train_char_tokenizer

    tokenizer = train_char_tokenizer(["0123456789"])
    model_dir = tmp_path_factory.mktemp("trl-model")  # a directory: with beta > 0 TRL loads its reference
    LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1,
                                 num_attention_heads=2, intermediate_size=32)).save_pretrained(model_dir)
    dataset = Dataset.from_list([{"prompt": "1"}] * 4)

    def build(**settings):
        args = trl.GRPOConfig(output_dir=str(model_dir / "out"), per_device_train_batch_size=4,
                              num_generations=2, use_cpu=True, bf16=False, report_to="none",
                              logging_strategy="no", save_strategy="no", **settings)
        trainer = trl.GRPOTrainer(model=str(model_dir), args=args, train_dataset=dataset,
                                  processing_class=tokenizer,
                                  reward_funcs=[lambda completions, **kw: [0.0] * len(completions)])
        trainer.model.eval()  # eval mode: no gradient-accumulation scaling (see the module docstring)
        return trainer

    return build


def example():
    """B = 4 completions of 6, 4, 1 and 5 tokens; row offsets put whole sequences out of the trust region."""
    g = torch.Generator().manual_seed(0)
    mask = torch.arange(6)[None, :] < torch.tensor([6, 4, 1, 5])[:, None]  # [4, 6]
    old = -torch.rand(4, 6, generator=g) * 3 - 0.1  # [4, 6]
    shift = torch.tensor([[0.3], [0.35], [-0.4], [0.6]])  # [4, 1]
    logp = old + shift + torch.randn(4, 6, generator=g) * 0.4  # [4, 6]
    ref = old + torch.randn(4, 6, generator=g) * 0.3  # [4, 6]
    entropies = torch.rand(4, 6, generator=g) * 2  # [4, 6]
    return logp, old, ref, torch.tensor([1.2, -0.7, 0.4, -1.5]), mask, entropies


CASES = [(loss_type, level, {}) for loss_type in LOSS_TYPES for level in IS_LEVELS] + [
    ("grpo", "token", {"delta": 1.5}), ("dapo", "sequence", {"delta": 1.3}),
    ("grpo", "token", {"top_entropy_quantile": 0.4}), ("cispo", "sequence", {"top_entropy_quantile": 0.4}),
    ("dr_grpo", "token", {"top_entropy_quantile": 0.2, "delta": 1.5}), ("bnpo", "token", {"beta": 0.0}),
]


@pytest.mark.parametrize("loss_type, level, extra", CASES)
def test_loss_and_gradient_match_trl(trl_trainer, loss_type, level, extra):
    logp, old, ref, adv, mask, entropies = example()
    beta, delta, q = extra.get("beta", 0.04), extra.get("delta"), extra.get("top_entropy_quantile", 1.0)
    eps_low, eps_high = 0.2, 0.28
    keep = None if q == 1 else high_entropy_mask(entropies, mask, entropy_threshold(entropies[mask], q))
    ours = logp.clone().requires_grad_()
    loss, m = grpo_loss(ours, old, ref, adv, mask, eps_low=eps_low, eps_high=eps_high, beta=beta,
                        loss_type=loss_type, importance_sampling_level=level, delta=delta, max_len=6,
                        entropy_mask=keep)
    loss.backward()
    # TRL's cispo caps the ratio at epsilon_high itself, r1 at 1 + eps_high; r1's KL is the plain k3
    # (TRL's default use_bias_correction_kl=True multiplies it by the ratio: docs/trl-port.md)
    trainer = trl_trainer(loss_type=loss_type, importance_sampling_level=level, beta=beta, delta=delta,
                          epsilon=eps_low, epsilon_high=1 + eps_high if loss_type == "cispo" else eps_high,
                          top_entropy_quantile=q, max_completion_length=6, use_bias_correction_kl=False)
    theirs = logp.clone().requires_grad_()
    trainer._get_per_token_logps_and_entropies = lambda *args, **kwargs: (theirs, entropies, None)
    inputs = {"prompt_ids": torch.zeros(4, 1, dtype=torch.long), "prompt_mask": torch.ones(4, 1).long(),
              "completion_ids": torch.zeros(4, 6, dtype=torch.long), "completion_mask": mask.long(),
              "advantages": adv, "old_per_token_logps": old, "ref_per_token_logps": ref,
              "num_items_in_batch": mask.sum()}
    trl_loss = trainer._compute_loss(trainer.model, inputs)
    trl_loss.backward()
    assert loss.item() == pytest.approx(trl_loss.item(), rel=1e-5, abs=1e-6)
    torch.testing.assert_close(ours.grad, theirs.grad, rtol=1e-5, atol=1e-7)
    assert m["clip_frac"] > 0  # the example exercises the clipping (cispo: the cap)
    if delta is not None:
        assert m["clip_frac_delta"] > 0
    if keep is not None:
        assert 0 < keep.sum() < mask.sum()


def test_trl_high_entropy_mask_is_r1s(trl_trainer):
    _, _, _, _, mask, entropies = example()
    trainer = trl_trainer()
    for q in (0.1, 0.5, 0.9):
        ours = high_entropy_mask(entropies, mask, entropy_threshold(entropies[mask], q))
        assert torch.equal(ours, trainer.get_high_entropy_mask(entropies, mask.long(), 1 - q))


# --- grad_accum never changes the gradient ---------------------------------------------------------


def _batch():
    g = torch.Generator().manual_seed(0)
    lengths, finished = [3, 9, 1, 5, 7, 2, 4, 6], [True, False, True, True, False, True, True, True]
    rollouts = [Rollout(0, i, "", (torch.randint(0, 20, (n,), generator=g) + 10).tolist(), f,
                        eos_id=1 if f else None) for i, (n, f) in enumerate(zip(lengths, finished))]
    prompts = [[4, 28, 39, 1, 5]] * 4 + [[4, 28, 39, 40, 37, 1, 5]] * 4
    return build_batch(prompts, rollouts, torch.linspace(-1, 1, 8), pad_id=0)


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("level", IS_LEVELS)
def test_grad_accum_changes_memory_not_the_gradient(tiny_model, loss_type, level):
    """Off-policy (old_logp shifted by a function of each token), with delta, the entropy quantile and
    truncated rows masked: 1 micro-batch, 3, and 10 (with fillers) give the same gradient and train
    the same tokens."""
    batch = _batch()
    delta = None if loss_type == "cispo" else 1.2

    def grads(accum):
        cfg = GRPOConfig(output_dir="x", model="x", loss_type=loss_type, importance_sampling_level=level,
                         delta=delta, top_entropy_quantile=0.5, mask_truncated=True, grad_accum=accum,
                         max_new_tokens=12, eps_high=0.1)
        tiny_model.zero_grad()
        parts, counts = micro_batches(cfg, batch, accum)
        keep = entropy_masks(tiny_model, parts, counts, cfg, torch.float32)
        clipped = 0.0
        for part, count, kept in zip(parts, counts, keep):
            logp, _ = completion_logprobs(tiny_model, part, 1.0)
            ids = part.input_ids[:, part.prompt_width:].float()  # [b, L]
            shift = 0.3 * torch.sin(ids) + 0.3 * torch.cos(ids[:, :1])  # [b, L]: per token, and per row
            old = logp.detach() - shift  # off-policy: some rows and tokens outside the trust region
            loss, m = grpo_loss(logp, old, None, part.advantages, part.completion_mask, eps_high=0.1,
                                loss_type=loss_type, importance_sampling_level=level, delta=delta, max_len=13,
                                truncated=part.truncated, mask_truncated=True, entropy_mask=kept)
            (loss * count / sum(counts)).backward()
            clipped += m["clip_frac"] * m["tokens"]
        kept_tokens = sum(int(k.sum()) for k, count in zip(keep, counts) if count > 0)
        return [p.grad.clone() for p in tiny_model.parameters()], kept_tokens, clipped

    # 10 parts of an 8-row batch: 2 are fillers counted 0 (a process short of rows runs them too)
    (whole, kept_whole, clipped), (split, kept_split, _) = grads(1), grads(3)
    padded, kept_padded, _ = grads(10)
    tiny_model.zero_grad()
    # 27 loss tokens (4+2+6+3+5+7; the truncated rows are masked): the quantile at rank 13 keeps 14
    assert kept_whole == kept_split == kept_padded == 14 and clipped > 0  # and clipping binds somewhere
    assert any(g.abs().max() > 0 for g in whole)
    for a, b, c in zip(whole, split, padded):
        assert torch.allclose(a, b, atol=1e-6, rtol=1e-4) and torch.allclose(a, c, atol=1e-6, rtol=1e-4)


def test_quantile_one_costs_no_forward():
    cfg = GRPOConfig(output_dir="x", model="x")
    parts, counts = micro_batches(cfg, _batch(), 2)
    assert entropy_masks(None, parts, counts, cfg, torch.float32) == [None, None]  # no model: no forward


# --- the config: TRL's names, the old names, refusals ----------------------------------------------


def test_old_names_and_trl_values_map_to_the_new_fields(tmp_path):
    cases = [({"aggregation": "seq-mean-token-mean"}, ("grpo", "group")),
             ({"aggregation": "token-mean", "scale_by_std": False}, ("dapo", "none")),
             ({"aggregation": "constant", "scale_by_std": True}, ("dr_grpo", "group")),
             ({"scale_rewards": True}, ("grpo", "group")), ({"scale_rewards": False}, ("grpo", "none")),
             ({"loss_type": "cispo", "scale_rewards": "batch"}, ("cispo", "batch")),
             ({"aggregation": "token-mean", "loss_type": "dapo"}, ("dapo", "group"))]  # agreeing: accepted
    for fields, expected in cases:
        cfg = GRPOConfig(output_dir="x", model="x", **fields)
        assert (cfg.loss_type, cfg.scale_rewards) == expected, fields
    recipe = tmp_path / "old.yaml"
    recipe.write_text("output_dir: o\nmodel: m\naggregation: constant\nscale_by_std: false\n")
    cfg = load_config(GRPOConfig, recipe, ["scale_rewards=false"])
    assert (cfg.loss_type, cfg.scale_rewards) == ("dr_grpo", "none")
    assert "aggregation" not in cfg.model_dump() and "scale_by_std" not in cfg.model_dump()


def test_conflicting_old_and_new_names_are_refused_in_one_line(tmp_path):
    recipe = tmp_path / "old.yaml"
    recipe.write_text("output_dir: o\nmodel: m\naggregation: token-mean\n")
    with pytest.raises(R1Error) as err:
        load_config(GRPOConfig, recipe, ["loss_type=cispo"])
    message = str(err.value)
    assert "\n" not in message and str(recipe) in message
    assert "'aggregation' = 'token-mean'" in message and "'loss_type' = 'cispo'" in message
    with pytest.raises(R1Error, match="'scale_by_std' = True .* 'scale_rewards' = 'none'"):
        load_config(GRPOConfig, None, ["output_dir=o", "model=m", "scale_by_std=true", "scale_rewards=none"])
    with pytest.raises(R1Error, match="unknown key 'loss_typ'"):  # unknown keys are still refused
        load_config(GRPOConfig, None, ["output_dir=o", "model=m", "loss_typ=dapo"])
    with pytest.raises(R1Error, match="key 'loss_type' = 'ppo'"):
        load_config(GRPOConfig, None, ["output_dir=o", "model=m", "loss_type=ppo"])


def test_settings_that_cannot_train_are_refused():
    with pytest.raises(R1Error, match="loss_type=cispo has none"):
        GRPOConfig(output_dir="x", model="x", delta=2.0, loss_type="cispo").check()


@pytest.mark.parametrize("override, match", [
    ("delta=1.0", "greater than 1"),
    ("top_entropy_quantile=1.5", "less than or equal to 1"),
    ("top_entropy_quantile=-0.1", "greater than or equal to 0"),
])
def test_out_of_range_loss_settings_are_refused_when_loaded(override, match):
    with pytest.raises(R1Error, match=f"key '{override.split('=')[0]}' = .*{match}"):
        load_config(GRPOConfig, None, ["output_dir=o", "model=m", override])


# --- the command of issue 14 -----------------------------------------------------------------------


def test_cli_step_with_every_variant_at_once(tiny_model_dir, tmp_path):
    from pathlib import Path

    from typer.testing import CliRunner

    from r1.cli import app
    from r1.train.telemetry import read_log

    recipe = Path(__file__).resolve().parents[2] / "recipes" / "tiny" / "zero.yaml"
    out = tmp_path / "run"
    result = CliRunner().invoke(app, [
        "grpo", "-c", str(recipe), f"model={tiny_model_dir}", "loss_type=cispo",
        "importance_sampling_level=sequence", "scale_rewards=batch", "top_entropy_quantile=0.2",
        "max_steps=1", "eval_every=0", f"output_dir={out}",
        "reward.monitor=[overlong]", "reward.rewards.overlong=soft_overlong_punishment_tiny"])
    assert result.exit_code == 0, result.output
    (row,) = read_log(out / "log.jsonl")
    assert row["skipped"] is False and math.isfinite(row["loss"]) and row["grad_norm"] > 0
    assert -1.0 <= row["reward/overlong"] <= 0.0  # scored from the rollouts' token ids
    saved = load_config(GRPOConfig, out / "grpo_config.yaml")
    assert (saved.loss_type, saved.importance_sampling_level, saved.scale_rewards,
            saved.top_entropy_quantile) == ("cispo", "sequence", "batch", 0.2)
