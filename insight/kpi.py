"""The KPI formulas of DESIGN.md, exactly, with input checks and intervals.

Every rate is returned in percent (0-100) and NPS in points (-100..100), each as
an :class:`Estimate` carrying a 95% confidence interval and its sample size, so a
number is never shown without its uncertainty. Rates use the Wilson score
interval (statsmodels), which behaves well near 0% and 100% and for small n;
NPS uses the normal interval of the promoter-minus-detractor difference of
multinomial proportions. Plain money KPIs (CLV, CAC, AOV) are deterministic
formulas and return floats.

Bad input (negative counts, zero denominators, NaN, scores outside 0-10, more
churned than customers, ...) raises :class:`insight.errors.InvalidValueError`
naming the argument and the value.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from insight.config import SegmentConfig
from insight.errors import InsufficientDataError, InvalidValueError
from insight.join import JoinResult
from insight.schemas import KPI_ROLES, Col
from insight.segments import segment_columns

ALPHA = 0.05
"""Intervals are 95% (two-sided) throughout."""



@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% confidence interval and sample size.

    Attributes
    ----------
    value : float
        The estimate (percent for rates, points for NPS, currency for means).
    ci_low, ci_high : float
        Bounds of the 95% interval; NaN when it cannot be computed (n = 1 mean).
    n : int
        Observations the estimate rests on.
    unit : str
        "%" for rates, "points" for NPS, "" for currency or plain numbers.
    """

    value: float
    ci_low: float
    ci_high: float
    n: int
    unit: str = ""

    def __str__(self) -> str:
        unit = {"%": "%", "points": " points"}.get(self.unit, "")
        if math.isnan(self.ci_low) or math.isnan(self.ci_high):
            return f"{self.value:.1f}{unit} (n={self.n}, no interval)"
        return f"{self.value:.1f}{unit} (95% CI {self.ci_low:.1f} to {self.ci_high:.1f}, n={self.n})"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict (NaN bounds become None)."""

        def clean(x: float) -> float | None:
            return None if math.isnan(x) else float(x)

        return {
            "value": clean(self.value),
            "ci_low": clean(self.ci_low),
            "ci_high": clean(self.ci_high),
            "n": int(self.n),
            "unit": self.unit,
        }


# ---------------------------------------------------------------- validation


def _number(name: str, value: Any, *, allow_zero: bool = True) -> float:
    """A finite, non-negative real number (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InvalidValueError(f"{name} must be a number, got {value!r}.")
    x = float(value)
    if math.isnan(x) or math.isinf(x):
        raise InvalidValueError(f"{name} must be a finite number, got {value!r}.")
    if x < 0 or (x == 0 and not allow_zero):
        need = "non-negative" if allow_zero else "greater than zero"
        raise InvalidValueError(f"{name} must be {need}, got {value!r}.")
    return x


def _count(name: str, value: Any, *, allow_zero: bool = True) -> int:
    """A non-negative whole number (an int, or a float with no fractional part)."""
    x = _number(name, value, allow_zero=allow_zero)
    if not isinstance(value, Integral) and not x.is_integer():
        raise InvalidValueError(f"{name} must be a whole number of customers/events, got {value!r}.")
    return int(x)


def _part_of(part_name: str, part: int, whole_name: str, whole: int) -> None:
    if part > whole:
        raise InvalidValueError(f"{part_name} ({part}) cannot exceed {whole_name} ({whole}).")


def _rate(part_name: str, part: Any, whole_name: str, whole: Any) -> Estimate:
    """part / whole x 100 with a Wilson interval, both counts validated."""
    count, n = _count(part_name, part), _count(whole_name, whole, allow_zero=False)
    _part_of(part_name, count, whole_name, n)
    return _wilson(count, n)


def _as_float_array(name: str, values: Any) -> np.ndarray:
    """A 1-D float array without missing values (missing values are refused, not guessed)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (Iterable, np.ndarray, pd.Series)):
        raise InvalidValueError(f"{name} must be a sequence of numbers, got {type(values).__name__}.")
    if isinstance(values, pd.Series):
        series = values
    else:
        raw = np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=object)
        if raw.ndim != 1:
            raise InvalidValueError(f"{name} must be one-dimensional, got shape {raw.shape}.")
        series = pd.Series(raw)
    try:
        arr = pd.to_numeric(series, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{name} must contain only numbers ({exc}).") from None
    if np.isnan(arr).any():
        raise InvalidValueError(
            f"{name} contains {int(np.isnan(arr).sum())} missing value(s).",
            hint="Drop missing values first (e.g. series.dropna()); a missing score is not a 0.",
        )
    return arr


def _wilson(count: int, nobs: int, unit: str = "%") -> Estimate:
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(count, nobs, alpha=ALPHA, method="wilson")
    value = 100.0 * count / nobs
    # at 0% / 100% the bounds come back as 1e-15 off the estimate; keep it inside its own interval
    return Estimate(value, min(100.0 * float(low), value), max(100.0 * float(high), value), int(nobs), unit)


# ---------------------------------------------------------------- NPS


def _nps_counts(scores: Any) -> tuple[int, int, int]:
    arr = _as_float_array("scores", scores)
    if arr.size == 0:
        raise InsufficientDataError("NPS needs at least one score; scores is empty.")
    bad = arr[(arr < 0) | (arr > 10) | (arr != np.round(arr))]
    if bad.size:
        raise InvalidValueError(
            f"NPS scores must be whole numbers from 0 to 10; got {bad.size} invalid value(s), e.g. {bad[0]:g}."
        )
    promoters = int((arr >= 9).sum())
    detractors = int((arr <= 6).sum())
    return promoters, int(arr.size) - promoters - detractors, detractors


def _z(alpha: float) -> float:
    """Two-sided standard normal quantile for a (1 - alpha) interval."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(1 - alpha / 2)


def nps_standard_error(promoter_share: float, detractor_share: float, n: int) -> float:
    """Standard error of an NPS in points: the variance of the difference of two
    multinomial proportions, ``(p_P + p_D - (p_P - p_D)**2) / n``."""
    d = promoter_share - detractor_share
    return 100.0 * math.sqrt(max(promoter_share + detractor_share - d * d, 0.0) / n)


def nps(scores: Any, *, alpha: float = ALPHA) -> Estimate:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6), in points.

    The interval is normal, from the variance of the difference of two
    multinomial proportions, ``(p_P + p_D - (p_P - p_D)**2) / n``, clipped to
    [-100, 100].

    Parameters
    ----------
    scores : sequence of int
        0-10 likelihood-to-recommend answers, no missing values.

    alpha : float, default=0.05
        The interval is (1 - alpha).

    Returns
    -------
    Estimate
        NPS in points with its (1 - alpha) CI.

    Raises
    ------
    InvalidValueError
        A score is missing, not whole, or outside 0-10.
    InsufficientDataError
        No scores.

    Examples
    --------
    >>> str(nps([10] * 6 + [8] * 2 + [3] * 2))
    '40.0 points (95% CI -9.6 to 89.6, n=10)'
    """
    promoters, passives, detractors = _nps_counts(scores)
    n = promoters + passives + detractors
    p_p, p_d = promoters / n, detractors / n
    value = 100.0 * (p_p - p_d)
    half = _z(alpha) * nps_standard_error(p_p, p_d, n)
    return Estimate(value, max(value - half, -100.0), min(value + half, 100.0), n, "points")


def nps_breakdown(scores: Any) -> dict[str, Any]:
    """Counts and shares (percent) of promoters, passives and detractors."""
    promoters, passives, detractors = _nps_counts(scores)
    n = promoters + passives + detractors
    return {
        "n": n,
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
        "promoters_pct": 100.0 * promoters / n,
        "passives_pct": 100.0 * passives / n,
        "detractors_pct": 100.0 * detractors / n,
    }


# ---------------------------------------------------------------- money KPIs


def clv(avg_purchase_value: float, purchase_frequency: float, lifespan: float) -> float:
    """Customer lifetime value = average purchase value x purchase frequency x lifespan.

    Examples
    --------
    >>> clv(100, 5, 3)
    1500.0
    """
    return (
        _number("avg_purchase_value", avg_purchase_value)
        * _number("purchase_frequency", purchase_frequency)
        * _number("lifespan", lifespan)
    )


def cac(spend: float, new_customers: int) -> float:
    """Customer acquisition cost = sales and marketing spend / new customers."""
    return _number("spend", spend) / _count("new_customers", new_customers, allow_zero=False)


def average_order_value(revenue: float, orders: int) -> float:
    """Average order value = revenue / number of orders."""
    return _number("revenue", revenue) / _count("orders", orders, allow_zero=False)


# ---------------------------------------------------------------- rates (Wilson)


def retention_rate(customers_start: int, customers_end: int, new_customers: int) -> Estimate:
    """Retention rate = (customers at end - new customers) / customers at start x 100.

    Examples
    --------
    >>> retention_rate(1000, 1100, 200).value
    90.0
    """
    start = _count("customers_start", customers_start, allow_zero=False)
    end = _count("customers_end", customers_end)
    new = _count("new_customers", new_customers)
    _part_of("new_customers", new, "customers_end", end)
    retained = end - new
    _part_of("customers_end - new_customers (retained)", retained, "customers_start", start)
    return _wilson(retained, start)


def churn_rate(churned: Any, total: int | None = None) -> Estimate:
    """Churn rate in percent, from counts or from a 0/1 (bool) array.

    Parameters
    ----------
    churned : int or sequence of {0, 1}
        Number of churned customers (with ``total``), or one flag per customer.
    total : int, optional
        Customers at risk; required with a count, not allowed with an array.
    """
    if total is None:
        if isinstance(churned, Real) and not isinstance(churned, bool):
            raise InvalidValueError("churn_rate needs total when churned is a count.")
        flags = _as_float_array("churned", churned)
        if flags.size == 0:
            raise InsufficientDataError("churn_rate needs at least one customer; churned is empty.")
        bad = flags[(flags != 0) & (flags != 1)]
        if bad.size:
            raise InvalidValueError(f"churned flags must be 0 or 1; got {bad.size} other value(s), e.g. {bad[0]:g}.")
        return _wilson(int(flags.sum()), int(flags.size))
    return _rate("churned", churned, "total", total)


def csat(satisfied: int, total: int) -> Estimate:
    """CSAT = satisfied responses / all responses x 100."""
    return _rate("satisfied", satisfied, "total", total)


def repeat_purchase_rate(repeat_customers: int, customers: int) -> Estimate:
    """Repeat purchase rate = customers with more than one purchase / customers x 100."""
    return _rate("repeat_customers", repeat_customers, "customers", customers)


def conversion_rate(conversions: int, visitors: int) -> Estimate:
    """Conversion rate = conversions / visitors x 100."""
    return _rate("conversions", conversions, "visitors", visitors)


def mean_estimate(values: Any, *, alpha: float = ALPHA) -> Estimate:
    """Mean with a Student-t (1 - alpha) interval (no interval for a single value)."""
    arr = _as_float_array("values", values)
    if arr.size == 0:
        raise InsufficientDataError("A mean needs at least one value; values is empty.")
    if arr.size == 1:
        return Estimate(float(arr[0]), math.nan, math.nan, 1)
    from statsmodels.stats.weightstats import DescrStatsW

    low, high = DescrStatsW(arr).tconfint_mean(alpha=alpha)
    return Estimate(float(arr.mean()), float(low), float(high), int(arr.size))


# ---------------------------------------------------------------- customer table


def summarise_customers(customers: pd.DataFrame) -> dict[str, Any]:
    """Headline KPIs of an ingested customer table, JSON-serialisable.

    Uses the columns ``Col.CHURNED`` (0/1), ``Col.NPS`` (0-10) and ``Col.CLV``
    when present; missing values are left out of each KPI (its ``n`` says how
    many were used), and a KPI whose column is absent or empty is ``None``.

    Returns
    -------
    dict
        ``n_customers``, ``churn_rate`` (Estimate dict, percent), ``nps``
        (Estimate dict in points plus ``breakdown``), ``mean_clv`` (Estimate
        dict, t-interval), ``total_clv`` and ``catalogue`` (:func:`catalogue`).
    """
    if not isinstance(customers, pd.DataFrame):
        raise InvalidValueError(f"customers must be a pandas DataFrame, got {type(customers).__name__}.")

    def present(col: str) -> pd.Series | None:
        if col not in customers.columns:
            return None
        values = customers[col].dropna()
        return values if len(values) else None

    out: dict[str, Any] = {"n_customers": int(len(customers)), "churn_rate": None, "nps": None,
                           "mean_clv": None, "total_clv": None}
    churned = present(Col.CHURNED)
    if churned is not None:
        out["churn_rate"] = churn_rate(churned).to_dict()
    scores = present(Col.NPS)
    if scores is not None:
        out["nps"] = {**nps(scores).to_dict(), "breakdown": nps_breakdown(scores)}
    values = present(Col.CLV)
    if values is not None:
        arr = _as_float_array(Col.CLV, values)
        if (arr < 0).any():
            raise InvalidValueError(f"{Col.CLV} must be non-negative; got {int((arr < 0).sum())} negative value(s).")
        out["mean_clv"] = mean_estimate(arr).to_dict()
        out["total_clv"] = float(arr.sum())
    out["catalogue"] = catalogue(customers)
    return out


# ---------------------------------------------------------------- catalogue

KPI_INPUTS = (Col.CHURNED, Col.NPS, Col.CLV, Col.SIGNUP_DATE, Col.CHURN_DATE, *KPI_ROLES)
"""Customer columns the catalogue reads, by the names ingest gives them (``columns=`` maps them to others)."""

SATISFIED = 4
"""CSAT answers are 1-5; 4 and 5 count as satisfied."""


def _flags(name: str, values: pd.Series) -> Estimate:
    arr = _as_float_array(name, values)
    bad = arr[(arr != 0) & (arr != 1)]
    if bad.size:
        raise InvalidValueError(f"{name} must hold 0/1; got {bad.size} other value(s), e.g. {bad[0]:g}.")
    return _wilson(int(arr.sum()), int(arr.size))


def _csat(values: pd.Series) -> Estimate:
    arr = _as_float_array(Col.CSAT, values)
    if ((arr < 1) | (arr > 5)).any():
        raise InvalidValueError(f"{Col.CSAT} answers must be 1-5; found values from {arr.min():g} to {arr.max():g}.")
    return csat(int((arr >= SATISFIED).sum()), int(arr.size))


def _nonnegative(name: str, values: pd.Series) -> np.ndarray:
    arr = _as_float_array(name, values)
    if (arr < 0).any():
        raise InvalidValueError(f"{name} must be non-negative; got {int((arr < 0).sum())} negative value(s).")
    return arr


def _aov(orders: pd.Series, revenue: pd.Series) -> Estimate:
    """A ratio of sums, not a mean of customers: reported without an interval."""
    n_orders = _nonnegative(Col.ORDERS, orders).sum()
    value = average_order_value(float(_nonnegative(Col.TOTAL_REVENUE, revenue).sum()), n_orders)
    return Estimate(value, math.nan, math.nan, int(n_orders))


def period_counts(signup: pd.Series, churn_date: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> tuple[int, int, int]:
    """Customers active at ``start``, active at ``end`` and, of those at ``end``, signed up in (start, end].

    Active at t: signed up on or before t and not churned by t (no churn date = still a customer).
    New customers are counted among the customers at the end, as the retention formula subtracts
    them from that count: one who signed up and left within the period is in neither.
    """
    def active(t: pd.Timestamp) -> pd.Series:
        return (signup <= t) & ~(churn_date <= t)

    at_end = active(end)
    return int(active(start).sum()), int(at_end.sum()), int((at_end & (signup > start)).sum())


def _retention(signup: pd.Series, churn_date: pd.Series, start: pd.Timestamp, end: pd.Timestamp, *, churn: bool) -> Estimate:
    """Retention (or its complement, churn) over (start, end]."""
    kept = retention_rate(*period_counts(pd.to_datetime(signup), pd.to_datetime(churn_date), start, end))
    if not churn:
        return kept
    return Estimate(100.0 - kept.value, 100.0 - kept.ci_high, 100.0 - kept.ci_low, kept.n, "%")


@dataclass(frozen=True)
class _Period:
    """The (start, end] a retention KPI covers."""

    start: pd.Timestamp
    end: pd.Timestamp


_Compute = Callable[[list[pd.Series], _Period], Estimate]
_CATALOGUE: dict[str, tuple[tuple[str, ...], str, _Compute]] = {
    "churn_rate": ((Col.CHURNED,), "churned customers / customers x 100", lambda c, p: churn_rate(c[0])),
    "nps": ((Col.NPS,), "% promoters (9-10) - % detractors (0-6)", lambda c, p: nps(c[0])),
    "mean_clv": ((Col.CLV,), "mean customer lifetime value", lambda c, p: mean_estimate(_nonnegative(Col.CLV, c[0]))),
    "retention_rate": ((Col.SIGNUP_DATE, Col.CHURN_DATE),
                       "(customers at end - new customers) / customers at start x 100, over the period",
                       lambda c, p: _retention(c[0], c[1], p.start, p.end, churn=False)),
    "period_churn_rate": ((Col.SIGNUP_DATE, Col.CHURN_DATE), "100 - retention rate, over the period",
                          lambda c, p: _retention(c[0], c[1], p.start, p.end, churn=True)),
    "average_order_value": ((Col.ORDERS, Col.TOTAL_REVENUE), "revenue / number of orders", lambda c, p: _aov(c[0], c[1])),
    "purchase_frequency": ((Col.ORDERS,), "orders / customers",
                           lambda c, p: mean_estimate(_nonnegative(Col.ORDERS, c[0]))),
    "repeat_purchase_rate": ((Col.ORDERS,), "customers with more than one order / customers x 100",
                             lambda c, p: repeat_purchase_rate(int((_nonnegative(Col.ORDERS, c[0]) > 1).sum()), len(c[0]))),
    "conversion_rate": ((Col.CONVERTED,), "converted / customers x 100", lambda c, p: _flags(Col.CONVERTED, c[0])),
    "csat": ((Col.CSAT,), f"answers {SATISFIED}-5 on a 1-5 scale / all answers x 100", lambda c, p: _csat(c[0])),
    "cac": ((Col.ACQUISITION_SPEND,), "sales and marketing spend / new customers",
            lambda c, p: mean_estimate(_nonnegative(Col.ACQUISITION_SPEND, c[0]))),
    "engagement": ((Col.SESSIONS,), "mean sessions (or minutes) per customer",
                   lambda c, p: mean_estimate(_nonnegative(Col.SESSIONS, c[0]))),
    "upsell_rate": ((Col.UPSELL,), "customers who upgraded / customers x 100", lambda c, p: _flags(Col.UPSELL, c[0])),
    "cross_sell_rate": ((Col.CROSS_SELL,), "customers who bought another product / customers x 100",
                        lambda c, p: _flags(Col.CROSS_SELL, c[0])),
}
KPIS = tuple(_CATALOGUE)
"""Every KPI of the catalogue, in the order it is shown."""
_PERIOD_KPIS = ("retention_rate", "period_churn_rate")  # over a date period, not over a group of customers


def _names(columns: Mapping[str, str] | None) -> dict[str, str]:
    return {k: (columns or {}).get(k, k) for k in KPI_INPUTS}


def _needs(customers: pd.DataFrame, names: dict[str, str], inputs: tuple[str, ...]) -> list[str]:
    return [names[i] for i in inputs if names[i] not in customers or customers[names[i]].isna().all()]


def _compute(customers: pd.DataFrame, names: dict[str, str], kpi_name: str, period: _Period) -> Estimate:
    """One KPI over the customers with all its inputs known (its columns must be present)."""
    inputs, _, compute = _CATALOGUE[kpi_name]
    frame = customers[[names[i] for i in inputs]]
    # a missing churn date means "still a customer", not "unknown"
    frame = frame.dropna(subset=frame.columns[:1]) if Col.CHURN_DATE in inputs else frame.dropna()
    return compute([frame[c] for c in frame.columns], period)


def _last_period(customers: pd.DataFrame, names: dict[str, str], months: int) -> _Period:
    """The ``months`` ending at the latest signup or churn date (NaT bounds when the table has no dates)."""
    found = [names[c] for c in (Col.SIGNUP_DATE, Col.CHURN_DATE) if names[c] in customers]
    end = pd.to_datetime(customers[found].stack()).max() if found else pd.NaT
    return _Period(end - pd.DateOffset(months=months), end)


def catalogue(customers: pd.DataFrame, *, columns: dict[str, str] | None = None, months: int = 12) -> dict[str, Any]:
    """Every KPI of DESIGN.md the customer table supports, and what the others need.

    Each KPI's inputs are the :data:`KPI_INPUTS` columns (``columns`` maps an
    input to another column name). A KPI is computed over the customers with
    all its inputs known; rates and means carry their interval, AOV (a ratio of
    sums) does not. Retention and period churn are over the ``months`` ending at
    the latest signup or churn date.

    Returns
    -------
    dict
        KPI name -> ``{"formula", **Estimate.to_dict()}``, or ``{"formula",
        "needs": [missing input, ...]}`` when its columns are absent or empty.
    """
    names = _names(columns)
    period = _last_period(customers, names, months)
    out: dict[str, Any] = {}
    for kpi_name, (inputs, formula, _) in _CATALOGUE.items():
        needs = _needs(customers, names, inputs)
        out[kpi_name] = ({"formula": formula, "needs": needs} if needs
                         else {"formula": formula, **_compute(customers, names, kpi_name, period).to_dict()})
    return out


# ---------------------------------------------------------------- KPI tables

TABLE_COLUMNS = (Col.KPI, Col.ESTIMATE, Col.CI_LOW, Col.CI_HIGH, Col.N, Col.UNIT)
"""The columns every KPI table ends with, after its grouping columns."""


def _group_rows(group: pd.DataFrame, names: dict[str, str], period: _Period, kpis: tuple[str, ...]) -> list[dict[str, Any]]:
    """One row per KPI the group supports; a KPI the group cannot give (no orders, nobody at the
    period's start, an empty group) has no row, where the whole table would have said why."""
    rows = []
    for kpi_name in kpis:
        if _needs(group, names, _CATALOGUE[kpi_name][0]):
            continue
        try:
            est = _compute(group, names, kpi_name, period)
        except (InsufficientDataError, InvalidValueError):
            continue
        rows.append({Col.KPI: kpi_name, Col.ESTIMATE: est.value, Col.CI_LOW: est.ci_low, Col.CI_HIGH: est.ci_high,
                     Col.N: est.n, Col.UNIT: est.unit})
    return rows


def _tidy(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*keys, *TABLE_COLUMNS])
    return frame.astype({Col.ESTIMATE: float, Col.CI_LOW: float, Col.CI_HIGH: float, Col.N: "int64"})


def kpis_by_segment(customers: pd.DataFrame, segments: Mapping[str, pd.Series], *,
                    columns: dict[str, str] | None = None, months: int = 12) -> pd.DataFrame:
    """Every KPI per value of each segment column, so segments can be compared KPI by KPI.

    Parameters
    ----------
    customers : DataFrame
        The customer table (ingested: :data:`KPI_INPUTS` names).
    segments : dict of str -> Series
        Segment column name -> its values, aligned with ``customers``
        (:func:`insight.segments.segment_columns`).
    columns, months
        As for :func:`catalogue`; retention is over the whole table's last ``months``
        for every segment, so segments are compared over the same period.

    Returns
    -------
    DataFrame
        segment_column, segment_value, kpi, estimate, ci_low, ci_high, n, unit.

    Examples
    --------
    >>> table = pd.DataFrame({"churned": [1, 0, 0, 0], "plan": ["a", "a", "b", "b"]})
    >>> kpis_by_segment(table, {"plan": table["plan"]})[["segment_value", "kpi", "estimate"]].values.tolist()
    [['a', 'churn_rate', 50.0], ['b', 'churn_rate', 0.0]]
    """
    names = _names(columns)
    period = _last_period(customers, names, months)
    rows = []
    for column, values in segments.items():
        for value, group in customers.groupby(values.to_numpy(), sort=True, dropna=True):
            rows += [{Col.SEGMENT_COLUMN: column, Col.SEGMENT_VALUE: str(value), **row}
                     for row in _group_rows(group, names, period, KPIS)]
    return _tidy(rows, (Col.SEGMENT_COLUMN, Col.SEGMENT_VALUE))


def kpis_by_month(customers: pd.DataFrame, *, columns: dict[str, str] | None = None) -> pd.DataFrame:
    """KPIs per calendar month: retention and period churn of the month, the others of its signup cohort.

    Retention of month M is DESIGN.md's ``(customers at end - new customers) /
    customers at start x 100`` with the start at the end of the month before and
    the end at the end of M; months with nobody at the start have no row. Every
    other KPI is computed over the customers who signed up in M.

    Returns
    -------
    DataFrame
        month ("YYYY-MM"), basis ("calendar month" or "signup cohort"), kpi,
        estimate, ci_low, ci_high, n, unit. Empty without a signup date column.
    """
    names = _names(columns)
    keys = (Col.MONTH, "basis")
    if names[Col.SIGNUP_DATE] not in customers or customers[names[Col.SIGNUP_DATE]].isna().all():
        return _tidy([], keys)
    signup = pd.to_datetime(customers[names[Col.SIGNUP_DATE]])
    last = _last_period(customers, names, 0).end
    rows = []
    for month in pd.period_range(signup.min(), last, freq="M"):
        period = _Period(month.start_time - pd.Timedelta(1, "ns"), month.end_time)
        rows += [{Col.MONTH: str(month), "basis": "calendar month", **row}
                 for row in _group_rows(customers, names, period, _PERIOD_KPIS)]
        cohort = customers[signup.dt.to_period("M") == month]
        rows += [{Col.MONTH: str(month), "basis": "signup cohort", **row}
                 for row in _group_rows(cohort, names, period, tuple(k for k in KPIS if k not in _PERIOD_KPIS))]
    return _tidy(rows, keys)


def kpis_by_theme(customers: pd.DataFrame, mentions: pd.DataFrame, *, columns: dict[str, str] | None = None,
                  months: int = 12) -> pd.DataFrame:
    """Every KPI over the customers who mention each theme ("customers who mention billing errors: AOV ...").

    Parameters
    ----------
    customers : DataFrame
    mentions : DataFrame
        Same index as ``customers``, one count column per theme
        (:attr:`insight.join.JoinResult.mentions`).

    Returns
    -------
    DataFrame
        theme, kpi, estimate, ci_low, ci_high, n, unit (themes in ``mentions`` order).
    """
    names = _names(columns)
    period = _last_period(customers, names, months)
    rows = []
    for theme in mentions.columns:
        group = customers[mentions[theme].reindex(customers.index).fillna(0).to_numpy() > 0]
        rows += [{Col.THEME: str(theme), **row} for row in _group_rows(group, names, period, KPIS)]
    return _tidy(rows, (Col.THEME,))


def kpi_tables(join: JoinResult, *, config: SegmentConfig = SegmentConfig()) -> dict[str, pd.DataFrame]:
    """The three KPI tables of a run, keyed by their RunResult field names.

    Parameters
    ----------
    join : insight.join.JoinResult
        Its customers (with the KPI inputs) and theme mentions.
    config : SegmentConfig
        Which segment columns (:func:`insight.segments.segment_columns`).

    Raises
    ------
    MissingColumnError
        A configured segment column is not in the customer table.
    """
    customers = join.customers
    return {
        "kpis_by_segment": kpis_by_segment(customers, segment_columns(customers, config)),
        "kpis_by_month": kpis_by_month(customers),
        "kpis_by_theme": kpis_by_theme(customers, join.mentions),
    }
