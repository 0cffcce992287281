"""HFEngine on the session's tiny model: order, padding, stops, truncation, seeds."""

import pytest
import torch

from r1.errors import R1Error
from r1.models.corpus import render_chat
from r1.rollout import HFEngine, SamplingParams, make_engine

PROBLEMS = ["Compute 482+201.", "Solve 10x+62=8x+136.", "Use 2 11 15 16 to make 14.", "Compute 9+1.",
            "Compute 777*2-146+978."]


@pytest.fixture(scope="module")
def engine(tiny_model, tiny_tokenizer):
    return HFEngine(tiny_model, tiny_tokenizer, batch_size=3)


@pytest.fixture(scope="module")
def prompts():
    return [render_chat(p) for p in PROBLEMS]


@pytest.fixture(scope="module")
def greedy_alone(engine, prompts):
    """Each prompt generated on its own: nothing to pad."""
    params = SamplingParams(n=1, temperature=0, max_new_tokens=30)
    return [engine.generate([p], params)[0][0] for p in prompts]


def _check_clean(rollout, tokenizer):
    assert "<|end|>" not in rollout.text and "<|pad|>" not in rollout.text
    assert tokenizer.eos_token_id not in rollout.token_ids and tokenizer.pad_token_id not in rollout.token_ids
    assert tokenizer.decode(rollout.token_ids) == rollout.text


def test_n_rollouts_per_prompt_in_order(engine, prompts, tiny_tokenizer):
    out = engine.generate(prompts, SamplingParams(n=3, temperature=1.0, max_new_tokens=20, seed=0))
    assert len(out) == len(prompts)
    for i, rollouts in enumerate(out):
        assert [(r.prompt_index, r.sample_index) for r in rollouts] == [(i, 0), (i, 1), (i, 2)]
        for rollout in rollouts:
            _check_clean(rollout, tiny_tokenizer)
            assert 0 < len(rollout.token_ids) <= 20


def test_greedy_is_the_same_alone_and_batched(engine, prompts, greedy_alone):
    """Left padding must not change a prompt's continuation; rollouts must land on their own prompt."""
    assert len({r.text for r in greedy_alone}) > 1  # the prompts really get different answers
    lengths = {len(p) for p in prompts}
    assert len(lengths) == len(prompts)  # so every batch mixes lengths and pads
    batched = engine.generate(prompts, SamplingParams(n=2, temperature=0, max_new_tokens=30))
    for alone, rollouts in zip(greedy_alone, batched):
        for rollout in rollouts:
            assert rollout.text == alone.text and rollout.token_ids == alone.token_ids
            assert rollout.finished == alone.finished
    reversed_out = engine.generate(prompts[::-1], SamplingParams(n=1, temperature=0, max_new_tokens=30))
    assert [r[0].text for r in reversed_out] == [r.text for r in greedy_alone[::-1]]


def test_stops_at_answer_tag(engine, prompts, tiny_tokenizer):
    out = engine.generate(prompts, SamplingParams(n=2, temperature=1.0, max_new_tokens=40,
                                                  stop=["</answer>"], seed=1))
    stopped = [r for rollouts in out for r in rollouts if "</answer>" in r.text]
    assert stopped, "the tiny model never closed an answer"
    for rollout in stopped:
        assert rollout.text.endswith("</answer>") and rollout.text.count("</answer>") == 1
        assert rollout.finished
    for rollout in (r for rollouts in out for r in rollouts):
        _check_clean(rollout, tiny_tokenizer)


def _first_end(tokenizer, ids, stop):
    """The completion HF should stop at: the shortest prefix whose text ends with `stop`."""
    for t in range(1, len(ids) + 1):
        if tokenizer.decode(ids[:t]).endswith(stop):
            return ids[:t]
    raise AssertionError(stop)


@pytest.mark.parametrize("width", [1, 2, 3])  # 1: a single-token stop (eos id); 2, 3: stop strings
def test_stop_strings_cut_at_their_first_occurrence(engine, prompts, tiny_tokenizer, greedy_alone, width):
    cut_any = False
    for prompt, full in zip(prompts, greedy_alone):
        ids = full.token_ids
        if len(ids) < width + 3:
            continue
        stop = tiny_tokenizer.decode(ids[3 : 3 + width])
        expected = _first_end(tiny_tokenizer, ids, stop)
        got = engine.generate([prompt], SamplingParams(n=1, temperature=0, max_new_tokens=30, stop=[stop]))[0][0]
        assert got.token_ids == expected, (stop, full.text, got.text)
        assert got.text.endswith(stop) and got.finished
        cut_any = cut_any or len(expected) < len(ids)
    assert cut_any


def test_unfinished_when_max_new_tokens_is_hit(engine, prompts, greedy_alone):
    long_ones = [(p, r) for p, r in zip(prompts, greedy_alone) if len(r.token_ids) > 4]
    assert long_ones
    for prompt, full in long_ones:
        short = engine.generate([prompt], SamplingParams(n=1, temperature=0, max_new_tokens=4))[0][0]
        assert short.token_ids == full.token_ids[:4]
        assert not short.finished
    finished = [r for r in greedy_alone if len(r.token_ids) < 30]
    assert finished and all(r.finished for r in finished)  # ended at eos before the limit


def test_same_seed_same_samples(engine, prompts):
    params = SamplingParams(n=4, temperature=1.0, max_new_tokens=25, seed=7)
    first = engine.generate(prompts, params)
    again = engine.generate(prompts, params)
    other = engine.generate(prompts, SamplingParams(n=4, temperature=1.0, max_new_tokens=25, seed=8))
    texts = lambda out: [[r.text for r in rollouts] for rollouts in out]  # noqa: E731
    assert texts(first) == texts(again)
    assert texts(first) != texts(other)
    assert len({r.text for rollouts in first for r in rollouts}) > len(prompts)  # samples differ


def test_leaves_training_mode_as_it_was(tiny_model_dir, tiny_tokenizer):
    from r1.models.load import load_model

    model = load_model(tiny_model_dir)
    model.train()
    HFEngine(model, tiny_tokenizer).generate([render_chat("Compute 1+2.")], SamplingParams(max_new_tokens=3))
    assert model.training


def test_make_engine(tiny_model_dir, tmp_path):
    assert isinstance(make_engine("hf", str(tiny_model_dir)), HFEngine)
    with pytest.raises(R1Error, match="unknown rollout engine"):
        make_engine("bogus", str(tiny_model_dir))
    with pytest.raises(R1Error, match=str(tmp_path)):
        make_engine("hf", str(tmp_path))


@pytest.mark.parametrize("lean", [True, False])
def test_stops_on_every_eos_id_of_the_generation_config(tiny_model, tiny_tokenizer, prompts, lean):
    """Qwen2.5 and Llama 3 list several eos ids in generation_config; the engine must stop on each,
    as vLLM does (before, only the tokenizer's eos stopped it), and report the one it sampled."""
    import copy

    model = copy.deepcopy(tiny_model)
    params = SamplingParams(n=1, temperature=0, max_new_tokens=30)
    plain = HFEngine(model, tiny_tokenizer, lean=lean).generate(prompts[:1], params)[0][0]
    assert len(plain.token_ids) > 4
    second_eos = plain.token_ids[3]  # a token the greedy continuation samples at step 3
    model.generation_config.eos_token_id = [tiny_tokenizer.eos_token_id, second_eos]
    stopped = HFEngine(model, tiny_tokenizer, lean=lean).generate(prompts[:1], params)[0][0]
    first = plain.token_ids.index(second_eos)
    assert stopped.token_ids == plain.token_ids[:first] and stopped.finished
    assert stopped.eos_id == second_eos and stopped.text == tiny_tokenizer.decode(plain.token_ids[:first])


@pytest.mark.parametrize("lean", [True, False])
def test_sampled_pad_tokens_are_kept(tiny_model, tiny_tokenizer, prompts, lean):
    """A pad token the model samples is part of what it generated (before, it was silently dropped, so
    the trained sequence differed from the sampled one). The pad row of the tied embedding is set to a
    token the greedy continuation uses: the pad's lower id wins the tie, so greedy samples pad there."""
    import copy

    model = copy.deepcopy(tiny_model)
    params = SamplingParams(n=1, temperature=0, max_new_tokens=30)
    plain = HFEngine(model, tiny_tokenizer, lean=lean).generate(prompts[:1], params)[0][0]
    pad = tiny_tokenizer.pad_token_id
    target = next(t for t in plain.token_ids if t > pad and t not in tiny_tokenizer.all_special_ids)
    with torch.no_grad():
        model.get_input_embeddings().weight[pad] = model.get_input_embeddings().weight[target]
        model.get_output_embeddings().weight[pad] = model.get_output_embeddings().weight[target]
    padded = HFEngine(model, tiny_tokenizer, lean=lean).generate(prompts[:1], params)[0][0]
    assert padded.token_ids == [pad if t == target else t for t in plain.token_ids]
    assert padded.finished == plain.finished and padded.eos_id == plain.eos_id


def test_the_checkpoints_sampling_defaults_do_not_leak_into_generate(tiny_model, tiny_tokenizer, prompts):
    """transformers fills what a generate call leaves unset from the checkpoint's generation_config
    (Qwen2.5 ships repetition_penalty 1.1, top_k 20): r1 samples from its own settings on every path."""
    import copy

    params = SamplingParams(n=1, temperature=0, max_new_tokens=30)
    lean = HFEngine(tiny_model, tiny_tokenizer, lean=True).generate(prompts, params)
    model = copy.deepcopy(tiny_model)
    model.generation_config.update(repetition_penalty=5.0, no_repeat_ngram_size=2, min_new_tokens=25, top_k=1)
    engine = HFEngine(model, tiny_tokenizer, lean=False)
    assert [r[0].token_ids for r in engine.generate(prompts, params)] == [r[0].token_ids for r in lean]
    sampled = engine.generate(prompts[:1], SamplingParams(n=8, temperature=1.0, max_new_tokens=12, seed=3))[0]
    assert len({tuple(r.token_ids) for r in sampled}) > 1  # top_k=1 of the checkpoint would make them one
    assert model.generation_config.repetition_penalty == 5.0  # the checkpoint's config is left as it was
