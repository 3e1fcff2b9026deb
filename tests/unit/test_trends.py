"""Theme trends: volume, spikes and emerging themes over time."""
from __future__ import annotations

import numpy as np
import pandas as pd

from insight.trends import theme_trends


def _weekly(weeks=26, per_week=60, seed=0):
    rng = np.random.default_rng(seed)
    n = weeks * per_week
    start = pd.Timestamp("2025-01-06")  # a Monday
    day = rng.integers(0, weeks * 7, n)
    comments = pd.DataFrame({
        "comment_id": np.arange(n), "date": (start + pd.to_timedelta(day, unit="D")).strftime("%Y-%m-%d"),
        "sentiment_score": rng.uniform(-1, 1, n),
    })  # fmt: skip
    return comments, day // 7, rng


def test_planted_spike_is_detected_and_little_else():
    comments, week, rng = _weekly()
    billing = (rng.random(len(week)) < 0.1) | ((week == 18) & (rng.random(len(week)) < 0.4))
    themes = pd.DataFrame({"comment_id": comments.comment_id[billing], "theme": "billing"})
    trends = theme_trends(comments, themes)
    spikes = trends[trends.is_spike]
    assert pd.Timestamp("2025-01-06") + pd.Timedelta(weeks=18) in set(spikes.period)
    assert len(spikes) <= 2
    assert not trends.is_emerging.any()


def test_emerging_theme_and_columns():
    comments, week, rng = _weekly()
    new = (week >= 23) & (rng.random(len(week)) < 0.2)
    steady = rng.random(len(week)) < 0.15
    themes = pd.concat([
        pd.DataFrame({"comment_id": comments.comment_id[new], "theme": "new app"}),
        pd.DataFrame({"comment_id": comments.comment_id[steady], "theme": "support"}),
    ])  # fmt: skip
    trends = theme_trends(comments, themes)
    assert list(trends.columns) == ["period", "theme", "n_comments", "share", "avg_sentiment", "is_spike", "is_emerging"]
    assert trends.groupby("theme").is_emerging.all().to_dict() == {"new app": True, "support": False}
    assert trends.period.nunique() == 26  # weekly: the span is six months
    assert trends.n_comments.sum() == len(themes)
    assert trends.share.between(0, 1).all()


def test_monthly_for_long_spans_and_none_without_dates():
    comments = pd.DataFrame({"comment_id": [1, 2, 3], "date": ["2024-01-03", "2024-06-10", "2025-01-20"]})
    themes = pd.DataFrame({"comment_id": [1, 3], "theme": ["billing", "billing"]})
    trends = theme_trends(comments, themes)
    assert trends.period.nunique() == 13 and (trends.period.dt.day == 1).all()
    assert trends.avg_sentiment.isna().all()  # no sentiment column
    assert theme_trends(comments.drop(columns="date"), themes) is None
    assert theme_trends(comments.assign(date=None), themes) is None


def test_theme_sentiment_preferred_over_comment_sentiment():
    comments = pd.DataFrame({"comment_id": [1, 2], "date": ["2025-01-06", "2025-01-07"], "sentiment_score": [0.9, 0.9]})
    themes = pd.DataFrame({"comment_id": [1, 2], "theme": ["billing", "billing"], "sentiment_score": [-0.5, -0.7]})
    trends = theme_trends(comments, themes)
    assert trends.avg_sentiment.tolist() == [-0.6]
    assert theme_trends(comments, themes.drop(columns="sentiment_score")).avg_sentiment.tolist() == [0.9]
