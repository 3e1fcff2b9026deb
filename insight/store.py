"""Saved runs: every frame of a RunResult as Parquet, the rest as JSON, indexed in DuckDB.

A run folder holds ``<field>.parquet`` per frame (nested results such as the join
and the drivers are flattened as ``join.mentions.parquet`` ...), ``embeddings.npy``
(float32, or float16 when the run's vectors were; loaded memory-mapped and read-only
with ``allow_pickle=False``), ``codeframe.yaml`` (the run's themes,
editable) and ``run.json`` (config, KPIs, timings, everything else). The folder
above the run keeps a DuckDB catalogue (``runs.duckdb``) of every run saved there,
so runs can be listed and queried (:func:`list_runs`). Nothing is pickled, and
``run.json`` can only name the result classes insight itself stores
(:data:`STORED_CLASSES`): a crafted run folder cannot make insight import anything else.

A run is written to a temporary folder beside its destination and renamed into
place, so a run killed while saving leaves the earlier run in that folder whole and
readable, and the next save clears what the killed one left. Every text the run
store writes (table cells and column names, ``run.json``, ``codeframe.yaml``, the
catalogue's settings) is redacted except the id columns (see ``insight.privacy``).
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from insight.codeframe import Codeframe
from insight.config import InsightConfig
from insight.errors import InputError, UnsafeInputError
from insight.privacy import redact_frame, redact_tree
from insight.schemas import SENTIMENT_FALLBACK, SKIPPED, Col

_FORMAT_VERSION = 1
# written as embeddings.npy and codeframe.yaml; the sentiment model is the shipped file named in the config
_NOT_STORED = ("embeddings", "theme_model", "sentiment_model")
_ID_COLUMNS = (Col.CUSTOMER_ID, Col.COMMENT_ID, Col.ROW_ID, Col.SENTENCE_ID)  # join keys stay as they are
_TEXT_STAGE_FRAMES = ("comments", "sentences")  # their text is the text stage's, redacted as it was cleaned
# (and the analysis text is made from the redacted text)
STORED_CLASSES = (
    "insight.pipeline.RunResult",
    "insight.ingest.IngestResult",
    "insight.ingest.TableMeta",
    "insight.join.JoinResult",
    "insight.drivers.DriverResult",
)
"""The only classes ``run.json`` may name."""
_SAVING, _PREVIOUS = ".saving-", ".previous"  # sibling folders of a run while it is being replaced


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _split(obj: Any, prefix: str, folder: Path) -> dict[str, Any]:
    """Write the frames of a (nested) dataclass to Parquet; return the rest as JSON-able."""
    meta: dict[str, Any] = {"__class__": _stored_name(type(obj))}
    for f in dataclasses.fields(obj):
        if f.name in _NOT_STORED and not prefix:
            continue
        value = getattr(obj, f.name)
        name = f"{prefix}{f.name}"
        if isinstance(value, InsightConfig):
            meta[f.name] = {"__config__": value.to_dict()}  # from_dict restores tuples
        elif isinstance(value, pd.DataFrame):
            # the raw comment as read (and anything a stage let through) never rests on disk unredacted
            keep = _ID_COLUMNS + ((Col.TEXT, Col.ANALYSIS_TEXT) if name in _TEXT_STAGE_FRAMES else ())
            redact_frame(value, keep=keep).to_parquet(folder / f"{name}.parquet")
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


def _stored_name(cls: type) -> str:
    """The name ``run.json`` records for ``cls``: its public :data:`STORED_CLASSES` entry, which stays
    the same when the class moves inside its package (``insight.ingest.IngestResult``)."""
    return next((path for path in STORED_CLASSES if _import(path) is cls), f"{cls.__module__}.{cls.__qualname__}")


def _import(path: str) -> Any:
    """One of :data:`STORED_CLASSES`; anything else in a run.json is refused, never imported."""
    if path not in STORED_CLASSES:
        raise UnsafeInputError(f"The saved run names the class {path!r}, which insight does not store; refused.")
    module, _, name = path.rpartition(".")
    return getattr(__import__(module, fromlist=[name]), name)


def _frame_files(meta: dict[str, Any]) -> list[str]:
    """Every Parquet file a (nested) ``run.json`` entry names."""
    files = []
    for value in meta.values():
        if isinstance(value, dict) and "__frame__" in value:
            files.append(value["__frame__"])
        elif isinstance(value, dict) and "__class__" in value:
            files.extend(_frame_files(value))
    return files


def _read_frames(meta: dict[str, Any], folder: Path) -> dict[str, pd.DataFrame]:
    """Read every frame of a run, a few at a time: Parquet decoding releases the GIL, so a million-comment
    run (comments, sentences, the join's mention tables) opened in about a third less time on two cores."""
    from concurrent.futures import ThreadPoolExecutor

    files = _frame_files(meta)
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(files, pool.map(lambda name: _read_frame(folder / name), files), strict=True))


def _join(meta: dict[str, Any], folder: Path, frames: dict[str, pd.DataFrame], **extra: Any) -> Any:
    """Rebuild the dataclass written by :func:`_split` from its ``frames`` (``extra`` fills unstored fields)."""
    cls = _import(meta["__class__"])
    kwargs: dict[str, Any] = dict(extra)
    for f in dataclasses.fields(cls):
        if f.name not in meta:
            continue
        value = meta[f.name]
        if isinstance(value, dict) and "__frame__" in value:
            value = frames[value["__frame__"]]
        elif isinstance(value, dict) and "__config__" in value:
            value = InsightConfig.from_dict(value["__config__"])
        elif isinstance(value, dict) and "__class__" in value:
            value = _join(value, folder, frames)
        elif isinstance(value, list) and isinstance(f.default, tuple):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def save_run(result: Any, folder: str | Path) -> Path:
    """Save a RunResult to ``folder`` and record it in ``<folder>/../runs.duckdb``.

    The run is written beside ``folder`` first and renamed into place; a run already
    in ``folder`` is replaced only once the new one is complete.

    Parameters
    ----------
    result : RunResult
    folder : the run folder (created; an earlier run there is replaced).

    Raises
    ------
    insight.errors.InputError
        The folder cannot be written, or the catalogue cannot be opened.
    """
    folder = Path(folder)
    staging = folder.with_name(f".{folder.name}{_SAVING}{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        _recover(folder)
        staging.mkdir(parents=True)
        created = _write_run(result, staging)
        _swap_in(staging, folder)
    except BaseException as exc:  # interrupted or failed: the earlier run stays, the half-written one goes
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise InputError(f"Cannot save the run in {folder}: {exc.strerror or exc}.") from None
        raise
    _clear_leftovers(folder)
    _record(result, folder, created)
    return folder


def _write_run(result: Any, folder: Path) -> str:
    """Every file of the run into ``folder``; returns the creation time recorded."""
    vectors = result.embeddings  # a partitioned run's half-precision vectors stay half: a million sentences is 0.8 GB
    np.save(folder / "embeddings.npy", vectors if vectors.dtype == np.float16 else np.asarray(vectors, np.float32),
            allow_pickle=False)
    codeframe = redact_tree(yaml.safe_load(result.theme_model.to_codeframe().to_yaml()))
    (folder / "codeframe.yaml").write_text(yaml.safe_dump(codeframe, sort_keys=False, allow_unicode=True, width=120),
                                           encoding="utf-8")
    created = datetime.now(timezone.utc).isoformat()
    meta = {"format_version": _FORMAT_VERSION, "created": created, "result": _split(result, "", folder)}
    text = json.dumps(redact_tree(json.loads(json.dumps(meta, default=_json_default))), indent=1)
    (folder / "run.json").write_text(text, encoding="utf-8")
    return created


def _swap_in(staging: Path, folder: Path) -> None:
    """Put the complete ``staging`` folder at ``folder``; the old run moves aside until the new one is in place."""
    previous = folder.with_name(f".{folder.name}{_PREVIOUS}")
    if folder.exists():
        shutil.rmtree(previous, ignore_errors=True)
        folder.rename(previous)
    staging.rename(folder)
    shutil.rmtree(previous, ignore_errors=True)


def _recover(folder: Path) -> None:
    """Put back the earlier run when a save was killed between moving it aside and moving the new one in."""
    previous = folder.with_name(f".{folder.name}{_PREVIOUS}")
    if not folder.exists() and (previous / "run.json").is_file():
        previous.rename(folder)


def _clear_leftovers(folder: Path) -> None:
    """Remove the staging folders of saves that were killed (their process is gone)."""
    for path in folder.parent.glob(f".{folder.name}{_SAVING}*"):
        pid = path.name.removeprefix(f".{folder.name}{_SAVING}").split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, under another user
        return True
    return True


def _record(result: Any, folder: Path, created: str) -> None:
    """Add (or replace) the run's row in the DuckDB catalogue beside it."""
    import duckdb

    catalogue = folder.parent / "runs.duckdb"
    acc = result.feedback.accounting()
    try:
        with duckdb.connect(str(catalogue)) as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS runs (path VARCHAR PRIMARY KEY, created TIMESTAMPTZ, rows_in BIGINT,"
                " rows_kept BIGINT, n_themes INTEGER, seed BIGINT, config JSON)"
            )
            con.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                [str(folder.resolve()), created, acc["rows_in"], acc["rows_kept"], len(result.themes),
                 result.config.seed, json.dumps(redact_tree(result.config.to_dict()))],
            )
    except duckdb.Error as exc:
        raise InputError(
            f"The run was saved in {folder}, but the catalogue {catalogue} could not record it: "
            f"{str(exc).splitlines()[0]}",
            hint="Another insight process may be using it, or it is not a DuckDB file; move it away and re-run.",
        ) from None


def load_run(folder: str | Path) -> Any:
    """Load a run saved by :func:`save_run`.

    The theme model comes back as the run's codeframe (``codeframe.yaml``), so
    themes can be edited and re-assigned without re-embedding.

    Raises
    ------
    insight.errors.InputError
        The folder is not a saved run, was saved by an incompatible version, or is damaged.
    insight.errors.UnsafeInputError
        Its run.json names a class insight does not store.
    """
    folder = Path(folder)
    with contextlib.suppress(OSError):  # a read-only folder: read what is there
        _recover(folder)
    meta_path = folder / "run.json"
    if not meta_path.is_file():
        raise InputError(f"{folder} is not a saved insight run (no run.json).", hint="Run `insight analyze --out DIR` first.")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        version = meta.get("format_version") if isinstance(meta, dict) else None
        if version != _FORMAT_VERSION:
            raise InputError(
                f"{folder} was saved in run format {version}, this insight reads {_FORMAT_VERSION}.",
                hint="Re-run the analysis.",
            )
        return _notes_out_of_kpis(_join(
            meta["result"],
            folder,
            _read_frames(meta["result"], folder),
            embeddings=np.load(folder / "embeddings.npy", mmap_mode="r", allow_pickle=False),  # read when used
            theme_model=Codeframe.from_yaml(folder / "codeframe.yaml"),
        ))
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged run folder fails in many ways; all mean "unreadable"
        raise InputError(
            f"The saved run in {folder} is damaged and cannot be read ({type(exc).__name__}: {exc}).",
            hint="Re-run the analysis.",
        ) from None


def _notes_out_of_kpis(result: Any) -> Any:
    """A run saved before RunResult had ``skipped`` and ``sentiment_fallback`` fields kept them in ``kpis``."""
    if SKIPPED not in result.kpis and SENTIMENT_FALLBACK not in result.kpis:
        return result
    kpis = dict(result.kpis)
    skipped = dict(kpis.pop(SKIPPED, None) or {})
    fallback = kpis.pop(SENTIMENT_FALLBACK, None)
    return dataclasses.replace(result, kpis=kpis, skipped=skipped, sentiment_fallback=fallback)


def list_runs(catalogue: str | Path) -> pd.DataFrame:
    """Every run recorded in a DuckDB catalogue, newest first."""
    import duckdb

    if not Path(catalogue).is_file():
        return pd.DataFrame(columns=["path", "created", "rows_in", "rows_kept", "n_themes", "seed"])
    with duckdb.connect(str(catalogue), read_only=True) as con:
        return con.sql(
            "SELECT path, created, rows_in, rows_kept, n_themes, seed FROM runs ORDER BY created DESC"
        ).to_arrow_table().to_pandas()
