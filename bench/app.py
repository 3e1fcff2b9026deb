"""The app at scale: load time and each page's render time on a run inflated to N comments.

``python -m bench.app [--comments 1000000] [--run RUN_DIR]`` (``python -m bench app`` uses the
defaults; it is not in the default set: building a million-comment run takes minutes).

The base run is ``RUN_DIR`` or, without it, the demo corpus (``corpora.generate --size demo
--seed 0``) analysed with the default settings. It is tiled to about ``--comments`` comments
with :func:`scripts.inflate_run.inflate`, saved with :func:`insight.store.save_run` and loaded
back (the load time is what the app waits for when it opens a saved run). Every result page
is then rendered in Streamlit's AppTest twice, in the order a reader clicks through them:
the first visit includes the per-run precomputation the pages cache, the second is what
every later visit costs. Target: every page under 5 s on the first visit. Figures are
wall-clock on a possibly shared machine: run it twice before believing a small difference.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGES = ("Overview", "Themes", "Drivers", "Segments", "Trends", "Export")
TARGET_SECONDS = 5.0


def _base_run(work: Path) -> Path:
    """The demo corpus analysed with the default settings (what ``insight analyze`` saves)."""
    from corpora.generate import SIZES, generate_corpus, write_corpus
    from insight.config import InsightConfig
    from insight.pipeline import run_pipeline

    write_corpus(generate_corpus(seed=0, **SIZES["demo"]), work / "demo")
    result = run_pipeline(work / "demo" / "feedback.csv", work / "demo" / "customers.csv", config=InsightConfig(seed=0))
    return result.save(work / "demo" / "out" / "run")


def render_times(result: object, pages: tuple[str, ...] = PAGES, timeout: float = 600) -> dict[str, list[float]]:
    """Seconds each page takes to render ``result`` in AppTest, per visit (two passes over ``pages``)."""
    from streamlit.testing.v1 import AppTest

    from insight import ui

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout)
    at.session_state[ui.STATE_DEMO_TRIED] = True
    at.session_state[ui.STATE_RESULT] = result
    at.session_state[ui.STATE_SOURCE] = "the benchmark run"
    times: dict[str, list[float]] = {"Start": []}
    started = time.perf_counter()
    at.run()
    times["Start"].append(time.perf_counter() - started)
    for _ in range(2):
        for page in pages:
            started = time.perf_counter()
            at.radio(key=ui.NAV_KEY).set_value(page).run()
            times.setdefault(page, []).append(time.perf_counter() - started)
            if at.exception or at.error:
                raise RuntimeError(f"{page}: {[e.value for e in at.exception] or [e.value for e in at.error]}")
    return times


def run(report: Callable[[str], None] = print, n_comments: int = 1_000_000, run_dir: Path | None = None) -> None:
    """Build the inflated run, then report its save and load time and every page's render times."""
    from insight.store import load_run, save_run
    from scripts.inflate_run import inflate

    with tempfile.TemporaryDirectory(prefix="insight-bench-app-") as tmp:
        work = Path(tmp)
        base = run_dir or _base_run(work)
        started = time.perf_counter()
        big = inflate(load_run(base), n_comments)
        save_run(big, work / "big")
        report(f"run: {len(big.comments):,} comments, {len(big.sentences):,} sentences, "
               f"{len(big.assignments):,} assignments (built and saved in {time.perf_counter() - started:.0f} s)")
        del big
        started = time.perf_counter()
        result = load_run(work / "big")
        report(f"load_run: {time.perf_counter() - started:.1f} s")
        times = render_times(result)
        report(f"{'page':<10} {'first visit':>12} {'again':>8}")
        for page, (first, *again) in times.items():
            flag = "" if first < TARGET_SECONDS else f"  over {TARGET_SECONDS:.0f} s"
            later = f"{again[0]:>6.1f} s" if again else f"{'—':>8}"
            report(f"{page:<10} {first:>10.1f} s {later}{flag}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.app", description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=1_000_000, help="about how many comments (default 1,000,000)")
    parser.add_argument("--run", type=Path, default=None, help="a saved run to inflate (default: the demo corpus)")
    args = parser.parse_args(argv)
    run(n_comments=args.comments, run_dir=args.run)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
