"""LoRA via peft: only adapters train, the disabled adapter is the base model exactly (GRPO's reference
without a second copy), the merged save loads with load_model and computes the adapted forward, and
LoRA SFT checkpoints (adapters + optimizer) resume exactly."""

import pytest
import torch
from safetensors.torch import load_file

import r1.sft.trainer as trainer
from r1.errors import R1Error
from r1.models.load import load_model
from r1.models.lora import ADAPTER_FILE, LoraSettings, adapter_disabled, apply_lora, merge_lora
from r1.sft.config import SFTConfig
from tests.killing import interrupt_at

LORA = {"enabled": True, "r": 4, "alpha": 8}
SMALL = dict(families=["arithmetic"], train_problems=40, batch_size=8, lr=1e-2, save_every=0, lora=LORA)


def config(model_dir, out, **overrides) -> SFTConfig:
    return SFTConfig(output_dir=str(out), model=str(model_dir), **{**SMALL, **overrides})


def batch(tokenizer) -> dict[str, torch.Tensor]:
    enc = tokenizer(["<|user|>Compute 12+34.<|end|><|assistant|><think>", "<|user|>Hi<|end|>"],
                    return_tensors="pt", padding=True)
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


def randomized_adapters(model_dir):
    """A LoRA model whose adapters are not zero (fresh ones start with B = 0, equal to the base)."""
    model = apply_lora(load_model(model_dir), LoraSettings(**LORA)).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.copy_(torch.randn(p.shape, generator=generator) * 0.1)
    return model


def test_only_adapters_are_trainable_on_every_linear_layer(tiny_model_dir):
    model = apply_lora(load_model(tiny_model_dir), LoraSettings(**LORA))
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_A" in name or "lora_B" in name for name in trainable)
    wrapped = {name.split(".lora_")[0].rsplit(".", 1)[-1] for name in trainable}
    assert wrapped == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    attention_only = apply_lora(load_model(tiny_model_dir),
                                LoraSettings(**LORA, target_modules=["q_proj", "v_proj"]))
    assert {n.split(".lora_")[0].rsplit(".", 1)[-1] for n, p in attention_only.named_parameters()
            if p.requires_grad} == {"q_proj", "v_proj"}
    with pytest.raises(R1Error, match=r"lora.target_modules: .*nope"):
        apply_lora(load_model(tiny_model_dir), LoraSettings(**LORA, target_modules=["nope"]))


def test_adapter_disabled_is_the_original_forward_exactly(tiny_model_dir, tiny_tokenizer):
    inputs = batch(tiny_tokenizer)
    with torch.no_grad():
        original = load_model(tiny_model_dir).eval()(**inputs).logits
        model = randomized_adapters(tiny_model_dir)
        adapted = model(**inputs).logits
        with adapter_disabled(model) as base:
            reference = base(**inputs).logits
        after = model(**inputs).logits
    assert not torch.allclose(adapted, original, atol=1e-3)  # the adapters do change the forward
    assert torch.equal(reference, original)
    assert torch.equal(after, adapted)  # switched back on when the block ends
    with pytest.raises(TypeError, match="needs a model with LoRA adapters"):
        with adapter_disabled(load_model(tiny_model_dir)):
            pass


def test_merged_save_loads_with_load_model_and_reproduces_the_adapted_forward(tiny_model_dir, tiny_tokenizer,
                                                                              tmp_path):
    inputs = batch(tiny_tokenizer)
    model = randomized_adapters(tiny_model_dir)
    with torch.no_grad():
        adapted = model(**inputs).logits
    merge_lora(model).save_pretrained(tmp_path / "merged")
    reloaded = load_model(tmp_path / "merged").eval()
    assert not any("lora" in name for name, _ in reloaded.named_parameters())
    with torch.no_grad():
        torch.testing.assert_close(reloaded(**inputs).logits, adapted, rtol=1e-4, atol=1e-5)


def test_lora_sft_trains_only_adapters_and_saves_a_merged_model(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    final = trainer.train(config(tiny_model_dir, out, max_steps=3, save_every=2))
    assert (out / "checkpoint" / ADAPTER_FILE).is_file()
    assert not (out / "checkpoint" / "model.safetensors").exists()
    state = torch.load(out / "checkpoint" / "trainer_state.pt", weights_only=False)
    adapter = load_file(out / "checkpoint" / ADAPTER_FILE)
    assert len(state["optimizer"]["param_groups"][0]["params"]) == len(adapter)  # AdamW: adapters only
    before, after = load_file(tiny_model_dir / "model.safetensors"), load_file(final / "model.safetensors")
    assert before.keys() == after.keys()  # a plain model, no lora_* tensors
    changed = {name for name in before if not torch.equal(before[name], after[name])}
    assert changed and all(name.endswith("proj.weight") for name in changed)  # embeddings, norms untouched


def test_lora_run_resumes_from_its_adapter_checkpoint_exactly(tiny_model_dir, tmp_path, monkeypatch):
    run = dict(max_steps=4, save_every=2, lora={**LORA, "dropout": 0.1})  # dropout: the RNG is restored too
    straight = trainer.train(config(tiny_model_dir, tmp_path / "a", **run))
    real_step = trainer.sft_step
    interrupt_at(monkeypatch, trainer, "sft_step", 3)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(config(tiny_model_dir, tmp_path / "b", **run))
    monkeypatch.setattr(trainer, "sft_step", real_step)
    resumed = trainer.train(config(tiny_model_dir, tmp_path / "b", **run))
    a, b = load_file(straight / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(R1Error, match="was started with lora="):
        trainer.train(config(tiny_model_dir, tmp_path / "b", **{**run, "lora": {"enabled": False}}))
