"""Planted driver effects are recovered (fast version of ``bench/drivers_recovery.py``).

Three seeds of the 5,000-customer generated corpus, with the comment themes
taken from the generator's truth so only the join and driver statistics are
under test. The full >= 20-seed check with the issue's targets is
``python -m bench drivers``; with three seeds the bounds here allow one
unlucky seed where a per-seed probability is involved.
"""
from __future__ import annotations

import pytest

pytest.importorskip("corpora.generate")

from bench.drivers_recovery import recovery, summarise  # noqa: E402

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def scores():
    return recovery(SEEDS)


@pytest.fixture(scope="module")
def figures(scores):
    return summarise(scores)


def test_every_churn_driver_is_found_in_every_seed(scores):
    drivers = scores[(scores.outcome == "churn") & (scores.role == "churn_driver")]
    assert len(drivers) == 4 * len(SEEDS)
    assert drivers.found.all()


@pytest.mark.parametrize("outcome", ["churn", "nps", "clv"])
def test_planted_effects_are_found(figures, outcome):
    # 5,000 customers leave the weakest effect (protective, log-odds -0.5) at ~80% power per
    # seed; the bench shows every effect found in every seed at 10,000 customers.
    assert figures[outcome]["found_share"] >= 0.9


@pytest.mark.parametrize("outcome", ["churn", "nps", "clv"])
def test_few_false_discoveries_among_null_themes(figures, outcome):
    assert figures[outcome]["false_discovery"] <= 0.10


def test_confounded_theme_is_raw_significant_but_not_adjusted(figures):
    assert figures["churn"]["confounded_flagged"] >= 2 / 3


@pytest.mark.parametrize("outcome", ["churn", "nps", "clv"])
def test_planted_values_inside_reported_intervals(figures, outcome):
    assert figures[outcome]["coverage"] >= 0.85
    assert figures[outcome]["coverage_effects"] >= 0.85


def test_protective_theme_has_negative_adjusted_effect(scores):
    protective = scores[(scores.role == "protective") & (scores.outcome == "churn")]
    assert len(protective) == len(SEEDS)
    assert (protective.estimate < 0).all()
