"""Tables a reader looks at, built from a :class:`~insight.pipeline.RunResult`: the app's Themes page and a notebook
show the same frames."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from insight.join import normalise_ids
from insight.schemas import Col
from insight.segments import segment_columns


def as_text_list(value: object, sep: str = ", ") -> str:
    """A list cell (keywords, representatives) as one line of text; a string or a missing value as it is."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, str):
        return value
    try:
        return sep.join(str(v) for v in value)
    except TypeError:
        return str(value)


def _sparklines(trends: pd.DataFrame | None) -> dict[str, list[float]]:
    """Comments per period of each theme, oldest first: the trend column of :func:`theme_table`."""
    if trends is None or trends.empty:
        return {}
    ordered = trends.sort_values("period")
    return {str(t): rows["n_comments"].astype(float).tolist() for t, rows in ordered.groupby(Col.THEME, sort=False)}


def theme_table(result: Any) -> pd.DataFrame:
    """The Themes page table: one row per theme, lists flattened to text, with a trend list."""
    themes = result.themes
    spark = _sparklines(result.trends)
    out = pd.DataFrame(
        {
            Col.THEME: themes[Col.THEME].astype(str),
            "n_comments": themes["n_comments"],
            "share": themes["share"],
            "avg_sentiment": themes["avg_sentiment"],
            "trend": [spark.get(str(t), []) for t in themes[Col.THEME]],
            Col.KEYWORDS: themes[Col.KEYWORDS].map(as_text_list) if Col.KEYWORDS in themes else "",
            "representatives": themes["representatives"].map(lambda v: as_text_list(v, " | "))
            if "representatives" in themes
            else "",
        }
    )
    return out.sort_values("n_comments", ascending=False, kind="stable").reset_index(drop=True)


def theme_verbatims(result: Any, theme: str) -> pd.DataFrame:
    """Sentences assigned to ``theme`` with their comment, sentiment, channel, date and customer segment columns."""
    return VerbatimIndex(result).frame(theme)


class VerbatimIndex:
    """Where each theme's sentences, their comments and their customers' segments are in a run, found once.

    A theme's verbatims then take their rows by position instead of merging the
    run's tables: on a million comments the merge takes seconds per theme, the
    take milliseconds. Build one per run (the app keeps it with :func:`insight.ui.per_run`).
    """

    def __init__(self, result: Any) -> None:
        assignments = result.assignments
        self._assigned = assignments[[Col.SENTENCE_ID, Col.THEME_CONFIDENCE]].reset_index(drop=True)
        self._by_theme = {str(t): rows for t, rows in assignments.groupby(Col.THEME, sort=False).indices.items()}
        sentences = result.sentences[
            [Col.SENTENCE_ID, Col.COMMENT_ID, Col.TEXT, Col.SENTIMENT_SCORE, Col.SENTIMENT_LABEL]
        ].reset_index(drop=True)
        self._sentence_row = _positions(assignments[Col.SENTENCE_ID], sentences[Col.SENTENCE_ID])
        self._sentences = sentences.drop(columns=Col.SENTENCE_ID)
        comment_cols = [
            c for c in (Col.COMMENT_ID, Col.CUSTOMER_ID, Col.TEXT, Col.CHANNEL, Col.DATE) if c in result.comments
        ]
        comments = result.comments[comment_cols].rename(columns={Col.TEXT: "comment"}).reset_index(drop=True)
        self._comment_row = _positions(sentences[Col.COMMENT_ID], comments[Col.COMMENT_ID])
        self._comments = comments.drop(columns=Col.COMMENT_ID)
        self._segments = None
        join = getattr(result, "join", None)
        if join is not None and Col.CUSTOMER_ID in comments:
            segs = pd.DataFrame(segment_columns(join.customers, result.config.segments), index=join.customers.index)
            self._segments = segs.reset_index(drop=True)
            self._customer_row = _positions(normalise_ids(comments[Col.CUSTOMER_ID]), segs.index.to_series())

    def frame(self, theme: str) -> pd.DataFrame:
        """The verbatims of ``theme``, most confident first (as :func:`theme_verbatims`)."""
        rows = self._by_theme.get(str(theme), np.empty(0, dtype=np.intp))
        sentence = self._sentence_row[rows]
        rows, sentence = rows[sentence >= 0], sentence[sentence >= 0]  # an assignment without its sentence is left out
        comment = _follow(self._comment_row, sentence)
        parts = [
            self._assigned.iloc[rows].reset_index(drop=True),
            self._sentences.iloc[sentence].reset_index(drop=True),
            _take(self._comments, comment),
        ]
        if self._segments is not None:
            parts.append(_take(self._segments, _follow(self._customer_row, comment)))
        out = pd.concat(parts, axis=1).rename(columns={Col.TEXT: "sentence"})
        return out.sort_values(Col.THEME_CONFIDENCE, ascending=False, kind="stable").reset_index(drop=True)


def _positions(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """The row of each of ``values`` in ``keys`` (ids, each once), -1 where absent; hashed by Arrow, several
    times faster than a pandas Index on a million string ids."""
    def arrow(series: pd.Series) -> pa.Array:
        array = pa.array(series, from_pandas=True)
        array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
        return array.cast(pa.large_string())

    return pc.index_in(arrow(values), value_set=arrow(keys)).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)


def _follow(links: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``links[rows]``, with -1 (no such row) wherever ``rows`` is -1."""
    out = np.full(len(rows), -1, dtype=np.intp)
    out[rows >= 0] = links[rows[rows >= 0]]
    return out


def _take(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """Rows of ``frame`` (a RangeIndex) by position; position -1 gives a row of missing values, as a left join does."""
    if len(rows) and rows.min() < 0:
        return frame.reindex(rows).reset_index(drop=True)
    return frame.iloc[rows].reset_index(drop=True)
