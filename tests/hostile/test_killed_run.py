"""A run killed while it saves leaves the earlier saved run readable, and the next run works.

The kill is real (SIGKILL, which no handler can soften), at two points of
``insight.store.save_run``: while the new run is being written, and between moving
the earlier run aside and moving the new one in.
"""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench.hostile import REPO, tiny_codeframe, write_table, _frame

_KILL = """
import dataclasses, os, signal, sys
from pathlib import Path
import pandas as pd
from insight import store

folder, point = sys.argv[1], sys.argv[2]
run = store.load_run(folder)
result = dataclasses.replace(run, comments=run.comments.head(3))  # another run, so a half-written one would show
if point == "write":  # dies on the fourth table written, after the changed comments
    real, calls = pd.DataFrame.to_parquet, []
    def dying(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, *args, **kwargs)
    pd.DataFrame.to_parquet = dying
else:  # dies right after the earlier run was moved aside
    real_rename = Path.rename
    def dying_rename(self, target):
        real_rename(self, target)
        os.kill(os.getpid(), signal.SIGKILL)
    Path.rename = dying_rename
store.save_run(result, folder)
"""


@pytest.mark.slow
def test_a_killed_save_keeps_the_earlier_run_and_the_next_run_works(tmp_path):
    from insight import cli, store

    feedback = write_table(_frame(10), tmp_path / "feedback.csv")
    codeframe = tmp_path / "codeframe.yaml"
    codeframe.write_text(tiny_codeframe(), encoding="utf-8")
    out = tmp_path / "out"
    argv = ["analyze", "--feedback", str(feedback), "--codeframe", str(codeframe), "--out", str(out), "--quiet"]
    assert cli.main(argv) == 0
    earlier = store.load_run(out / "run")

    for point in ("write", "swap"):
        done = subprocess.run([sys.executable, "-c", _KILL, str(out / "run"), point], cwd=REPO, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == -signal.SIGKILL, done.stderr
        left = [p.name for p in out.iterdir() if p.name.startswith(".run")]
        assert left, "the kill came before the save began"
        readable = store.load_run(out / "run")
        pd.testing.assert_frame_equal(readable.comments, earlier.comments)
        assert len(store.list_runs(out / "runs.duckdb")) == 1

    assert cli.main(argv) == 0
    assert len(store.load_run(out / "run").comments) == 10
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")], "what the killed saves left was not cleared"
