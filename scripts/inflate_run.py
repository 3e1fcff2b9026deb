"""A measuring aid: tile a saved run to about N comments, so the app can be timed on a run of that size.

``python -m scripts.inflate_run RUN_DIR OUT_DIR [--comments 1000000]`` (from the repository root, so that
the checkout's insight is the one imported) loads the run in ``RUN_DIR`` (e.g. the demo corpus analysed
with ``insight analyze --out``), repeats its comments, sentences, assignments, embeddings (as float16,
like a partitioned run's), customers and join tables with fresh ids
(``F0000001`` becomes ``F0000001-1``, ``F0000001-2``, … and likewise customer ids),
scales the counts that must agree with the tiled tables (theme and trend volumes,
customer counts) and saves it with :func:`insight.store.save_run`. Statistics
(drivers, segments, KPI estimates) stay those of the original run: the copies are
identical, so only their sample sizes would change. ``bench/app.py`` and the app's
large-run test build their runs with :func:`inflate`.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insight.schemas import Col

_ID_COLUMNS = (Col.COMMENT_ID, Col.CUSTOMER_ID)


def _copy_suffixes(n_rows: int, copies: int) -> np.ndarray:
    """``""`` for the first copy, ``"-1"``, ``"-2"``, … for the next: appended to every id of that copy."""
    return np.repeat(np.array([""] + [f"-{i}" for i in range(1, copies)], dtype=object), n_rows)


def _tile(frame: pd.DataFrame, copies: int, *, ids: tuple[str, ...] = _ID_COLUMNS, index_ids: bool = False) -> pd.DataFrame:
    """``copies`` copies of ``frame`` with ids made unique per copy and row ids continued."""
    n = len(frame)
    out = pd.concat([frame] * copies, ignore_index=not index_ids)
    suffix = _copy_suffixes(n, copies)
    for column in ids:
        if column in out:
            values = out[column].astype(object).to_numpy(copy=True)
            present = pd.notna(values)
            values[present] = values[present] + suffix[present]
            out[column] = pd.array(values, dtype=frame[column].dtype)
    if Col.ROW_ID in out:
        out[Col.ROW_ID] = out[Col.ROW_ID].to_numpy() + np.repeat(np.arange(copies) * (int(frame[Col.ROW_ID].max()) + 1), n)
    if index_ids:
        out.index = pd.Index(out.index.astype(object).to_numpy() + suffix, name=frame.index.name, dtype=frame.index.dtype)
    return out


def _sentence_ids(sentences: pd.DataFrame) -> pd.Series:
    return sentences[Col.COMMENT_ID].astype(str) + ":" + sentences["sentence_idx"].astype(str)


def inflate(result: Any, n_comments: int) -> Any:
    """A RunResult like ``result`` with about ``n_comments`` comments (whole copies of the run)."""
    copies = max(1, -(-n_comments // max(len(result.comments), 1)))
    comments = _tile(result.comments, copies)
    sentences = _tile(result.sentences, copies)
    old_ids = result.sentences[Col.SENTENCE_ID].astype(str)
    sentences[Col.SENTENCE_ID] = pd.array(_sentence_ids(sentences), dtype=result.sentences[Col.SENTENCE_ID].dtype)
    # an assignment's copy follows its sentence's: same position in the sentence table, next copy
    position = pd.Series(np.arange(len(old_ids)), index=old_ids.to_numpy())
    where = position.reindex(result.assignments[Col.SENTENCE_ID].astype(str).to_numpy()).to_numpy()
    assignments = pd.concat([result.assignments] * copies, ignore_index=True)
    rows = (np.arange(copies)[:, None] * len(old_ids) + where[None, :]).ravel()
    assignments[Col.SENTENCE_ID] = sentences[Col.SENTENCE_ID].to_numpy()[rows]
    themes = result.themes.assign(n_sentences=result.themes["n_sentences"] * copies,
                                  n_comments=result.themes["n_comments"] * copies)
    trends = None if result.trends is None else result.trends.assign(n_comments=result.trends["n_comments"] * copies)
    embeddings = np.tile(np.asarray(result.embeddings, dtype=np.float16), (copies, 1))
    kpis = dict(result.kpis or {})
    if kpis.get("n_customers") is not None:
        kpis["n_customers"] = kpis["n_customers"] * copies
    return dataclasses.replace(
        result, comments=comments, sentences=sentences, assignments=assignments, themes=themes, trends=trends,
        embeddings=embeddings, kpis=kpis, feedback=_tile_ingest(result.feedback, copies),
        customers=_tile_ingest(result.customers, copies), join=_tile_join(result.join, copies),
    )


def _tile_ingest(ingest: Any, copies: int) -> Any:
    if ingest is None:
        return None
    dropped = pd.concat([ingest.dropped] * copies, ignore_index=True)  # the row accounting holds for the copies
    return dataclasses.replace(ingest, data=_tile(ingest.data, copies), dropped=dropped, rows_in=ingest.rows_in * copies)


def _tile_join(join: Any, copies: int) -> Any:
    if join is None:
        return None
    return dataclasses.replace(
        join,
        customers=_tile(join.customers, copies, ids=(), index_ids=True),
        mentions=_tile(join.mentions, copies, ids=(), index_ids=True),
        negative_mentions=_tile(join.negative_mentions, copies, ids=(), index_ids=True),
        n_comments=join.n_comments * copies, n_comments_matched=join.n_comments_matched * copies,
        n_comments_without_id=join.n_comments_without_id * copies,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a saved run folder (run.json inside)")
    parser.add_argument("out", type=Path, help="where to save the inflated run")
    parser.add_argument("--comments", type=int, default=1_000_000, help="about how many comments (default 1,000,000)")
    args = parser.parse_args(argv)
    from insight.store import load_run, save_run

    started = time.perf_counter()
    big = inflate(load_run(args.run), args.comments)
    save_run(big, args.out)
    print(f"saved {len(big.comments):,} comments, {len(big.sentences):,} sentences in {args.out} "
          f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
