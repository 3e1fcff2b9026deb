"""The Overview page: headline KPIs, languages, redactions, sentiment checks."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from insight import charts
from insight.schemas import Col
from insight.text import language_summary
from insight.ui import _estimate_text, _guard, _opened, _table, md_escape, per_run


def render_overview(result: Any, *, key: str) -> None:
    """Headline KPIs as metric cards, sentiment, and volume by channel and over time."""
    if not _opened("Overview", result, key=key):
        return
    kpis = result.kpis or {}
    cards = st.columns(5)
    cards[0].metric("Comments", f"{len(result.comments):,}")
    n_customers = kpis.get("n_customers")
    cards[1].metric("Customers", f"{n_customers:,}" if n_customers is not None else "—")
    formulas = {name: entry["formula"] for name, entry in (kpis.get("catalogue") or {}).items()}
    for col, name, fmt in zip(cards[2:], _HEADLINE, ("{:.1f}", "{:.1f}", "{:,.0f}"), strict=True):
        value, detail = _estimate_text(kpis.get(name), fmt)
        col.metric(kpi_label(name), value, help=f"{kpi_label(name)} = {formulas[name]}" if name in formulas else None)
        if detail:
            col.caption(detail)
    breakdown = (kpis.get("nps") or {}).get("breakdown")
    if breakdown:
        st.plotly_chart(
            charts.nps_split_bar(
                breakdown["promoters_pct"] / 100, breakdown["passives_pct"] / 100, breakdown["detractors_pct"] / 100
            ),
            key=f"{key}:nps_split",
        )
    if result.customers is None:
        st.info("No customer table: upload one to see churn, NPS and CLV alongside the comments.")
    else:
        _render_catalogue(kpis.get("catalogue"), key=key)
        _render_kpi_breakdown(result, key=key)
    _render_languages(per_run(result, "languages", lambda r: language_summary(r.comments)), len(result.comments))
    _render_redactions(kpis.get("redactions"))
    left, right = st.columns(2)
    left.plotly_chart(per_run(result, "chart:sentiment", lambda r: charts.sentiment_distribution(r.comments)),
                      key=f"{key}:sentiment")
    _render_score_agreement(kpis.get("sentiment_score_agreement"), key=key)
    _render_adaptation(kpis.get("sentiment_adaptation"))
    if result.sentiment_fallback:
        st.warning(md_escape(result.sentiment_fallback))
    right.plotly_chart(per_run(result, "chart:channels", lambda r: charts.volume_by_channel(r.comments)),
                       key=f"{key}:channels")
    st.plotly_chart(per_run(result, "chart:over_time", lambda r: charts.volume_over_time(r.comments)),
                    key=f"{key}:over_time")
    with st.expander("Settings of this run"):
        st.json({"config": result.config.to_dict(), "timings_seconds": dict(result.timings or {})})


KPI_LABELS = {"nps": "NPS", "mean_clv": "Mean CLV", "cac": "CAC", "csat": "CSAT"}
_HEADLINE = ("nps", "churn_rate", "mean_clv")  # the first row of cards, with comments and customers
_BREAKDOWNS = {"segment": "kpis_by_segment", "month": "kpis_by_month", "theme": "kpis_by_theme"}
_ALL_CUSTOMERS = "all customers"


def kpi_label(name: str) -> str:
    """``"repeat_purchase_rate"`` -> ``"Repeat purchase rate"`` (acronyms kept)."""
    return KPI_LABELS.get(name, name.replace("_", " ").capitalize())


def _kpi_format(unit: str | None) -> str:
    return "{:,.2f}" if not unit else "{:.1f}"


def _render_catalogue(catalogue: dict[str, Any] | None, *, key: str) -> None:
    """A card per KPI the customer table supports (interval below, formula in the tooltip), then what the rest need."""
    if not catalogue:
        return
    st.subheader("KPIs")
    st.caption("Each with its 95% interval and sample size; hover over a name for its formula. "
               "NPS, churn rate and mean CLV are in the first row.")
    available = {name: entry for name, entry in catalogue.items() if "needs" not in entry and name not in _HEADLINE}
    with st.container(key=f"{key}:kpi_cards"):
        cells = st.columns(4)
        for i, (name, entry) in enumerate(available.items()):
            value, detail = _estimate_text(entry, _kpi_format(entry.get("unit")))
            cell = cells[i % 4]
            cell.metric(kpi_label(name), value, help=f"{kpi_label(name)} = {entry['formula']}")
            cell.caption(detail)
    missing = {name: entry["needs"] for name, entry in catalogue.items() if "needs" in entry}
    if missing:
        lines = [f"- {kpi_label(name)}: needs {', '.join(map(md_escape, needs))}" for name, needs in missing.items()]
        with st.expander(f"{len(missing)} KPIs need columns this customer table lacks"):
            st.markdown("\n".join(lines))
            st.caption("Map a column to a KPI role on the Upload page, or with --customer-col ROLE=COLUMN.")


def _render_kpi_breakdown(result: Any, *, key: str) -> None:
    """One KPI per segment value, per month or per theme, with intervals: where a KPI moved, in one click."""
    tables = {by: getattr(result, field, None) for by, field in _BREAKDOWNS.items()}
    tables = {by: t for by, t in tables.items() if t is not None and not t.empty}
    if not tables:
        return
    st.subheader("KPIs by segment, month and theme")
    cols = st.columns(3)
    by = cols[0].radio("Break down by", list(tables), horizontal=True, key=f"{key}:kpi_by")
    table = tables[by]
    names = list(dict.fromkeys(table[Col.KPI]))
    name = cols[1].selectbox("KPI", names, format_func=kpi_label, key=f"{key}:kpi_pick")
    if by == "segment":
        columns = list(dict.fromkeys(table[Col.SEGMENT_COLUMN]))
        column = cols[2].selectbox("Segment column", columns, key=f"{key}:kpi_segment_column")
        table = table.loc[table[Col.SEGMENT_COLUMN] == column]
    elif by == "month":
        table = _month_table(result, table, cols[2], key=key)
    if table is None:
        return
    st.plotly_chart(charts.kpi_chart(table, name, label=kpi_label(name)), key=f"{key}:kpi_chart")
    if by == "month":
        st.caption("Retention and period churn are per calendar month: (customers at the end of the month − "
                   "customers who signed up in it) / customers at its start × 100. Other KPIs are per signup cohort.")
    with st.expander("The numbers (95% intervals, n)"):
        _table(table.loc[table[Col.KPI] == name], key=f"{key}:kpi_table")


def _month_table(result: Any, table: pd.DataFrame, cell: Any, *, key: str) -> pd.DataFrame | None:
    """The run's monthly KPIs, or those of one segment value (computed here: a tabulation, well under a second)."""
    from insight import kpi
    from insight.config import SegmentConfig
    from insight.segments import segment_columns

    segments = getattr(result, "kpis_by_segment", None)
    pairs = [] if segments is None else list(dict.fromkeys(zip(segments[Col.SEGMENT_COLUMN], segments[Col.SEGMENT_VALUE])))
    choice = cell.selectbox("Customers", [None, *pairs], key=f"{key}:kpi_month_segment",
                            format_func=lambda p: _ALL_CUSTOMERS if p is None else f"{p[0]} = {p[1]}")
    if choice is None:
        return table

    def compute(result: Any) -> pd.DataFrame:
        customers = result.join.customers
        values = segment_columns(customers, SegmentConfig(columns=(choice[0],)))[choice[0]]
        return kpi.kpis_by_month(customers.loc[(values == choice[1]).fillna(False).to_numpy()])

    with _guard("Computing the monthly KPIs of the segment"):
        return per_run(result, f"kpis_by_month:{choice!r}", compute)
    return None


def _render_languages(languages: dict[str, Any], n_comments: int) -> None:
    """Say how many comments are not in English: they are kept, but the English models read them less well."""
    n = languages["non_english"]
    if not n:
        return
    top = ", ".join(f"{md_escape(code)} {count:,}" for code, count in list(languages["by_language"].items())[:5])
    st.warning(
        f"{n:,} comments ({n / max(n_comments, 1):.1%}) look non-English ({top}). They are kept and analysed, "
        "but themes and sentiment come from English models and are less reliable for them; "
        "the `language` column of comments.csv marks them."
    )


def _render_redactions(counts: dict[str, int] | None) -> None:
    """What personal data the text stage replaced before anything was stored or shown."""
    found = {kind: n for kind, n in (counts or {}).items() if n}
    if found:
        items = ", ".join(f"{n:,} {kind.lower()}" for kind, n in found.items())
        st.caption(f"Personal data replaced by placeholders before analysis: {items} (e.g. [EMAIL], [PHONE]).")


def _render_score_agreement(agreement: dict[str, Any] | None, *, key: str) -> None:
    """How well text sentiment agrees with the file's own scores, per channel where scales differ."""
    if not agreement:
        return
    groups = agreement.get("groups") or {"all comments": agreement}
    rows = [
        {"comments": name, "score scale": g["scale"], "n": g["n"], "Spearman rho": round(g["spearman_rho"], 2),
         "3-class agreement": round(g.get("accuracy_3class", float("nan")), 2)}
        for name, g in groups.items()
    ]
    st.caption("Text sentiment vs the file's own score (stars 1–2/3/4–5, NPS 0–6/7–8/9–10):")
    _table(pd.DataFrame(rows), key=f"{key}:agreement")


def _render_adaptation(report: dict[str, Any] | None) -> None:
    """The held-out gain of adapting the sentiment head to the file's own scores."""
    if not report:
        return
    if "skipped" in report:
        st.caption(f"Sentiment was not adapted to your scores: {md_escape(report['skipped'])}.")
        return
    before, after = report["before"], report["after"]
    where = f" ({md_escape(report['channel'])} comments)" if report.get("channel") else ""
    verdict = ("Sentiment adapted to" if report.get("used", True)
               else "Adapting sentiment did not help on held-out comments, so the shipped model scored")
    st.caption(
        f"{verdict} your {report['scale']} scores{where}: held-out accuracy "
        f"{before['accuracy']:.2f} → {after['accuracy']:.2f}, macro-F1 {before['macro_f1']:.2f} → "
        f"{after['macro_f1']:.2f} (n = {report['n_test']})."
    )
