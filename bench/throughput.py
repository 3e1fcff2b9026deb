"""Throughput of the whole NLP stage (text, embed, sentiment, themes) next to a bare MiniLM encode, in one run.

``python -m bench.throughput [--sentences N] [--source generated|clothing] [--repeats R] [--threads T]``

Measures, on the same sentences and in the same process:

1. bare ``SentenceTransformer.encode`` of the sentences (the ceiling);
2. the whole stage: :func:`insight.text.split_sentences` on the comments,
   :func:`insight.embed.embed_texts` with an empty cache, :func:`insight.sentiment.score_sentences`
   and theme discovery (:func:`insight.themes.assign_themes`), as a run without a codeframe
   does them, both caches (embeddings, cluster labels) starting empty (target: >= 0.8x bare);
3. the same stage re-run on the now-filled caches (target: >= 10x faster).

Bare encode and the stage alternate ``repeats`` times and the fastest run of each
is reported, in wall-clock and in process CPU seconds (steadier when other jobs
share the cores), so a load change on a shared machine favours neither side.
The sentences come from the project's generated corpus (``corpora.generate``,
templated, so it repeats sentences and the stage's de-duplication helps) or from
the public women's clothing reviews in ../shared/datasets (real text, few
repeats). The cache lives in a temporary folder. The machine may be shared, so
figures are rough; run it twice before believing a small difference.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from bench import DATASETS
from insight.config import EmbedConfig, ThemeConfig
from insight.backends import load_minilm
from insight.embed import embed_texts
from insight.schemas import Col
from insight.sentiment import score_sentences
from insight.text import split_sentences
from insight.themes import assign_themes

CLOTHING = DATASETS / "womens_clothing_reviews" / "reviews.csv"
SOURCES = ("generated", "clothing")


def _generated_comments() -> pd.DataFrame:
    from corpora.generate import generate_corpus

    feedback = generate_corpus(n_customers=5000, seed=0).feedback
    return pd.DataFrame(
        {Col.COMMENT_ID: feedback[Col.COMMENT_ID], Col.ROW_ID: range(len(feedback)), Col.TEXT: feedback[Col.TEXT]}
    )


def _clothing_comments() -> pd.DataFrame | None:
    if not CLOTHING.is_file():
        return None
    texts = pd.read_csv(CLOTHING, usecols=["Review Text"])["Review Text"].dropna().tolist()
    return pd.DataFrame({Col.COMMENT_ID: [f"r{i}" for i in range(len(texts))], Col.ROW_ID: range(len(texts)), Col.TEXT: texts})


def _comments_for(comments: pd.DataFrame, n_sentences: int) -> pd.DataFrame:
    """The first comments whose sentences add up to about ``n_sentences``."""
    per_comment = split_sentences(comments.head(n_sentences)).sentences.groupby(Col.COMMENT_ID, sort=False).size()
    n_comments = int((per_comment.cumsum() < n_sentences).sum()) + 1
    return comments.head(n_comments).reset_index(drop=True)


def _runs(seconds: list[float]) -> str:
    return " / ".join(f"{x:.1f}" for x in seconds)


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and process CPU seconds of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def run(
    n_sentences: int = 1500,
    source: str = "generated",
    repeats: int = 2,
    threads: int | None = None,
    report: Callable[[str], None] = print,
) -> dict[str, object]:
    """Measure and print the throughput table; return the figures.

    Parameters
    ----------
    n_sentences : int, default=1500
        About how many sentences to encode.
    repeats : int, default=2
        Runs of bare encode and of the stage (alternating); the fastest counts.
    threads : int, optional
        Torch intra-op threads for both sides (``torch.set_num_threads``); 1 gives
        the steadiest ratio on a busy machine. None keeps torch's default.
    source : {"generated", "clothing"}
        Where the comments come from (see the module docstring).
    report : callable
        Where lines go (``print``).
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    if source == "clothing":
        all_comments = _clothing_comments()
        if all_comments is None:
            report(f"SKIPPED: {CLOTHING} is missing (the public datasets live in ../shared/datasets).")
            return {}
        label = "women's clothing reviews (../shared/datasets)"
    else:
        all_comments = _generated_comments()
        label = "generated corpus (corpora.generate, seed 0)"
    comments = _comments_for(all_comments, n_sentences)

    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    load_s = _timed(load_minilm)[0]
    model = load_minilm()
    model.encode(["warm up the model"] * 8, show_progress_bar=False)
    sentences = split_sentences(comments).sentences[Col.TEXT].tolist()
    n, n_unique = len(sentences), len(set(sentences))
    batch_size = EmbedConfig().batch_size

    def bare() -> None:
        model.encode(sentences, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)

    text_embed_runs: list[float] = []  # wall seconds of the text + embed part of each stage run

    def stage(cache_dir: str) -> None:
        start = time.perf_counter()
        sentences = split_sentences(comments).sentences
        vectors = embed_texts(sentences[Col.TEXT].tolist(), config=EmbedConfig(cache_dir=cache_dir))
        text_embed_runs.append(time.perf_counter() - start)
        score_sentences(sentences, vectors)
        assign_themes(sentences, vectors, config=ThemeConfig(mode="discover"), cache_dir=cache_dir)

    # Bare encode and the stage alternate, each run `repeats` times (the stage with a
    # fresh cache every time, then again on that cache), and the fastest run of each counts: on a shared
    # machine the load changes between runs and the minimum is the least disturbed.
    bare_runs, stage_runs, cached_runs = [], [], []
    for _ in range(repeats):
        bare_runs.append(_timed(bare))
        with tempfile.TemporaryDirectory(prefix="insight-bench-cache-") as cache_dir:
            stage_runs.append(_timed(lambda: stage(cache_dir)))
            cached_runs.append(_timed(lambda: stage(cache_dir))[0])
    split_s = _timed(lambda: split_sentences(comments))[0]
    bare_s, stage_s, cached_s = min(w for w, _ in bare_runs), min(w for w, _ in stage_runs), min(cached_runs)
    bare_cpu, stage_cpu = min(c for _, c in bare_runs), min(c for _, c in stage_runs)
    embed_first, embed_cached = min(text_embed_runs[0::2]), min(text_embed_runs[1::2])  # runs alternate fresh/cached

    figures = {
        "sentences": n,
        "unique_sentences": n_unique,
        "comments": len(comments),
        "model_load_s": load_s,
        "bare_encode_per_s": n / bare_s,
        "bare_runs_s": bare_runs,
        "stage_runs_s": stage_runs,
        "stage_per_s": n / stage_s,
        "stage_vs_bare": bare_s / stage_s,
        "stage_vs_bare_cpu": bare_cpu / stage_cpu,
        "split_s": split_s,
        "stage_s": stage_s,
        "cached_rerun_s": cached_s,
        "cached_speedup": stage_s / cached_s,
        "text_embed_s": embed_first,
        "text_embed_cached_s": embed_cached,
        "text_embed_cached_speedup": embed_first / embed_cached,
    }
    report(f"source: {label}; torch threads: {threads or 'default'}")
    report(f"{len(comments)} comments -> {n} sentences ({n_unique} distinct); model load {load_s:.1f} s (once per process)")
    report(f"{'measure':<40}{'wall s':>9}{'sentences/s':>13}{'ratio':>8}{'CPU s':>9}{'ratio':>8}")

    def row(name: str, wall: float, cpu: float | None = None, ratio: bool = True) -> None:
        cells = f"{name:<40}{wall:>9.2f}{n / wall:>13.0f}" + (f"{bare_s / wall:>8.2f}" if ratio else " " * 8)
        if cpu is not None:
            cells += f"{cpu:>9.2f}{bare_cpu / cpu:>8.2f}"
        report(cells)

    row("bare SentenceTransformer.encode", bare_s, bare_cpu)
    row("NLP stage, empty caches", stage_s, stage_cpu)
    row("  of which: text split", split_s, ratio=False)
    row("NLP stage, cached re-run", cached_s)
    row("  of which: text + embed, empty cache", embed_first)
    row("  of which: text + embed, cached re-run", embed_cached)
    report(
        f"fastest of {repeats} alternating runs; all runs, wall s: bare {_runs([w for w, _ in bare_runs])}, "
        f"stage {_runs([w for w, _ in stage_runs])}"
    )
    report(
        f"stage/bare = {bare_s / stage_s:.2f} wall, {bare_cpu / stage_cpu:.2f} CPU (target >= 0.80); "
        f"cached re-run {stage_s / cached_s:.0f}x faster than the first (target >= 10x); text + embed alone "
        f"{embed_first / embed_cached:.0f}x"
    )
    if n_unique < n:
        report(
            f"note: the stage encodes each distinct sentence once ({n - n_unique} repeats skipped); "
            "bare encode does not de-duplicate."
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1500, help="about how many sentences (default 1500)")
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs of each; the fastest counts")
    parser.add_argument("--source", choices=SOURCES, default="generated")
    parser.add_argument("--threads", type=int, default=None, help="torch threads for both sides (default: torch's)")
    args = parser.parse_args(argv)
    run(n_sentences=args.sentences, source=args.source, repeats=args.repeats, threads=args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
