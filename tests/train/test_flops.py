"""The compute count's pieces: the formulas (their doctests), N of a model directory without loading its
weights, and the count a finished model directory records."""

import doctest
import json
import re
import shutil

import pytest

import r1.train.flops as flops
from r1.errors import R1Error
from r1.models.load import load_model


def test_docstring_examples():
    result = doctest.testmod(flops)
    assert result.attempted > 0 and result.failed == 0


def test_parameters_of_a_directory_match_the_loaded_model(tiny_model_dir):
    loaded = load_model(tiny_model_dir)
    assert loaded.config.tie_word_embeddings  # the tied embedding counts once
    assert flops.parameter_count_of(tiny_model_dir) == sum(p.numel() for p in loaded.parameters())
    assert flops.parameter_count_of(tiny_model_dir.parent) == flops.parameter_count(loaded)  # a run dir


def test_flops_of_reads_a_finished_directory_and_refuses_others(tiny_model_dir, tmp_path):
    recorded = json.loads((tiny_model_dir / "r1_final.json").read_text())["flops"]
    assert flops.flops_of(tiny_model_dir.parent, "match_flops_of") == recorded > 0
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    for text, error in (("{", "is not valid JSON"), ('{"flops": 0}', "records no FLOPs count (flops=0"),
                        ('{"flops": true}', "records no FLOPs count")):
        (model / "r1_final.json").write_text(text)
        with pytest.raises(R1Error, match=f"match_flops_of: .*{re.escape(error)}"):
            flops.flops_of(model, "match_flops_of")
    with pytest.raises(R1Error, match="match_flops_of: .*nowhere does not exist"):
        flops.flops_of(tmp_path / "nowhere", "match_flops_of")
