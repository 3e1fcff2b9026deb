"""Themes stage, last step: per-comment themes and per-theme statistics, once sentences carry themes and sentiment.

Kept apart from :mod:`insight.themes` (which finds and assigns themes) because the
join, trends and the theme table all read the one (comment, theme) table built here.
"""
from __future__ import annotations

import pandas as pd

from insight.schemas import Col


def comment_themes(sentences: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """One row per (comment, theme): the mean sentiment of the comment's sentences on
    that theme (the theme's own clause where a sentence contrasts two themes) and
    whether any of them was negative."""
    if Col.THEME_SENTIMENT_SCORE in assignments.columns:
        merged = assignments[[Col.SENTENCE_ID, Col.THEME, Col.THEME_SENTIMENT_SCORE, Col.THEME_SENTIMENT_LABEL]].rename(
            columns={Col.THEME_SENTIMENT_SCORE: Col.SENTIMENT_SCORE, Col.THEME_SENTIMENT_LABEL: Col.SENTIMENT_LABEL}
        ).merge(sentences[[Col.SENTENCE_ID, Col.COMMENT_ID]], on=Col.SENTENCE_ID)
    else:
        merged = assignments[[Col.SENTENCE_ID, Col.THEME]].merge(
            sentences[[Col.SENTENCE_ID, Col.COMMENT_ID, Col.SENTIMENT_SCORE, Col.SENTIMENT_LABEL]], on=Col.SENTENCE_ID
        )
    merged["negative"] = merged[Col.SENTIMENT_LABEL].eq("negative")
    out = merged.groupby([Col.COMMENT_ID, Col.THEME], sort=True).agg(
        sentiment_score=(Col.SENTIMENT_SCORE, "mean"), negative=("negative", "any")
    )
    return out.reset_index()


def theme_stats(themes: pd.DataFrame, ct: pd.DataFrame, n_comments: int) -> pd.DataFrame:
    """Add comment counts, share and mean sentiment to the theme table."""
    stats = ct.groupby(Col.THEME).agg(n_comments=(Col.COMMENT_ID, "nunique"), avg_sentiment=(Col.SENTIMENT_SCORE, "mean"))
    out = themes.merge(stats, left_on=Col.THEME, right_index=True, how="left")
    out["n_comments"] = out["n_comments"].fillna(0).astype(int)
    out["share"] = out["n_comments"] / max(n_comments, 1)
    return out.sort_values("n_comments", ascending=False, kind="stable").reset_index(drop=True)


def comments_with_themes(comments: pd.DataFrame, ct: pd.DataFrame) -> pd.DataFrame:
    """``comments`` with a ``themes`` column: the list of each comment's theme names."""
    names = ct.groupby(Col.COMMENT_ID)[Col.THEME].agg(list).to_dict()
    out = comments.copy()
    # a plain object column of Python lists: pandas' Arrow-backed string ids would
    # otherwise turn the mapped lists into an Arrow list column Parquet cannot round-trip
    out[Col.THEMES] = pd.Series([names.get(cid, []) for cid in out[Col.COMMENT_ID]], index=out.index, dtype=object)
    return out
