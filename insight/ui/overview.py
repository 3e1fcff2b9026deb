"""The Overview page: headline KPIs, languages, redactions, sentiment checks."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from insight import charts
from insight.text import language_summary
from insight.ui import _estimate_text, _opened, _table, md_escape


def render_overview(result: Any, *, key: str) -> None:
    """Headline KPIs as metric cards, sentiment, and volume by channel and over time."""
    if not _opened("Overview", result, key=key):
        return
    kpis = result.kpis or {}
    cards = st.columns(5)
    cards[0].metric("Comments", f"{len(result.comments):,}")
    n_customers = kpis.get("n_customers")
    cards[1].metric("Customers", f"{n_customers:,}" if n_customers is not None else "—")
    for col, name, label, fmt in (
        (cards[2], "nps", "NPS", "{:.1f}"),
        (cards[3], "churn_rate", "Churn rate", "{:.1f}"),
        (cards[4], "mean_clv", "Mean CLV", "{:,.0f}"),
    ):
        value, detail = _estimate_text(kpis.get(name), fmt)
        col.metric(label, value, help=detail or None)
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
    _render_languages(result.comments)
    _render_redactions(kpis.get("redactions"))
    left, right = st.columns(2)
    left.plotly_chart(charts.sentiment_distribution(result.comments), key=f"{key}:sentiment")
    _render_score_agreement(kpis.get("sentiment_score_agreement"), key=key)
    _render_adaptation(kpis.get("sentiment_adaptation"))
    if result.sentiment_fallback:
        st.warning(md_escape(result.sentiment_fallback))
    right.plotly_chart(charts.volume_by_channel(result.comments), key=f"{key}:channels")
    st.plotly_chart(charts.volume_over_time(result.comments), key=f"{key}:over_time")
    with st.expander("Settings of this run"):
        st.json({"config": result.config.to_dict(), "timings_seconds": dict(result.timings or {})})


def _render_languages(comments: pd.DataFrame) -> None:
    """Say how many comments are not in English: they are kept, but the English models read them less well."""
    languages = language_summary(comments)
    n = languages["non_english"]
    if not n:
        return
    top = ", ".join(f"{md_escape(code)} {count:,}" for code, count in list(languages["by_language"].items())[:5])
    st.warning(
        f"{n:,} comments ({n / max(len(comments), 1):.1%}) look non-English ({top}). They are kept and analysed, "
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
