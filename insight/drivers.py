"""Which themes go with churn, low NPS and lost lifetime value — with honest statistics.

For every theme, two exposures are compared with everyone else in the customer
table (customers without comments are part of the baseline):

* ``"mentioned"``: the customer mentioned the theme in at least one comment;
* ``"negative"``: the customer mentioned it negatively at least once.

For each outcome present in the customer table (and each column the user picks
in ``DriverConfig.outcomes``: a 0/1 column is analysed like churn, any other
numeric column like CLV):

* **churn** — churn rate with vs without, the difference with a Newcombe
  (hybrid Wilson score) interval, relative risk and odds ratio with intervals,
  Fisher's exact test when an expected cell count is below 5, else the
  chi-square test (no continuity correction);
* **nps** — NPS (points, -100..100) of both groups (:func:`insight.kpi.nps`),
  the difference with a normal interval, and the impact
  ``NPS(all) - NPS(all but the theme's mentioners)``;
* **clv** — the mean difference with a Welch interval, the median difference
  with a seeded bootstrap interval, and the Mann-Whitney p-value.

**Adjusted models.** One *joint* model per outcome and exposure: logistic
regression for churn, OLS with HC1 (heteroscedasticity-robust) standard errors
for the NPS score (0-10) and CLV, with every theme that has enough support plus
the covariates (``DriverConfig.covariates`` that exist; text columns become
dummies, numbers stay linear). Joint rather than one model per theme because
customers who write mention several themes at once: a per-theme model would
credit a harmless theme with the effect of the driver it is co-mentioned with,
and it would estimate each driver against a baseline that still contains the
other drivers. The joint model adjusts every theme for the others and for the
segment covariates, which is also the form in which effects are planted in the
generated test corpora. The churn ``adjusted_effect`` is the average marginal
effect of the theme on the churn probability (a risk difference, the same
quantity as statsmodels ``get_margeff(dummy=True)``) with a delta-method
interval; the adjusted odds ratio is reported alongside. For NPS and CLV the
adjusted effect is the regression coefficient: 0-10 score points and currency.
Note the scales: the unadjusted NPS effect is in NPS points (-100..100), the
adjusted one in 0-10 score points.

**Multiple testing.** Benjamini-Hochberg q-values over all unadjusted tests of
the run (every theme, exposure and outcome together), and separately over all
adjusted tests.

**Minimum support.** A theme with fewer than ``min_support`` customers in
either group (or, for churn, fewer than ``min_events`` churners or stayers
among its mentioners) is flagged ``insufficient_data``: its effect and interval
are shown, but it gets no p-value and no place in the adjusted model.

**Revenue at risk** (churn rows) = excess churners among the theme's mentioners
(the adjusted model's predicted churn with minus without the theme, summed over
the mentioners) x their mean CLV, with a delta-method interval.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from insight import kpi
from insight.config import DriverConfig
from insight.errors import InsufficientDataError, InvalidValueError, MissingColumnError
from insight.join import N_COMMENTS, JoinResult
from insight.schemas import OUTCOMES, OUTPUT_CONTRACT, Col
from insight.types import Progress

CHURN, NPS, CLV = OUTCOMES
BINARY, SCORE, NUMERIC = "binary", "score", "numeric"
"""Outcome kinds: 0/1 (churn statistics), the 0-10 NPS score, any other number (CLV statistics)."""
EXPOSURES = ("mentioned", "negative")
EXPOSURE = "exposure"
FLAGS = "flags"

# flag vocabulary
INSUFFICIENT = "insufficient_data"
SEPARATION = "separation"
COLLINEAR = "collinear"
FIT_FAILED = "fit_failed"
CONFOUNDED = "confounded"
SIGN_REVERSAL = "sign_reversal"

CONTRACT = OUTPUT_CONTRACT["drivers.csv"]
EXTRA_COLUMNS = (
    EXPOSURE,
    "adjusted_ci_low",
    "adjusted_ci_high",
    "se",
    "adjusted_se",
    "relative_risk",
    "relative_risk_ci_low",
    "relative_risk_ci_high",
    "odds_ratio",
    "odds_ratio_ci_low",
    "odds_ratio_ci_high",
    "adjusted_odds_ratio",
    "adjusted_odds_ratio_ci_low",
    "adjusted_odds_ratio_ci_high",
    "rate_with",
    "rate_with_ci_low",
    "rate_with_ci_high",
    "rate_without",
    "rate_without_ci_low",
    "rate_without_ci_high",
    "median_difference",
    "median_ci_low",
    "median_ci_high",
    "nps_impact",
    "revenue_at_risk",
    "revenue_at_risk_ci_low",
    "revenue_at_risk_ci_high",
    "test",
    FLAGS,
)
COLUMNS = CONTRACT + EXTRA_COLUMNS
_SEPARATION_SE = 8.0  # a log-odds standard error this large means the MLE ran off to infinity


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class DriverResult:
    """Effects of every theme on every outcome, unadjusted and adjusted.

    Attributes
    ----------
    table : DataFrame
        One row per theme x exposure x outcome: the ``drivers.csv`` contract
        columns in order, then :data:`EXTRA_COLUMNS`. Churn effects are
        proportions (0.05 = 5 percentage points), NPS effects NPS points
        (adjusted: 0-10 score points), CLV effects currency.
    alpha : float
        Level of the intervals (``1 - alpha`` coverage) and of the flags.
    n_customers : int
        Customers in the analysis (the join's customer table).
    notes : tuple of str
        Caveats that travel with the numbers (small n, separation, confounding,
        covariates used or missing, rows excluded).
    """

    table: pd.DataFrame
    alpha: float
    n_customers: int
    notes: tuple[str, ...]

    def to_frame(self, exposure: str | None = "mentioned") -> pd.DataFrame:
        """The table for one exposure (``None``: all rows), contract columns first."""
        if exposure is None:
            return self.table.copy()
        if exposure not in EXPOSURES:
            raise InvalidValueError(f"Unknown exposure {exposure!r}; expected one of {EXPOSURES} or None.")
        return self.table[self.table[EXPOSURE] == exposure].reset_index(drop=True)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Intervals of the unadjusted and adjusted effects at level ``1 - alpha``.

        At the analysis' own ``alpha`` these are the reported intervals
        (Newcombe, Welch, delta method). At any other level they are normal
        (Wald) intervals from the stored standard errors ``se`` and
        ``adjusted_se``.

        Returns
        -------
        DataFrame
            Index (theme, exposure, outcome); columns effect, ci_low, ci_high,
            adjusted_effect, adjusted_ci_low, adjusted_ci_high.
        """
        t = self.table.set_index([Col.THEME, EXPOSURE, Col.OUTCOME])
        if math.isclose(alpha, self.alpha):
            cols = [Col.EFFECT, Col.CI_LOW, Col.CI_HIGH, Col.ADJUSTED_EFFECT, "adjusted_ci_low", "adjusted_ci_high"]
            return t[cols].copy()
        from scipy.stats import norm

        z = norm.ppf(1 - alpha / 2)
        return pd.DataFrame(
            {
                Col.EFFECT: t[Col.EFFECT],
                Col.CI_LOW: t[Col.EFFECT] - z * t["se"],
                Col.CI_HIGH: t[Col.EFFECT] + z * t["se"],
                Col.ADJUSTED_EFFECT: t[Col.ADJUSTED_EFFECT],
                "adjusted_ci_low": t[Col.ADJUSTED_EFFECT] - z * t["adjusted_se"],
                "adjusted_ci_high": t[Col.ADJUSTED_EFFECT] + z * t["adjusted_se"],
            }
        )

    def _row(self, theme: str, outcome: str, exposure: str) -> pd.Series:
        t = self.table
        hit = t[(t[Col.THEME] == theme) & (t[Col.OUTCOME] == outcome) & (t[EXPOSURE] == exposure)]
        if hit.empty:
            raise InvalidValueError(f"No driver row for theme {theme!r}, outcome {outcome!r}, exposure {exposure!r}.")
        return hit.iloc[0]

    def caption(self, theme: str, outcome: str, exposure: str = "mentioned") -> str:
        """The plain-language sentence for one row (as shown in the app)."""
        return _caption(self._row(theme, outcome, exposure), self.alpha)

    def summary(self, top: int = 5) -> str:
        """Readable text: the strongest adjusted drivers per outcome, then numbered notes."""
        level = f"{100 * (1 - self.alpha):.0f}%"
        lines = [f"Driver analysis of {self.n_customers:,} customers ({level} intervals, q = BH-adjusted p)."]
        t = self.to_frame("mentioned")
        for outcome in dict.fromkeys(t[Col.OUTCOME]):
            rows = t[t[Col.OUTCOME] == outcome]
            lines.append("")
            lines.append(f"{_title(outcome)}:")
            found = rows[rows[Col.ADJUSTED_Q_VALUE] <= self.alpha].sort_values(Col.ADJUSTED_P_VALUE)
            if found.empty:
                lines.append("  No theme is significantly linked after adjustment.")
            for _, row in found.head(top).iterrows():
                lines.append(f"  - {_caption(row, self.alpha)}")
        if self.notes:
            lines.append("")
            lines.append("Notes:")
            lines.extend(f"[{i}] {note}" for i, note in enumerate(self.notes, 1))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


_OUTCOME_TITLE = {CHURN: "Churn", NPS: "NPS", CLV: "Customer lifetime value"}


def _title(outcome: str) -> str:
    return _OUTCOME_TITLE.get(outcome, outcome)


def _fmt_interval(low: float, high: float, fmt: str) -> str:
    return f"{low:{fmt}} to {high:{fmt}}"


def _direction(value: float) -> str:
    return "lower" if value < 0 else "higher"


def _caption(row: pd.Series, alpha: float) -> str:
    theme, outcome, level = row[Col.THEME], row[Col.OUTCOME], f"{100 * (1 - alpha):.0f}% CI"
    who = f"Customers who mention {theme}" + (" negatively" if row[EXPOSURE] == "negative" else "")
    flags = set(str(row[FLAGS]).split(";")) - {""}
    if INSUFFICIENT in flags:
        return (
            f"Only {int(row[Col.N_WITH])} customers mention {theme} (with an outcome recorded): "
            f"too few to rank it for {outcome}."
        )
    if outcome == CHURN or row["test"] in ("chi2", "fisher_exact"):
        verb = "churn" if outcome == CHURN else f"have {outcome}"
        text = (
            f"{who} {verb} {row['relative_risk']:.1f}× as often ({row['rate_with']:.0%} vs {row['rate_without']:.0%}; "
            f"{level} {_fmt_interval(row['relative_risk_ci_low'], row['relative_risk_ci_high'], '.1f')}), "
            f"{100 * row[Col.EFFECT]:+.1f} pts"
        )
        adjusted = (
            f"{100 * row[Col.ADJUSTED_EFFECT]:+.1f} pts ({level} "
            f"{_fmt_interval(100 * row['adjusted_ci_low'], 100 * row['adjusted_ci_high'], '+.1f')}), "
            f"odds ratio {row['adjusted_odds_ratio']:.2f}"
        )
        if np.isfinite(row["revenue_at_risk"]) and row["revenue_at_risk"] > 0:
            adjusted += f", revenue at risk {row['revenue_at_risk']:,.0f}"
    elif outcome == NPS:
        text = (
            f"{who} give an NPS of {row['rate_with']:.0f} vs {row['rate_without']:.0f} "
            f"({row[Col.EFFECT]:+.0f} pts, {level} {_fmt_interval(row[Col.CI_LOW], row[Col.CI_HIGH], '+.0f')}); "
            f"without them overall NPS would change by {-row['nps_impact']:+.1f} pts"
        )
        adjusted = (
            f"their 0-10 score is {abs(row[Col.ADJUSTED_EFFECT]):.2f} points {_direction(row[Col.ADJUSTED_EFFECT])} "
            f"({level} {_fmt_interval(row['adjusted_ci_low'], row['adjusted_ci_high'], '+.2f')})"
        )
    else:
        text = (
            f"{who} have a mean {'CLV' if outcome == CLV else outcome} {abs(row[Col.EFFECT]):,.0f} {_direction(row[Col.EFFECT])} than the rest "
            f"({level} {_fmt_interval(row[Col.CI_LOW], row[Col.CI_HIGH], '+,.0f')}; median {row['median_difference']:+,.0f})"
        )
        adjusted = (
            f"{row[Col.ADJUSTED_EFFECT]:+,.0f} "
            f"({level} {_fmt_interval(row['adjusted_ci_low'], row['adjusted_ci_high'], '+,.0f')})"
        )
    if np.isfinite(row[Col.ADJUSTED_EFFECT]):
        text += f"; after adjusting for other themes and segment covariates (q = {row[Col.ADJUSTED_Q_VALUE]:.2g}): {adjusted}"
    else:
        text += "; no adjusted estimate"
    text += "."
    if CONFOUNDED in flags:
        text += " The raw link disappears after adjustment: likely confounded by segment."
    if SEPARATION in flags:
        text += " Warning: (quasi-)separation, the adjusted estimate is unreliable."
    return text


# ----------------------------------------------------------------------------- inputs


def _outcomes(customers: pd.DataFrame) -> dict[str, pd.Series]:
    """The outcome columns present, as float Series (NaN = unknown), validated."""
    found: dict[str, pd.Series] = {}
    if Col.CHURNED in customers:
        y = pd.to_numeric(customers[Col.CHURNED], errors="coerce").astype(float)
        bad = y.notna() & ~y.isin([0.0, 1.0])
        if bad.any():
            raise InvalidValueError(
                f"Column {Col.CHURNED!r} must hold 0/1; found {sorted(y[bad].unique())[:5]}.",
                hint="Ingest the customer table with ingest_customers, which maps Yes/No etc. to 0/1.",
            )
        if y.notna().any() and y.nunique() == 2:
            found[CHURN] = y
    if Col.NPS in customers:
        y = pd.to_numeric(customers[Col.NPS], errors="coerce").astype(float)
        if ((y < 0) | (y > 10)).any():
            raise InvalidValueError(f"Column {Col.NPS!r} must be a 0-10 score; found values from {y.min()} to {y.max()}.")
        if y.notna().sum() > 1:
            found[NPS] = y
    if Col.CLV in customers:
        y = pd.to_numeric(customers[Col.CLV], errors="coerce").astype(float)
        if (y < 0).any():
            raise InvalidValueError(
                f"Column {Col.CLV!r} must not be negative; {int((y < 0).sum())} customers have a CLV below 0 "
                f"(lowest {y.min():g})."
            )
        if y.notna().sum() > 1:
            found[CLV] = y
    return found


def _picked_outcomes(customers: pd.DataFrame, config: DriverConfig) -> dict[str, pd.Series]:
    """The user's own outcome columns (``config.outcomes``) as float Series, refused loudly when unusable.

    A picked column is never skipped in silence: the user asked for it.
    """
    found: dict[str, pd.Series] = {}
    for name in config.outcomes:
        if name not in customers:
            raise MissingColumnError(
                f"Outcome column {name!r} is not in the customer table (found: {', '.join(map(str, customers.columns))}).",
                hint="Pick a binary (0/1) or numeric column of the customer table.",
            )
        if name in (Col.CHURNED, Col.NPS, Col.CLV, Col.CUSTOMER_ID):
            raise InvalidValueError(f"{name!r} cannot be picked as an outcome: it is a customer id or already one of churn, NPS and CLV.")
        if name in config.covariates:
            raise InvalidValueError(
                f"{name!r} is both an outcome and a covariate of the adjusted models.",
                hint="Drop it from the driver covariates to analyse it as an outcome.",
            )
        raw = customers[name]
        y = pd.to_numeric(raw.astype("boolean") if pd.api.types.is_bool_dtype(raw) else raw, errors="coerce").astype(float)
        text = raw[y.isna() & raw.notna()]
        if len(text):
            raise InvalidValueError(
                f"Outcome column {name!r} must hold numbers; found {', '.join(map(repr, text.astype(str).unique()[:5]))}.",
                hint="Give yes/no outcomes as 0/1.",
            )
        if y.nunique() < 2:
            raise InsufficientDataError(f"Outcome column {name!r} has fewer than two distinct values, so nothing can drive it.")
        found[name] = y
    return found


def outcome_candidates(customers: pd.DataFrame, config: DriverConfig = DriverConfig()) -> list[str]:
    """Customer columns that could be picked as outcomes (``DriverConfig.outcomes``): binary or numeric,
    with two or more distinct values, and none of the id, churn, NPS, CLV, comment-count or covariate columns."""
    fixed = {Col.CUSTOMER_ID, Col.ROW_ID, Col.CHURNED, Col.NPS, Col.CLV, N_COMMENTS, *config.covariates}
    found = []
    for name in customers.columns:
        raw = customers[name]
        if name in fixed or pd.api.types.is_datetime64_any_dtype(raw):
            continue
        y = pd.to_numeric(raw.astype("boolean") if pd.api.types.is_bool_dtype(raw) else raw, errors="coerce")
        if y.notna().sum() == raw.notna().sum() and y.nunique() >= 2:
            found.append(str(name))
    return found


def _kind(outcome: str, y: pd.Series) -> str:
    """How an outcome is analysed: churn statistics for 0/1, NPS for the score, CLV statistics otherwise."""
    fixed = {CHURN: BINARY, NPS: SCORE, CLV: NUMERIC}
    if outcome in fixed:
        return fixed[outcome]
    return BINARY if y.dropna().isin([0.0, 1.0]).all() else NUMERIC


def _covariate_design(customers: pd.DataFrame, names: tuple[str, ...]) -> tuple[pd.DataFrame, list[str]]:
    """Numeric design of the covariates that exist: dummies for text, numbers as they are.

    The most frequent level of a categorical covariate is the reference, so
    the coefficients stay estimable in small samples. Missing categories get
    their own level; missing numbers leave NaN (those rows drop out of the
    adjusted models and are counted in the notes).
    """
    parts, used = [], []
    for name in names:
        if name not in customers:
            continue
        col = customers[name]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            parts.append(pd.to_numeric(col, errors="coerce").astype(float).rename(name).to_frame())
        else:
            levels = col.astype("string").fillna("(missing)")
            order = levels.value_counts().index
            dummies = pd.get_dummies(pd.Categorical(levels, categories=order), prefix=name, dtype=float).iloc[:, 1:]
            dummies.index = customers.index
            parts.append(dummies)
        used.append(name)
    design = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=customers.index)
    return design, used


# ----------------------------------------------------------------------------- unadjusted


def _proportion_ci(count: int, nobs: int, alpha: float) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(count, nobs, alpha=alpha, method="wilson")
    return float(low), float(high)


def _churn_unadjusted(c1: int, n1: int, c0: int, n0: int, alpha: float) -> dict[str, float | str]:
    from scipy.stats import chi2_contingency, fisher_exact
    from statsmodels.stats.proportion import confint_proportions_2indep

    p1, p0 = c1 / n1, c0 / n0
    diff_low, diff_high = confint_proportions_2indep(c1, n1, c0, n0, method="newcomb", compare="diff", alpha=alpha)
    rr_low, rr_high = confint_proportions_2indep(c1, n1, c0, n0, method="log-adjusted", compare="ratio", alpha=alpha)
    or_low, or_high = confint_proportions_2indep(c1, n1, c0, n0, method="logit-adjusted", compare="odds-ratio", alpha=alpha)
    table = np.array([[c1, n1 - c1], [c0, n0 - c0]])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    if (expected < 5).any():
        p_value, test = fisher_exact(table)[1], "fisher_exact"
    else:
        p_value, test = chi2_contingency(table, correction=False)[1], "chi2"
    odds1 = p1 / (1 - p1) if p1 < 1 else np.inf
    odds0 = p0 / (1 - p0) if p0 < 1 else np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        rr, odds_ratio = np.float64(p1) / p0, np.float64(odds1) / odds0
    rw, rwo = _proportion_ci(c1, n1, alpha), _proportion_ci(c0, n0, alpha)
    return {
        Col.EFFECT: p1 - p0, Col.CI_LOW: diff_low, Col.CI_HIGH: diff_high,
        "se": math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0),
        Col.P_VALUE: float(p_value), "test": test,
        "relative_risk": float(rr), "relative_risk_ci_low": rr_low, "relative_risk_ci_high": rr_high,
        "odds_ratio": float(odds_ratio), "odds_ratio_ci_low": or_low, "odds_ratio_ci_high": or_high,
        "rate_with": p1, "rate_with_ci_low": rw[0], "rate_with_ci_high": rw[1],
        "rate_without": p0, "rate_without_ci_low": rwo[0], "rate_without_ci_high": rwo[1],
    }  # fmt: skip


def _nps_group(scores: np.ndarray, alpha: float) -> tuple[object, float]:
    """NPS estimate (:func:`insight.kpi.nps`) at ``alpha`` and its standard error in points."""
    est = kpi.nps(scores, alpha=alpha)
    return est, kpi.nps_standard_error(np.mean(scores >= 9), np.mean(scores <= 6), est.n)


def _nps_unadjusted(with_: np.ndarray, without: np.ndarray, nps_all: float, alpha: float) -> dict[str, float | str]:
    from scipy.stats import norm

    e1, se1 = _nps_group(with_, alpha)
    e0, se0 = _nps_group(without, alpha)
    diff, se = e1.value - e0.value, math.hypot(se1, se0)
    z = norm.ppf(1 - alpha / 2)
    p_value = 2 * norm.sf(abs(diff) / se) if se > 0 else (1.0 if diff == 0 else 0.0)
    return {
        Col.EFFECT: diff, Col.CI_LOW: diff - z * se, Col.CI_HIGH: diff + z * se, "se": se,
        Col.P_VALUE: float(p_value), "test": "z_nps",
        "rate_with": e1.value, "rate_with_ci_low": e1.ci_low, "rate_with_ci_high": e1.ci_high,
        "rate_without": e0.value, "rate_without_ci_low": e0.ci_low, "rate_without_ci_high": e0.ci_high,
        "nps_impact": nps_all - e0.value,
    }  # fmt: skip


def _bootstrap_medians(values: np.ndarray, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Draws from the exact bootstrap distribution of the (lower) median.

    The lower median of a resample of size n is at most the k-th order
    statistic exactly when at least ``m = ceil(n/2)`` of the n draws fall on
    the first k order statistics, which is ``Binomial(n, k/n) >= m``. Sampling
    order statistics from that CDF equals resampling-and-taking-medians,
    without materialising n x n_draws resamples (seconds saved per theme at
    20k customers).
    """
    from scipy.stats import binom

    x = np.sort(values)
    n = x.size
    m = (n + 1) // 2  # rank of the lower median
    # the rank of the resampled median has sd ~ sqrt(n)/2: outside +-6 sqrt(n) the CDF is 0 or 1
    lo, hi = max(1, m - 6 * math.isqrt(n) - 6), min(n, m + 6 * math.isqrt(n) + 6)
    cdf = binom.sf(m - 1, n, np.arange(lo, hi + 1) / n)
    return x[np.minimum(lo - 1 + np.searchsorted(cdf, rng.random(n_draws)), n - 1)]


def _lower_median(values: np.ndarray) -> float:
    return float(np.partition(values, (values.size - 1) // 2)[(values.size - 1) // 2])


def _clv_unadjusted(
    with_: np.ndarray, without: np.ndarray, alpha: float, n_bootstrap: int, rng: np.random.Generator
) -> dict[str, float | str]:
    from scipy.stats import mannwhitneyu, ttest_ind

    welch = ttest_ind(with_, without, equal_var=False)
    low, high = welch.confidence_interval(1 - alpha)
    m1, m0 = kpi.mean_estimate(with_, alpha=alpha), kpi.mean_estimate(without, alpha=alpha)
    draws = _bootstrap_medians(with_, n_bootstrap, rng) - _bootstrap_medians(without, n_bootstrap, rng)
    return {
        Col.EFFECT: m1.value - m0.value, Col.CI_LOW: float(low), Col.CI_HIGH: float(high),
        "se": float(math.sqrt(with_.var(ddof=1) / with_.size + without.var(ddof=1) / without.size)),
        Col.P_VALUE: float(mannwhitneyu(with_, without, alternative="two-sided").pvalue), "test": "mann_whitney",
        "rate_with": m1.value, "rate_with_ci_low": m1.ci_low, "rate_with_ci_high": m1.ci_high,
        "rate_without": m0.value, "rate_without_ci_low": m0.ci_low, "rate_without_ci_high": m0.ci_high,
        "median_difference": _lower_median(with_) - _lower_median(without),
        "median_ci_low": float(np.quantile(draws, alpha / 2)),
        "median_ci_high": float(np.quantile(draws, 1 - alpha / 2)),
    }  # fmt: skip


# ----------------------------------------------------------------------------- adjusted


def _independent_columns(X: np.ndarray) -> np.ndarray:
    """Boolean mask of columns kept by rank-revealing QR (drops exact collinearity)."""
    from scipy.linalg import qr

    _, r, pivots = qr(X, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int((diag > diag[0] * max(X.shape) * np.finfo(float).eps * 1e3).sum()) if diag.size else 0
    keep = np.zeros(X.shape[1], dtype=bool)
    keep[pivots[:rank]] = True
    return keep


def _discrete_change(params: np.ndarray, cov: np.ndarray, X: np.ndarray, j: int, rows: np.ndarray) -> tuple[float, float]:
    """Mean of P(y=1 | x_j=1) - P(y=1 | x_j=0) over ``rows`` of a logit, with delta-method SE.

    Over all rows this is the average marginal effect of a dummy (statsmodels
    ``get_margeff(at="overall", dummy=True)``); over the exposed rows it is
    the excess risk among the exposed.
    """
    from scipy.special import expit

    Xr = X[rows]
    base = Xr @ params - Xr[:, j] * params[j]
    p1, p0 = expit(base + params[j]), expit(base)
    w1, w0 = p1 * (1 - p1), p0 * (1 - p0)
    grad = ((w1 - w0) @ Xr) / Xr.shape[0]
    grad[j] = w1.mean()
    return float((p1 - p0).mean()), float(math.sqrt(max(grad @ cov @ grad, 0.0)))


@dataclass(frozen=True)
class _Fit:
    coef: dict[str, tuple[float, float, float]]  # theme -> (estimate, se, p)
    flags: dict[str, str]
    effect: dict[str, tuple[float, float]]  # churn: theme -> (AME, se)
    excess: dict[str, tuple[float, float]]  # churn: theme -> (excess churners among exposed, se)
    note: str | None


def _fit_joint(
    outcome: str, binary: bool, y: np.ndarray, exposed: pd.DataFrame, covariates: pd.DataFrame, themes: list[str]
) -> _Fit:
    """One model: outcome ~ const + eligible theme indicators + covariates."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError, PerfectSeparationWarning

    cov = covariates.to_numpy(dtype=float)
    cov = cov[:, cov.std(axis=0) > 0] if cov.size else cov.reshape(len(y), 0)
    X = np.column_stack([np.ones(len(y)), exposed[themes].to_numpy(dtype=float), cov])
    keep = _independent_columns(X)
    flags = {t: COLLINEAR for t, k in zip(themes, keep[1 : 1 + len(themes)]) if not k}
    kept_themes = [t for t, k in zip(themes, keep[1 : 1 + len(themes)]) if k]
    X = X[:, keep]
    note = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if binary:
                res = sm.Logit(y, X).fit(disp=0, maxiter=100, method="newton")
            else:
                res = sm.OLS(y, X).fit(cov_type="HC1")
        except (np.linalg.LinAlgError, PerfectSeparationError, ValueError) as exc:
            return _Fit({}, {t: FIT_FAILED for t in themes}, {}, {}, f"The adjusted {outcome} model could not be fitted ({exc}).")
    problems = [w for w in caught if issubclass(w.category, (ConvergenceWarning, PerfectSeparationWarning))]
    if problems:
        note = f"The adjusted {outcome} model warned: {problems[0].message}"
    params, bse, pvalues, vcov = res.params, res.bse, res.pvalues, res.cov_params()
    coef, effect, excess = {}, {}, {}
    for i, theme in enumerate(kept_themes, start=1):
        if binary and not (np.isfinite(bse[i]) and bse[i] < _SEPARATION_SE):
            flags[theme] = SEPARATION
            continue
        coef[theme] = (float(params[i]), float(bse[i]), float(pvalues[i]))
        if binary:
            effect[theme] = _discrete_change(params, vcov, X, i, np.ones(len(y), dtype=bool))
            mentioned = X[:, i] > 0
            att, se = _discrete_change(params, vcov, X, i, mentioned)
            excess[theme] = (att * mentioned.sum(), se * mentioned.sum())
    return _Fit(coef, flags, effect, excess, note)


# ----------------------------------------------------------------------------- analysis


def _bh(p: pd.Series) -> pd.Series:
    from statsmodels.stats.multitest import multipletests

    q = pd.Series(np.nan, index=p.index)
    ok = p.notna()
    if ok.any():
        q[ok] = multipletests(p[ok].to_numpy(), method="fdr_bh")[1]
    return q


def _add_flag(flags: str, flag: str) -> str:
    return flag if not flags else f"{flags};{flag}"


def analyze_drivers(
    join: JoinResult,
    *,
    config: DriverConfig = DriverConfig(),
    random_state: int = 0,
    progress: Progress | None = None,
) -> DriverResult:
    """Unadjusted and adjusted effects of every theme on churn, NPS, CLV and the user's picked outcomes.

    Parameters
    ----------
    join : JoinResult
        Customers with their theme exposure (:func:`insight.join.join_customers`).
    config : DriverConfig
        ``alpha``, ``min_support``, ``min_events``, ``covariates``, ``outcomes``, ``n_bootstrap``.
    random_state : int
        Seed of the bootstrap (median CLV difference).
    progress : callable, optional
        ``progress("drivers", done, total, message)``.

    Returns
    -------
    DriverResult

    Raises
    ------
    InsufficientDataError
        No comment matched a customer, no theme, or no outcome column.
    InvalidValueError
        Churn not 0/1, NPS outside 0-10, a picked outcome not numeric.
    MissingColumnError
        A picked outcome is not in the customer table.
    """
    if join.n_comments_matched == 0:
        raise InsufficientDataError(
            f"No comment could be linked to a customer: 0 of {join.n_comments - join.n_comments_without_id} comments "
            f"with a customer id matched the customer table (match rate 0%).",
            hint="Check that the feedback's customer id column and the customer table's id column hold the same ids.",
        )
    if not join.themes:
        raise InsufficientDataError("No themes were found in the matched comments, so there is nothing to relate to outcomes.")
    customers = join.customers
    outcomes = {**_outcomes(customers), **_picked_outcomes(customers, config)}
    if not outcomes:
        raise InsufficientDataError(
            "The customer table has no usable outcome: a churn column with both churned and retained customers, "
            "an NPS score or a CLV column is needed."
        )
    rng = np.random.default_rng(random_state)
    alpha = config.alpha
    design, used = _covariate_design(customers, config.covariates)
    missing_cov = [c for c in config.covariates if c not in used]
    notes: list[str] = []
    if used:
        notes.append(f"Adjusted models control for {', '.join(used)} and for the other themes (joint model).")
    if missing_cov:
        notes.append(f"Covariates not in the customer table, so not adjusted for: {', '.join(missing_cov)}.")
    for outcome, y in outcomes.items():
        if y.isna().any():
            notes.append(f"{_title(outcome)} is known for {int(y.notna().sum()):,} of {len(y):,} customers; "
                         "the others are left out of its comparisons.")
    complete = design.notna().all(axis=1).to_numpy()
    if (~complete).any():
        notes.append(f"{int((~complete).sum())} customers lack a covariate value and are left out of the adjusted models.")

    from threadpoolctl import threadpool_limits

    # The models are tall and thin (customers x a few dozen columns): one BLAS
    # thread is fastest, and multi-threaded LAPACK on a busy machine is 50x slower.
    with threadpool_limits(limits=1):
        rows = _analyze_blocks(join, outcomes, design, complete, config, rng, notes, progress)
    table = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    table[Col.Q_VALUE] = _bh(table[Col.P_VALUE])
    table[Col.ADJUSTED_Q_VALUE] = _bh(table[Col.ADJUSTED_P_VALUE])
    _flag_confounding(table, alpha)
    table = _sorted(table)
    notes.extend(_table_notes(table, config))
    return DriverResult(table=table, alpha=alpha, n_customers=int(len(customers)), notes=tuple(notes))


def _analyze_blocks(
    join: JoinResult,
    outcomes: dict[str, pd.Series],
    design: pd.DataFrame,
    complete: np.ndarray,
    config: DriverConfig,
    rng: np.random.Generator,
    notes: list[str],
    progress: Progress | None,
) -> list[dict]:
    """Rows of the driver table for every exposure x outcome block (appends model notes)."""
    customers, alpha = join.customers, config.alpha
    rows: list[dict] = []
    blocks = [(e, o) for e in EXPOSURES for o in outcomes]
    for done, (exposure, outcome) in enumerate(blocks):
        if progress is not None:
            progress("drivers", done, len(blocks), f"{outcome} ~ themes {exposure}")
        counts = join.mentions if exposure == "mentioned" else join.negative_mentions
        y_all = outcomes[outcome]
        kind = _kind(outcome, y_all)
        known = y_all.notna().to_numpy()
        y = y_all.to_numpy()[known]
        exposed = counts.loc[known] > 0
        eligible, block = [], {}
        nps_all = kpi.nps(y).value if outcome == NPS else np.nan
        for theme in join.themes:
            mask = exposed[theme].to_numpy()
            n1, n0 = int(mask.sum()), int((~mask).sum())
            row = {Col.THEME: theme, Col.OUTCOME: outcome, EXPOSURE: exposure, Col.N_WITH: n1, Col.N_WITHOUT: n0, FLAGS: ""}
            enough = min(n1, n0) >= config.min_support
            if kind == BINARY:
                c1 = int(y[mask].sum())
                enough = enough and min(c1, n1 - c1) >= config.min_events
                # only a theme that enters the adjusted model can make it separate
                if enough and (c1 == 0 or c1 == n1):
                    row[FLAGS] = _add_flag(row[FLAGS], SEPARATION)
            if n1 >= 2 and n0 >= 2:
                if kind == BINARY:
                    row.update(_churn_unadjusted(c1, n1, int(y[~mask].sum()), n0, alpha))
                elif kind == SCORE:
                    row.update(_nps_unadjusted(y[mask], y[~mask], nps_all, alpha))
                else:
                    row.update(_clv_unadjusted(y[mask], y[~mask], alpha, config.n_bootstrap, rng))
            if enough:
                eligible.append(theme)
            else:
                row[FLAGS] = _add_flag(row[FLAGS], INSUFFICIENT)
                row[Col.P_VALUE] = np.nan
            block[theme] = row
        if eligible:
            fit_rows = complete[known]
            fit = _fit_joint(outcome, kind == BINARY, y[fit_rows], exposed.loc[fit_rows], design.loc[known].loc[fit_rows], eligible)
            if fit.note:
                notes.append(fit.note)
            clv = _clv_values(customers, known) if outcome == CHURN else None
            for theme in eligible:
                row = block[theme]
                if theme in fit.flags:
                    row[FLAGS] = _add_flag(row[FLAGS], fit.flags[theme])
                if theme not in fit.coef:
                    continue
                row.update(_adjusted_columns(kind == BINARY, fit, theme, alpha, clv, exposed[theme].to_numpy()))
        rows.extend(block.values())
    if progress is not None:
        progress("drivers", len(blocks), len(blocks), "done")
    return rows


def _clv_values(customers: pd.DataFrame, known: np.ndarray) -> pd.Series | None:
    """CLV of the customers with a known outcome (for revenue at risk), or None."""
    if Col.CLV not in customers:
        return None
    return pd.to_numeric(customers[Col.CLV], errors="coerce").astype(float)[known]


def _adjusted_columns(
    binary: bool, fit: _Fit, theme: str, alpha: float, clv: pd.Series | None, exposed: np.ndarray
) -> dict[str, float]:
    from scipy.stats import norm

    z = norm.ppf(1 - alpha / 2)
    est, se, p = fit.coef[theme]
    out = {Col.ADJUSTED_P_VALUE: p}
    if not binary:
        out.update({Col.ADJUSTED_EFFECT: est, "adjusted_se": se, "adjusted_ci_low": est - z * se, "adjusted_ci_high": est + z * se})
        return out
    ame, ame_se = fit.effect[theme]
    out.update({
        Col.ADJUSTED_EFFECT: ame, "adjusted_se": ame_se,
        "adjusted_ci_low": ame - z * ame_se, "adjusted_ci_high": ame + z * ame_se,
        "adjusted_odds_ratio": math.exp(est),
        "adjusted_odds_ratio_ci_low": math.exp(est - z * se), "adjusted_odds_ratio_ci_high": math.exp(est + z * se),
    })  # fmt: skip
    if clv is not None:
        values = clv[exposed].dropna().to_numpy()
        if values.size >= 2:
            excess, excess_se = fit.excess[theme]
            m, m_se = values.mean(), values.std(ddof=1) / math.sqrt(values.size)
            rar, rar_se = excess * m, math.hypot(m * excess_se, excess * m_se)
            out.update({"revenue_at_risk": rar, "revenue_at_risk_ci_low": rar - z * rar_se, "revenue_at_risk_ci_high": rar + z * rar_se})
    return out


def _flag_confounding(table: pd.DataFrame, alpha: float) -> None:
    """Flag raw links that vanish (or flip) once adjusted.

    For CLV (and any numeric outcome) the raw test is Mann-Whitney (a shift in distribution) while the
    adjusted one is OLS on the mean, so a raw CLV link also needs its Welch mean
    interval to exclude zero: a median shift with an unchanged mean is not a link
    that adjustment "explains away".
    """
    mean_differs = (table[Col.CI_LOW] > 0) | (table[Col.CI_HIGH] < 0)
    raw = (table[Col.Q_VALUE] <= alpha) & ((table["test"] != "mann_whitney") | mean_differs)
    adj = table[Col.ADJUSTED_Q_VALUE] <= alpha
    tested = table[Col.ADJUSTED_P_VALUE].notna()
    confounded = raw & tested & ~adj
    reversed_ = raw & adj & (np.sign(table[Col.EFFECT]) != np.sign(table[Col.ADJUSTED_EFFECT]))
    for mask, flag in ((confounded, CONFOUNDED), (reversed_, SIGN_REVERSAL)):
        table.loc[mask, FLAGS] = [_add_flag(f, flag) for f in table.loc[mask, FLAGS]]


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    order = {o: i for i, o in enumerate(OUTCOMES)}
    key = pd.DataFrame({
        "o": table[Col.OUTCOME].map(order).fillna(len(order)), "name": table[Col.OUTCOME], "e": table[EXPOSURE].map({e: i for i, e in enumerate(EXPOSURES)}),
        "unranked": table[Col.ADJUSTED_P_VALUE].isna() & table[Col.P_VALUE].isna(),
        "padj": table[Col.ADJUSTED_P_VALUE].fillna(2.0), "p": table[Col.P_VALUE].fillna(2.0), "t": table[Col.THEME],
    })  # fmt: skip
    idx = key.sort_values(["o", "name", "e", "unranked", "padj", "p", "t"], kind="stable").index
    return table.loc[idx].reset_index(drop=True)


def _themes_with(table: pd.DataFrame, flag: str) -> list[str]:
    hit = table[table[FLAGS].str.split(";").apply(lambda f: flag in f)]
    return list(dict.fromkeys(f"{t} ({o}, {e})" for t, o, e in zip(hit[Col.THEME], hit[Col.OUTCOME], hit[EXPOSURE])))


def _table_notes(table: pd.DataFrame, config: DriverConfig) -> list[str]:
    notes = []
    explain = {
        INSUFFICIENT: (
            f"Insufficient data (fewer than {config.min_support} customers with or without the theme, or fewer than "
            f"{config.min_events} churners/stayers among its mentioners), shown but not ranked"
        ),
        SEPARATION: "Separation (all or none of the mentioners churned, or the logit ran off to infinity): adjusted estimate withheld",
        COLLINEAR: "Collinear with other themes or covariates, dropped from the adjusted model",
        FIT_FAILED: "Adjusted model failed",
        CONFOUNDED: "Significant before adjustment but not after (likely explained by segment or co-mentioned themes)",
        SIGN_REVERSAL: "Significant in opposite directions before and after adjustment",
    }
    for flag, text in explain.items():
        hits = _themes_with(table, flag)
        if hits:
            shown = ", ".join(hits[:8]) + (f" and {len(hits) - 8} more" if len(hits) > 8 else "")
            notes.append(f"{text}: {shown}.")
    return notes


def drivers_of(join: JoinResult, outcome: str, *, config: DriverConfig = DriverConfig(),
               random_state: int = 0) -> DriverResult:
    """The drivers of one picked customer column alone: churn, NPS and CLV are left out of the
    analysis (a run has them already), the same statistics otherwise."""
    from dataclasses import replace

    customers = join.customers.drop(columns=[Col.CHURNED, Col.NPS, Col.CLV], errors="ignore")
    return analyze_drivers(replace(join, customers=customers), config=replace(config, outcomes=(outcome,)),
                           random_state=random_state)
