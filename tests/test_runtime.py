"""Checkpoint directories survive a kill at any point of the swap."""

from r1.runtime import recover_dir, swap_in_dir


def _dir(path, text):
    path.mkdir()
    (path / "state").write_text(text)
    return path


def test_swap_replaces_and_cleans_up(tmp_path):
    target = _dir(tmp_path / "checkpoint", "old")
    swap_in_dir(_dir(tmp_path / "checkpoint.tmp", "new"), target)
    assert (target / "state").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]


def test_kill_between_renames_is_recovered_and_next_swap_works(tmp_path):
    target = tmp_path / "checkpoint"
    _dir(tmp_path / "checkpoint.old", "complete")  # killed after the first rename
    assert (recover_dir(target) / "state").read_text() == "complete"
    _dir(tmp_path / "checkpoint.old", "stale")  # killed after the second rename, before cleanup
    swap_in_dir(_dir(tmp_path / "checkpoint.tmp", "newer"), target)
    assert (target / "state").read_text() == "newer"
    assert not (tmp_path / "checkpoint.old").exists()
