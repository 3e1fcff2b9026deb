"""Theme volume and sentiment over time, with spikes and emerging themes.

Per period (week or month) and theme: how many comments mention it, their
share of the period's comments, and their mean sentiment. A **spike** is a
period whose share lies more than 2 standard deviations above the theme's
trailing mean (previous ``window`` periods); the deviation is floored at the
binomial standard error of the share, so a theme that was flat at a low level
does not spike on one extra comment. An **emerging** theme is new in the
recent periods (absent before) or has at least doubled its share there, with
a two-proportion z-test p < 0.01 against the earlier periods.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from insight.errors import InvalidValueError
from insight.schemas import Col

PERIOD = "period"
N_COMMENTS = "n_comments"
SHARE = "share"
AVG_SENTIMENT = "avg_sentiment"
IS_SPIKE = "is_spike"
IS_EMERGING = "is_emerging"
COLUMNS = (PERIOD, Col.THEME, N_COMMENTS, SHARE, AVG_SENTIMENT, IS_SPIKE, IS_EMERGING)

_WEEKLY_MAX_DAYS = 190  # "auto": weekly up to about six months, else monthly
_SPIKE_SIGMAS = 2.0
_MIN_HISTORY = 4  # trailing periods needed before a spike can be called
_MIN_SPIKE_COMMENTS = 5
_RECENT = 3  # periods that count as "recent" for emerging themes
_EMERGING_P = 0.01


def theme_trends(
    comments: pd.DataFrame, comment_themes: pd.DataFrame, *, freq: str = "auto", window: int = 8
) -> pd.DataFrame | None:
    """Theme volume, share and sentiment per period, with spike and emerging flags.

    Parameters
    ----------
    comments : DataFrame
        ``comment_id``, ``date`` and optionally ``sentiment_score``.
    comment_themes : DataFrame
        One row per (comment, theme): ``comment_id``, ``theme`` and optionally
        ``sentiment_score`` (of the theme's sentences; preferred over the
        comment's score for ``avg_sentiment``).
    freq : {"auto", "W", "M"}, default="auto"
        Period length; "auto" is weekly when the dates span ~6 months or less.
    window : int, default=8
        Trailing periods the spike test compares with.

    Returns
    -------
    DataFrame or None
        period (start of the period, Timestamp), theme, n_comments, share (of
        all the period's comments), avg_sentiment, is_spike, is_emerging (the
        theme is emerging; repeated on each of its rows). Every theme has a
        row for every period (zeros where not mentioned). None when no comment
        has a date.

    Examples
    --------
    >>> c = pd.DataFrame({"comment_id": [1, 2], "date": ["2025-01-01", "2025-01-09"]})
    >>> theme_trends(c, pd.DataFrame({"comment_id": [1], "theme": ["billing"]}))[["theme", "n_comments"]].values.tolist()
    [['billing', 1], ['billing', 0]]
    """
    if Col.DATE not in comments:
        return None
    dates = pd.to_datetime(comments[Col.DATE], errors="coerce", format="mixed")
    if dates.notna().sum() == 0:
        return None
    if freq == "auto":
        freq = "W" if (dates.max() - dates.min()).days <= _WEEKLY_MAX_DAYS else "M"
    if freq not in ("W", "M"):
        raise InvalidValueError(f"freq must be 'auto', 'W' or 'M'; got {freq!r}.")
    periods = dates.dt.to_period(freq).dt.start_time
    base = pd.DataFrame({
        Col.COMMENT_ID: comments[Col.COMMENT_ID].to_numpy(), PERIOD: periods.to_numpy(),
        Col.SENTIMENT_SCORE: pd.to_numeric(comments.get(Col.SENTIMENT_SCORE), errors="coerce")
        if Col.SENTIMENT_SCORE in comments else np.nan,
    }).dropna(subset=[PERIOD])  # fmt: skip
    all_periods = pd.date_range(base[PERIOD].min(), base[PERIOD].max(), freq="W-MON" if freq == "W" else "MS")
    totals = base.groupby(PERIOD).size().reindex(all_periods, fill_value=0)
    pairs = comment_themes[[Col.COMMENT_ID, Col.THEME]].dropna().drop_duplicates().merge(base, on=Col.COMMENT_ID)
    if Col.SENTIMENT_SCORE in comment_themes:  # the theme's own sentences, not the whole comment
        own = comment_themes[[Col.COMMENT_ID, Col.THEME, Col.SENTIMENT_SCORE]].drop_duplicates([Col.COMMENT_ID, Col.THEME])
        pairs = pairs.drop(columns=Col.SENTIMENT_SCORE).merge(own, on=[Col.COMMENT_ID, Col.THEME], how="left")
    themes = sorted(pairs[Col.THEME].unique())
    grid = pd.MultiIndex.from_product([themes, all_periods], names=[Col.THEME, PERIOD])
    g = pairs.groupby([Col.THEME, PERIOD])
    out = pd.DataFrame({
        N_COMMENTS: g.size().reindex(grid, fill_value=0),
        AVG_SENTIMENT: g[Col.SENTIMENT_SCORE].mean().reindex(grid),
    }).reset_index()  # fmt: skip
    out[SHARE] = out[N_COMMENTS] / out[PERIOD].map(totals).replace(0, np.nan)
    groups = list(out.groupby(Col.THEME, sort=False))
    out[IS_SPIKE] = pd.concat([_spikes(d, totals, window) for _, d in groups]) if groups else False
    emerging = {t: _emerging(d, totals) for t, d in groups}
    out[IS_EMERGING] = out[Col.THEME].map(emerging).astype(bool)
    out[SHARE] = out[SHARE].fillna(0.0)
    return out[list(COLUMNS)].sort_values([PERIOD, Col.THEME], kind="stable").reset_index(drop=True)


def _spikes(d: pd.DataFrame, totals: pd.Series, window: int) -> pd.Series:
    share = d[SHARE].fillna(0.0)
    trail = share.shift(1).rolling(window, min_periods=_MIN_HISTORY)
    mean, std = trail.mean(), trail.std(ddof=1)
    n = d[PERIOD].map(totals).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        binomial = np.sqrt(mean.clip(lower=1.0 / np.maximum(n, 1)) * (1 - mean) / n)
    sigma = np.fmax(std.to_numpy(), binomial.to_numpy())
    spike = (share - mean) > _SPIKE_SIGMAS * sigma
    return (spike & (d[N_COMMENTS] >= _MIN_SPIKE_COMMENTS)).fillna(False).astype(bool)


def _emerging(d: pd.DataFrame, totals: pd.Series) -> bool:
    if len(d) <= _RECENT:
        return False
    from scipy.stats import norm

    recent, before = d.iloc[-_RECENT:], d.iloc[:-_RECENT]
    c1, c0 = recent[N_COMMENTS].sum(), before[N_COMMENTS].sum()
    n1, n0 = recent[PERIOD].map(totals).sum(), before[PERIOD].map(totals).sum()
    if c1 < _MIN_SPIKE_COMMENTS or n1 == 0 or n0 == 0:
        return False
    p1, p0 = c1 / n1, c0 / n0
    if p1 < 2 * p0:
        return False
    pooled = (c1 + c0) / (n1 + n0)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    return bool(se > 0 and norm.sf((p1 - p0) / se) < _EMERGING_P)
