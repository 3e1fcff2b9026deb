"""Command line: ``insight analyze`` runs the pipeline and writes the output contract.

Errors insight raises on purpose, a bad argument included, print as one ``[Ixxx]``
line and exit with status 2; the traceback of an unexpected error is shown only
with ``--debug``.
"""
from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path
from typing import NoReturn

from insight.errors import InputError, InsightError, UsageError


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing its usage and exiting, so a bad
    argument (``--seed abc``) is one ``[I110]`` line like every other input error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}.", hint=f"See `{self.prog} --help`.")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="insight", description="Feedback insight engine.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="command", required=True)
    analyze = sub.add_parser("analyze", help="analyse a feedback file (and a customer table)")
    analyze.add_argument("--feedback", required=True, type=Path, help="CSV/TSV/XLSX/JSON/JSONL/Parquet of comments")
    analyze.add_argument("--customers", type=Path, help="customer table (id, plan, region, tenure, churned, NPS, CLV)")
    analyze.add_argument("--codeframe", type=Path, help="codeframe YAML; without it themes are discovered")
    analyze.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: ./out)")
    analyze.add_argument("--text-col", help="column holding the comment text")
    analyze.add_argument("--id-col", help="column holding the customer id")
    analyze.add_argument("--date-col", help="column holding the comment date")
    analyze.add_argument("--score-col", help="column holding a rating / NPS / CSAT score")
    analyze.add_argument(
        "--customer-col", action="append", default=[], metavar="ROLE=COLUMN",
        help="customer-table role mapping, repeatable, e.g. customer_id=Account churned=Status; ROLE= maps none. "
             "KPI roles too: orders, revenue, csat, converted, acquisition_spend, sessions, upsell, cross_sell, "
             "signup_date, churn_date (e.g. orders=n_purchases)",
    )
    analyze.add_argument("--outcome", action="append", default=[], metavar="COLUMN",
                         help="a binary or numeric customer column to find drivers of, besides churn, NPS and CLV (repeatable)")
    analyze.add_argument("--segments", metavar="COL,COL", help="customer columns to rank segments by (default: all categorical ones; tenure_band is derived)")
    analyze.add_argument("--seed", type=int, help="seed of every stochastic step (default: the config's, 0)")
    analyze.add_argument("--config", type=Path, help="TOML/JSON config file (InsightConfig)")
    analyze.add_argument("--embedder", help="embedding backend, e.g. minilm-idf.v1 (default), fast (static vectors, "
                         "tens of times faster; chosen by itself above embed.fast_above comments), minilm.v1 or tfidf_lsa.v1")
    analyze.add_argument(
        "--min-confidence", type=float, metavar="P",
        help="confidence a codeframe theme needs, in (0, 1) (default 0.5): higher leaves more sentences unclassified",
    )
    analyze.add_argument(
        "--no-adapt-sentiment",
        action="store_true",
        help="do not adapt the sentiment head to the file's own score column (stars/NPS as weak labels; on by default)",
    )
    analyze.add_argument("--engine", choices=("local", "dask"),
                         help="where the sentence-level work runs: here (default) or as Dask tasks")
    analyze.add_argument("--scheduler", metavar="ADDRESS",
                         help="Dask scheduler address, e.g. tcp://host:8786 (default: a local cluster)")
    analyze.add_argument("--workers", type=int, metavar="N", help="workers of the local Dask cluster (default 2)")
    analyze.add_argument("--device", choices=("auto", "cpu", "cuda"),
                         help="where MiniLM runs: auto (default: the GPU when PyTorch sees one), cpu or cuda")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


class _ProgressBar:
    """One tqdm bar per stage, fed by the pipeline's progress callback.

    tqdm disables itself when stderr is not a terminal, so logs stay clean.
    """

    def __init__(self) -> None:
        self.stage: str | None = None
        self.bar = None

    def __call__(self, stage: str, done: int, total: int, message: str) -> None:
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total or None, desc=f"{stage:<9}", leave=False, file=sys.stderr, disable=None)
        if total and self.bar.total != total:
            self.bar.reset(total=total)
        if total:
            self.bar.n = done
        self.bar.set_postfix_str(message[:60])

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _role_pairs(pairs: list[str]) -> dict[str, str]:
    """``["churned=Status", "region="]`` -> ``{"churned": "Status", "region": ""}``; ingest checks the
    names and reads an empty column as "no column for this role"."""
    roles: dict[str, str] = {}
    for pair in pairs:
        role, sep, column = pair.partition("=")
        if not sep or not role.strip():
            raise UsageError(f"--customer-col takes ROLE=COLUMN, got {pair!r}.", hint="For example --customer-col churned=Status.")
        roles[role.strip()] = column.strip()
    return roles


def _prepare_out(out: Path) -> None:
    """Create the output folder and try a file in it before the analysis, so a bad --out fails in a second, not after the run."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder.", hint="Give a folder path for the output files.")
    probe = out / f".insight-write-test-{uuid.uuid4().hex[:8]}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"Cannot write to the output folder {out}: {exc.strerror or exc}.",
                         hint="Give a folder you can write to.") from None


def _analyze(args: argparse.Namespace) -> int:
    from insight import report
    from insight.api import analyze
    from insight.config import InsightConfig
    from insight.schemas import COVERAGE
    from insight.text import language_summary

    config = InsightConfig.load(args.config) if args.config else InsightConfig()
    if args.seed is not None:
        config = config.replace(seed=args.seed)
    if args.embedder:  # an explicit choice is never replaced by fast mode
        config = config.replace(embed__backend=args.embedder, embed__fast_above=0)
    if args.no_adapt_sentiment:
        config = config.replace(sentiment__adapt_to_scores=False)
    if args.min_confidence is not None:
        config = config.replace(themes__min_confidence=args.min_confidence)
    if args.segments:
        config = config.replace(segments__columns=tuple(c.strip() for c in args.segments.split(",") if c.strip()))
    if args.outcome:
        config = config.replace(drivers__outcomes=tuple(args.outcome))
    if args.scheduler and not args.engine:
        args.engine = "dask"
    for flag, key in ((args.engine, "engine__engine"), (args.scheduler, "engine__scheduler"),
                      (args.workers, "engine__n_workers"), (args.device, "embed__device")):
        if flag is not None:
            config = config.replace(**{key: flag})
    roles = {
        role: col
        for role, col in {
            "text": args.text_col,
            "customer_id": args.id_col,
            "date": args.date_col,
            "score": args.score_col,
        }.items()
        if col
    }
    customer_roles = _role_pairs(args.customer_col)
    _prepare_out(args.out)
    bar = None if args.quiet else _ProgressBar()
    try:  # the codeframe is read first: a bad file fails fast
        result = analyze(
            args.feedback, args.customers, config=config, codeframe=args.codeframe, feedback_roles=roles or None,
            customer_roles=customer_roles or None, progress=bar,
        )
    finally:
        if bar is not None:
            bar.close()
    written = report.write_outputs(result, args.out)
    result.save(args.out / "run")
    acc = result.feedback.accounting()
    non_english = language_summary(result.comments)["non_english"]
    flagged = f" ({non_english} flagged non-English)" if non_english else ""
    redacted = sum((result.kpis.get("redactions") or {}).values())
    flagged += f"; {redacted} personal data items redacted" if redacted else ""
    print(
        f"insight: {acc['rows_in']} rows in, {acc['rows_kept']} kept{flagged}, {acc['rows_dropped']} dropped; "
        f"{len(result.themes)} themes; wrote {len(written)} files to {args.out}"
    )
    coverage = result.kpis.get(COVERAGE)
    if coverage:
        print(f"insight: of {coverage['sentences']} sentences, {coverage['no_topic']} have no topic (thanks, greetings) "
              f"and {coverage['unclassified']} fit no theme ({coverage['unclassified_share']:.0%} of the topical ones)")
    adaptation = result.kpis.get("sentiment_adaptation") or {}
    if "before" in adaptation:
        kept = "adapted to" if adaptation["used"] else "kept (adapting did not help) for"
        print(f"insight: sentiment {kept} the file's {adaptation['scale']} scores: held-out macro-F1 "
              f"{adaptation['before']['macro_f1']:.2f} -> {adaptation['after']['macro_f1']:.2f}")
    for note in result.notes:
        print(f"insight: {note}", file=sys.stderr)
    if result.fast_mode_note:
        print(f"insight: --embedder {InsightConfig().embed.backend} keeps the default embedder at any size",
              file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        return _analyze(_parser().parse_args(argv))
    except InsightError as exc:
        print(f"insight: error: {exc.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("insight: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place that turns a crash into one line
        if debug:
            raise
        from insight.privacy import redact

        print(redact(f"insight: internal error: {type(exc).__name__}: {exc} (re-run with --debug for details)"),
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
