"""Tables a reader looks at, built from a :class:`~insight.pipeline.RunResult`: the app's Themes page and a notebook
show the same frames."""
from __future__ import annotations

from typing import Any

import pandas as pd

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
    assigned = result.assignments.loc[result.assignments[Col.THEME] == theme, [Col.SENTENCE_ID, Col.THEME_CONFIDENCE]]
    sentences = result.sentences[[Col.SENTENCE_ID, Col.COMMENT_ID, Col.TEXT, Col.SENTIMENT_SCORE, Col.SENTIMENT_LABEL]]
    comment_cols = [
        c for c in (Col.COMMENT_ID, Col.CUSTOMER_ID, Col.TEXT, Col.CHANNEL, Col.DATE) if c in result.comments
    ]
    comments = result.comments[comment_cols].rename(columns={Col.TEXT: "comment"})
    out = assigned.merge(sentences, on=Col.SENTENCE_ID, how="inner").merge(comments, on=Col.COMMENT_ID, how="left")
    out = out.rename(columns={Col.TEXT: "sentence"})
    join = getattr(result, "join", None)
    if join is not None and Col.CUSTOMER_ID in out:
        segs = pd.DataFrame(segment_columns(join.customers, result.config.segments), index=join.customers.index)
        ids = normalise_ids(out[Col.CUSTOMER_ID]).to_numpy(dtype=object)
        out = pd.concat([out, segs.reindex(ids).set_axis(out.index)], axis=1)
    return out.sort_values(Col.THEME_CONFIDENCE, ascending=False, kind="stable").reset_index(drop=True)
