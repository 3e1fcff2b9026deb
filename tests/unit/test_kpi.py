"""KPI formulas: the DESIGN.md worked examples, their intervals, and every refusal."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from insight import kpi
from insight.errors import InsufficientDataError, InvalidValueError
from insight.schemas import Col


def _contains(est: kpi.Estimate) -> bool:
    return est.ci_low <= est.value <= est.ci_high


# ---------------------------------------------------------------- worked examples


def test_nps_worked_example_60_promoters_20_detractors_is_40():
    scores = [9, 10] * 30 + [7, 8] * 10 + [0, 3, 5, 6] * 5  # 60 promoters, 20 passives, 20 detractors
    est = kpi.nps(scores)
    assert est.value == pytest.approx(40.0)
    assert est.n == 100 and est.unit == "points" and _contains(est)
    se = 100 * math.sqrt((0.6 + 0.2 - 0.4**2) / 100)
    assert est.ci_low == pytest.approx(40 - 1.959964 * se, abs=1e-4)
    assert est.ci_high == pytest.approx(40 + 1.959964 * se, abs=1e-4)


def test_nps_breakdown_counts_and_shares():
    out = kpi.nps_breakdown(np.array([10, 9, 8, 7, 6, 0]))
    assert out == {"n": 6, "promoters": 2, "passives": 2, "detractors": 2, "promoters_pct": pytest.approx(100 / 3),
                   "passives_pct": pytest.approx(100 / 3), "detractors_pct": pytest.approx(100 / 3)}


@pytest.mark.parametrize("scores, value", [([10] * 5, 100.0), ([0] * 5, -100.0), ([7, 8], 0.0)])
def test_nps_extremes_stay_within_bounds(scores, value):
    est = kpi.nps(pd.Series(scores))
    assert est.value == value and -100 <= est.ci_low <= est.ci_high <= 100


def test_clv_worked_example_is_1500():
    assert kpi.clv(100, 5, 3) == 1500.0


def test_retention_worked_example_is_90_percent_with_wilson_interval():
    est = kpi.retention_rate(customers_start=1000, customers_end=1100, new_customers=200)
    assert est.value == pytest.approx(90.0)
    low, high = proportion_confint(900, 1000, alpha=0.05, method="wilson")
    assert (est.ci_low, est.ci_high) == pytest.approx((100 * low, 100 * high))
    assert est.n == 1000 and _contains(est)


@pytest.mark.parametrize(
    "func, args, count, nobs",
    [
        (kpi.churn_rate, (150, 1000), 150, 1000),
        (kpi.csat, (45, 50), 45, 50),
        (kpi.repeat_purchase_rate, (30, 120), 30, 120),
        (kpi.conversion_rate, (0, 400), 0, 400),
        (kpi.conversion_rate, (400, 400), 400, 400),
    ],
)
def test_rates_match_statsmodels_wilson(func, args, count, nobs):
    est = func(*args)
    low, high = proportion_confint(count, nobs, alpha=0.05, method="wilson")
    assert est.value == pytest.approx(100 * count / nobs)
    assert (est.ci_low, est.ci_high) == pytest.approx((100 * low, 100 * high))
    assert est.unit == "%" and _contains(est)


def test_churn_rate_from_flags_equals_churn_rate_from_counts():
    flags = np.array([1, 0, 0, 1, 0, 0, 0, 0, 1, 0], dtype=bool)
    assert kpi.churn_rate(flags) == kpi.churn_rate(3, 10)
    assert kpi.churn_rate(pd.Series([1.0, 0.0])).value == 50.0


def test_money_kpis():
    assert kpi.cac(5000, 100) == 50.0
    assert kpi.average_order_value(2500.0, 50) == 50.0
    assert kpi.cac(0, 10) == 0.0


def test_mean_estimate_matches_the_t_interval():
    values = [100.0, 120.0, 80.0, 95.0, 105.0]
    est = kpi.mean_estimate(values)
    from scipy import stats

    low, high = stats.t.interval(0.95, df=4, loc=np.mean(values), scale=stats.sem(values))
    assert est.value == 100.0 and (est.ci_low, est.ci_high) == pytest.approx((low, high))
    single = kpi.mean_estimate([42.0])
    assert single.value == 42.0 and math.isnan(single.ci_low) and single.to_dict()["ci_low"] is None


def test_estimate_reads_well():
    assert str(kpi.retention_rate(1000, 1100, 200)) == "90.0% (95% CI 88.0 to 91.7, n=1000)"
    assert str(kpi.nps([10] * 6 + [8] * 2 + [3] * 2)).startswith("40.0 points (95% CI")
    with pytest.raises(AttributeError):
        kpi.nps([10]).value = 3  # frozen


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: kpi.nps([5, 11]), "0 to 10"),
        (lambda: kpi.nps([-1, 5]), "0 to 10"),
        (lambda: kpi.nps([7.5]), "whole numbers"),
        (lambda: kpi.nps([9, float("nan")]), "missing"),
        (lambda: kpi.nps(["ten"]), "only numbers"),
        (lambda: kpi.nps("9"), "sequence"),
        (lambda: kpi.nps([[9, 10], [1, 2]]), "one-dimensional"),
        (lambda: kpi.clv(-100, 5, 3), "avg_purchase_value"),
        (lambda: kpi.clv(100, float("nan"), 3), "purchase_frequency"),
        (lambda: kpi.clv(100, 5, float("inf")), "lifespan"),
        (lambda: kpi.clv("100", 5, 3), "avg_purchase_value"),
        (lambda: kpi.retention_rate(0, 10, 0), "customers_start"),
        (lambda: kpi.retention_rate(1000, 1100, 1200), "new_customers"),
        (lambda: kpi.retention_rate(1000, 2500, 200), "customers_start"),
        (lambda: kpi.retention_rate(1000, -5, 0), "customers_end"),
        (lambda: kpi.churn_rate(120, 100), "cannot exceed total"),
        (lambda: kpi.churn_rate(-1, 100), "churned"),
        (lambda: kpi.churn_rate(5, 0), "total"),
        (lambda: kpi.churn_rate(2.5, 10), "whole number"),
        (lambda: kpi.churn_rate(True, 10), "churned"),
        (lambda: kpi.churn_rate(5), "needs total"),
        (lambda: kpi.churn_rate([0, 1, 2]), "0 or 1"),
        (lambda: kpi.churn_rate(["Yes", "No"]), "only numbers"),
        (lambda: kpi.cac(1000, 0), "new_customers"),
        (lambda: kpi.cac(-1000, 10), "spend"),
        (lambda: kpi.average_order_value(100, 0), "orders"),
        (lambda: kpi.average_order_value(float("nan"), 3), "revenue"),
        (lambda: kpi.csat(60, 50), "satisfied"),
        (lambda: kpi.csat(5, 0), "total"),
        (lambda: kpi.repeat_purchase_rate(11, 10), "repeat_customers"),
        (lambda: kpi.conversion_rate(3, -10), "visitors"),
        (lambda: kpi.summarise_customers([1, 2]), "DataFrame"),
        (lambda: kpi.summarise_customers(pd.DataFrame({Col.CLV: [10.0, -5.0]})), "negative"),
        (lambda: kpi.summarise_customers(pd.DataFrame({Col.NPS: [3, 12]})), "0 to 10"),
        (lambda: kpi.summarise_customers(pd.DataFrame({Col.CHURNED: ["Yes", "No"]})), "churned"),
    ],
)
def test_invalid_values_are_refused_with_the_argument_named(call, fragment):
    with pytest.raises(InvalidValueError, match=fragment) as info:
        call()
    assert info.value.code == "I108"


@pytest.mark.parametrize("call", [lambda: kpi.nps([]), lambda: kpi.churn_rate([]), lambda: kpi.mean_estimate([])])
def test_empty_input_is_insufficient_data(call):
    with pytest.raises(InsufficientDataError):
        call()


# ---------------------------------------------------------------- customer table


def test_summarise_customers_uses_what_is_there_and_is_json_serialisable():
    customers = pd.DataFrame({
        Col.CUSTOMER_ID: ["a", "b", "c", "d", "e"],
        Col.CHURNED: pd.array([1, 0, 0, None, 1], dtype="Int64"),
        Col.NPS: [10.0, 9.0, 3.0, np.nan, 7.0],
        Col.CLV: [100.0, 200.0, np.nan, 300.0, 400.0],
    })
    out = kpi.summarise_customers(customers)
    json.dumps(out)  # plain types only
    assert out["n_customers"] == 5
    assert out["churn_rate"]["value"] == pytest.approx(50.0) and out["churn_rate"]["n"] == 4
    assert out["nps"]["value"] == pytest.approx(25.0) and out["nps"]["breakdown"]["promoters"] == 2
    assert out["mean_clv"]["value"] == pytest.approx(250.0) and out["mean_clv"]["n"] == 4
    assert out["mean_clv"]["ci_low"] < 250.0 < out["mean_clv"]["ci_high"]
    assert out["total_clv"] == pytest.approx(1000.0)
    assert all(isinstance(v, (int, float, str)) for v in out["churn_rate"].values())


def test_summarise_customers_without_kpi_columns_gives_none():
    out = kpi.summarise_customers(pd.DataFrame({Col.CUSTOMER_ID: ["a"], Col.NPS: [np.nan]}))
    catalogue = out.pop("catalogue")
    assert out == {"n_customers": 1, "churn_rate": None, "nps": None, "mean_clv": None, "total_clv": None}
    assert catalogue["nps"]["needs"] == [Col.NPS] and catalogue["churn_rate"]["needs"] == [Col.CHURNED]


def test_summarise_customers_accepts_boolean_churn():
    out = kpi.summarise_customers(pd.DataFrame({Col.CHURNED: [True, False, False, False]}))
    assert out["churn_rate"]["value"] == 25.0


# ---------------------------------------------------------------- catalogue


def _estimate(entry: dict) -> kpi.Estimate:
    return kpi.Estimate(**{k: math.nan if entry[k] is None else entry[k] for k in ("value", "ci_low", "ci_high", "n", "unit")})


def test_catalogue_retention_is_the_design_worked_example():
    # 1000 customers at the start, 100 of them churn, 200 sign up: 1100 at the end, retention 90%
    old, new = pd.Timestamp("2023-01-01"), pd.Timestamp("2024-03-01")
    signup = [old] * 1000 + [new] * 200
    churned_on = [pd.Timestamp("2024-06-01")] * 100 + [pd.NaT] * 1100
    out = kpi.catalogue(pd.DataFrame({Col.SIGNUP_DATE: signup, Col.CHURN_DATE: churned_on}))
    assert _estimate(out["retention_rate"]) == kpi.retention_rate(1000, 1100, 200)
    assert out["retention_rate"]["value"] == pytest.approx(90.0)
    assert out["period_churn_rate"]["value"] == pytest.approx(10.0)
    assert out["period_churn_rate"]["ci_low"] == pytest.approx(100 - out["retention_rate"]["ci_high"])


def test_catalogue_computes_each_kpi_from_its_columns_by_hand():
    customers = pd.DataFrame({
        Col.CUSTOMER_ID: list("abcde"),
        "orders": [1, 3, 2, 0, 4], "revenue": [10.0, 60.0, 40.0, 0.0, 90.0],
        "csat": [5, 4, 3, 2, np.nan], "converted": [1, 0, 1, 1, 0], "acquisition_spend": [100.0, 200.0, 300.0, np.nan, np.nan],
        "sessions": [2.0, 4.0, 6.0, 8.0, 10.0], "upsell": [0, 0, 1, 0, 0], "cross_sell": [1, 1, 0, 0, 0],
    })  # fmt: skip
    out = kpi.catalogue(customers)
    json.dumps(out)
    assert out["average_order_value"]["value"] == pytest.approx(200.0 / 10) and out["average_order_value"]["ci_low"] is None
    assert _estimate(out["purchase_frequency"]) == kpi.mean_estimate([1, 3, 2, 0, 4])  # 2 orders per customer
    assert _estimate(out["repeat_purchase_rate"]) == kpi.repeat_purchase_rate(3, 5)  # b, c, e: 60%
    assert _estimate(out["csat"]) == kpi.csat(2, 4)  # 5 and 4 of four answers: 50%
    assert _estimate(out["conversion_rate"]) == kpi.conversion_rate(3, 5)
    assert out["cac"]["value"] == pytest.approx(kpi.cac(600.0, 3)) and out["cac"]["n"] == 3
    assert out["engagement"]["value"] == pytest.approx(6.0)
    assert out["upsell_rate"]["value"] == pytest.approx(20.0) and out["cross_sell_rate"]["value"] == pytest.approx(40.0)
    assert all("formula" in entry for entry in out.values())


def test_catalogue_lists_what_a_missing_kpi_needs_and_takes_other_column_names():
    customers = pd.DataFrame({"n_orders": [1, 2, 2], Col.SIGNUP_DATE: pd.to_datetime(["2024-01-01"] * 3)})
    out = kpi.catalogue(customers, columns={"orders": "n_orders"})
    assert out["average_order_value"] == {"formula": "revenue / number of orders", "needs": ["revenue"]}
    assert out["retention_rate"]["needs"] == [Col.CHURN_DATE]
    assert out["repeat_purchase_rate"]["value"] == pytest.approx(200 / 3)
    assert "value" not in out["csat"] and out["csat"]["needs"] == ["csat"]


def test_catalogue_refuses_values_outside_a_kpi_scale():
    with pytest.raises(InvalidValueError, match="1-5"):
        kpi.catalogue(pd.DataFrame({"csat": [1, 7]}))
    with pytest.raises(InvalidValueError, match="upsell must hold 0/1"):
        kpi.catalogue(pd.DataFrame({"upsell": [0, 2]}))


# ---------------------------------------------------------------- KPI tables


def test_retention_counts_new_customers_among_those_at_the_end():
    # 10 at the start, 2 of them leave; 3 sign up, 1 of whom leaves within the period: 8 + 2 = 10 at the end
    start, end = pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-29")
    signup = pd.Series([pd.Timestamp("2023-06-01")] * 10 + [pd.Timestamp("2024-02-10")] * 3)
    left = pd.Series([pd.Timestamp("2024-02-15")] * 2 + [pd.NaT] * 8 + [pd.Timestamp("2024-02-20")] + [pd.NaT] * 2)
    assert kpi.period_counts(signup, left, start, end) == (10, 10, 2)
    assert kpi.retention_rate(*kpi.period_counts(signup, left, start, end)).value == pytest.approx(80.0)


def test_kpis_by_segment_equal_each_segments_own_kpis():
    customers = pd.DataFrame({
        "plan": ["basic"] * 4 + ["pro"] * 3, "churned": [1, 1, 0, 0, 0, 0, 1],
        "orders": [1, 2, 3, 0, 5, 1, 2], "revenue": [10.0, 30.0, 60.0, 0.0, 200.0, 40.0, 60.0],
    })  # fmt: skip
    table = kpi.kpis_by_segment(customers, {"plan": customers["plan"]}).set_index(["segment_value", "kpi"])
    assert list(table.columns) == ["segment_column", "estimate", "ci_low", "ci_high", "n", "unit"]
    basic = table.loc["basic"]
    assert basic.loc["churn_rate", "estimate"] == pytest.approx(50.0) and basic.loc["churn_rate", "n"] == 4
    assert basic.loc["churn_rate", "ci_low"] == pytest.approx(100 * proportion_confint(2, 4, method="wilson")[0])
    assert basic.loc["average_order_value", "estimate"] == pytest.approx(100.0 / 6)  # revenue 100 over 6 orders
    assert table.loc[("pro", "average_order_value"), "estimate"] == pytest.approx(300.0 / 8)
    assert table.loc[("pro", "repeat_purchase_rate"), "estimate"] == pytest.approx(200 / 3)  # 5 and 2 orders of 3
    assert "nps" not in table.index.get_level_values("kpi")  # no NPS column: no row, not a made-up one


def test_kpis_by_month_gives_retention_per_calendar_month_and_the_rest_per_signup_cohort():
    # January: 4 sign up. February: 2 of them leave, 2 sign up (one leaves in February). March: nothing happens.
    signup = pd.to_datetime(["2024-01-05"] * 4 + ["2024-02-10", "2024-02-11"])
    left = pd.to_datetime(["2024-02-03", "2024-02-20", None, None, None, "2024-02-25"])
    customers = pd.DataFrame({Col.SIGNUP_DATE: signup, Col.CHURN_DATE: left, "churned": [1, 1, 0, 0, 0, 1],
                              "upsell": [1, 0, 0, 0, 1, 1]})
    table = kpi.kpis_by_month(customers).set_index(["month", "basis", "kpi"])
    calendar = table.xs("calendar month", level="basis")
    assert "2024-01" not in calendar.index.get_level_values("month")  # nobody at the start of January
    feb = calendar.loc[("2024-02", "retention_rate")]
    assert feb["estimate"] == pytest.approx(100 * (3 - 1) / 4) and feb["n"] == 4  # (end 3 - new 1) / start 4
    assert calendar.loc[("2024-02", "period_churn_rate"), "estimate"] == pytest.approx(50.0)
    cohorts = table.xs("signup cohort", level="basis")
    assert cohorts.loc[("2024-01", "churn_rate"), "estimate"] == pytest.approx(50.0)
    assert cohorts.loc[("2024-02", "upsell_rate"), "estimate"] == pytest.approx(100.0)
    assert cohorts.loc[("2024-02", "upsell_rate"), "n"] == 2
    assert kpi.kpis_by_month(customers.drop(columns=[Col.SIGNUP_DATE])).empty


def test_kpis_by_theme_are_the_kpis_of_the_theme_mentioners():
    customers = pd.DataFrame({"orders": [1, 4, 2, 1], "revenue": [20.0, 100.0, 60.0, 10.0]}, index=list("abcd"))
    mentions = pd.DataFrame({"billing errors": [1, 2, 0, 0], "slow app": [0, 0, 0, 0]}, index=list("abcd"))
    table = kpi.kpis_by_theme(customers, mentions).set_index([Col.THEME, "kpi"])
    assert table.loc[("billing errors", "average_order_value"), "estimate"] == pytest.approx(120.0 / 5)
    assert table.loc[("billing errors", "repeat_purchase_rate"), "estimate"] == pytest.approx(50.0)
    assert table.loc[("billing errors", "repeat_purchase_rate"), "n"] == 2
    assert "slow app" not in table.index.get_level_values(Col.THEME)  # nobody mentions it: nothing to report
