"""Plotly figure builders shared by the app and the HTML report.

Every builder is a pure function: frames in, a ``plotly.graph_objects.Figure``
out, no Streamlit, no I/O, inputs never mutated. Themes keep one colour in every
chart through :func:`theme_colors`, so a theme looks the same on the drivers,
segments and trends pages and in the exported report. Pass the mapping built
from the run's full theme list (``colors=``) when a chart shows only some themes.

User text (theme names, channels, segment values) is passed through
:func:`plain`: plotly renders a subset of HTML in labels (``<b>``, ``<a href>``),
so the builders escape it and a theme called ``<b>x</b>`` shows as typed. Pass
raw text to the builders; do not escape it beforehand (it would show ``&lt;``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from insight.schemas import OUTPUT_CONTRACT, UNCLASSIFIED, Col

# Okabe-Ito + Tableau-like qualitative palette: distinct, readable, colour-blind aware first.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#D55E00",
    "#56B4E9",
    "#8C6D31",
    "#6B6ECF",
    "#B5CF6B",
    "#E7969C",
    "#17BECF",
    "#7B4173",
    "#BD9E39",
    "#393B79",
    "#AD494A",
    "#637939",
)
GREY = "#B0B0B0"
SENTIMENT_COLORS: dict[str, str] = {"negative": "#D55E00", "neutral": "#9E9E9E", "positive": "#009E73"}
SIGNIFICANT = "significant (q ≤ {alpha:g})"
NOT_SIGNIFICANT = "not significant"
INSUFFICIENT = "insufficient data"
ADJUSTED = "adjusted"
OUTCOME_LABELS: dict[str, str] = {
    "churn": "churn-rate difference (with − without)",
    "nps": "NPS difference (with − without, NPS points −100..100)",
    "clv": "CLV difference (with − without)",
}
EFFECT_UNITS: dict[str, tuple[str, str]] = {
    "churn": ("proportion", "proportion"),
    "nps": ("NPS points", "0–10 score points"),
    "clv": ("currency", "currency"),
}
"""Units of (effect, adjusted_effect) per outcome. They differ for NPS: the raw effect
compares NPS (−100..100) while the adjusted one is the regression coefficient on the 0–10 score."""
UNITS_NOTES: dict[str, str] = {
    "churn": "Effects are differences in churn probability (0.05 = 5 percentage points); "
    "adjusted: average marginal effect, same unit.",
    "nps": "Unadjusted NPS effects are differences in NPS points (−100..100); adjusted NPS effects are "
    "regression coefficients in 0–10 score points, a different unit: compare their direction and "
    "significance, not their size.",
    "clv": "Effects are differences in mean CLV (currency); adjusted: regression coefficient, same unit.",
}
ACTION_COLUMNS: tuple[str, ...] = (*OUTPUT_CONTRACT["segments.csv"], "priority_ci_low", "priority_ci_high", "flags")
"""Columns of the segment action list: the contract, the priority interval and the flags."""
EXPOSURE = "exposure"  # drivers column: "mentioned" | "negative" (mentioned negatively)
_TREND_TITLES = {
    "n_comments": "Comments per period",
    "share": "Share of comments",
    "avg_sentiment": "Average sentiment",
}
_LAYOUT = dict(template="plotly_white", margin=dict(l=10, r=10, t=40, b=10), font=dict(size=12))


def plain(values: Iterable[object]) -> list[str]:
    """User text as plotly shows it literally: ``str`` then HTML-escaped.

    Examples
    --------
    >>> plain(["<b>bold</b>", 3])
    ['&lt;b&gt;bold&lt;/b&gt;', '3']
    """
    return [html.escape(str(v), quote=False) for v in values]


def theme_colors(themes: Iterable[str]) -> dict[str, str]:
    """Map each theme name to one colour, the same on every call.

    Names are sorted before the palette is dealt out, so the mapping depends
    only on the set of names, not on their order or on which chart asks.
    ``unclassified`` is always grey.

    Parameters
    ----------
    themes : iterable of str
        Theme names; duplicates and missing values are ignored.

    Returns
    -------
    dict
        ``{theme: "#rrggbb"}``.

    Examples
    --------
    >>> theme_colors(["price", "billing", "unclassified"])
    {'billing': '#0072B2', 'price': '#E69F00', 'unclassified': '#B0B0B0'}
    """
    names = sorted({str(t) for t in themes if t is not None and not (isinstance(t, float) and np.isnan(t))})
    colours: dict[str, str] = {}
    i = 0
    for name in names:
        if name == UNCLASSIFIED:
            colours[name] = GREY
        else:
            colours[name] = PALETTE[i % len(PALETTE)]
            i += 1
    return colours


def _colours_for(names: Iterable[str], colors: Mapping[str, str] | None) -> Mapping[str, str]:
    names = list(names)
    if colors is None:
        return theme_colors(names)
    missing = [n for n in names if n not in colors]
    return {**theme_colors(missing), **colors} if missing else colors


def is_insufficient(flags: object) -> bool:
    """True when a driver row's ``flags`` mark it as resting on too little data.

    ``flags`` may be a string (``"insufficient_data;separation"``), a list of
    strings or missing.
    """
    if flags is None or (isinstance(flags, float) and np.isnan(flags)):
        return False
    text = " ".join(map(str, flags)) if isinstance(flags, list | tuple | set | np.ndarray) else str(flags)
    return "insufficient" in text.lower()


def _rows(drivers: pd.DataFrame, outcome: str, exposure: str | None) -> pd.DataFrame:
    """Driver rows of one outcome (and one exposure, when the table has several)."""
    if drivers is None or drivers.empty:
        return pd.DataFrame(columns=drivers.columns if drivers is not None else [])
    mask = drivers[Col.OUTCOME] == outcome
    if exposure is not None and EXPOSURE in drivers:
        mask &= drivers[EXPOSURE] == exposure
    return drivers.loc[mask]


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(title=title, xaxis_visible=False, yaxis_visible=False, **_LAYOUT)
    return fig


def _ci_bars(rows: pd.DataFrame, effect: str, low: str, high: str, **style: Any) -> dict[str, Any]:
    """Asymmetric horizontal error bars from an effect and its interval columns."""
    return dict(
        type="data",
        symmetric=False,
        array=(rows[high] - rows[effect]).to_numpy(),
        arrayminus=(rows[effect] - rows[low]).to_numpy(),
        **style,
    )


def forest_chart(
    drivers: pd.DataFrame,
    outcome: str,
    *,
    exposure: str | None = "mentioned",
    alpha: float = 0.05,
    show_adjusted: bool = True,
) -> go.Figure:
    """Ranked effect sizes of themes on one outcome, with 95% CI error bars.

    One row per theme, sorted by effect (largest at the top). Unadjusted
    effects are circles: filled and coloured when ``q_value <= alpha``, hollow
    when not significant, grey when the theme has insufficient data (its
    ``flags``). Adjusted effects (regression with covariates) are diamonds on the
    same row, so confounded themes are visible as a gap between the two. When the
    two are in different units (NPS: NPS points vs 0–10 score points, see
    :data:`EFFECT_UNITS`) the diamonds get their own panel on the right with its
    own axis, so one scale never carries both.

    Parameters
    ----------
    drivers : DataFrame
        The drivers table: theme, outcome, effect, ci_low, ci_high, q_value,
        n_with, and optionally adjusted_effect, adjusted_ci_low,
        adjusted_ci_high, adjusted_q_value, flags.
    outcome : {"churn", "nps", "clv"}
    exposure : str or None, default="mentioned"
        Keep rows of this ``exposure`` when the table has that column
        ("negative": customers who mentioned the theme negatively).
    alpha : float, default=0.05
        Significance level on the BH q-value.
    show_adjusted : bool, default=True

    Returns
    -------
    plotly.graph_objects.Figure
        Traces named ``significant (q ≤ 0.05)``, ``not significant``,
        ``insufficient data`` and ``adjusted`` (each only when it has rows); for
        NPS the adjusted trace is ``adjusted (0–10 score points)`` on ``xaxis2``.
    """
    title = f"Theme effects on {outcome}"
    frame = _rows(drivers, outcome, exposure)
    if frame.empty:
        return _empty(title, f"No driver results for {outcome}.")
    frame = frame.assign(
        _insufficient=frame.get("flags", pd.Series(None, index=frame.index)).map(is_insufficient)
        | frame[Col.EFFECT].isna()
    )
    frame = frame.sort_values(Col.EFFECT, ascending=True, na_position="first")
    significant = (frame[Col.Q_VALUE] <= alpha) & ~frame["_insufficient"]
    groups = (
        (SIGNIFICANT.format(alpha=alpha), significant, dict(color=PALETTE[4], symbol="circle", size=10)),
        (
            NOT_SIGNIFICANT,
            ~significant & ~frame["_insufficient"],
            dict(color=PALETTE[0], symbol="circle-open", size=10, line=dict(width=2)),
        ),
        (INSUFFICIENT, frame["_insufficient"], dict(color=GREY, symbol="circle", size=9)),
    )
    unit, adjusted_unit = EFFECT_UNITS.get(outcome, ("", ""))
    adjusted = frame.iloc[:0]
    if show_adjusted and Col.ADJUSTED_EFFECT in frame:
        adjusted = frame.loc[frame[Col.ADJUSTED_EFFECT].notna()]
    panels = 2 if unit != adjusted_unit and not adjusted.empty else 1
    fig = make_subplots(
        rows=1, cols=panels, shared_yaxes=True, horizontal_spacing=0.03, column_widths=[0.55, 0.45] if panels == 2 else None
    )
    for name, mask, marker in groups:
        rows = frame.loc[mask]
        if rows.empty:
            continue
        fig.add_trace(
            go.Scatter(
                name=name,
                x=rows[Col.EFFECT],
                y=plain(rows[Col.THEME]),
                mode="markers",
                marker=marker,
                error_x=_ci_bars(rows, Col.EFFECT, Col.CI_LOW, Col.CI_HIGH, color=GREY if name == INSUFFICIENT else "#555555"),
                customdata=np.column_stack([rows[Col.N_WITH], rows[Col.Q_VALUE]]),
                hovertemplate=f"%{{y}}: %{{x:.3g}} {unit}<br>n with theme %{{customdata[0]}}<br>q %{{customdata[1]:.3g}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    if not adjusted.empty:
        error = None
        if {"adjusted_ci_low", "adjusted_ci_high"} <= set(adjusted.columns):
            error = _ci_bars(adjusted, Col.ADJUSTED_EFFECT, "adjusted_ci_low", "adjusted_ci_high", color=PALETTE[7], thickness=1)
        fig.add_trace(
            go.Scatter(
                name=ADJUSTED if panels == 1 else f"{ADJUSTED} ({adjusted_unit})",
                x=adjusted[Col.ADJUSTED_EFFECT],
                y=plain(adjusted[Col.THEME]),
                mode="markers",
                marker=dict(color=PALETTE[7], symbol="diamond", size=8, opacity=0.8),
                error_x=error,
                hovertemplate=f"%{{y}} (adjusted): %{{x:.3g}} {adjusted_unit}<extra></extra>",
            ),
            row=1,
            col=panels,
        )
    fig.add_vline(x=0, line_dash="dot", line_color="#777777", row="all", col="all")
    if panels == 2:
        fig.update_xaxes(title_text=f"unadjusted: {unit} (with − without)", row=1, col=1)
        fig.update_xaxes(title_text=f"adjusted: {adjusted_unit}", row=1, col=2)
    else:
        fig.update_xaxes(title_text=OUTCOME_LABELS.get(outcome, "effect"))
    fig.update_yaxes(categoryorder="array", categoryarray=plain(frame[Col.THEME]))
    fig.update_layout(
        title=title,
        height=max(300, 28 * len(frame) + 140),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
        **{**_LAYOUT, "margin": dict(l=10, r=10, t=80, b=10)},
    )
    return fig


def impact_volume_scatter(
    themes: pd.DataFrame, drivers: pd.DataFrame, outcome: str, *, exposure: str | None = "mentioned"
) -> go.Figure:
    """Theme size against its effect on one outcome, coloured by sentiment.

    Big themes far from zero are the ones worth acting on first.

    Parameters
    ----------
    themes : DataFrame
        theme, n_comments, avg_sentiment.
    drivers : DataFrame
        The drivers table (theme, outcome, effect, n_with).
    outcome : {"churn", "nps", "clv"}
    exposure : str or None, default="mentioned"
        As in :func:`forest_chart`.

    Returns
    -------
    plotly.graph_objects.Figure
        One marker trace with a red-to-green sentiment colour scale on [-1, 1].
    """
    title = f"Impact on {outcome} vs volume"
    rows = _rows(drivers, outcome, exposure)
    if rows.empty or themes.empty:
        return _empty(title, f"No driver results for {outcome}.")
    merged = rows[[Col.THEME, Col.EFFECT]].merge(
        themes[[Col.THEME, "n_comments", "avg_sentiment"]], on=Col.THEME, how="inner"
    )
    merged = merged.dropna(subset=[Col.EFFECT])
    fig = go.Figure(
        go.Scatter(
            name="themes",
            x=merged["n_comments"],
            y=merged[Col.EFFECT],
            mode="markers+text",
            text=plain(merged[Col.THEME]),
            textposition="top center",
            cliponaxis=False,
            marker=dict(
                size=14,
                color=merged["avg_sentiment"],
                colorscale="RdYlGn",
                cmin=-1,
                cmax=1,
                colorbar=dict(title="sentiment"),
                line=dict(color="#333333", width=0.5),
            ),
            hovertemplate="%{text}<br>%{x} comments<br>effect %{y:.3g}<extra></extra>",
        )
    )
    fig.add_hline(y=0, line_dash="dot", line_color="#777777")
    fig.update_layout(
        title=title,
        xaxis_title="comments mentioning the theme",
        yaxis_title=OUTCOME_LABELS.get(outcome, "effect"),
        **_LAYOUT,
    )
    return fig


def revenue_at_risk_bar(
    drivers: pd.DataFrame,
    *,
    exposure: str | None = "mentioned",
    colors: Mapping[str, str] | None = None,
    top: int = 15,
) -> go.Figure:
    """Revenue at risk per theme (excess churn × CLV of its customers), largest first.

    Parameters
    ----------
    drivers : DataFrame
        The drivers table with ``revenue_at_risk`` on the churn rows.
    exposure : str or None, default="mentioned"
        As in :func:`forest_chart`.
    colors : mapping, optional
        Theme colours from :func:`theme_colors`; built from ``drivers`` when None.
    top : int, default=15
        Show at most this many themes.
    """
    title = "Revenue at risk by theme"
    if drivers.empty or "revenue_at_risk" not in drivers:
        return _empty(title, "No revenue-at-risk figures (needs churn and CLV).")
    rows = _rows(drivers, "churn", exposure)
    rows = rows.loc[rows["revenue_at_risk"].notna()]
    rows = rows.sort_values("revenue_at_risk", ascending=False).head(top).iloc[::-1]
    if rows.empty:
        return _empty(title, "No revenue-at-risk figures (needs churn and CLV).")
    palette = _colours_for(rows[Col.THEME].astype(str), colors)
    fig = go.Figure(
        go.Bar(
            name="revenue at risk",
            x=rows["revenue_at_risk"],
            y=plain(rows[Col.THEME]),
            orientation="h",
            marker_color=[palette[t] for t in rows[Col.THEME].astype(str)],
            hovertemplate="%{y}: %{x:,.0f}<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title="revenue at risk", height=max(300, 26 * len(rows) + 120), **_LAYOUT)
    return fig


def priority_heatmap(segments: pd.DataFrame, *, top_themes: int = 20) -> go.Figure:
    """Heat map of the priority score, segment (rows) × theme (columns).

    Parameters
    ----------
    segments : DataFrame
        segment_column, segment_value, theme, priority.
    top_themes : int, default=20
        Keep the themes with the highest total priority.
    """
    title = "Priority: segment × theme"
    if segments is None or segments.empty:
        return _empty(title, "No segment results.")
    frame = segments.assign(
        segment=segments[Col.SEGMENT_COLUMN].astype(str) + " = " + segments[Col.SEGMENT_VALUE].astype(str)
    )
    keep = frame.groupby(Col.THEME)[Col.PRIORITY].sum().nlargest(top_themes).index
    grid = frame.loc[frame[Col.THEME].isin(keep)].pivot_table(
        index="segment", columns=Col.THEME, values=Col.PRIORITY, aggfunc="sum"
    )
    grid = grid.loc[grid.sum(axis=1).sort_values().index, grid.sum(axis=0).sort_values(ascending=False).index]
    fig = go.Figure(
        go.Heatmap(
            name="priority",
            z=grid.to_numpy(dtype=float),
            x=plain(grid.columns),
            y=plain(grid.index),
            colorscale="YlOrRd",
            colorbar=dict(title="priority"),
            hovertemplate="%{y}<br>%{x}<br>priority %{z:.3g}<extra></extra>",
        )
    )
    fig.update_layout(title=title, height=max(320, 24 * len(grid) + 160), **_LAYOUT)
    return fig


def top_actions(segments: pd.DataFrame, top: int | None = 10) -> pd.DataFrame:
    """The first ``top`` segment × theme cells in the table's own order, with priority interval and flags.

    :func:`insight.segments.segment_table` ranks flagged cells (``small_cell``,
    no priority) after the others; re-sorting by priority would lift them back
    to the top, so the order is kept as given.
    """
    rows = segments if top is None else segments.head(top)
    rounded = {Col.CHURN_RATE: 3, Col.EXCESS_CHURN: 3, Col.CLV_AT_RISK: 0, Col.PRIORITY: 0,
               "priority_ci_low": 0, "priority_ci_high": 0}  # a table to read: no spurious decimals
    return rows[[c for c in ACTION_COLUMNS if c in rows]].round(rounded).reset_index(drop=True)


def trend_chart(
    trends: pd.DataFrame,
    *,
    metric: str = "n_comments",
    themes: Iterable[str] | None = None,
    colors: Mapping[str, str] | None = None,
) -> go.Figure:
    """One line per theme over time, with spikes marked.

    Parameters
    ----------
    trends : DataFrame
        period, theme, n_comments, share, avg_sentiment, is_spike.
    metric : {"n_comments", "share", "avg_sentiment"}, default="n_comments"
    themes : iterable of str, optional
        Only these themes (default: all).
    colors : mapping, optional
        Theme colours from :func:`theme_colors`.

    Returns
    -------
    plotly.graph_objects.Figure
        A line trace per theme and one ``spikes`` marker trace when any period is a spike.
    """
    title = _TREND_TITLES.get(metric, metric)
    if trends is None or trends.empty:
        return _empty(title, "No dates in the feedback, so no trends.")
    frame = trends if themes is None else trends.loc[trends[Col.THEME].isin(list(themes))]
    if frame.empty:
        return _empty(title, "No trend rows for the chosen themes.")
    palette = _colours_for(frame[Col.THEME].astype(str).unique(), colors)
    fig = go.Figure()
    for theme, rows in frame.sort_values("period").groupby(Col.THEME, sort=True):
        fig.add_trace(
            go.Scatter(
                name=plain([theme])[0],
                x=rows["period"],
                y=rows[metric],
                mode="lines+markers",
                line=dict(color=palette[str(theme)]),
                marker=dict(size=5),
            )
        )
    spikes = frame.loc[frame["is_spike"].fillna(False).astype(bool)] if "is_spike" in frame else frame.iloc[:0]
    if not spikes.empty:
        fig.add_trace(
            go.Scatter(
                name="spikes",
                x=spikes["period"],
                y=spikes[metric],
                mode="markers",
                marker=dict(symbol="star", size=14, color="#D62728", line=dict(color="black", width=1)),
                text=plain(spikes[Col.THEME]),
                hovertemplate="spike: %{text}<br>%{x}<br>%{y:.3g}<extra></extra>",
            )
        )
    fig.update_layout(title=title, yaxis_title=title.lower(), **_LAYOUT)
    return fig


def volume_by_channel(comments: pd.DataFrame) -> go.Figure:
    """Bar chart of comments per channel (source)."""
    title = "Comments by channel"
    if comments.empty or Col.CHANNEL not in comments or comments[Col.CHANNEL].isna().all():
        return _empty(title, "No channel column in the feedback.")
    counts = comments[Col.CHANNEL].fillna("(none)").astype(str).value_counts()
    fig = go.Figure(go.Bar(name="comments", x=plain(counts.index), y=counts.to_numpy(), marker_color=PALETTE[0]))
    fig.update_layout(title=title, yaxis_title="comments", **_LAYOUT)
    return fig


def volume_over_time(comments: pd.DataFrame, *, freq: str = "M") -> go.Figure:
    """Comments per period (month by default), stacked by sentiment label.

    Parameters
    ----------
    comments : DataFrame
        date and sentiment_label columns.
    freq : str, default="M"
        A pandas period alias (``"W"``, ``"M"``, ``"Q"``).
    """
    title = "Comments over time"
    if comments.empty or Col.DATE not in comments:
        return _empty(title, "No dates in the feedback.")
    dates = pd.to_datetime(comments[Col.DATE], errors="coerce")
    if dates.notna().sum() == 0:
        return _empty(title, "No dates in the feedback.")
    labels = comments.get(Col.SENTIMENT_LABEL, pd.Series("all", index=comments.index)).fillna("unknown").astype(str)
    frame = pd.DataFrame({"period": dates.dt.to_period(freq).dt.start_time, "label": labels}).dropna(subset=["period"])
    counts = frame.groupby(["period", "label"]).size().unstack(fill_value=0).sort_index()
    fig = go.Figure()
    for label in counts.columns:
        fig.add_trace(
            go.Bar(
                name=str(label),
                x=counts.index,
                y=counts[label].to_numpy(),
                marker_color=SENTIMENT_COLORS.get(label, PALETTE[0]),
            )
        )
    fig.update_layout(title=title, barmode="stack", yaxis_title="comments", **_LAYOUT)
    return fig


def sentiment_distribution(comments: pd.DataFrame) -> go.Figure:
    """Histogram of comment sentiment scores on [-1, 1] in bins of 0.1, one colour per label.

    Counted here and drawn as bars: the figure carries 20 counts per label, not one
    point per comment, so a million-comment run's chart is as light as a small one's.
    """
    title = "Sentiment distribution"
    if comments.empty or Col.SENTIMENT_SCORE not in comments:
        return _empty(title, "No sentiment scores.")
    fig = go.Figure()
    labels = comments.get(Col.SENTIMENT_LABEL, pd.Series("all", index=comments.index)).fillna("unknown").astype(str)
    scores = pd.to_numeric(comments[Col.SENTIMENT_SCORE], errors="coerce").to_numpy(dtype=float)
    edges = np.linspace(-1.0, 1.0, 21)
    present = set(labels)
    for label in [lab for lab in (*SENTIMENT_COLORS, *sorted(present - set(SENTIMENT_COLORS))) if lab in present]:
        counts, _ = np.histogram(scores[(labels == label).to_numpy()], bins=edges)
        fig.add_trace(
            go.Bar(
                name=label, x=(edges[:-1] + edges[1:]) / 2, y=counts, width=0.1,
                marker_color=SENTIMENT_COLORS.get(label, PALETTE[0]),
            )
        )
    fig.update_layout(title=title, barmode="stack", bargap=0, xaxis_title="sentiment score", yaxis_title="comments",
                      **_LAYOUT)
    return fig


def nps_split_bar(promoters: float, passives: float, detractors: float) -> go.Figure:
    """One stacked horizontal bar of the promoter / passive / detractor shares (0–1)."""
    fig = go.Figure()
    for name, share, colour in (
        ("detractors (0–6)", detractors, SENTIMENT_COLORS["negative"]),
        ("passives (7–8)", passives, SENTIMENT_COLORS["neutral"]),
        ("promoters (9–10)", promoters, SENTIMENT_COLORS["positive"]),
    ):
        fig.add_trace(
            go.Bar(
                name=name,
                x=[share],
                y=["NPS"],
                orientation="h",
                marker_color=colour,
                text=[f"{share:.0%}"],
                textposition="inside",
            )
        )
    fig.update_layout(
        barmode="stack", height=160, xaxis=dict(range=[0, 1], tickformat=".0%"), yaxis_visible=False, **_LAYOUT
    )
    return fig


def kpi_chart(table: pd.DataFrame, kpi: str, *, label: str | None = None) -> go.Figure:
    """One KPI with its 95% intervals: a line over months, or a dot and whisker per segment value or theme.

    Parameters
    ----------
    table : DataFrame
        A KPI table of :mod:`insight.kpi` (``kpis_by_segment``, ``kpis_by_month``
        or ``kpis_by_theme``): its grouping columns, then kpi, estimate, ci_low,
        ci_high, n, unit.
    kpi : str
        Which KPI to draw.
    label : str, optional
        Axis title of the KPI (default: its name).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    title = label or kpi
    rows = table.loc[table[Col.KPI] == kpi] if table is not None and Col.KPI in table else pd.DataFrame()
    if rows.empty:
        return _empty(title, "This KPI cannot be computed for these groups.")
    unit = str(rows[Col.UNIT].iloc[0])
    axis = f"{title} ({unit})" if unit else title
    whiskers = dict(color="#4C78A8", thickness=1.2, width=3)
    if Col.MONTH in rows:
        rows = rows.sort_values(Col.MONTH)
        trace = go.Scatter(
            x=rows[Col.MONTH], y=rows[Col.ESTIMATE], mode="lines+markers", name=plain([title])[0],
            error_y=_ci_bars(rows, Col.ESTIMATE, Col.CI_LOW, Col.CI_HIGH, **whiskers), customdata=rows[[Col.N]],
            hovertemplate="%{x}: %{y:.3g}<br>n %{customdata[0]:,}<extra></extra>",
        )
        fig = go.Figure(trace)
        fig.update_layout(title=title, yaxis_title=axis, **_LAYOUT)
        return fig
    names = (rows[Col.SEGMENT_COLUMN].astype(str) + " = " + rows[Col.SEGMENT_VALUE].astype(str)
             if Col.SEGMENT_COLUMN in rows else rows[Col.THEME].astype(str))
    trace = go.Scatter(
        x=rows[Col.ESTIMATE], y=plain(names), mode="markers", marker=dict(size=9, color="#4C78A8"),
        error_x=_ci_bars(rows, Col.ESTIMATE, Col.CI_LOW, Col.CI_HIGH, **whiskers), customdata=rows[[Col.N]],
        hovertemplate="%{y}: %{x:.3g}<br>n %{customdata[0]:,}<extra></extra>",
    )
    fig = go.Figure(trace)
    fig.update_layout(title=title, xaxis_title=axis, yaxis=dict(autorange="reversed"),
                      height=max(300, 26 * len(rows) + 120), **_LAYOUT)
    return fig
