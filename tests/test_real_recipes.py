"""A real checkpoint's path, on a CPU in seconds: a stand-in with Qwen2.5's layout (Qwen2, grouped-query
attention, tied embeddings), a byte-level BPE tokenizer trained here, ChatML with Qwen's default system
prompt and two end-of-sequence ids (r1.models.stand_in); one step each of eval, GRPO (full and LoRA) and
SFT; and the recipes for Qwen2.5-0.5B, validated and run at reduced depth (issue #19, points 4 and 7)."""

import copy
import json
from pathlib import Path

import pytest
import torch

from r1.models.stand_in import StandInConfig, build
from tests import test_cli
from tests.test_cli import assert_one_line_error

cli = test_cli.cli
RECIPES = Path(__file__).resolve().parents[1] / "recipes" / "qwen2.5-0.5b"
# what makes a recipe's run fit in seconds on the stand-in; the recipe's own settings stay otherwise
SMALL_GRPO = ["engine=hf", "precision=fp32", "max_steps=1", "prompts_per_step=2", "group_size=2",
              "max_new_tokens=8", "eval_every=0", "save_every=0", "rollout_batch_size=4"]


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    return build(StandInConfig(output_dir=str(tmp_path_factory.mktemp("stand-in"))))


@pytest.fixture(scope="module")
def parts(stand_in):
    from r1.models.load import load_model, load_tokenizer

    return load_model(stand_in).eval(), load_tokenizer(stand_in)


def test_the_stand_in_is_what_a_qwen_checkpoint_brings(stand_in, parts):
    model, tokenizer = parts
    ids = tokenizer.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"])
    assert model.config.model_type == "qwen2" and model.config.tie_word_embeddings
    assert model.config.num_key_value_heads < model.config.num_attention_heads
    assert model.generation_config.eos_token_id == ids and model.generation_config.repetition_penalty == 1.1
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"
    assert len(tokenizer.tokenize(" friends")) == 1  # merges learnt, not characters
    text = tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False,
                                         add_generation_prompt=True)
    assert text == "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant." \
                   "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    assert json.loads((stand_in / "r1_final.json").read_text())["stand_in"] == "tiny"


@pytest.mark.parametrize("lean", [True, False])
@pytest.mark.parametrize("which", ["<|im_end|>", "<|endoftext|>"])
def test_sampling_stops_on_either_end_of_sequence_id(parts, lean, which):
    """One eos id is given the embedding (tied: the output row too) of the greedy continuation's first
    token; the lower id wins the tie, so the model samples that eos first and the rollout ends there."""
    from r1.prompts import build_prompt
    from r1.rollout import HFEngine, SamplingParams

    model, tokenizer = parts
    prompt = [build_prompt(tokenizer, "What is 2+3?", "chat")]
    params = SamplingParams(n=1, temperature=0, max_new_tokens=12)
    plain = HFEngine(model, tokenizer, lean=lean).generate(prompt, params)[0][0]
    eos = tokenizer.convert_tokens_to_ids(which)
    target = plain.token_ids[0]
    assert target > eos and len(plain.token_ids) > 1
    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.get_input_embeddings().weight[eos] = changed.get_input_embeddings().weight[target]
    stopped = HFEngine(changed, tokenizer, lean=lean).generate(prompt, params)[0][0]
    assert stopped.token_ids == [] and stopped.finished and stopped.eos_id == eos


def test_eval_samples_through_the_models_own_template(cli, tmp_path, stand_in):
    out = tmp_path / "eval"
    result = cli("eval", "--model", stand_in, "--benchmark", "gsm8k", "--n", "2", "--k", "2", "--out", out,
                 "max_new_tokens=6")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 4
    assert all(r["prompt"].startswith("<|im_start|>system\nYou are Qwen") for r in rows)
    assert all(r["prompt"].endswith("within \\boxed{}.<|im_end|>\n<|im_start|>assistant\n") for r in rows)


@pytest.mark.parametrize("lora", [False, True])
def test_grpo_trains_only_on_what_was_sampled(cli, tmp_path, stand_in, monkeypatch, lora):
    """One step of the zero-gsm8k recipe (full: the lean sampler; LoRA: transformers' generate). Every
    trained row is its prompt, the sampled tokens and the eos the model sampled, if any: nothing else."""
    import r1.grpo.trainer as trainer

    seen = []
    real = trainer.build_batch

    def recording(prompt_ids, rollouts, advantages, pad_id):
        batch = real(prompt_ids, rollouts, advantages, pad_id)
        seen.append((prompt_ids, rollouts, batch))
        return batch

    monkeypatch.setattr(trainer, "build_batch", recording)
    recipe = RECIPES / ("zero-gsm8k-lora.yaml" if lora else "zero-gsm8k.yaml")
    out = tmp_path / "grpo"
    result = cli("grpo", "-c", recipe, f"model={stand_in}", f"output_dir={out}", *SMALL_GRPO)
    assert result.exit_code == 0, result.output
    assert seen and (out / "final" / "r1_final.json").is_file()
    for prompt_ids, rollouts, batch in seen:
        for row, (prompt, rollout) in enumerate(zip(prompt_ids, rollouts)):
            sampled = rollout.token_ids + ([rollout.eos_id] if rollout.eos_id is not None else [])
            width = batch.input_ids.shape[1] - batch.completion_mask.shape[1]
            trained = batch.input_ids[row, width:][batch.completion_mask[row].bool()].tolist()
            assert trained == sampled
            assert batch.input_ids[row, :width].tolist()[-len(prompt):] == prompt


def test_sft_one_step_on_chat_records(cli, tmp_path, stand_in):
    data = tmp_path / "sft.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"What is {i}+1?", "response": f"<think>{i}+1</think>"
                                        f"<summary>\\boxed{{{i + 1}}}</summary>"}) + "\n" for i in range(8)))
    out = tmp_path / "sft"
    result = cli("sft", f"model={stand_in}", f"data={data}", f"output_dir={out}", "max_steps=1", "batch_size=4")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "final" / "r1_final.json").read_text())["steps"] == 1


def test_the_real_recipes_load_and_check():
    from r1.config import load_config
    from r1.grpo.config import GRPOConfig

    full = load_config(GRPOConfig, RECIPES / "zero-gsm8k.yaml")
    lora = load_config(GRPOConfig, RECIPES / "zero-gsm8k-lora.yaml")
    for cfg in (full, lora):
        cfg.check()
        assert (cfg.data, cfg.engine, cfg.precision, cfg.template, cfg.beta) == ("gsm8k", "vllm", "bf16", "chat", 0.001)
        assert "<think>" in cfg.suffix and "<answer>" in cfg.suffix  # the format the reward checks is asked for
    assert not full.lora.enabled and lora.lora.enabled and lora.lr == pytest.approx(10 * full.lr)
    differ = {"output_dir", "lr", "lora"}
    assert full.model_dump(exclude=differ) == lora.model_dump(exclude=differ)


def test_the_real_pipeline_needs_your_model_and_cold_start_data(cli, tmp_path):
    result = cli("pipeline", "-c", RECIPES / "r1.yaml", f"output_dir={tmp_path / 'run'}")
    assert_one_line_error(result, "stage 'base'", "model=", "nor an existing path")


def test_the_real_pipeline_rehearsed_at_reduced_depth(cli, tmp_path, stand_in):
    """Stages 1-2 run on the stand-in; rejection sampling then finds no correct sample (the stand-in has
    learnt nothing) and says so in one line; what finished stays finished."""
    cold = tmp_path / "cold-start.jsonl"
    cold.write_text("".join(json.dumps({"prompt": f"What is {i}+2?", "response": f"<think>\n{i}+2\n</think>\n"
                                        f"<summary>so the answer is \\boxed{{{i + 2}}}.</summary>"}) + "\n"
                            for i in range(8)))
    out = tmp_path / "run"
    small = ["eval.n=2", "eval.k=1", "eval.engine=hf", "eval.precision=fp32", "eval.max_new_tokens=6",
             "cold_start.max_steps=1", "cold_start.precision=fp32", "cold_start.batch_size=4",
             *[f"reasoning_rl.{s}" for s in SMALL_GRPO],
             "rejection_sampling.n=2", "rejection_sampling.k=2", "rejection_sampling.engine=hf",
             "rejection_sampling.precision=fp32", "rejection_sampling.max_new_tokens=6"]
    result = cli("pipeline", "-c", RECIPES / "r1.yaml", f"output_dir={out}", f"base.model={stand_in}",
                 f"cold_start.data={cold}", *small)
    assert result.exit_code == 2 and "Traceback" not in result.output  # the stages before it logged progress
    assert result.stderr.strip().splitlines()[-1].startswith(
        "error: stage 'rejection_sampling': rejection-sample: no sample survived")
    for stage in ("base", "cold_start", "reasoning_rl"):
        assert json.loads((out / stage / "r1_stage.json").read_text())["finished"], stage
        assert (out / stage / "eval" / "T0.6" / "gsm8k" / "summary.json").is_file(), stage
