"""The run store opens only what it wrote: no class a run.json names is imported unless insight stores it."""
from __future__ import annotations

import json

import numpy as np
import pytest

from insight.errors import InputError, UnsafeInputError
from insight.store import load_run


def _run_folder(tmp_path, meta) -> object:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "run.json").write_text(meta if isinstance(meta, str) else json.dumps(meta), encoding="utf-8")
    return folder


def test_a_run_naming_another_class_is_refused_unimported(tmp_path):
    folder = _run_folder(tmp_path, {"format_version": 1, "result": {"__class__": "subprocess.Popen", "args": "ls"}})
    np.save(folder / "embeddings.npy", np.zeros((0, 4), dtype=np.float32))
    (folder / "codeframe.yaml").write_text("themes:\n  - name: a\n", encoding="utf-8")
    with pytest.raises(UnsafeInputError, match="subprocess.Popen"):
        load_run(folder)


@pytest.mark.parametrize("meta", ["{not json", "[]", json.dumps({"format_version": 1, "result": {}})])
def test_a_damaged_run_is_one_clear_error(tmp_path, meta):
    with pytest.raises(InputError, match="run"):
        load_run(_run_folder(tmp_path, meta))
