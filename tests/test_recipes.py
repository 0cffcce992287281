"""Every shipped recipe loads into its stage's config, and the tiny recipes match what `r1 demo` runs."""

from pathlib import Path

from r1.config import load_config, read_yaml
from r1.eval.run import EvalConfig
from r1.models.pretrain import PretrainConfig

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


def test_pretrain_recipe_is_the_demo_base_model():
    recipe = load_config(PretrainConfig, RECIPES / "tiny" / "pretrain.yaml")
    defaults = PretrainConfig(output_dir=recipe.output_dir)
    assert recipe == defaults, "recipes/tiny/pretrain.yaml and PretrainConfig defaults disagree"


def test_student_recipes_are_the_base_recipe_at_a_quarter_and_a_half_of_its_parameters():
    import pytest
    import torch

    from r1.models.pretrain import build_model

    def parameters(cfg: PretrainConfig) -> int:
        with torch.device("meta"):  # 134: the tiny tokenizer's vocabulary (every recipe trains the same one)
            return sum(p.numel() for p in build_model(cfg, 134, 0, 1).parameters())

    base = load_config(PretrainConfig, RECIPES / "tiny" / "pretrain.yaml")
    size = {"output_dir", "hidden_size", "num_heads", "intermediate_size"}
    for name, share in (("pretrain-quarter.yaml", 0.25), ("pretrain-half.yaml", 0.5)):
        student = load_config(PretrainConfig, RECIPES / "tiny" / name)
        student.check()
        assert student.model_dump(exclude=size) == base.model_dump(exclude=size), name  # corpus, seed, schedule
        assert parameters(student) / parameters(base) == pytest.approx(share, abs=0.01), name


def test_eval_recipe_matches_the_demo_eval():
    recipe = load_config(EvalConfig, RECIPES / "tiny" / "eval.yaml")
    demo = read_yaml(RECIPES / "tiny" / "paper.yaml")["eval"]
    assert recipe.benchmark == demo["benchmarks"][0]
    assert (recipe.n, recipe.k, recipe.temperature, recipe.top_p, recipe.max_new_tokens) == (
        demo["n"], demo["k"], demo["temperatures"][0], demo["top_p"], demo["max_new_tokens"])


def test_every_recipe_is_valid_yaml_with_output_dir():
    for path in (RECIPES / "tiny").glob("*.yaml"):  # stage recipes (accelerate configs are not)
        assert "output_dir" in read_yaml(path) or "include" in read_yaml(path), path


def test_accelerate_configs_load_in_accelerate():
    from accelerate.commands.config.config_args import ClusterConfig

    paths = sorted((RECIPES / "accelerate").glob("*.yaml"))
    assert [p.stem for p in paths] == ["ddp", "fsdp", "zero2", "zero3"]
    for path in paths:
        cfg = ClusterConfig.from_yaml_file(path)
        assert cfg.num_processes == 8 and cfg.mixed_precision == "no", path
    assert ClusterConfig.from_yaml_file(RECIPES / "accelerate" / "zero3.yaml").deepspeed_config["zero_stage"] == 3


def test_cold_start_recipe_fits_its_data_and_stops_after_the_summary(tiny_tokenizer):
    from r1.models.corpus import render_chat
    from r1.sft import SFTConfig
    from r1.tasks.cold_start import cold_start_records

    recipe = load_config(SFTConfig, RECIPES / "tiny" / "cold-start.yaml")
    assert recipe.stop == ["</summary>"] and recipe.data and recipe.model == "runs/demo/base"
    records = cold_start_records(3000, seed=recipe.seed)  # what the recipe's comment tells to write
    chats = tiny_tokenizer([render_chat(r["prompt"], r["response"]) for r in records],
                           add_special_tokens=False)
    responses = tiny_tokenizer([r["response"] for r in records], add_special_tokens=False)
    assert max(len(ids) for ids in chats["input_ids"]) <= recipe.max_seq_len
    assert max(len(ids) for ids in responses["input_ids"]) <= recipe.eval_max_new_tokens


STAGE_RECIPES = {"pretrain.yaml": "pretrain", "sft.yaml": "sft", "cold-start.yaml": "sft", "zero.yaml": "grpo",
                 "zero-hard.yaml": "grpo", "zero-linear.yaml": "grpo", "eval.yaml": "eval",
                 "rejection.yaml": "rejection-sample", "distill.yaml": "distill", "pretrain-quarter.yaml": "pretrain",
                 "pretrain-half.yaml": "pretrain", "reward-models.yaml": "reward-models"}


def test_every_stage_recipe_loads_into_its_stage_config():
    from r1.stages import STAGES

    pipelines = {"r1.yaml", "paper.yaml", "distillation.yaml"}
    assert {p.name for p in (RECIPES / "tiny").glob("*.yaml")} == set(STAGE_RECIPES) | pipelines
    for name, kind in STAGE_RECIPES.items():
        config = load_config(STAGES[kind].config_class(), RECIPES / "tiny" / name)
        if hasattr(config, "check"):
            config.check()


def test_the_r1_pipeline_recipe_builds_every_stage(tiny_model_dir):
    from r1.pipeline import load_pipeline

    base = [f"{stage}.model={tiny_model_dir}" for stage in ("base", "zero", "cold_start", "sft")]
    plan = load_pipeline(RECIPES / "tiny" / "r1.yaml", base)
    assert [p.entry.name for p in plan.stages] == [
        "base", "zero", "cold_start_data", "cold_start", "reasoning_rl", "reasoning_rl_no_language",
        "non_reasoning_data", "rejection_sampling", "general_data", "sft", "rm_data", "reward_models",
        "general_prompts", "general_prompts_test", "all_scenario_rl"]
    by_name = {p.entry.name: p for p in plan.stages}
    out = plan.recipe.output_dir
    assert by_name["reasoning_rl"].config.model.endswith("cold_start/final")
    assert by_name["rejection_sampling"].config.model.endswith("reasoning_rl/final")
    assert by_name["sft"].config.data == [f"{out}/rejection_sampling/data.jsonl", f"{out}/general_data/data.jsonl"]
    models = by_name["reward_models"].config.models()
    assert {name: (m.data, m.eval_data, m.objective, m.on, m.pool, m.model) for name, [m] in models.items()} == {
        "helpfulness": (f"{out}/rm_data/pairs.jsonl", f"{out}/rm_data/pairs_test.jsonl", "pairwise", "summary",
                        "sum", f"{out}/sft/final"),
        "harmlessness": (f"{out}/rm_data/pointwise.jsonl", f"{out}/rm_data/pointwise_test.jsonl", "pointwise",
                         "whole", "last", f"{out}/sft/final")}
    stage4 = by_name["all_scenario_rl"].config
    assert stage4.model == f"{out}/sft/final" and stage4.general_data == f"{out}/general_prompts/data.jsonl"
    assert stage4.reward.rewards["helpfulness"] == f"rm:{out}/reward_models/helpfulness"
    assert stage4.reward.rewards["harmlessness"] == f"rm:{out}/reward_models/harmlessness"
    assert stage4.beta == 0.001 and stage4.reward.general == {"helpfulness": 0.5, "harmlessness": 0.3,
                                                              "readability": 0.2}
    language = {name: by_name[name].config.reward.language for name in ("reasoning_rl", "reasoning_rl_no_language")}
    assert language["reasoning_rl"] > 0 == language["reasoning_rl_no_language"]


def test_the_paper_recipe_builds_every_stage_from_its_own_base_model(tiny_model_dir):
    from r1.pipeline import load_pipeline

    plan = load_pipeline(RECIPES / "tiny" / "paper.yaml", ["output_dir=out"])
    by_name = {p.entry.name: p for p in plan.stages}
    assert by_name["base"].stage.name == "pretrain" and by_name["base"].config == load_config(
        PretrainConfig, RECIPES / "tiny" / "pretrain.yaml", ["output_dir=out/base"])
    for name in ("zero", "zero_language", "cold_start", "sft"):
        assert by_name[name].config.model == "out/base/final", name
    language = {name: by_name[name].config.reward.language for name in ("zero", "zero_language")}
    assert language["zero_language"] > 0 == language["zero"]
    assert by_name["all_scenario_rl"].config.reward.rewards["helpfulness"] == "rm:out/reward_models/helpfulness"
