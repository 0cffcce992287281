"""A pipeline's results.md: the model stages' eval summaries, the reward models' held-out metrics and
stage 4's reward-model-vs-oracle scores, each as a table."""

import json
from types import SimpleNamespace

from r1.results import write_results


def stage(tmp_path, name, produces):
    out = tmp_path / name
    out.mkdir()
    return SimpleNamespace(out=out, entry=SimpleNamespace(name=name), stage=SimpleNamespace(produces=produces))


def test_results_md_tabulates_models_reward_models_and_the_oracle(tmp_path):
    sft, rm, rl = stage(tmp_path, "sft", "model"), stage(tmp_path, "helpfulness_rm", "reward_model"), \
        stage(tmp_path, "all_scenario_rl", "model")
    summary = sft.out / "eval" / "T0.6" / "tiny_linear" / "summary.json"
    summary.parent.mkdir(parents=True)
    summary.write_text(json.dumps({"n": 100, "k": 8, "pass@1": 0.25, "cons@8": 0.3, "mean_tokens": 120.0,
                                   "format_r1_zero": 0.0, "format_readable": 1.0, "mixed_language": 0.0}))
    (rm.out / "eval.json").write_text(json.dumps({"objective": "pairwise", "on": "summary",
                                                  "pair_accuracy": 0.955}))
    rows = [{"step": 0, "general/rm/helpfulness": 0.5, "general/rm/harmlessness": 0.6,
             "general/oracle/helpfulness": 0.31, "general/oracle/harmlessness": 0.7},
            {"step": 1, "reward": 0.4},
            {"step": 20, "general/rm/helpfulness": 0.8, "general/rm/harmlessness": 0.9,
             "general/oracle/helpfulness": 0.42, "general/oracle/harmlessness": 0.95}]
    (rl.out / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = write_results(tmp_path, [sft, rm, rl]).read_text()
    assert "| sft | 0.6 | tiny_linear | 100 | 8 | 25.0% | 30.0% | 120.0 | 0.0% | 100.0% | 0.0% |" in text
    assert "| helpfulness_rm | pairwise | summary | 95.5% | — | — | — |" in text
    assert "| all_scenario_rl, start (step 0) | 0.500 | 0.600 | 0.310 | 0.700 |" in text
    assert "| all_scenario_rl, end (step 20) | 0.800 | 0.900 | 0.420 | 0.950 |" in text


def test_without_reward_models_or_general_prompts_only_the_model_table(tmp_path):
    text = write_results(tmp_path, [stage(tmp_path, "zero", "model")]).read_text()
    assert text.count("\n") == 2 and "reward model" not in text and "oracle" not in text


def test_trained_models_get_a_compute_row_and_a_distillation_its_teachers_flops(tmp_path):
    rl, student = stage(tmp_path, "student_zero", "model"), stage(tmp_path, "student_distill", "model")
    for s, info in ((rl, {"steps": 21, "parameters": 456096, "flops": 5.74e11, "train_s": 9.9}),
                    (student, {"steps": 96, "parameters": 456096, "flops": 5.45e11, "train_s": 11.3})):
        (s.out / "final").mkdir()
        (s.out / "final" / "r1_final.json").write_text(json.dumps({"stage": "x", **info}))
    (student.out / "distill.json").write_text(json.dumps({"teacher_flops": 9.48e11}))
    text = write_results(tmp_path, [rl, student, stage(tmp_path, "data", "data")]).read_text()
    assert "| student_zero | 456,096 | 21 | 5.74e+11 | 10 s | — |" in text
    assert "| student_distill | 456,096 | 96 | 5.45e+11 | 11 s | 9.48e+11 |" in text
    assert "| data |" not in text


def test_a_stage_of_several_reward_models_gets_a_row_per_model(tmp_path):
    from r1.report.collect import _note

    rms = stage(tmp_path, "reward_models", "reward_models")
    for name, metrics in (("helpfulness", {"objective": "pairwise", "on": "summary", "pair_accuracy": 0.91}),
                          ("harmlessness", {"objective": "pointwise", "on": "whole", "accuracy": 0.965,
                                            "auroc": 0.994, "accuracy_harm_in_reasoning": 0.963})):
        (rms.out / name).mkdir()
        (rms.out / name / "eval.json").write_text(json.dumps(metrics))
    text = write_results(tmp_path, [rms]).read_text()
    assert "| reward_models/harmlessness | pointwise | whole | — | 96.5% | 0.994 | 96.3% |" in text
    assert "| reward_models/helpfulness | pairwise | summary | 91.0% | — | — | — |" in text
    found = SimpleNamespace(finished=True, entry=rms.entry, stage=rms.stage, out=rms.out)
    from r1.results import reward_model_rows

    assert _note(found, [], reward_model_rows([rms])) == ("harmlessness: held-out accuracy 96.5%; "
                                                          "helpfulness: held-out pair accuracy 91.0%")
