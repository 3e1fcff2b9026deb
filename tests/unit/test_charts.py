"""The plotly builders of insight.charts: expected traces, CI bars, greyed rows, stable colours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from insight import charts
from insight.schemas import UNCLASSIFIED, Col


@pytest.fixture()
def drivers() -> pd.DataFrame:
    """Four themes on churn (one insufficient, one not significant) and one on NPS, two exposures."""
    rows = [
        # theme, outcome, effect, lo, hi, q, adj, adj_lo, adj_hi, flags, revenue
        ("billing errors", "churn", 0.12, 0.08, 0.16, 0.001, 0.10, 0.06, 0.14, "", 5000.0),
        ("slow app", "churn", 0.05, 0.01, 0.09, 0.03, 0.01, -0.03, 0.05, "confounded", 1200.0),
        ("friendly staff", "churn", -0.02, -0.06, 0.02, 0.40, -0.01, -0.05, 0.03, "", np.nan),
        ("<b>rare</b>", "churn", 0.20, -0.10, 0.50, np.nan, np.nan, np.nan, np.nan, "insufficient_data", np.nan),
        ("billing errors", "nps", -12.0, -18.0, -6.0, 0.002, -1.1, -1.6, -0.6, "", np.nan),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            Col.THEME,
            Col.OUTCOME,
            Col.EFFECT,
            Col.CI_LOW,
            Col.CI_HIGH,
            Col.Q_VALUE,
            Col.ADJUSTED_EFFECT,
            "adjusted_ci_low",
            "adjusted_ci_high",
            "flags",
            "revenue_at_risk",
        ],
    )
    frame[Col.N_WITH] = [120, 80, 60, 4, 120]
    frame["exposure"] = "mentioned"
    negative = frame.assign(exposure="negative", **{Col.EFFECT: frame[Col.EFFECT] * 2})
    return pd.concat([frame, negative], ignore_index=True)


def _trace(fig: go.Figure, name: str):
    found = [t for t in fig.data if t.name == name]
    assert len(found) == 1, [t.name for t in fig.data]
    return found[0]


def test_theme_colors_stable_and_order_free():
    a = charts.theme_colors(["price", "billing", UNCLASSIFIED, "app", "billing"])
    b = charts.theme_colors(["app", UNCLASSIFIED, "price", "billing"])
    assert a == b
    assert a[UNCLASSIFIED] == charts.GREY
    assert len({a["price"], a["billing"], a["app"]}) == 3
    many = charts.theme_colors([f"t{i:02d}" for i in range(40)])
    assert set(many.values()) <= set(charts.PALETTE)


def test_forest_chart_traces_ci_and_grey(drivers):
    fig = charts.forest_chart(drivers, "churn", alpha=0.05)
    assert isinstance(fig, go.Figure)
    sig = _trace(fig, "significant (q ≤ 0.05)")
    assert list(sig.y) == ["slow app", "billing errors"]  # ranked by effect, largest on top
    np.testing.assert_allclose(sig.error_x.array, [0.04, 0.04])
    np.testing.assert_allclose(sig.error_x.arrayminus, [0.04, 0.04])
    assert list(_trace(fig, "not significant").y) == ["friendly staff"]
    grey = _trace(fig, "insufficient data")
    assert grey.marker.color == charts.GREY
    assert list(grey.y) == ["&lt;b&gt;rare&lt;/b&gt;"]  # shown literally, not as bold
    np.testing.assert_allclose(grey.error_x.array, [0.30])
    adjusted = _trace(fig, "adjusted")
    assert len(adjusted.x) == 3 and adjusted.error_x.array is not None
    # only one exposure is drawn: four themes, not eight
    assert sum(len(t.y) for t in fig.data if t.name != "adjusted") == 4


def test_forest_chart_exposure_and_no_adjusted(drivers):
    fig = charts.forest_chart(drivers, "churn", exposure="negative", show_adjusted=False)
    assert "adjusted" not in [t.name for t in fig.data]
    sig = _trace(fig, "significant (q ≤ 0.05)")
    np.testing.assert_allclose(sorted(sig.x), [0.10, 0.24])


def test_forest_chart_empty_outcome(drivers):
    fig = charts.forest_chart(drivers, "clv")
    assert len(fig.data) == 0 and "No driver results" in fig.layout.annotations[0].text


def test_impact_volume_scatter(drivers):
    themes = pd.DataFrame(
        {
            Col.THEME: ["billing errors", "slow app", "friendly staff"],
            "n_comments": [300, 150, 90],
            "avg_sentiment": [-0.6, -0.3, 0.7],
        }
    )
    fig = charts.impact_volume_scatter(themes, drivers, "churn")
    (trace,) = fig.data
    assert sorted(trace.x) == [90, 150, 300]
    assert trace.marker.cmin == -1 and trace.marker.cmax == 1
    np.testing.assert_allclose(sorted(trace.marker.color), [-0.6, -0.3, 0.7])


def test_revenue_at_risk_bar_uses_theme_colours(drivers):
    colours = charts.theme_colors(["billing errors", "slow app", "friendly staff", "zz other"])
    fig = charts.revenue_at_risk_bar(drivers, colors=colours)
    (bar,) = fig.data
    assert list(bar.y) == ["slow app", "billing errors"]  # largest at the top of a horizontal bar
    assert list(bar.marker.color) == [colours["slow app"], colours["billing errors"]]
    again = charts.revenue_at_risk_bar(drivers, colors=colours)
    assert list(again.data[0].marker.color) == list(bar.marker.color)


def test_priority_heatmap():
    segments = pd.DataFrame(
        {
            Col.SEGMENT_COLUMN: ["plan", "plan", "region", "region"],
            Col.SEGMENT_VALUE: ["pro", "basic", "north", "north"],
            Col.THEME: ["billing", "billing", "billing", "app"],
            Col.PRIORITY: [5.0, 1.0, 3.0, 2.0],
        }
    )
    (heat,) = charts.priority_heatmap(segments).data
    assert set(heat.y) == {"plan = pro", "plan = basic", "region = north"}
    assert list(heat.x) == ["billing", "app"]
    z = pd.DataFrame(heat.z, index=list(heat.y), columns=list(heat.x))
    assert z.loc["plan = pro", "billing"] == 5.0 and np.isnan(z.loc["plan = pro", "app"])


def test_trend_chart_marks_spikes():
    trends = pd.DataFrame(
        {
            "period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-01", "2024-02-01"]),
            Col.THEME: ["billing", "billing", "app", "app"],
            "n_comments": [5, 30, 7, 8],
            "avg_sentiment": [-0.2, -0.7, 0.1, 0.2],
            "is_spike": [False, True, False, False],
        }
    )
    colours = charts.theme_colors(["app", "billing"])
    fig = charts.trend_chart(trends, colors=colours)
    assert [t.name for t in fig.data] == ["app", "billing", "spikes"]
    assert _trace(fig, "billing").line.color == colours["billing"]
    spikes = _trace(fig, "spikes")
    assert list(spikes.y) == [30] and list(spikes.text) == ["billing"]
    sentiment = charts.trend_chart(trends, metric="avg_sentiment", themes=["app"])
    assert [t.name for t in sentiment.data] == ["app"]


def test_overview_builders():
    comments = pd.DataFrame(
        {
            Col.CHANNEL: ["review", "review", "ticket", None],
            Col.DATE: ["2024-01-03", "2024-01-20", "2024-02-02", "not a date"],
            Col.SENTIMENT_SCORE: [-0.8, 0.5, 0.0, 0.9],
            Col.SENTIMENT_LABEL: ["negative", "positive", "neutral", "positive"],
        }
    )
    (channels,) = charts.volume_by_channel(comments).data
    assert dict(zip(channels.x, channels.y, strict=False)) == {"review": 2, "ticket": 1, "(none)": 1}
    over_time = charts.volume_over_time(comments)
    assert {t.name for t in over_time.data} == {"negative", "positive", "neutral"}
    assert sum(sum(t.y) for t in over_time.data) == 3  # the unparseable date is left out
    hist = charts.sentiment_distribution(comments)
    assert [t.name for t in hist.data] == ["negative", "neutral", "positive"]
    split = charts.nps_split_bar(0.5, 0.3, 0.2)
    assert [t.x[0] for t in split.data] == [0.2, 0.3, 0.5]


def test_builders_do_not_mutate_inputs(drivers):
    before = drivers.copy()
    charts.forest_chart(drivers, "churn")
    charts.revenue_at_risk_bar(drivers)
    pd.testing.assert_frame_equal(drivers, before)


def test_empty_frames_give_a_message():
    assert charts.trend_chart(None).layout.annotations[0].text.startswith("No dates")
    assert charts.priority_heatmap(pd.DataFrame()).layout.annotations[0].text == "No segment results."


def test_forest_chart_nps_never_shares_an_axis_across_units(drivers):
    """NPS effects are NPS points but adjusted NPS effects 0–10 score points: separate axes, units named."""
    fig = charts.forest_chart(drivers, "nps")
    raw = _trace(fig, "significant (q ≤ 0.05)")
    adjusted = _trace(fig, "adjusted (0–10 score points)")
    assert (raw.xaxis or "x") == "x" and adjusted.xaxis == "x2"
    assert list(raw.x) == [-12.0] and list(adjusted.x) == [-1.1]
    assert "NPS points" in fig.layout.xaxis.title.text
    assert fig.layout.xaxis2.title.text == "adjusted: 0–10 score points"
    assert adjusted.yaxis == "y2" and fig.layout.yaxis2.matches == "y"  # same theme rows on both panels
    assert {shape.xref for shape in fig.layout.shapes} == {"x", "x2"}  # a zero line on each axis
    assert "xaxis2" not in charts.forest_chart(drivers, "nps", show_adjusted=False).layout


def test_forest_chart_same_unit_outcomes_keep_one_axis(drivers):
    clv = drivers.assign(**{Col.OUTCOME: drivers[Col.OUTCOME].replace({"churn": "clv"})})
    for frame, outcome in ((drivers, "churn"), (clv, "clv")):
        fig = charts.forest_chart(frame, outcome)
        assert "xaxis2" not in fig.layout
        assert {t.xaxis or "x" for t in fig.data} == {"x"}
        assert fig.layout.xaxis.title.text == charts.OUTCOME_LABELS[outcome]
        assert len(_trace(fig, "adjusted").x) == 3


def test_top_actions_keeps_flagged_cells_last_with_interval_and_flags(flagged_segment_cells):
    """segment_table's order (flagged last) survives; the interval and flags are shown, extra columns dropped."""
    segments = flagged_segment_cells.assign(n_segment=[100, 90, 50])
    top = charts.top_actions(segments, top=2)
    assert top[Col.THEME].tolist() == ["billing errors", "slow app"]
    full = charts.top_actions(segments, top=None)
    assert full[Col.PRIORITY].tolist() == [6000.0, 900.0, 72000.0]  # not re-sorted: the small cell stays last
    assert full["flags"].tolist() == ["", "confounded", "small_cell"]
    assert list(full.columns) == list(charts.ACTION_COLUMNS)
