"""``python -m bench scale``: real, non-repeating comments at 10k, 100k and 1M — throughput, memory, cost slope.

``python -m bench.scale [--sizes 10000,100000] [--fast-sizes 100000,1000000] [--dask-size 100000] [--encode N]``

Every figure is measured on the scale corpus (:mod:`corpora.scale`: real sentences
from ../shared/datasets around the generator's themed sentences, with its planted
customer effects), whose sentence repeat rate is printed next to the real
datasets' own. The embedding cache is off, so a repeated sentence costs what a
new one would (only exact repeats inside one run are encoded once, as in any run).

1. Encoder rates on the same real sentences: bare ``SentenceTransformer.encode``,
   the default NLP stage (theme and sentiment vectors, sentence sentiment) and the
   fast one (static vectors and their sentiment head).
2. ``insight analyze`` end to end as a user runs it (a subprocess per run, with the
   customer table), in the default mode at ``--sizes`` and the fast mode at
   ``--fast-sizes``: comments/s and peak memory of the whole process tree
   (workers included), sampled every 0.2 s.
3. The cost slope between the sizes of each mode: seconds per 1,000 comments at
   each, and the growth against linear.
4. The Dask engine (a 2-worker local cluster) against the local engine at
   ``--dask-size`` in the fast mode; then a cached re-run of the smallest default run.

It takes about an hour on a 2-core machine. The machine may be shared: figures are rough.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bench import DATASETS

CORPUS_CACHE = Path(os.environ.get("INSIGHT_CACHE_DIR") or Path.home() / ".cache" / "insight") / "bench-scale"
DEFAULT_SIZES = (10_000, 100_000)
FAST_SIZES = (100_000, 1_000_000)
FAST = "fast"
DEFAULT = "minilm-idf.v1"  # named, so the automatic switch to fast mode above embed.fast_above stays off


def corpus(n: int, report: Callable[[str], None]) -> Path:
    """The scale corpus of ``n`` comments (built once, kept under the cache folder)."""
    from corpora.generate import write_corpus
    from corpora.scale import POOL_VERSION, build_scale_corpus

    folder = CORPUS_CACHE / f"comments-{n}-pool{POOL_VERSION}"
    if not (folder / "ground_truth.json").is_file():
        start = time.perf_counter()
        write_corpus(build_scale_corpus(n, seed=0, datasets=DATASETS, cache_dir=CORPUS_CACHE), folder)
        report(f"built the {n:,}-comment scale corpus in {time.perf_counter() - start:.0f} s")
    scale = json.loads((folder / "ground_truth.json").read_text())["scale"]
    rates = scale["repeat_rate"]
    report(f"{n:,} comments: {scale['n_sentences']:,} sentences, {scale['real_sentence_share']:.0%} real; "
           f"sentence repeat rate {rates['all']:.1%} (real part {rates['real']:.1%}, themed part {rates['themed']:.1%}); "
           "real exports: " + ", ".join(f"{s} {r:.1%}" for s, r in scale["datasets_repeat_rate"].items()
                                        if s in ("airbnb", "app_reviews")))
    return folder


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def analyze_run(folder: Path, out: Path, *, backend: str | None, engine: str = "local", use_cache: bool = False,
                cache_dir: Path | None = None, settings: str = "") -> dict[str, float]:
    """``insight analyze`` on a corpus folder: wall seconds, peak RSS of its process tree, stage timings.

    ``settings`` is more TOML for the run's config file (e.g. an ``[engine]`` table).
    """
    config = out / "config.toml"
    out.mkdir(parents=True, exist_ok=True)
    config.write_text(f"[embed]\nuse_cache = {str(use_cache).lower()}\n"
                      f"[ingest]\nmax_bytes = {4 * 1024 ** 3}\n{settings}")
    command = [sys.executable, "-m", "insight.cli", "analyze", "--feedback", str(folder / "feedback.csv"),
               "--customers", str(folder / "customers.csv"), "--out", str(out / "run"), "--config", str(config),
               "--engine", engine, "--quiet"]
    if backend:
        command += ["--embedder", backend]
    env = {**os.environ, "INSIGHT_CACHE_DIR": str(cache_dir or out / "cache")}
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"insight analyze failed ({proc.returncode}): {stderr.strip()[-800:]}")
    summary = json.loads((out / "run" / "summary.json").read_text())
    return {"wall_s": wall, "peak_gib": peak[0] / 1024 ** 3, "timings": summary.get("timings", {}),
            "n_comments": summary.get("n_comments") or summary.get("kpis", {}).get("n_comments"),
            "stdout": stdout.strip().splitlines()}


def nlp_stage(texts: list[str], config) -> None:
    """What the run does to every sentence after the text stage: its vectors and its sentence sentiment."""
    from insight import embed, sentiment

    vectors = embed.embed_texts(texts, config=config.embed)
    head = sentiment.head_for(config.embed.backend, config.sentiment)
    head.predict(texts, sentiment.head_vectors_for(texts, vectors, config.embed, embedder=head.embedder))


def encoder_rates(folder: Path, n: int, report: Callable[[str], None]) -> None:
    """Sentences/s of a bare MiniLM encode and of the NLP stage (vectors + sentence sentiment), default and fast."""
    from insight.backends import load_minilm
    from insight.config import InsightConfig

    texts = pd.read_csv(folder / "truth_sentences.csv", usecols=["text"])["text"].astype(str)
    texts = texts.drop_duplicates().sample(n=min(n, len(texts)), random_state=0).tolist()
    model = load_minilm()
    model.encode(texts[:64], show_progress_bar=False)

    def timed(fn: Callable[[], object]) -> float:
        start = time.perf_counter()
        fn()
        return len(texts) / (time.perf_counter() - start)

    bare = timed(lambda: model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False))
    rows = [("bare SentenceTransformer.encode", bare)]
    for label, backend in (("NLP stage, default (minilm-idf.v1 + sentiment branch)", None), ("NLP stage, fast", FAST)):
        config = InsightConfig().replace(embed__use_cache=False, **({"embed__backend": backend} if backend else {}))
        nlp_stage(texts[:64], config)  # load the models first
        rows.append((label, timed(lambda: nlp_stage(texts, config))))
    report(f"{len(texts):,} distinct real sentences, average {np.mean([len(t) for t in texts]):.0f} characters")
    for label, rate in rows:
        report(f"  {label:<56}{rate:>10,.0f} sentences/s{rate / bare:>7.2f}x bare")


def _row(report: Callable[[str], None], label: str, n: int, figures: dict[str, float]) -> None:
    report(f"  {label:<30}{n:>10,}{figures['wall_s']:>9.0f}{n / figures['wall_s']:>12,.0f}"
           f"{figures['peak_gib']:>9.2f}{1000 * figures['wall_s'] / n:>12.2f}")


def run(report: Callable[[str], None] = print, *, sizes=DEFAULT_SIZES, fast_sizes=FAST_SIZES,
        dask_size: int | None = 100_000, n_encode: int = 4000) -> None:
    if not DATASETS.is_dir():
        report(f"SKIPPED: the public datasets are missing ({DATASETS}); the scale corpus is built from them.")
        return
    folders = {n: corpus(n, report) for n in sorted({*sizes, *fast_sizes, *([dask_size] if dask_size else [])})}
    report("\n-- encoder rates (one process, torch's default threads)")
    encoder_rates(folders[min(folders)], n_encode, report)
    report("\n-- end to end: insight analyze with the customer table, embedding cache off")
    report(f"  {'run':<30}{'comments':>10}{'wall s':>9}{'comments/s':>12}{'peak GiB':>9}{'s / 1k':>12}")
    results: dict[tuple[str, int], dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="insight-bench-scale-") as tmp:
        for mode, backend, mode_sizes in (("fast", FAST, fast_sizes), ("default", DEFAULT, sizes)):
            for n in mode_sizes:
                figures = analyze_run(folders[n], Path(tmp) / f"{mode}-{n}", backend=backend)
                results[(mode, n)] = figures
                _row(report, f"{mode} mode", n, figures)
        if dask_size:
            figures = analyze_run(folders[dask_size], Path(tmp) / "dask", backend=FAST, engine="dask")
            _row(report, "fast mode, Dask 2 workers", dask_size, figures)
            local = results.get(("fast", dask_size)) or analyze_run(folders[dask_size], Path(tmp) / "local",
                                                                     backend=FAST)
            report(f"  Dask / local wall time at {dask_size:,}: {figures['wall_s'] / local['wall_s']:.2f} "
                   "(target <= 1.20)")
        small = min(sizes)
        cache = Path(tmp) / "shared-cache"
        analyze_run(folders[small], Path(tmp) / "fill", backend=DEFAULT, use_cache=True, cache_dir=cache)
        again = analyze_run(folders[small], Path(tmp) / "again", backend=DEFAULT, use_cache=True, cache_dir=cache)
        _row(report, "default mode, cached re-run", small, again)
    report("\n-- cost slope (seconds per 1,000 comments; growth = time ratio / size ratio, <= 1 is linear or better)")
    for mode in ("default", "fast"):
        ns = sorted(n for m, n in results if m == mode)
        for a, b in zip(ns, ns[1:]):
            growth = (results[(mode, b)]["wall_s"] / results[(mode, a)]["wall_s"]) / (b / a)
            report(f"  {mode}: {a:,} -> {b:,} comments: growth {growth:.2f}")
    largest = results.get(("fast", max(fast_sizes)))
    if largest:
        report(f"  fast mode at {max(fast_sizes):,}: {largest['wall_s'] / 60:.1f} min (target < 10), "
               f"peak {largest['peak_gib']:.2f} GiB (target < 6); stages: "
               + ", ".join(f"{k} {v:.0f} s" for k, v in largest["timings"].items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="default-mode sizes")
    parser.add_argument("--fast-sizes", default=",".join(map(str, FAST_SIZES)), help="fast-mode sizes")
    parser.add_argument("--dask-size", type=int, default=100_000, help="Dask vs local size (0: skip)")
    parser.add_argument("--encode", type=int, default=4000, help="sentences for the encoder rates")
    args = parser.parse_args(argv)

    def ints(text: str) -> tuple[int, ...]:
        return tuple(int(x) for x in text.split(",") if x.strip())

    run(print, sizes=ints(args.sizes), fast_sizes=ints(args.fast_sizes), dask_size=args.dask_size or None,
        n_encode=args.encode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
