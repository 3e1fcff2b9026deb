"""The Drivers page: which themes go with churn, NPS, CLV and any outcome column the user picks, with intervals."""
from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import streamlit as st

from insight import charts
from insight.schemas import Col
from insight.ui import (
    STATE_PICKED_OUTCOMES,
    _drivers_table,
    _guard,
    _nav_button,
    _opened,
    _skipped_warning,
    _table,
    _theme_palette,
    md_escape,
    per_run,
)


EXPOSURE_LABELS = {"mentioned": "mentioned the theme", "negative": "mentioned it negatively"}


def _significant_rows(table: pd.DataFrame, outcome: str, exposure: str, alpha: float) -> pd.DataFrame:
    rows = table.loc[(table[Col.OUTCOME] == outcome) & (table[Col.Q_VALUE] <= alpha)]
    if charts.EXPOSURE in rows:
        rows = rows.loc[rows[charts.EXPOSURE] == exposure]
    if "flags" in rows:
        rows = rows.loc[~rows["flags"].map(charts.is_insufficient)]
    return rows.reindex(rows[Col.EFFECT].abs().sort_values(ascending=False).index)


def _with_units(rows: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Effect columns named with their unit: for NPS the raw and adjusted effects are in different units."""
    if outcome not in charts.EFFECT_UNITS:
        return rows
    unit, adjusted_unit = charts.EFFECT_UNITS[outcome]
    raw = (Col.EFFECT, Col.CI_LOW, Col.CI_HIGH)
    adjusted = (Col.ADJUSTED_EFFECT, "adjusted_ci_low", "adjusted_ci_high")
    return rows.rename(columns={c: f"{c} ({unit})" for c in raw} | {c: f"{c} ({adjusted_unit})" for c in adjusted})


def _with_picked_outcome(result: Any, *, key: str) -> Any:
    """The run's drivers, plus those of a customer column the user picks as another outcome.

    The picked outcome's drivers are computed here on the run's join (churn, NPS
    and CLV left out, as the run has them already) and kept in session state per
    run, so switching pages or outcomes does not repeat the analysis.
    """
    from insight.drivers import drivers_of, outcome_candidates

    analysed = set(result.drivers.table[Col.OUTCOME].astype(str))
    candidates = per_run(result, "outcome_candidates", lambda r: outcome_candidates(r.join.customers, r.config.drivers))
    options = [c for c in candidates if c not in analysed]
    if not options:
        return result.drivers
    picked = st.selectbox(
        "Add an outcome", [None, *options], key=f"{key}:add_outcome", format_func=lambda c: "(none)" if c is None else c,
        help="Any binary (0/1) or numeric customer column: its drivers are computed from this run's themes.",
    )
    if picked is None:
        return result.drivers
    cache = st.session_state.get(STATE_PICKED_OUTCOMES)
    if cache is None or cache["result"] is not result:
        cache = st.session_state[STATE_PICKED_OUTCOMES] = {"result": result, "drivers": {}}
    if picked not in cache["drivers"]:
        with _guard(f"Finding the drivers of {picked}"), st.spinner(f"Finding the drivers of {picked}…"):
            cache["drivers"][picked] = drivers_of(result.join, picked, config=result.config.drivers,
                                                  random_state=result.config.seed)
    extra = cache["drivers"].get(picked)
    if extra is None:
        return result.drivers
    return dataclasses.replace(
        result.drivers, table=pd.concat([result.drivers.table, extra.table], ignore_index=True),
        notes=tuple(dict.fromkeys(result.drivers.notes + extra.notes)),
    )


def render_drivers(result: Any, *, key: str) -> None:
    """Per outcome: the forest chart, plain-language captions, impact vs volume, revenue at risk."""
    if not _opened("Drivers", result, key=key):
        return
    table = _drivers_table(result)
    if table is None:
        _skipped_warning(result, "drivers")
        st.info("No customer table (or no churn / NPS / CLV columns in it): upload one to see drivers.")
        _nav_button("Upload a customer table", "Upload & map", key=f"{key}:to_upload")
        return
    drivers = _with_picked_outcome(result, key=key)
    table = drivers.table
    alpha = drivers.alpha
    outcomes = list(dict.fromkeys(table[Col.OUTCOME].astype(str)))
    cols = st.columns(2)
    outcome = cols[0].radio("Outcome", outcomes, horizontal=True, key=f"{key}:outcome")
    exposures = list(dict.fromkeys(table[charts.EXPOSURE])) if charts.EXPOSURE in table else ["mentioned"]
    exposure = cols[1].radio(
        "Customers who…",
        exposures,
        horizontal=True,
        key=f"{key}:exposure",
        format_func=lambda e: EXPOSURE_LABELS.get(e, e),
    )
    adjusted = st.checkbox(
        "Show adjusted effects (controlling for segment covariates and the other themes)",
        value=True,
        key=f"{key}:adjusted",
    )
    st.plotly_chart(
        charts.forest_chart(table, outcome, exposure=exposure, alpha=alpha, show_adjusted=adjusted), key=f"{key}:forest"
    )
    st.caption(
        f"Filled markers: significant after FDR correction (q ≤ {alpha:g}); hollow: not significant; "
        "grey: too few customers to say. Bars: 95% confidence intervals. "
        + charts.UNITS_NOTES.get(outcome, "")
    )
    rows = _significant_rows(table, outcome, exposure, alpha)
    st.subheader("What the numbers say")
    if rows.empty:
        st.write(f"No theme has a significant association with {outcome} at q ≤ {alpha:g}.")
    with _guard("Describing the drivers"):
        for theme in rows[Col.THEME].head(5):
            st.markdown("- " + md_escape(drivers.caption(theme, outcome, exposure)))
    left, right = st.columns(2)
    left.plotly_chart(
        charts.impact_volume_scatter(result.themes, table, outcome, exposure=exposure), key=f"{key}:scatter"
    )
    if "churn" in outcomes:
        right.plotly_chart(
            charts.revenue_at_risk_bar(table, exposure=exposure, colors=_theme_palette(result)), key=f"{key}:revenue"
        )
    with st.expander("All driver statistics and notes"):
        shown = table.loc[table[Col.OUTCOME] == outcome]
        if charts.EXPOSURE in shown:
            shown = shown.loc[shown[charts.EXPOSURE] == exposure]
        _table(_with_units(shown, outcome), key=f"{key}:table")
        st.text(drivers.summary())
