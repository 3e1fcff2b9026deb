"""Run the stages in order, reporting progress.

``run_pipeline`` is the one place that knows the order of the stages. Each stage
is a plain function over DataFrames; the pipeline only threads their outputs
and calls ``progress(stage, done, total, message)`` so the CLI can draw a bar and
the app a progress widget.
"""
from __future__ import annotations

import dataclasses
import shutil
import time
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from insight import (
    drivers, embed, engine, ingest, join, kpi, segments, sentiment, static, store, text, theme_stats, themes, trends,
)
from insight.codeframe import Codeframe
from insight.config import InsightConfig
from insight.errors import (
    FallbackWarning,
    InsufficientDataError,
    InvalidValueError,
    MissingColumnError,
    MissingDependencyError,
    SmallSampleWarning,
)
from insight.privacy import redact_codeframe
from insight.schemas import COVERAGE, Col
from insight.summary import RunSummary, summarize
from insight.types import Embedder, Progress, ThemeSource

if TYPE_CHECKING:
    from insight.drivers import DriverResult
    from insight.ingest import IngestResult
    from insight.join import JoinResult
    from insight.sentiment import SentimentModel

STAGES = ("ingest", "text", "embed", "sentiment", "themes", "join", "drivers", "segments", "trends")


def _no_progress(stage: str, done: int, total: int, message: str) -> None:
    return None


@dataclass
class RunResult:
    """Everything one run produced: the frames behind every output file and page.

    Attributes
    ----------
    feedback : IngestResult of the feedback file (kept rows, dropped rows, roles).
    customers : IngestResult of the customer table, or None.
    comments : one row per kept comment: comment_id, row_id, customer_id, text
        (PII-redacted), date, channel, sentiment_score, sentiment_label, themes (list).
    sentences : one row per sentence: sentence_id, comment_id, row_id,
        sentence_idx, text (redacted), sentiment_score, sentiment_label.
    assignments : one row per (sentence, theme): sentence_id, theme_id, theme,
        theme_confidence. Unclassified sentences have no row.
    themes : one row per theme: theme_id, theme, parent, keywords, description,
        representatives, n_sentences, n_comments, share, avg_sentiment.
    theme_model : a :class:`insight.types.ThemeSource`: ThemeModel (discovery),
        CodeframeAssigner (codeframe) or, for a run loaded from the store, its
        Codeframe; ``theme_model.to_codeframe()`` always gives the editable codeframe.
    embeddings : float32 array, one row per sentence (same order as ``sentences``).
    join : JoinResult or None (no customer table).
    drivers : DriverResult or None.
    segments : segments frame (segments.csv contract) or None.
    trends : theme trends frame or None (no dates).
    kpis : dict of headline KPIs with intervals.
    config : the InsightConfig used.
    timings : seconds spent per stage.
    sentiment_model : the SentimentModel that scored the sentences (adapted to the
        file's scores when it was), or None (lexicon fallback, or a loaded run).
    kpis_by_segment, kpis_by_month, kpis_by_theme : the KPI catalogue per segment
        value, per month and per theme (:func:`insight.kpi.kpi_tables`), or None
        (no customer table).
    skipped : customer-side stages left out of the run, each with the reason.
    sentiment_fallback : why sentiment came from the lexicon alone, or None.
    fast_mode_note : why the run switched to fast mode by itself (a large input), or None.

    Examples
    --------
    >>> result = run_pipeline("feedback.csv", "customers.csv")  # doctest: +SKIP
    >>> result.summary()  # doctest: +SKIP
    >>> result.save("runs/2026-12")  # doctest: +SKIP
    """

    feedback: IngestResult
    customers: IngestResult | None
    comments: pd.DataFrame
    sentences: pd.DataFrame
    assignments: pd.DataFrame
    themes: pd.DataFrame
    theme_model: ThemeSource
    embeddings: np.ndarray
    join: JoinResult | None
    drivers: DriverResult | None
    segments: pd.DataFrame | None
    trends: pd.DataFrame | None
    kpis: dict[str, Any]
    config: InsightConfig
    timings: dict[str, float] = field(default_factory=dict)
    sentiment_model: SentimentModel | None = None
    kpis_by_segment: pd.DataFrame | None = None
    kpis_by_month: pd.DataFrame | None = None
    kpis_by_theme: pd.DataFrame | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    sentiment_fallback: str | None = None
    fast_mode_note: str | None = None

    @property
    def notes(self) -> list[str]:
        """What limits the figures: a switch to fast mode, each skipped stage and why, and a sentiment fallback."""
        notes = [] if self.fast_mode_note is None else [self.fast_mode_note]
        notes += [f"{stage} skipped: {reason}" for stage, reason in self.skipped.items()]
        if self.sentiment_fallback is not None:
            notes.append(self.sentiment_fallback)
        return notes

    def warn(self) -> "RunResult":
        """Raise each note as a warning: :class:`~insight.errors.FallbackWarning` for a simpler method,
        :class:`~insight.errors.SmallSampleWarning` for skipped stages and themes with too few customers.

        :func:`insight.analyze` calls it, so a script or notebook hears what limits the
        figures; the CLI and the app show :attr:`notes` instead.
        """
        for note in (self.fast_mode_note, self.sentiment_fallback):
            if note:
                warnings.warn(note, FallbackWarning, stacklevel=2)
        for stage, reason in self.skipped.items():
            warnings.warn(f"{stage} skipped: {reason}", SmallSampleWarning, stacklevel=2)
        if self.drivers is not None:
            flags = self.drivers.to_frame()[drivers.FLAGS].astype(str)
            n_small = int(flags.str.contains(drivers.INSUFFICIENT, regex=False).sum())
            if n_small:
                warnings.warn(f"{n_small} theme-outcome effects rest on too few customers and are not ranked "
                              f"(flagged {drivers.INSUFFICIENT}).", SmallSampleWarning, stacklevel=2)
        return self

    def summary(self, top: int = 10) -> RunSummary:
        """Headline figures, the ``top`` largest themes and numbered notes (text, and HTML in a notebook)."""
        return summarize(self, top)

    def save(self, folder: str | Path) -> Path:
        """Save the run to ``folder`` (:func:`insight.store.save_run`); :func:`insight.load_run` reads it back."""
        return store.save_run(self, folder)


class _StageClock:
    """Times each stage and forwards progress, so stages stay unaware of both."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress or _no_progress
        self.timings: dict[str, float] = {}

    def run(self, stage: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.progress(stage, 0, 0, f"{stage}…")
        start = time.perf_counter()
        out = func(*args, **kwargs)
        self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start
        self.progress(stage, 1, 1, f"{stage} done")
        return out

    def stage_progress(self, stage: str) -> Callable[..., None]:
        """A progress callback for a stage that reports its own counts."""

        def report(_stage: str, done: int, total: int, message: str) -> None:
            self.progress(stage, done, total, message)

        return report


def _ingested(source: Any, kind: str, roles: dict[str, str] | None, config: InsightConfig) -> IngestResult:
    if isinstance(source, ingest.IngestResult):
        return source
    reader = ingest.ingest_feedback if kind == "feedback" else ingest.ingest_customers
    return reader(source, roles=roles, config=config.ingest)


def _themes_onwards(
    clock: _StageClock,
    config: InsightConfig,
    comments: pd.DataFrame,
    sentences: pd.DataFrame,
    vectors: np.ndarray,
    customers: IngestResult | None,
    *,
    embedder: Embedder,
    codeframe: Codeframe | None,
    sentiment_model: SentimentModel | None,
    refit_from: ThemeSource | None = None,
) -> dict[str, Any]:
    """Theme assignment and every stage after it: shared by a full run and a re-assignment.

    ``embedder`` embeds codeframe prototypes (and contrast segments) in the
    sentences' vector space; ``sentiment_model`` scores the segments.
    Returns the RunResult fields these stages produce.
    """

    if codeframe is None and config.themes.codeframe and config.themes.mode != "discover":
        codeframe = Codeframe.from_yaml(config.themes.codeframe)
    if codeframe is not None:  # its theme names become output values and its texts are stored with the run
        codeframe = redact_codeframe(codeframe)
    theme_result = clock.run(
        "themes",
        themes.assign_themes,
        sentences,
        vectors,
        config=config.themes,
        embedder=embedder,
        codeframe=codeframe,
        refit_from=refit_from,
        random_state=config.seed,
        cache_dir=_cache_dir(config),
        progress=clock.stage_progress("themes"),
    )
    assignments = clock.run("sentiment", _with_theme_sentiments, sentences, theme_result.assignments, vectors,
                            config=config, embedder=embedder, sentiment_model=sentiment_model)
    return _theme_outputs(clock, config, comments, sentences, assignments, theme_result, customers)


def _with_theme_sentiments(sentences: pd.DataFrame, assignments: pd.DataFrame, vectors: Any, *,
                           config: InsightConfig, embedder: Any, sentiment_model: Any) -> pd.DataFrame:
    """``assignments`` with each theme's own sentiment (:func:`insight.sentiment.theme_sentiments`)."""
    head_backend = sentiment.EMBEDDER if sentiment_model is None else sentiment_model.embedder
    sentiment_config = dataclasses.replace(config.embed, backend=head_backend)
    return sentiment.theme_sentiments(
        sentences, assignments, vectors,
        embed_topic=lambda texts: embed.embed_texts(texts, config=config.embed, embedder=embedder),
        embed_sentiment=lambda texts: embed.embed_texts(texts, config=sentiment_config),
        model=sentiment_model,
    )


def _theme_outputs(clock: _StageClock, config: InsightConfig, comments: pd.DataFrame, sentences: pd.DataFrame,
                   assignments: pd.DataFrame, theme_result: Any, customers: IngestResult | None) -> dict[str, Any]:
    """Per-comment themes, theme statistics and coverage, then the customer-side stages."""
    ct = theme_stats.comment_themes(sentences, assignments)
    n_assigned = assignments[Col.SENTENCE_ID].nunique()
    n_topical = len(sentences) - theme_result.n_no_topic
    coverage = {"sentences": len(sentences), "no_topic": theme_result.n_no_topic,
                "unclassified": n_topical - n_assigned,
                "unclassified_share": round((n_topical - n_assigned) / n_topical, 4) if n_topical else 0.0}
    comments = theme_stats.comments_with_themes(comments, ct)
    out: dict[str, Any] = {
        "comments": comments,
        "assignments": assignments,
        "themes": theme_stats.theme_stats(theme_result.themes, ct, len(comments)),
        "theme_model": theme_result.model,
        "join": None,
        "drivers": None,
        "segments": None,
        "skipped": {},
    }
    kpis: dict[str, Any] = {COVERAGE: coverage}
    if customers is not None:
        joined = clock.run("join", join.join_customers, comments, ct, customers.data)
        out["join"] = joined
        kpis.update(kpi.summarise_customers(customers.data))
        kpis["match_rate"] = joined.match_rate
        skipped = out["skipped"]
        out["drivers"] = _unless_short(
            clock, skipped, "drivers", drivers.analyze_drivers, joined,
            config=config.drivers, random_state=config.seed, progress=clock.stage_progress("drivers"),
        )
        out["segments"] = _unless_short(
            clock, skipped, "segments", segments.segment_table, joined, out["drivers"], config=config.segments
        )
        out.update(_unless_short(clock, skipped, "kpis", kpi.kpi_tables, joined, config=config.segments) or {})
    out["trends"] = clock.run("trends", trends.theme_trends, comments, ct)
    out["kpis"] = kpis
    return out


def _add_text_kpis(kpis: dict[str, Any], redactions: dict[str, int], sentiment_kpis: dict[str, Any],
                   comments: pd.DataFrame) -> None:
    """Redaction counts, what the sentiment stage reports, and sentiment's agreement with the file's scores."""
    kpis["redactions"] = dict(redactions)
    kpis.update(sentiment_kpis)
    agreement = sentiment.score_agreement(comments, by=Col.CHANNEL)
    if agreement is not None:
        kpis["sentiment_score_agreement"] = agreement


def _cache_dir(config: InsightConfig) -> Any:
    """The run's cache folder (embeddings, cluster labels), or None when caching is off."""
    if not config.embed.use_cache:
        return None
    return config.embed.cache_dir or embed.default_cache_dir()


def _unless_short(clock: _StageClock, skipped: dict[str, str], stage: str, func: Callable[..., Any],
                  *args: Any, **kwargs: Any) -> Any:
    """Run a customer-side stage; if the customer data cannot support it, record why and go on.

    The themes and sentiment already computed are worth keeping when, say, no
    comment matched a customer, the table has no outcome column or a requested
    segment column is not in it.
    """
    try:
        return clock.run(stage, func, *args, **kwargs)
    except (InsufficientDataError, InvalidValueError, MissingColumnError) as exc:
        skipped[stage] = exc.one_line()
        return None


def run_pipeline(
    feedback: Any,
    customers: Any = None,
    *,
    config: InsightConfig | None = None,
    feedback_roles: dict[str, str] | None = None,
    customer_roles: dict[str, str] | None = None,
    codeframe: Any = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run every stage on a feedback file and (optionally) a customer table.

    Parameters
    ----------
    feedback : path, bytes, file-like, DataFrame or an ``IngestResult`` already made.
    customers : the same kinds, or None (no join, drivers or segments).
    config : InsightConfig, default=InsightConfig().
    feedback_roles, customer_roles : column-role overrides, e.g. ``{"text": "Review"}``.
    codeframe : an ``insight.codeframe.Codeframe`` to assign themes with; None
        follows ``config.themes`` (discovery unless a codeframe path is set).
    progress : ``progress(stage, done, total, message)``.

    Returns
    -------
    RunResult

    Raises
    ------
    insight.errors.InputError
        The files cannot be read or mapped; the message says what to change.
    """
    config = config or InsightConfig()
    clock = _StageClock(progress)
    fb = clock.run("ingest", _ingested, feedback, "feedback", feedback_roles, config)
    cust = None if customers is None else clock.run("ingest", _ingested, customers, "customers", customer_roles, config)
    embed_config, fast_note = static.choose_backend(config.embed, len(fb.data))
    config = dataclasses.replace(config, embed=embed_config)
    if _is_partitioned(config, len(fb.data)):
        return _run_partitioned(clock, config, fb, cust, codeframe, fast_note)

    text_result = clock.run(
        "text", text.split_sentences, fb.data, config.text, progress=clock.stage_progress("text")
    )
    # one embedder for sentences and codeframe prototypes: a corpus-fitted backend
    # (TF-IDF/LSA) must put both in the same space
    embedder = embed.embedder_for(config.embed)
    texts = text_result.sentences[Col.ANALYSIS_TEXT].tolist()
    vectors = clock.run(
        "embed", embed.embed_texts, texts, config=config.embed, embedder=embedder, progress=clock.stage_progress("embed")
    )
    scored = clock.run(
        "sentiment", sentiment.score_stage, text_result.sentences, text_result.comments, vectors,
        embed_config=config.embed, config=config.sentiment, random_state=config.seed,
        progress=clock.stage_progress("sentiment"),
    )
    sentences = scored.sentences
    comments = sentiment.aggregate_comments(sentences, text_result.comments, config=config.sentiment)
    out = _themes_onwards(clock, config, comments, sentences, vectors, cust, embedder=embedder, codeframe=codeframe,
                          sentiment_model=scored.model)
    sentiment_kpis = {} if scored.adaptation is None else {"sentiment_adaptation": scored.adaptation}
    _add_text_kpis(out["kpis"], text_result.redactions, sentiment_kpis, comments)
    return RunResult(
        feedback=fb,
        customers=cust,
        sentences=sentences,
        embeddings=vectors,
        config=config,
        timings=clock.timings,
        sentiment_model=scored.model,
        sentiment_fallback=scored.fallback,
        fast_mode_note=fast_note,
        **out,
    )


def _sentiment_model(result: RunResult) -> SentimentModel | None:
    """The run's sentiment model; a saved run's is the head for its backend (a file adaptation is not stored)."""
    if result.sentiment_model is not None or result.sentiment_fallback is not None:
        return result.sentiment_model
    return sentiment.head_for(result.config.embed.backend, result.config.sentiment)


def reassign(
    result: RunResult, codeframe: Codeframe, *, min_confidence: float | None = None, progress: Progress | None = None
) -> RunResult:
    """Re-assign themes with an edited codeframe (or another ``min_confidence``) and recompute what depends on them.

    Sentence embeddings are reused, so only the codeframe's own prototypes are
    embedded: an edit in the app takes seconds, not a re-run. A live codeframe
    run lends its assigner's embedder; otherwise (a saved run, a discovery run) a
    corpus-fitted backend (TF-IDF/LSA) is refitted on the run's own sentences,
    which rebuilds the very vector space the stored sentence vectors live in (the
    fit is deterministic).
    """
    clock = _StageClock(progress)
    themes = dataclasses.replace(result.config.themes, mode="codeframe")
    if min_confidence is not None:
        themes = dataclasses.replace(themes, min_confidence=min_confidence)
    config = dataclasses.replace(result.config, themes=themes)
    embedder = result.theme_model.embedder  # a live codeframe assigner's, already in the space
    if embedder is None:
        embedder = embed.embedder_for(config.embed)
        if not getattr(embedder, "cacheable", True):
            analysed = result.sentences.get(Col.ANALYSIS_TEXT, result.sentences[Col.TEXT])  # older runs lack it
            clock.run("embed", embed.embed_texts, analysed.tolist(), config=config.embed, embedder=embedder)
    out = _themes_onwards(
        clock,
        config,
        result.comments.drop(columns=[Col.THEMES]),
        result.sentences,
        result.embeddings,
        result.customers,
        embedder=embedder,
        codeframe=codeframe,
        sentiment_model=_sentiment_model(result),
        refit_from=result.theme_model,
    )
    out["kpis"] = {**result.kpis, **out["kpis"]}
    return dataclasses.replace(result, config=config, timings={**result.timings, **clock.timings}, **out)


# --------------------------------------------------------------------------- partitioned runs


def _is_partitioned(config: InsightConfig, n_comments: int) -> bool:
    """A Dask run, or an input above ``config.engine.partitioned_above`` comments, goes by partitions."""
    return config.engine.engine == "dask" or n_comments > config.engine.partitioned_above


def _run_partitioned(clock: _StageClock, config: InsightConfig, fb: Any, cust: Any, codeframe: Any,
                     fast_note: str | None) -> RunResult:
    """The same stages for an input too large for one pass, in bounded memory (see :mod:`insight.engine`).

    Text, embedding and sentence vectors run per partition and leave shards on disk;
    the sentiment head adapts and the themes are fitted on one seeded sample of whole
    comments from every shard, then both are applied to each shard; the customer-side
    stages run once on the per-comment tables, which are small.
    """
    settings = config.engine
    root = Path(settings.workdir) if settings.workdir else Path(_cache_dir(config) or embed.default_cache_dir())
    workdir = engine.default_workdir(root)
    parts = list(engine.partitions(fb.data, settings.partition_rows))
    items = [(part, f"part-{i:05d}") for i, part in enumerate(parts)]
    bases = [workdir / name for _, name in items]
    runner = clock.run("embed", engine.open_engine, settings.engine, scheduler=settings.scheduler,
                       n_workers=settings.n_workers)
    try:
        first = clock.run("embed", runner.map, _embed_partition, items, config=config, folder=str(workdir),
                          report=_partition_report(clock, "embed", len(items)))
        comments = pd.concat([c for c, _ in first], ignore_index=True)
        redactions = {kind: sum(r[kind] for _, r in first) for kind in first[0][1]}
        sample, sample_vectors = _shard_sample(bases, config)
        head, sentiment_kpis, fallback = _partition_head(clock, config, comments, sample,
                                                         sample_vectors.get("sentiment"))
        embedder = embed.embedder_for(config.embed)
        if codeframe is None and config.themes.codeframe and config.themes.mode != "discover":
            codeframe = Codeframe.from_yaml(config.themes.codeframe)
        fitted = clock.run(
            "themes", themes.assign_themes, sample, sample_vectors["topic"], config=config.themes, embedder=embedder,
            codeframe=None if codeframe is None else redact_codeframe(codeframe), random_state=config.seed,
            cache_dir=_cache_dir(config), progress=clock.stage_progress("themes"),
        )
        second = clock.run("themes", runner.map, _assign_partition, [str(b) for b in bases], config=config,
                           model=fitted.model, head=head, report=_partition_report(clock, "themes", len(bases)))
    except BaseException:  # a failed run leaves no shards behind
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    finally:
        runner.close()
    sentences = pd.concat([s for s, _, _ in second], ignore_index=True)
    assignments = pd.concat([a for _, a, _ in second], ignore_index=True)
    comments = sentiment.aggregate_comments(sentences, comments, config=config.sentiment)
    counts = assignments.groupby(Col.THEME_ID)[Col.SENTENCE_ID].nunique()
    theme_table = fitted.themes.assign(n_sentences=fitted.themes[Col.THEME_ID].map(counts).fillna(0).astype(int))
    fitted = dataclasses.replace(fitted, themes=theme_table, assignments=assignments,
                                 n_no_topic=sum(n for _, _, n in second))
    out = _theme_outputs(clock, config, comments, sentences, assignments, fitted, cust)
    vectors = engine.stack_vectors(bases, "topic", workdir / "embeddings.npy")
    for path in workdir.glob("part-*"):
        path.unlink()
    _add_text_kpis(out["kpis"], redactions, sentiment_kpis, comments)
    out["kpis"]["partitions"] = {"engine": settings.engine, "partitions": len(items),
                                 "partition_rows": settings.partition_rows, "theme_sample_sentences": len(sample)}
    result = RunResult(feedback=fb, customers=cust, sentences=sentences, embeddings=vectors, config=config,
                       timings=clock.timings, sentiment_model=head, sentiment_fallback=fallback,
                       fast_mode_note=fast_note, **out)
    weakref.finalize(result, shutil.rmtree, workdir, True)  # the vectors' file lives as long as the result
    return result


def _partition_report(clock: _StageClock, stage: str, total: int) -> Callable[[int], None]:
    return lambda done: clock.progress(stage, done, total, f"{done} of {total} partitions")


def _embed_partition(item: tuple[pd.DataFrame, str], *, config: InsightConfig, folder: str) -> tuple[pd.DataFrame, dict]:
    """Text and embed stages of one partition: its sentences and vectors go to a shard; returns its comments."""
    part, name = item
    text_result = text.split_sentences(part, config.text)
    texts = text_result.sentences[Col.ANALYSIS_TEXT].tolist()
    vectors = embed.embed_texts(texts, config=config.embed)
    try:
        extra = {"sentiment": sentiment.head_vectors_for(texts, vectors, config.embed,
                                                         embedder=sentiment.head_embedder(config.embed.backend))}
    except MissingDependencyError:  # the lexicon scores instead (see _partition_head)
        extra = {}
    engine.write_shard(Path(folder), name, text_result.sentences, topic=vectors, **extra)
    return text_result.comments, dict(text_result.redactions)


def _partition_head(clock: _StageClock, config: InsightConfig, comments: pd.DataFrame, sample: pd.DataFrame,
                    head_vectors: np.ndarray | None) -> tuple[SentimentModel | None, dict, str | None]:
    """The sentiment head adapted to the file's scores on the sampled comments, its kpis and the
    fallback note (head None: the lexicon)."""
    if head_vectors is None:
        report, fallback = sentiment.lexicon_fallback("the MiniLM sentiment head is not installed.", config.sentiment)
        head = None
    else:
        head, fallback = sentiment.head_for(config.embed.backend, config.sentiment), None
        sampled = comments[comments[Col.COMMENT_ID].isin(sample[Col.COMMENT_ID])]
        head, report = clock.run("sentiment", sentiment.adapted, head, sampled, sample, head_vectors,
                                 config=config.sentiment, random_state=config.seed)
    return head, {} if report is None else {"sentiment_adaptation": report}, fallback


def _shard_sample(bases: list[Path], config: InsightConfig) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Every sentence of a seeded sample of comments drawn evenly from every shard (about
    ``config.engine.sample_sentences`` sentences), with its vectors: what the themes are
    fitted on and the sentiment head adapts on."""
    sizes = [len(pd.read_parquet(f"{base}.parquet", columns=[Col.SENTENCE_ID])) for base in bases]
    share = min(1.0, config.engine.sample_sentences / max(sum(sizes), 1))
    keys = ("topic", "sentiment") if Path(f"{bases[0]}.sentiment.npy").is_file() else ("topic",)
    rng = np.random.default_rng(config.seed)
    frames, vectors = [], {key: [] for key in keys}
    for base in bases:
        frame, arrays = engine.read_shard(base, *keys)
        ids = frame[Col.COMMENT_ID].unique()
        keep = frame[Col.COMMENT_ID].isin(ids[rng.random(len(ids)) < share]).to_numpy()
        frames.append(frame[keep])
        for key, array in zip(keys, arrays):
            vectors[key].append(array[keep])
    return pd.concat(frames, ignore_index=True), {key: np.vstack(v) for key, v in vectors.items()}


def _assign_partition(base: str, *, config: InsightConfig, model: ThemeSource,
                      head: SentimentModel | None) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Sentence sentiment, theme assignment and per-theme sentiment of one shard."""
    keys = ("topic",) if head is None else ("topic", "sentiment")
    sentences, arrays = engine.read_shard(Path(base), *keys)
    if head is None:
        sentences = sentiment.lexicon_scores(sentences, config=config.sentiment)
    else:
        sentences = sentiment.score_sentences(sentences, arrays[1], config=config.sentiment, model=head)
    assignments, n_no_topic = themes.apply_themes(model, sentences, arrays[0])
    embedder = model.embedder or embed.embedder_for(config.embed)
    assignments = _with_theme_sentiments(sentences, assignments, arrays[0], config=config, embedder=embedder,
                                         sentiment_model=head)
    return sentences, assignments, n_no_topic
