"""Recovery of planted driver effects, and the speed of the driver stage.

Each seed generates a corpus with planted truth (:mod:`corpora.generate`),
takes the comment themes from the truth (so the NLP stages play no part),
ingests the customer table, joins and runs :func:`insight.drivers.analyze_drivers`.
It then checks, for the "mentioned" exposure and each outcome:

* found: a theme with a planted effect has adjusted q <= 0.05 and the right sign;
* false discovery: a theme with no planted effect (the confounded theme aside)
  has adjusted q <= 0.05;
* confounded: "price increase" is significant unadjusted (q <= 0.05) and not adjusted;
* coverage: the planted value lies in the reported 95% interval (churn: the
  log-odds in the log of the adjusted odds-ratio interval; NPS and CLV: the
  coefficient interval).

``python -m bench.drivers_recovery [--seeds 20]`` prints the figures and the
timing of join + drivers + segments on the large corpus (>= 100k comments x
20k customers). ``tests/stats/test_recovery.py`` runs a few seeds of the same
code.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from insight.schemas import Col

TARGETS = {"found": 0.95, "false_discovery": 0.05, "confounded": 0.90, "coverage": 0.90}
_EFFECT_KEY = {"churn": "churn_log_odds", "nps": "nps_effect", "clv": "clv_effect"}


def truth_comment_themes(sentences: pd.DataFrame) -> pd.DataFrame:
    """One row per (comment, theme) from the generator's true sentences; negative if any sentence is."""
    s = sentences[sentences[Col.THEME].fillna("").astype(str) != ""]
    return (
        s.assign(negative=s["sentiment"].eq("negative"))
        .groupby([Col.COMMENT_ID, Col.THEME], as_index=False, sort=False)["negative"]
        .any()
    )


def analyse_corpus(corpus, *, random_state: int = 0):
    """Ingest, join and analyse one generated corpus; returns (join, drivers)."""
    from insight.drivers import analyze_drivers
    from insight.ingest import ingest_customers
    from insight.join import join_customers

    customers = ingest_customers(corpus.customers).data
    join = join_customers(corpus.feedback, truth_comment_themes(corpus.sentences), customers)
    return join, analyze_drivers(join, random_state=random_state)


def score_seed(drivers, truth: dict, alpha: float = 0.05) -> pd.DataFrame:
    """One row per (theme, outcome): planted effect, role and what the analysis reported."""
    table = drivers.to_frame("mentioned").set_index([Col.THEME, Col.OUTCOME])
    rows = []
    for spec in truth["themes"]:
        for outcome, key in _EFFECT_KEY.items():
            if (spec["name"], outcome) not in table.index:
                continue
            row = table.loc[(spec["name"], outcome)]
            planted = float(spec[key])
            if outcome == "churn":
                low, high = math.log(row["adjusted_odds_ratio_ci_low"]), math.log(row["adjusted_odds_ratio_ci_high"])
            else:
                low, high = row["adjusted_ci_low"], row["adjusted_ci_high"]
            significant = bool(row[Col.ADJUSTED_Q_VALUE] <= alpha)
            rows.append({
                "theme": spec["name"], "outcome": outcome, "role": spec["role"], "planted": planted,
                "confounded": spec["confounder"] is not None,
                "found": significant and np.sign(row[Col.ADJUSTED_EFFECT]) == np.sign(planted),
                "significant": significant,
                "unadjusted_significant": bool(row[Col.Q_VALUE] <= alpha),
                "covered": bool(low <= planted <= high),
                "estimate": row[Col.ADJUSTED_EFFECT],
                "adjusted_p": row[Col.ADJUSTED_P_VALUE],
            })  # fmt: skip
    return pd.DataFrame(rows)


def summarise(scores: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Recovery figures per outcome from the stacked per-seed scores (column ``seed``)."""
    out = {}
    for outcome, s in scores.groupby("outcome", sort=False):
        effect = s[(s["planted"] != 0) & ~s["confounded"]]
        null = s[(s["planted"] == 0) & ~s["confounded"]]
        conf = s[s["confounded"]]
        out[outcome] = {
            "found_all_share": float(effect.groupby("seed")["found"].all().mean()),
            "found_share": float(effect["found"].mean()),
            "false_discovery": float(null.groupby("seed")["significant"].mean().mean()),
            "confounded_flagged": float((conf["unadjusted_significant"] & ~conf["significant"]).groupby(conf["seed"]).all().mean()),
            "coverage": float(s["covered"].mean()),
            "coverage_effects": float(effect["covered"].mean()),
            "n_seeds": int(s["seed"].nunique()),
        }  # fmt: skip
    return out


def recovery(seeds, *, n_customers: int = 5000) -> pd.DataFrame:
    """Stacked :func:`score_seed` rows over ``seeds``."""
    from corpora.generate import generate_corpus

    frames = []
    for seed in seeds:
        corpus = generate_corpus(n_customers=n_customers, seed=seed)
        _, drivers = analyse_corpus(corpus, random_state=seed)
        frames.append(score_seed(drivers, corpus.truth).assign(seed=seed))
    return pd.concat(frames, ignore_index=True)


def _format(figures: dict[str, dict[str, float]]) -> list[str]:
    lines = []
    for outcome, f in figures.items():
        lines.append(
            f"{outcome:>5}: seeds with every planted effect found {f['found_all_share']:.0%} "
            f"(per effect {f['found_share']:.1%}; target >= {TARGETS['found']:.0%}) | "
            f"false discoveries among nulls {f['false_discovery']:.1%} (<= {TARGETS['false_discovery']:.0%}) | "
            f"confounded flagged raw-not-adjusted {f['confounded_flagged']:.0%} (>= {TARGETS['confounded']:.0%}) | "
            f"95% CI coverage {f['coverage']:.1%} (effects only {f['coverage_effects']:.1%}; >= {TARGETS['coverage']:.0%})"
        )
    return lines


def timing(report: Callable[[str], None] = print) -> dict[str, float]:
    """Seconds for join, drivers and segments on the large corpus (>= 100k comments x 20k customers)."""
    from corpora.generate import SIZES, generate_corpus
    from insight.drivers import analyze_drivers
    from insight.ingest import ingest_customers
    from insight.join import join_customers
    from insight.segments import segment_table

    corpus = generate_corpus(seed=0, **SIZES["large"])
    customers = ingest_customers(corpus.customers).data
    themes = truth_comment_themes(corpus.sentences)
    analyze_drivers(join_customers(corpus.feedback.head(2000), themes, customers))  # warm the imports
    t0 = time.perf_counter()
    join = join_customers(corpus.feedback, themes, customers)
    t1 = time.perf_counter()
    drivers = analyze_drivers(join)
    t2 = time.perf_counter()
    segment_table(join, drivers)
    t3 = time.perf_counter()
    seconds = {"join": t1 - t0, "drivers": t2 - t1, "segments": t3 - t2}
    report(
        f"driver stage on {len(corpus.feedback):,} comments x {len(customers):,} customers, "
        f"{len(join.themes)} themes: join {seconds['join']:.2f} s, drivers {seconds['drivers']:.2f} s, "
        f"segments {seconds['segments']:.2f} s (total {sum(seconds.values()):.2f} s)"
    )
    return seconds


def run(
    n_seeds: int = 20,
    report: Callable[[str], None] = print,
    *,
    sizes: tuple[int, ...] = (5000, 10000),
    time_it: bool = True,
) -> dict[int, dict[str, dict[str, float]]]:
    """Recovery over ``n_seeds`` seeds at each corpus size, then the timing on the large corpus.

    Two sizes because power is the limit at the generator's default 5,000
    customers: the weakest planted churn effect (protective, log-odds -0.5,
    ~400 mentioners) reaches q <= 0.05 in only ~80% of seeds there.
    """
    figures = {n: _recovery_report(n_seeds, n, report) for n in sizes}
    if time_it:
        timing(report)
    return figures


def _recovery_report(n_seeds: int, n_customers: int, report: Callable[[str], None]) -> dict[str, dict[str, float]]:
    start = time.perf_counter()
    scores = recovery(range(n_seeds), n_customers=n_customers)
    figures = summarise(scores)
    report(f"recovery over {n_seeds} seeds x {n_customers:,} customers ({time.perf_counter() - start:.0f} s):")
    for line in _format(figures):
        report(line)
    report("per planted effect (theme-seeds): found / significant / covered / median adjusted p / worst adjusted p")
    planted = scores[scores["planted"] != 0].groupby(["outcome", "theme"], sort=False)
    for (outcome, theme), r in planted:
        report(
            f"  {outcome:>5} {theme:<24} {r['planted'].iloc[0]:+8.2f}: {r['found'].mean():4.0%} / "
            f"{r['significant'].mean():4.0%} / {r['covered'].mean():4.0%} / "
            f"{r['adjusted_p'].median():.1e} / {r['adjusted_p'].max():.1e}"
        )
    nulls = scores[scores["planted"] == 0].groupby(["outcome", "role"])[["significant", "covered"]].mean()
    report("zero planted effect (theme-seeds): significant / covered")
    for (outcome, role), r in nulls.iterrows():
        report(f"  {outcome:>5} {role:<13} {r['significant']:4.0%} / {r['covered']:4.0%}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drivers_recovery", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--customers", type=int, nargs="+", default=[5000, 10000], help="corpus sizes")
    parser.add_argument("--no-timing", action="store_true", help="skip the large-corpus timing")
    args = parser.parse_args(argv)
    run(args.seeds, sizes=tuple(args.customers), time_it=not args.no_timing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
