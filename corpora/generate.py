"""Deterministic synthetic subscription business with planted, recorded truth.

A fictional company sells a Basic / Standard / Premium subscription in four
regions. Some customers leave feedback (app/web reviews, support tickets, NPS
survey comments) about 14 themes; which themes a customer *mentioned* changes
their churn probability, NPS and CLV by stated amounts (see
:data:`THEME_SPECS` and :data:`CHURN_MODEL`, :data:`NPS_MODEL`,
:data:`CLV_MODEL`). Everything planted is written to ``ground_truth.json`` so
the driver stage can be tested for recovery, and every sentence written is a
row of ``truth_sentences.csv`` with its true theme and sentiment.

Exposure is "mentioned the theme (any sentiment) in at least one comment";
customers who never commented are the unexposed baseline. Because only
commenters can mention themes, a null theme's mentioners also mention the real
drivers more often than non-commenters do: an unadjusted comparison shows a
small spurious churn gap for null themes, the adjusted model (all themes plus
plan, region and tenure) does not. "price increase" is mentioned mostly by
Basic customers (the high-churn plan) and has no effect of its own.

Two more plants: an ``upsell`` flag (bought an upgrade or add-on, 0/1) whose
log-odds "ease of use" raises (:data:`UPSELL_MODEL`), for drivers of an outcome
the user picks; and a high-value, high-turnover niche (:data:`NICHE`): LATAM
customers are worth more and mention "app crashes" more often, so their churn
is above the median segment's too. The upsell flag draws from its own seeded
stream, so adding it leaves the other columns' draws as they were.

Same seed -> byte-identical files. Usage::

    python -m corpora.generate --size demo --seed 0 --out corpora/demo
"""
from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from corpora.phrases import CHATTER, OPENERS, PHRASES, SLOTS, THEME_PARENTS
from insight.schemas import Col

GENERATOR_VERSION = "1.1.0"

PLANS = ("Basic", "Standard", "Premium")
PLAN_SHARE = (0.45, 0.35, 0.20)
PLAN_PRICE = (9.99, 19.99, 39.99)
REGIONS = ("NA", "EU", "APAC", "LATAM")
REGION_SHARE = (0.35, 0.30, 0.20, 0.15)
CHANNELS = ("review", "ticket", "survey")
CHANNEL_SHARE = (0.45, 0.30, 0.25)
POLARITIES = ("negative", "neutral", "positive")
RATING = "rating"  # review stars 1-5, survey NPS 0-10, empty for tickets
SENTIMENT = "sentiment"  # true sentence sentiment in truth_sentences.csv
_POLARITY_SIGN = {"negative": -1, "neutral": 0, "positive": 1}


@dataclass(frozen=True)
class ThemeSpec:
    """One theme's planted effects and how often / how it is mentioned.

    beta : churn log-odds added when the customer mentioned the theme.
    gamma : NPS points added (latent scale, before rounding).
    delta : CLV (currency) added.
    mention : probability a customer on (Basic, Standard, Premium) mentions it.
    polarity : probabilities of a mention being (negative, neutral, positive).
    """

    name: str
    beta: float
    gamma: float
    delta: float
    mention: tuple[float, float, float]
    polarity: tuple[float, float, float]


_NEG = (0.82, 0.08, 0.10)
_POS = (0.15, 0.07, 0.78)

THEME_SPECS: tuple[ThemeSpec, ...] = (
    ThemeSpec("billing errors", 1.0, -1.5, -150.0, (0.06, 0.06, 0.06), _NEG),
    ThemeSpec("price increase", 0.0, 0.0, 0.0, (0.20, 0.015, 0.01), (0.80, 0.12, 0.08)),
    ThemeSpec("value for money", 0.0, 0.0, 0.0, (0.05, 0.05, 0.05), (0.50, 0.15, 0.35)),
    ThemeSpec("slow support", 0.7, -1.2, 0.0, (0.065, 0.065, 0.065), _NEG),
    ThemeSpec("friendly staff", -0.7, 1.0, 100.0, (0.08, 0.08, 0.08), _POS),
    ThemeSpec("app crashes", 0.8, -1.0, -100.0, (0.065, 0.065, 0.065), _NEG),
    ThemeSpec("performance", 0.0, -0.8, 0.0, (0.06, 0.06, 0.06), _NEG),
    ThemeSpec("login problems", 0.0, 0.0, 0.0, (0.05, 0.05, 0.05), _NEG),
    ThemeSpec("onboarding confusion", 0.0, 0.0, 0.0, (0.05, 0.05, 0.05), _NEG),
    ThemeSpec("ease of use", 0.0, 0.8, 0.0, (0.065, 0.065, 0.065), _POS),
    ThemeSpec("missing feature", 0.0, 0.0, -200.0, (0.06, 0.06, 0.06), (0.75, 0.20, 0.05)),
    ThemeSpec("data export", 0.0, 0.0, 0.0, (0.045, 0.045, 0.045), (0.60, 0.20, 0.20)),
    ThemeSpec("delivery delays", 0.0, 0.0, 0.0, (0.045, 0.045, 0.045), _NEG),
    ThemeSpec("cancellation difficulty", 0.75, 0.0, 0.0, (0.055, 0.055, 0.055), _NEG),
)
THEMES: tuple[str, ...] = tuple(s.name for s in THEME_SPECS)
CONFOUNDERS: dict[str, dict[str, str]] = {"price increase": {"column": "plan", "value": "Basic"}}

CHURN_MODEL: dict[str, Any] = {
    "kind": "logistic",
    "intercept": -1.7,
    "plan": {"Basic": 1.0, "Standard": 0.0, "Premium": -0.6},
    "region": {"NA": 0.0, "EU": -0.15, "APAC": 0.1, "LATAM": 0.25},
    "tenure_per_month": -0.02,
}
NPS_MODEL: dict[str, Any] = {
    "kind": "linear latent, rounded and clipped to 0-10",
    "intercept": 7.5,
    "plan": {"Basic": -0.6, "Standard": 0.0, "Premium": 0.4},
    "region": {"NA": 0.0, "EU": -0.2, "APAC": 0.2, "LATAM": 0.3},
    "noise_sd": 1.5,
    "observed_share": 0.55,  # customers without a survey comment who still have a score
}
CLV_MODEL: dict[str, Any] = {
    "kind": "linear, clipped at 0",
    "intercept": 250.0,
    "plan": {"Basic": 0.0, "Standard": 350.0, "Premium": 950.0},
    "region": {"NA": 0.0, "EU": 0.0, "APAC": 0.0, "LATAM": 300.0},
    "tenure_per_month": 15.0,
    "noise_sd": 120.0,
}

UPSELL_MODEL: dict[str, Any] = {
    "kind": "logistic",
    "column": "upsell",
    "intercept": -2.0,
    "plan": {"Basic": 0.0, "Standard": 0.3, "Premium": 0.6},
    "theme_log_odds": {"ease of use": 1.2},
}
NICHE: dict[str, Any] = {"column": "region", "value": "LATAM", "theme": "app crashes", "mention_multiplier": 2.5}
"""The planted high-value, high-turnover segment: higher CLV (CLV_MODEL region) and more mentions of a churn driver."""

SIZES: dict[str, dict[str, Any]] = {
    "small": {"n_customers": 5000},
    "demo": {"n_customers": 6000},
    "large": {"n_customers": 20000, "comment_rate": 0.8, "comments_per_commenter": 6.5},
}
"""Named sizes: small (tests), demo (``make run``), large (>= 100k comments, scale benchmarks)."""

P_CHATTER_ONLY = 0.03  # a customer who mentions no theme still leaves a comment (chatter only)
UNMATCHED_SHARE = 0.02  # comments whose customer id is not in the customer table
ID_VARIANT_SHARE = 0.01  # matched comments whose id differs by case/whitespace
MAX_THEMES_PER_COMMENT = 3
P_REMENTION = 0.7  # an extra comment re-mentions one of the customer's themes
P_ELABORATE = 0.15  # a theme gets a second sentence (long comments)
P_GENERAL = 0.2  # a general praise/complaint sentence with no theme
P_CHATTER = 0.3
P_OPENER = 0.15
P_BUT = 0.6
P_TYPO = 0.06
P_LOWER = 0.03

_SLOT = re.compile(r"\{(\w+)\}")


@dataclass
class Corpus:
    """A generated corpus: the two input tables plus the truth behind them.

    Attributes
    ----------
    customers : one row per customer: customer_id, plan, region, tenure_months,
        monthly_revenue, clv, nps (nullable), churned ("Yes"/"No"), signup_date,
        upsell (0/1).
    feedback : one row per comment: comment_id, customer_id (as written, may
        differ in case/whitespace or be unknown), date, channel, rating, text.
    sentences : one row per written sentence: comment_id, sentence_idx, text,
        theme ("" = chatter), sentiment.
    truth : the content of ``ground_truth.json``.
    """

    customers: pd.DataFrame
    feedback: pd.DataFrame
    sentences: pd.DataFrame
    truth: dict


# ---------------------------------------------------------------- text


def _fill(template: str, rnd: random.Random) -> str:
    text = template
    while "{" in text:
        text = _SLOT.sub(lambda m: rnd.choice(SLOTS[m.group(1)]), text)
    return text


def _keeps_case(text: str) -> bool:
    word = text.split(" ", 1)[0].rstrip(",.!?:")
    return word == "I" or word.startswith("I'") or (len(word) > 1 and word.isupper()) or \
        word in SLOTS["agent_name"] or word == "Apple"


def _prefix(prefix: str, text: str) -> str:
    return prefix + (text if _keeps_case(text) else text[0].lower() + text[1:])


def _typo(text: str, rnd: random.Random) -> str:
    words = text.split(" ")
    candidates = [k for k, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    k = rnd.choice(candidates)
    w = words[k]
    j = rnd.randrange(1, len(w) - 2)
    kind = rnd.randrange(3)
    if kind == 0:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    elif kind == 1:
        w = w[:j] + w[j + 1:]
    else:
        w = w[:j] + w[j] + w[j:]
    words[k] = w
    return " ".join(words)


def _sentence(theme: str, polarity: str, rnd: random.Random, previous: str | None) -> str:
    """One rendered sentence; ``previous`` is the polarity of the preceding theme sentence."""
    bank = PHRASES[theme][polarity] if theme else CHATTER[polarity]
    text = _fill(rnd.choice(bank), rnd)
    text = text[0].upper() + text[1:]
    if theme and previous and {previous, polarity} == {"negative", "positive"} and rnd.random() < P_BUT:
        text = _prefix("But ", text)
    elif theme and rnd.random() < P_OPENER:
        text = _prefix(rnd.choice(OPENERS[polarity]), text)
    if rnd.random() < P_TYPO:
        text = _typo(text, rnd)
    if rnd.random() < P_LOWER:
        text = text.lower()
    return text


def _compose(mentions: list[tuple[str, str]], rnd: random.Random) -> list[tuple[str, str, str]]:
    """Sentences (text, theme, polarity) of one comment from its theme mentions."""
    items = list(mentions)
    if items and rnd.random() < P_ELABORATE:
        k = rnd.randrange(len(items))
        items.insert(k + 1, items[k])
    signs = sum(_POLARITY_SIGN[p] for _, p in items)
    if not items:
        items = [("", "neutral")] * rnd.randint(1, 2)
        if rnd.random() < 0.5:
            items.append(("", rnd.choice(("negative", "positive"))))
    elif rnd.random() < P_GENERAL and signs != 0:
        items.append(("", "positive" if signs > 0 else "negative"))
    if mentions and rnd.random() < P_CHATTER:
        items.insert(0 if rnd.random() < 0.6 else len(items), ("", "neutral"))
    out, previous = [], None
    for theme, polarity in items:
        out.append((_sentence(theme, polarity, rnd, previous), theme, polarity))
        if theme:
            previous = polarity
    return out


# ---------------------------------------------------------------- helpers


def _effects(model: dict[str, Any], plan: np.ndarray, region: np.ndarray) -> np.ndarray:
    plan_eff = np.array([model["plan"][p] for p in PLANS])
    region_eff = np.array([model.get("region", {}).get(r, 0.0) for r in REGIONS])
    return model["intercept"] + plan_eff[plan] + region_eff[region]


def theme_role(spec: ThemeSpec) -> str:
    """The role a theme plays in the planted truth (see ground_truth.json)."""
    if spec.name in CONFOUNDERS:
        return "confounded"
    if spec.beta > 0:
        return "churn_driver"
    if spec.beta < 0:
        return "protective"
    if spec.gamma:
        return "nps_only"
    return "clv_only" if spec.delta else "null"


def _r(x: float, nd: int = 6) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), nd)


def _mention_probabilities(comment_rate: float | None) -> np.ndarray:
    """Mention probabilities (plans x themes), scaled so the expected share of commenters is ``comment_rate``.

    Mentions are drawn for every customer independently across themes; a customer
    comments if they mention anything (or, rarely, only chat). Drawing mentions
    for commenters only would make every theme's mentioners more exposed to the
    real drivers than non-commenters, a spurious effect for the null themes.
    """
    base = np.array([s.mention for s in THEME_SPECS]).T
    if comment_rate is None:
        return base

    def share(scale: float) -> float:
        silent = np.prod(1.0 - np.minimum(scale * base, 1.0), axis=1) * (1.0 - P_CHATTER_ONLY)
        return float(1.0 - np.dot(PLAN_SHARE, silent))

    low, high = 0.0, 1.0 / float(base.max())
    if share(high) < comment_rate:
        raise ValueError(f"comment_rate {comment_rate} is higher than the themes can reach ({share(high):.2f}).")
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if share(mid) < comment_rate else (low, mid)
    return np.minimum(high * base, 1.0)


def _check_args(n_customers: int, comment_rate: float | None, comments_per_commenter: float, months: int) -> None:
    if not isinstance(n_customers, int) or n_customers < 100:
        raise ValueError(f"n_customers must be an int >= 100, got {n_customers!r}.")
    if comment_rate is not None and not P_CHATTER_ONLY < comment_rate < 1:
        raise ValueError(f"comment_rate must be in ({P_CHATTER_ONLY}, 1), got {comment_rate!r}.")
    if comments_per_commenter < 1:
        raise ValueError(f"comments_per_commenter must be >= 1, got {comments_per_commenter!r}.")
    if not isinstance(months, int) or months < 1:
        raise ValueError(f"months must be a positive int, got {months!r}.")


# ---------------------------------------------------------------- generator


def generate_corpus(
    *,
    n_customers: int = 5000,
    comment_rate: float | None = None,
    seed: int = 0,
    months: int = 12,
    start: str = "2025-01-01",
    comments_per_commenter: float = 1.6,
) -> Corpus:
    """Generate customers, feedback and the truth behind them.

    Parameters
    ----------
    n_customers : int, default=5000
        Rows of the customer table.
    comment_rate : float, optional
        Expected share of customers who leave at least one comment; the theme
        mention probabilities are scaled to reach it. None keeps the default
        probabilities of :data:`THEME_SPECS` (about 55% comment).
    seed : int, default=0
        Everything random derives from it; same seed, same corpus.
    months : int, default=12
        Length of the feedback window starting at ``start``.
    start : str, default="2025-01-01"
        First day of the feedback window (ISO date).
    comments_per_commenter : float, default=1.6
        Mean number of comments of a customer who comments (1 + Poisson).

    Returns
    -------
    Corpus
    """
    _check_args(n_customers, comment_rate, comments_per_commenter, months)
    rng = np.random.default_rng(seed)
    rnd = random.Random(int(rng.integers(2**62)))
    n, n_themes = n_customers, len(THEME_SPECS)
    width = max(6, len(str(n + n // 10 + 1000)))

    # customers
    plan = rng.choice(len(PLANS), size=n, p=PLAN_SHARE)
    region = rng.choice(len(REGIONS), size=n, p=REGION_SHARE)
    tenure = np.minimum(72, 1 + np.floor(rng.gamma(1.5, 14.0, size=n))).astype(int)
    addon = np.where(rng.random(n) < 0.2, 4.99, 0.0)
    revenue = np.round(np.array(PLAN_PRICE)[plan] + addon, 2)
    first_day = pd.Timestamp(start)
    end_day = first_day + pd.DateOffset(months=months)
    n_days = int((end_day - first_day).days)
    signup_off = n_days - np.round(tenure * 30.4375).astype(int) - rng.integers(0, 28, size=n)

    # exposure: which themes each customer mentioned, independent across themes given the plan
    mention_p = _mention_probabilities(comment_rate)
    niche = region == REGIONS.index(NICHE["value"])
    niche_boost = np.where(niche[:, None] & (np.arange(n_themes) == THEMES.index(NICHE["theme"])),
                           NICHE["mention_multiplier"], 1.0)
    mentioned = rng.random((n, n_themes)) < np.minimum(mention_p[plan] * niche_boost, 1.0)
    commenter = mentioned.any(axis=1) | (rng.random(n) < P_CHATTER_ONLY)
    n_comments = np.where(commenter, 1 + rng.poisson(comments_per_commenter - 1, size=n), 0)

    # outcomes
    beta = np.array([s.beta for s in THEME_SPECS])
    gamma = np.array([s.gamma for s in THEME_SPECS])
    delta = np.array([s.delta for s in THEME_SPECS])
    m = mentioned.astype(float)
    churn_p = expit(_effects(CHURN_MODEL, plan, region) + CHURN_MODEL["tenure_per_month"] * tenure + m @ beta)
    churned = rng.random(n) < churn_p
    nps_latent = _effects(NPS_MODEL, plan, region) + m @ gamma + rng.normal(0, NPS_MODEL["noise_sd"], n)
    nps_score = np.clip(np.round(nps_latent), 0, 10).astype(int)
    clv_raw = _effects(CLV_MODEL, plan, region) + CLV_MODEL["tenure_per_month"] * tenure + m @ delta \
        + rng.normal(0, CLV_MODEL["noise_sd"], n)
    clv = np.round(np.maximum(clv_raw, 0.0), 2)
    nps_observed_draw = rng.random(n) < NPS_MODEL["observed_share"]
    upsell_theme = np.array([UPSELL_MODEL["theme_log_odds"].get(t, 0.0) for t in THEMES])
    upsell_p = expit(_effects(UPSELL_MODEL, plan, region) + m @ upsell_theme)
    upsell = np.random.default_rng([seed, 1]).random(n) < upsell_p

    ids = np.array([f"C{i + 1:0{width}d}" for i in range(n)], dtype=object)

    # unmatched ("ghost") customers: comment, but are not in the customer table
    n_commenters = int(commenter.sum())
    n_ghosts = max(1, round(UNMATCHED_SHARE * n_commenters * comments_per_commenter))
    ghost_ids = [f"C{n + 500 + k:0{width}d}" for k in range(n_ghosts)]
    ghost_mentioned = rng.random((n_ghosts, n_themes)) < mention_p[1] * 2

    # comments
    comment_rows: list[tuple[int, int, int, str, str, int]] = []  # day, owner, seq, id, channel, rating
    sentence_rows: list[list[tuple[str, str, str]]] = []
    has_survey = np.zeros(n, dtype=bool)

    def add_comments(owner: int, cid: str, themes: list[int], count: int, lo: int, nps_value: int) -> None:
        rnd.shuffle(themes)
        count = max(count, math.ceil(len(themes) / MAX_THEMES_PER_COMMENT))
        slots: list[list[int]] = [[] for _ in range(count)]
        for t in themes:
            k = rnd.randrange(count)
            while len(slots[k]) >= MAX_THEMES_PER_COMMENT:
                k = (k + 1) % count
            slots[k].append(t)
        for seq, slot in enumerate(slots):
            if not slot and themes and rnd.random() < P_REMENTION:
                slot.append(rnd.choice(themes))
            mentions = [(THEMES[t], rnd.choices(POLARITIES, THEME_SPECS[t].polarity)[0]) for t in slot]
            sentences = _compose(mentions, rnd)
            channel = rnd.choices(CHANNELS, CHANNEL_SHARE)[0]
            if channel == "review":
                sign = [_POLARITY_SIGN[p] for _, _, p in sentences if p != "neutral"]
                mean = sum(sign) / len(sign) if sign else 0.0
                rating = min(5, max(1, round(3 + 1.6 * mean + rnd.gauss(0, 0.8))))
            elif channel == "survey":
                rating = nps_value
                if owner < n:
                    has_survey[owner] = True
            else:
                rating = -1
            day = rnd.randint(lo, n_days - 1)
            comment_rows.append((day, owner, seq, cid, channel, rating))
            sentence_rows.append(sentences)

    for i in np.flatnonzero(commenter):
        add_comments(int(i), ids[i], list(np.flatnonzero(mentioned[i])), int(n_comments[i]),
                     max(0, int(signup_off[i])), int(nps_score[i]))
    for k, gid in enumerate(ghost_ids):
        add_comments(n + k, gid, list(np.flatnonzero(ghost_mentioned[k])), 1, 0, rnd.randint(0, 10))

    # order by date and number the comments
    days = np.array([r[0] for r in comment_rows])
    owners = np.array([r[1] for r in comment_rows])
    seqs = np.array([r[2] for r in comment_rows])
    order = np.lexsort((seqs, owners, days))
    n_total = len(comment_rows)
    cwidth = max(7, len(str(n_total)))
    comment_ids = [f"F{k + 1:0{cwidth}d}" for k in range(n_total)]

    written_ids = [comment_rows[j][3] for j in order]
    matched_positions = [k for k in range(n_total) if owners[order[k]] < n]
    n_variants = max(1, round(ID_VARIANT_SHARE * len(matched_positions)))
    variant_positions = sorted(rnd.sample(matched_positions, n_variants))
    variants: dict[str, str] = {}
    for k in variant_positions:
        canonical = written_ids[k]
        style = rnd.randrange(3)
        raw = canonical.lower() if style == 0 else (f" {canonical}" if style == 1 else f"{canonical.lower()} ")
        written_ids[k] = raw
        variants[comment_ids[k]] = raw

    fb_text, fb_sentiment, fb_themes = [], [], []
    s_comment, s_idx, s_text, s_theme, s_sent = [], [], [], [], []
    for k, j in enumerate(order):
        sentences = sentence_rows[j]
        fb_text.append(" ".join(t for t, _, _ in sentences))
        total = sum(_POLARITY_SIGN[p] for _, _, p in sentences)
        fb_sentiment.append("positive" if total > 0 else "negative" if total < 0 else "neutral")
        fb_themes.append(sorted({th for _, th, _ in sentences if th}, key=THEMES.index))
        for idx, (text, theme, polarity) in enumerate(sentences):
            s_comment.append(comment_ids[k])
            s_idx.append(idx)
            s_text.append(text)
            s_theme.append(theme)
            s_sent.append(polarity)

    ratings = np.array([comment_rows[j][5] for j in order])
    feedback = pd.DataFrame({
        Col.COMMENT_ID: comment_ids,
        Col.CUSTOMER_ID: written_ids,
        Col.DATE: (first_day + pd.to_timedelta(days[order], unit="D")).strftime("%Y-%m-%d"),
        Col.CHANNEL: [comment_rows[j][4] for j in order],
        RATING: pd.array([r if r >= 0 else None for r in ratings.tolist()], dtype="Int64"),
        Col.TEXT: fb_text,
    })
    sentences = pd.DataFrame({Col.COMMENT_ID: s_comment, Col.SENTENCE_IDX: s_idx, Col.TEXT: s_text,
                              Col.THEME: s_theme, SENTIMENT: s_sent})

    nps_observed = has_survey | nps_observed_draw
    customers = pd.DataFrame({
        Col.CUSTOMER_ID: ids,
        Col.PLAN: np.array(PLANS, dtype=object)[plan],
        Col.REGION: np.array(REGIONS, dtype=object)[region],
        Col.TENURE: tenure,
        Col.REVENUE: revenue,
        Col.CLV: clv,
        Col.NPS: pd.array(nps_score, dtype="Int64"),
        Col.CHURNED: np.where(churned, "Yes", "No"),
        Col.SIGNUP_DATE: (first_day + pd.to_timedelta(signup_off, unit="D")).strftime("%Y-%m-%d"),
        UPSELL_MODEL["column"]: upsell.astype(int),
    })
    customers.loc[~nps_observed, Col.NPS] = pd.NA

    truth = _truth(
        seed=seed, params={"n_customers": n, "comment_rate": comment_rate,
                           "commenter_share": _r(commenter.mean()),
                           "comments_per_commenter": comments_per_commenter, "months": months, "start": start,
                           "unmatched_share": UNMATCHED_SHARE, "id_variant_share": ID_VARIANT_SHARE},
        mentioned=mentioned, churned=churned, churn_p=churn_p, nps_score=np.where(nps_observed, nps_score, -1),
        clv=clv, plan=plan, nps_clipped=(np.abs(nps_latent - 5.0) > 5.5) & nps_observed, feedback=feedback, sentences=sentences, fb_themes=fb_themes,
        fb_sentiment=fb_sentiment, ghost_ids=ghost_ids, variants=variants, n_commenters=n_commenters,
    )
    return Corpus(customers=customers, feedback=feedback, sentences=sentences, truth=truth)


def _truth(*, seed: int, params: dict, mentioned: np.ndarray, churned: np.ndarray, churn_p: np.ndarray,
           nps_score: np.ndarray, clv: np.ndarray, plan: np.ndarray, nps_clipped: np.ndarray, feedback: pd.DataFrame,
           sentences: pd.DataFrame, fb_themes: list[list[str]], fb_sentiment: list[str], ghost_ids: list[str],
           variants: dict[str, str], n_commenters: int) -> dict[str, Any]:
    """Everything planted plus the empirical figures a test can check the data against."""
    unmatched = feedback[Col.CUSTOMER_ID].isin(set(ghost_ids))
    themes = []
    for t, spec in enumerate(THEME_SPECS):
        with_ = mentioned[:, t]
        without = ~with_
        nps_with, nps_without = nps_score[with_ & (nps_score >= 0)], nps_score[without & (nps_score >= 0)]
        themes.append({
            "name": spec.name,
            "parent": THEME_PARENTS[spec.name],
            "role": theme_role(spec),
            "churn_log_odds": spec.beta,
            "nps_effect": spec.gamma,
            "clv_effect": spec.delta,
            "confounder": CONFOUNDERS.get(spec.name),
            "mention_probability": dict(zip(PLANS, spec.mention)),
            "polarity_mix": dict(zip(POLARITIES, spec.polarity)),
            "empirical": {
                "n_with": int(with_.sum()),
                "n_without": int(without.sum()),
                "churn_rate_with": _r(churned[with_].mean()),
                "churn_rate_without": _r(churned[without].mean()),
                "expected_churn_rate_with": _r(churn_p[with_].mean()),
                "expected_churn_rate_without": _r(churn_p[without].mean()),
                "mean_nps_with": _r(nps_with.mean()) if nps_with.size else None,
                "mean_nps_without": _r(nps_without.mean()) if nps_without.size else None,
                "mean_clv_with": _r(clv[with_].mean()),
                "mean_clv_without": _r(clv[without].mean()),
                "share_basic_with": _r((plan[with_] == 0).mean()),
            },
        })
    per_comment = {cid: {"themes": th, "sentiment": s}
                   for cid, th, s in zip(feedback[Col.COMMENT_ID], fb_themes, fb_sentiment)}
    return {
        "generator": "corpora.generate",
        "generator_version": GENERATOR_VERSION,
        "seed": int(seed),
        "parameters": params,
        "sizes": {
            "n_customers": int(len(churned)),
            "n_commenters": n_commenters,
            "n_comments": int(len(feedback)),
            "n_sentences": int(len(sentences)),
            "n_unmatched_comments": int(unmatched.sum()),
            "n_id_variants": len(variants),
        },
        "exposure": "customer mentioned the theme (any sentiment) in at least one comment; "
                    "customers without comments are unexposed",
        "outcome_models": {
            "churn": {**CHURN_MODEL, "theme_log_odds": {s.name: s.beta for s in THEME_SPECS}},
            "nps": {**NPS_MODEL, "theme_effects": {s.name: s.gamma for s in THEME_SPECS}},
            "clv": {**CLV_MODEL, "theme_effects": {s.name: s.delta for s in THEME_SPECS}},
            "upsell": UPSELL_MODEL,
        },
        "niche": NICHE,
        "empirical": {
            "churn_rate": _r(churned.mean()),
            "mean_nps": _r(nps_score[nps_score >= 0].mean()),
            "nps_missing_share": _r((nps_score < 0).mean()),
            "nps_clipped_share": _r(nps_clipped.sum() / (nps_score >= 0).sum()),
            "mean_clv": _r(clv.mean()),
            "clv_clipped_share": _r((clv <= 0).mean()),
        },
        "themes": themes,
        "unmatched_ids": sorted(ghost_ids),
        "id_variants": variants,
        "comments": per_comment,
    }


def write_corpus(corpus: Corpus, out_dir: str | Path) -> None:
    """Write customers.csv, feedback.csv, truth_sentences.csv and ground_truth.json (byte-stable)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv = {"index": False, "lineterminator": "\n", "encoding": "utf-8"}
    corpus.customers.to_csv(out / "customers.csv", float_format="%.2f", **csv)
    corpus.feedback.to_csv(out / "feedback.csv", **csv)
    corpus.sentences.to_csv(out / "truth_sentences.csv", **csv)
    (out / "ground_truth.json").write_text(json.dumps(corpus.truth, indent=1, ensure_ascii=False) + "\n",
                                           encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """CLI: generate a named size and write it to a folder."""
    parser = argparse.ArgumentParser(prog="python -m corpora.generate", description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="demo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    corpus = generate_corpus(seed=args.seed, **SIZES[args.size])
    write_corpus(corpus, args.out)
    sizes = corpus.truth["sizes"]
    print(f"wrote {args.out}: customers.csv ({sizes['n_customers']} customers), feedback.csv "
          f"({sizes['n_comments']} comments), truth_sentences.csv ({sizes['n_sentences']} sentences), "
          f"ground_truth.json [size={args.size} seed={args.seed}, {time.perf_counter() - t0:.1f} s]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
