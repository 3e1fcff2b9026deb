"""Column vocabulary shared by every stage.

Stages refer to columns through these constants, never through scattered string
literals, so a rename happens in one place.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable


SKIPPED = "skipped"  # summary.json kpis key (and RunResult.kpis key of older saved runs): RunResult.skipped
COVERAGE = "theme_coverage"  # RunResult.kpis key: sentences, no-topic and unclassified counts
SENTIMENT_FALLBACK = "sentiment_fallback"  # the same for RunResult.sentiment_fallback


class Col:
    """Column names used across stages (snake_case, one vocabulary)."""

    # feedback (output of ingest)
    ROW_ID = "row_id"  # 0-based row index in the user's file
    COMMENT_ID = "comment_id"  # unique per comment (from input, else derived from row_id)
    CUSTOMER_ID = "customer_id"
    TEXT = "text"
    DATE = "date"
    SCORE = "score"  # stars / NPS 0-10 / CSAT as given
    CHANNEL = "channel"  # review | ticket | survey | ... (or the source column of a wide survey)
    SOURCE_COLUMN = "source_column"  # which open-text column a comment came from
    REASON = "reason"  # why a row was dropped

    # text stage
    SENTENCE_ID = "sentence_id"  # unique per sentence: f"{comment_id}:{sentence_idx}"
    SENTENCE_IDX = "sentence_idx"
    ANALYSIS_TEXT = "analysis_text"  # the sentence as the models read it: no handles, links, greetings
    NO_TOPIC = "no_topic"  # True for content-free sentences ("Thanks!", "ok"): no theme can be about them
    LANGUAGE = "language"
    IS_ENGLISH = "is_english"

    # themes
    THEME_ID = "theme_id"  # -1 = unclassified
    THEME_SENTIMENT_SCORE = "theme_sentiment_score"  # a theme's sentiment inside its sentence (clause-level)
    THEME_SENTIMENT_LABEL = "theme_sentiment_label"
    THEME = "theme"  # theme name
    PARENT = "parent"
    KEYWORDS = "keywords"
    THEME_CONFIDENCE = "theme_confidence"
    THEMES = "themes"  # list of theme names of a comment

    # sentiment
    SENTIMENT_SCORE = "sentiment_score"  # [-1, 1]
    SENTIMENT_LABEL = "sentiment_label"  # negative | neutral | positive

    # customers (output of ingest_customers)
    CHURNED = "churned"  # 0/1 (nullable)
    NPS = "nps"  # 0-10 likelihood-to-recommend score
    CLV = "clv"
    REVENUE = "monthly_revenue"
    TENURE = "tenure_months"
    PLAN = "plan"
    REGION = "region"
    SIGNUP_DATE = "signup_date"
    CHURN_DATE = "churn_date"
    # customers: the inputs of the KPI catalogue (insight.kpi), detected by name like the roles above
    ORDERS = "orders"  # number of orders of the customer
    TOTAL_REVENUE = "revenue"  # what the customer spent in all (AOV = revenue / orders)
    CSAT = "csat"  # 1-5 satisfaction answer
    CONVERTED = "converted"  # 0/1
    ACQUISITION_SPEND = "acquisition_spend"  # sales and marketing spend on acquiring the customer
    SESSIONS = "sessions"  # sessions, logins or minutes of use
    UPSELL = "upsell"  # 0/1: bought an upgrade
    CROSS_SELL = "cross_sell"  # 0/1: bought another product

    # KPI tables (kpis_by_segment / kpis_by_month / kpis_by_theme)
    KPI = "kpi"
    ESTIMATE = "estimate"
    N = "n"
    UNIT = "unit"
    MONTH = "month"

    # drivers (the drivers.csv contract)
    OUTCOME = "outcome"  # churn | nps | clv
    N_WITH = "n_with"
    N_WITHOUT = "n_without"
    EFFECT = "effect"
    CI_LOW = "ci_low"
    CI_HIGH = "ci_high"
    P_VALUE = "p_value"
    Q_VALUE = "q_value"
    ADJUSTED_EFFECT = "adjusted_effect"
    ADJUSTED_P_VALUE = "adjusted_p_value"
    ADJUSTED_Q_VALUE = "adjusted_q_value"

    # segments (the segments.csv contract)
    SEGMENT_COLUMN = "segment_column"
    SEGMENT_VALUE = "segment_value"
    N_CUSTOMERS = "n_customers"
    CHURN_RATE = "churn_rate"
    EXCESS_CHURN = "excess_churn"
    CLV_AT_RISK = "clv_at_risk"
    PRIORITY = "priority"


KPI_ROLES = (Col.ORDERS, Col.TOTAL_REVENUE, Col.CSAT, Col.CONVERTED, Col.ACQUISITION_SPEND, Col.SESSIONS, Col.UPSELL,
             Col.CROSS_SELL)
"""Customer roles that only the KPI catalogue reads; ingest detects them by name and keeps them under these names."""
KPI_FLAGS = (Col.CONVERTED, Col.UPSELL, Col.CROSS_SELL)
"""The KPI roles that hold yes/no (read like churned: Yes/No, true/false, 1/0)."""

SENTIMENT_LABELS = ("negative", "neutral", "positive")
OUTCOMES = ("churn", "nps", "clv")
UNCLASSIFIED_ID = -1
UNCLASSIFIED = "unclassified"

# The CLI output contract: file name -> columns, in order. Fixed: later stages fill
# these in; extra columns may only be appended after the contract columns.
OUTPUT_CONTRACT: dict[str, tuple[str, ...]] = {
    "comments.csv": (Col.ROW_ID, Col.COMMENT_ID, Col.CUSTOMER_ID, Col.SENTIMENT_SCORE, Col.SENTIMENT_LABEL, Col.THEMES),
    "sentences.csv": (
        Col.ROW_ID,
        Col.SENTENCE_IDX,
        Col.TEXT,
        Col.THEME,
        Col.THEME_CONFIDENCE,
        Col.SENTIMENT_SCORE,
        Col.SENTIMENT_LABEL,
    ),
    "themes.csv": (Col.THEME, Col.PARENT, Col.KEYWORDS, "n_comments", "share", "avg_sentiment"),
    "drivers.csv": (
        Col.THEME,
        Col.OUTCOME,
        Col.N_WITH,
        Col.N_WITHOUT,
        Col.EFFECT,
        Col.CI_LOW,
        Col.CI_HIGH,
        Col.P_VALUE,
        Col.Q_VALUE,
        Col.ADJUSTED_EFFECT,
        Col.ADJUSTED_P_VALUE,
        Col.ADJUSTED_Q_VALUE,
    ),
    "segments.csv": (
        Col.SEGMENT_COLUMN,
        Col.SEGMENT_VALUE,
        Col.THEME,
        Col.N_CUSTOMERS,
        Col.CHURN_RATE,
        Col.EXCESS_CHURN,
        Col.CLV_AT_RISK,
        Col.PRIORITY,
    ),
    "dropped.csv": (Col.ROW_ID, Col.REASON),
}


def make_unique(names: Iterable[Hashable], fmt: str = "{name}_{n}") -> list:
    """Give repeats a numbered suffix (``fmt`` with n = 2, 3, ...) that never takes a name in use.

    The first occurrence keeps its name, so one list of rules serves column names,
    comment ids and theme names alike.
    """
    names = list(names)
    taken, seen, out = set(names), set(), []
    for name in names:
        new, n = name, 1
        while new in seen or (new != name and new in taken):
            n += 1
            new = fmt.format(name=name, n=n)
        seen.add(new)
        out.append(new)
    return out
