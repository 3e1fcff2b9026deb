"""Saved runs: every frame of a RunResult as Parquet, the rest as JSON, indexed in DuckDB.

A run folder holds ``<field>.parquet`` per frame (nested results such as the join
and the drivers are flattened as ``join.mentions.parquet`` ...), ``embeddings.npy``
(loaded with ``allow_pickle=False``), ``codeframe.yaml`` (the run's themes,
editable) and ``run.json`` (config, KPIs, timings, everything else). The folder
above the run keeps a DuckDB catalogue (``runs.duckdb``) of every run saved there,
so runs can be listed and queried (:func:`list_runs`). Nothing is pickled.
"""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insight.config import InsightConfig
from insight.errors import InputError
from insight.schemas import Col
from insight.privacy import redact_frame

_FORMAT_VERSION = 1
_NOT_STORED = ("embeddings", "theme_model")  # written as embeddings.npy and codeframe.yaml
_ID_COLUMNS = (Col.CUSTOMER_ID, Col.COMMENT_ID, Col.ROW_ID, Col.SENTENCE_ID)  # join keys stay as they are


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _split(obj: Any, prefix: str, folder: Path) -> dict[str, Any]:
    """Write the frames of a (nested) dataclass to Parquet; return the rest as JSON-able."""
    meta: dict[str, Any] = {"__class__": f"{type(obj).__module__}.{type(obj).__qualname__}"}
    for f in dataclasses.fields(obj):
        if f.name in _NOT_STORED and not prefix:
            continue
        value = getattr(obj, f.name)
        name = f"{prefix}{f.name}"
        if isinstance(value, InsightConfig):
            meta[f.name] = {"__config__": value.to_dict()}  # from_dict restores tuples
        elif isinstance(value, pd.DataFrame):
            # the user's other columns (an e-mail column, the raw comment as read) never rest on disk unredacted
            redact_frame(value, keep=_ID_COLUMNS).to_parquet(folder / f"{name}.parquet")
            meta[f.name] = {"__frame__": f"{name}.parquet"}
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            meta[f.name] = _split(value, f"{name}.", folder)
        else:
            meta[f.name] = value
    return meta


def _read_frame(path: Path) -> pd.DataFrame:
    """Read a stored frame; list cells (theme keywords, a comment's themes) come back
    from Parquet as numpy arrays and are turned back into the lists the run held."""
    frame = pd.read_parquet(path)
    for column in frame.columns[frame.dtypes == object]:
        if frame[column].map(lambda v: isinstance(v, np.ndarray)).any():
            frame[column] = frame[column].map(lambda v: v.tolist() if isinstance(v, np.ndarray) else v)
    return frame


def _import(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(__import__(module, fromlist=[name]), name)


def _join(meta: dict[str, Any], folder: Path, **extra: Any) -> Any:
    """Rebuild the dataclass written by :func:`_split` (``extra`` fills unstored fields)."""
    cls = _import(meta["__class__"])
    kwargs: dict[str, Any] = dict(extra)
    for f in dataclasses.fields(cls):
        if f.name not in meta:
            continue
        value = meta[f.name]
        if isinstance(value, dict) and "__frame__" in value:
            value = _read_frame(folder / value["__frame__"])
        elif isinstance(value, dict) and "__config__" in value:
            value = InsightConfig.from_dict(value["__config__"])
        elif isinstance(value, dict) and "__class__" in value:
            value = _join(value, folder)
        elif isinstance(value, list) and isinstance(f.default, tuple):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def save_run(result: Any, folder: str | Path) -> Path:
    """Save a RunResult to ``folder`` and record it in ``<folder>/../runs.duckdb``.

    Parameters
    ----------
    result : RunResult
    folder : the run folder (created; existing files are replaced).
    """
    import duckdb

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "embeddings.npy", np.asarray(result.embeddings, dtype=np.float32), allow_pickle=False)
    (folder / "codeframe.yaml").write_text(result.theme_model.to_codeframe().to_yaml(), encoding="utf-8")
    created = datetime.now(timezone.utc).isoformat()
    meta = {"format_version": _FORMAT_VERSION, "created": created, "result": _split(result, "", folder)}
    (folder / "run.json").write_text(json.dumps(meta, default=_json_default, indent=1), encoding="utf-8")

    catalogue = folder.parent / "runs.duckdb"
    acc = result.feedback.accounting()
    with duckdb.connect(str(catalogue)) as con:
        con.execute(
            "CREATE TABLE IF NOT EXISTS runs (path VARCHAR PRIMARY KEY, created TIMESTAMPTZ, rows_in BIGINT,"
            " rows_kept BIGINT, n_themes INTEGER, seed INTEGER, config JSON)"
        )
        con.execute(
            "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)",
            [str(folder.resolve()), created, acc["rows_in"], acc["rows_kept"], len(result.themes),
             result.config.seed, json.dumps(result.config.to_dict())],
        )
    return folder


def load_run(folder: str | Path) -> Any:
    """Load a run saved by :func:`save_run`.

    The theme model comes back as the run's codeframe (``codeframe.yaml``), so
    themes can be edited and re-assigned without re-embedding.

    Raises
    ------
    insight.errors.InputError
        The folder is not a saved run, or was saved by an incompatible version.
    """
    from insight.codeframe import Codeframe

    folder = Path(folder)
    meta_path = folder / "run.json"
    if not meta_path.is_file():
        raise InputError(f"{folder} is not a saved insight run (no run.json).", hint="Run `insight analyze --out DIR` first.")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format_version") != _FORMAT_VERSION:
        raise InputError(
            f"{folder} was saved in run format {meta.get('format_version')}, this insight reads {_FORMAT_VERSION}.",
            hint="Re-run the analysis.",
        )
    return _join(
        meta["result"],
        folder,
        embeddings=np.load(folder / "embeddings.npy", allow_pickle=False),
        theme_model=Codeframe.from_yaml((folder / "codeframe.yaml").read_text(encoding="utf-8")),
    )


def list_runs(catalogue: str | Path) -> pd.DataFrame:
    """Every run recorded in a DuckDB catalogue, newest first."""
    import duckdb

    if not Path(catalogue).is_file():
        return pd.DataFrame(columns=["path", "created", "rows_in", "rows_kept", "n_themes", "seed"])
    with duckdb.connect(str(catalogue), read_only=True) as con:
        return con.sql(
            "SELECT path, created, rows_in, rows_kept, n_themes, seed FROM runs ORDER BY created DESC"
        ).to_arrow_table().to_pandas()
