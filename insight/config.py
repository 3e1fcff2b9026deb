"""Settings of a run: one frozen dataclass per stage, nested in :class:`InsightConfig`.

The whole config is saved with every run (``summary.json``, the run store), so a
result can always be traced back to the settings that made it. Every setting is
checked on construction (type and range), because values arrive unchecked from
TOML/JSON files, the command line and the app: ``max_bytes = -5`` or ``seed = -1``
is a clear :class:`~insight.errors.ConfigError`, never a failure deep in a stage.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import math
import numbers
import tomllib
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from insight.errors import ConfigError, InputError
from insight.files import read_regular_file

MAX_CONFIG_BYTES = 1024 * 1024
"""A config file is a few lines; anything larger is refused unread."""
MAX_SEED = 2**32 - 1  # the largest seed NumPy's legacy RandomState (and scikit-learn) accepts


class Range(NamedTuple):
    """Allowed values of a numeric setting: ``low``/``high`` (None: unbounded), open ends excluded."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False

    def __contains__(self, value: object) -> bool:
        low_ok = self.low is None or (value > self.low if self.open_low else value >= self.low)
        return low_ok and (self.high is None or (value < self.high if self.open_high else value <= self.high))

    def __str__(self) -> str:
        if self.low is not None and self.high is not None and not (self.open_low or self.open_high):
            return f"between {_number(self.low)} and {_number(self.high)}"
        low = [] if self.low is None else [f"{'>' if self.open_low else '>='} {_number(self.low)}"]
        return " and ".join(low + ([] if self.high is None else [f"{'<' if self.open_high else '<='} {_number(self.high)}"]))


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


class _Checked:
    """Checks each field's type (from its annotation) and its ``_limits`` entry after construction."""

    _limits: ClassVar[dict[str, Range | tuple[str, ...]]] = {}

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in dataclasses.fields(self):
            _check_setting(f"{_SECTION.get(type(self).__name__, '')}{f.name}", getattr(self, f.name), hints[f.name],
                           self._limits.get(f.name))


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _check_setting(name: str, value: Any, hint: Any, limit: Range | tuple[str, ...] | None) -> None:
    """ConfigError unless ``value`` has the annotated type and lies within ``limit``."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    if value is None and type(None) in options:
        return
    kind = next(t for t in options if t is not type(None))
    if kind is bool:
        ok, expected = isinstance(value, bool), "true or false"
    elif kind is int:
        ok, expected = isinstance(value, numbers.Integral) and not isinstance(value, bool), "a whole number"
    elif kind is float:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
        expected = "a number"
    elif kind is str:
        ok, expected = isinstance(value, str), "text"
    elif dataclasses.is_dataclass(kind):
        ok, expected = isinstance(value, kind), f"a {kind.__name__}"
    else:  # tuple[str, ...]
        ok, expected = isinstance(value, tuple) and all(isinstance(v, str) for v in value), "a list of texts"
    if ok and isinstance(limit, Range) and value not in limit:
        ok, expected = False, f"{expected} {limit}"
    elif ok and isinstance(limit, tuple) and value not in limit:
        ok, expected = False, f"one of {', '.join(map(repr, limit))}"
    if not ok:
        raise ConfigError(f"Setting {name} must be {expected}, got {value!r}.")



@dataclass(frozen=True)
class IngestConfig(_Checked):
    """Limits and parsing rules for user files.

    max_bytes : refuse files larger than this (default 200 MB); an Excel workbook
        may unpack to at most 5 x max_bytes.
    max_rows : refuse tables with more rows than this.
    max_cells : refuse Excel workbooks with more cells than this (counted before
        the workbook is parsed, so a small compressed file cannot fill the memory).
    drop_duplicates : drop comments whose whole input row repeats an earlier one exactly.
    chunk_bytes : a delimited UTF-8 file larger than this is parsed straight from its bytes,
        ``chunk_rows`` rows at a time, instead of through one decoded copy of its text
        (which Python holds at up to 4 bytes a character).
    chunk_rows : rows per chunk of such a file.
    """

    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 2_000_000
    max_cells: int = 5_000_000
    drop_duplicates: bool = True
    chunk_bytes: int = 32 * 1024 * 1024
    chunk_rows: int = 100_000
    _limits: ClassVar = {"max_bytes": Range(1), "max_rows": Range(1), "max_cells": Range(1), "chunk_bytes": Range(0),
                         "chunk_rows": Range(1)}


@dataclass(frozen=True)
class TextConfig(_Checked):
    """Cleaning, PII redaction and sentence splitting."""

    split_clauses: bool = True
    detect_language: bool = True
    min_sentence_chars: int = 3
    _limits: ClassVar = {"min_sentence_chars": Range(0)}


@dataclass(frozen=True)
class EmbedConfig(_Checked):
    """Which embedding backend (a registry name) and where its cache lives.

    cache_dir : None means ``$INSIGHT_CACHE_DIR`` or ``~/.cache/insight``.
    device : where MiniLM runs: "auto" takes the GPU (half precision) when PyTorch
        sees one, else the CPU; "cuda" without a GPU is an error.
    fast_above : with the default backend, an input of more comments than this
        uses fast mode (``static.v1``) instead and says so; 0 keeps the default at
        any size (the CLI's ``--embedder`` sets it to 0). 50,000 comments are
        roughly 125,000 sentences: about 9 minutes of the default NLP stage on two
        CPU cores (about 230 sentences/s), seconds in fast mode.
    """

    backend: str = "minilm-idf.v1"
    batch_size: int = 64
    cache_dir: str | None = None
    use_cache: bool = True
    device: str = "auto"
    fast_above: int = 50_000
    _limits: ClassVar = {"batch_size": Range(1), "device": ("auto", "cpu", "cuda"), "fast_above": Range(0)}


@dataclass(frozen=True)
class ThemeConfig(_Checked):
    """Theme discovery and codeframe assignment.

    mode : "codeframe" assigns to the codeframe only, "discover" clusters only,
        "auto" uses the codeframe when one is given, else discovers.
    codeframe : path to a codeframe YAML; None with mode "codeframe" uses the
        default codeframe shipped in ``models/``.
    min_confidence : confidence a codeframe assignment needs, in (0, 1); higher leaves
        more sentences unclassified and the assigned ones surer.
    """

    mode: str = "auto"
    codeframe: str | None = None
    min_confidence: float = 0.5
    min_cluster_size: int = 15
    max_themes: int = 120
    merge_threshold: float = 0.9
    outlier_threshold: float = 0.35
    _limits: ClassVar = {
        "mode": ("auto", "codeframe", "discover"), "min_cluster_size": Range(2), "max_themes": Range(1),
        "merge_threshold": Range(-1, 1), "outlier_threshold": Range(-1, 1),
        "min_confidence": Range(0, 1, open_low=True, open_high=True),
    }


@dataclass(frozen=True)
class SentimentConfig(_Checked):
    """Sentiment model (a registry name) and label thresholds on the score.

    neutral_band : comment scores within +-neutral_band are labelled neutral.
    adapt_priors : re-estimate the class balance on the user's sentences (EM,
        Saerens et al. 2002) before labelling them.
    adapt_to_scores : refit the head on the file's own score column (stars or NPS,
        binned) used as weak labels, and report the held-out gain.
    """

    model: str = "head.v2"
    neutral_band: float = 0.2
    adapt_priors: bool = False
    adapt_to_scores: bool = True
    _limits: ClassVar = {"neutral_band": Range(0, 1, open_high=True)}


@dataclass(frozen=True)
class DriverConfig(_Checked):
    """Statistics of the driver analysis.

    min_support : themes mentioned by fewer customers are reported as
        insufficient data, not ranked.
    min_events : for churn, a theme also needs this many churners and this
        many retained customers among its mentioners (fewer: insufficient data).
    covariates : customer columns used by the adjusted models when present.
    outcomes : customer columns analysed besides churn, NPS and CLV (a 0/1
        column like churn, any other numeric one like CLV); each must exist.
    n_bootstrap : bootstrap draws for the median CLV difference.
    """

    alpha: float = 0.05
    min_support: int = 30
    min_events: int = 5
    covariates: tuple[str, ...] = ("plan", "region", "tenure_months")
    outcomes: tuple[str, ...] = ()
    n_bootstrap: int = 500
    _limits: ClassVar = {
        "alpha": Range(0, 1, open_low=True, open_high=True), "min_support": Range(1), "min_events": Range(0),
        "n_bootstrap": Range(10),
    }


@dataclass(frozen=True)
class SegmentConfig(_Checked):
    """Segment columns (None: every categorical customer column found)."""

    columns: tuple[str, ...] | None = None
    min_customers: int = 20
    _limits: ClassVar = {"min_customers": Range(1)}


@dataclass(frozen=True)
class EngineConfig(_Checked):
    """Where and in what pieces a run's sentence-level work is done.

    engine : "local" runs the partitions in this process; "dask" runs them as Dask
        tasks (on ``scheduler``, or on a local cluster of ``n_workers`` processes).
    partition_rows : comments per partition; a partition's vectors are the most the
        run holds in memory at once.
    partitioned_above : inputs with more comments take the partitioned path even on
        the local engine (smaller ones run in one pass, as before).
    sample_sentences : sentences the themes are fitted on in a partitioned run; the
        rest are assigned to the fitted themes.
    workdir : folder for the partitions' shards (None: under the cache folder); with
        a remote scheduler it must be storage every worker can reach.
    """

    engine: str = "local"
    scheduler: str | None = None
    n_workers: int = 2
    partition_rows: int = 50_000
    partitioned_above: int = 50_000
    sample_sentences: int = 60_000
    workdir: str | None = None
    _limits: ClassVar = {"engine": ("local", "dask"), "n_workers": Range(1), "partition_rows": Range(100),
                         "partitioned_above": Range(0), "sample_sentences": Range(100)}


@dataclass(frozen=True)
class InsightConfig(_Checked):
    """All settings of one run. ``seed`` drives every stochastic part (0 to 2**32 - 1)."""

    seed: int = 0
    ingest: IngestConfig = field(default_factory=IngestConfig)
    text: TextConfig = field(default_factory=TextConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)
    themes: ThemeConfig = field(default_factory=ThemeConfig)
    sentiment: SentimentConfig = field(default_factory=SentimentConfig)
    drivers: DriverConfig = field(default_factory=DriverConfig)
    segments: SegmentConfig = field(default_factory=SegmentConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    _limits: ClassVar = {"seed": Range(0, MAX_SEED)}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> "InsightConfig":
        """A copy with top-level fields or ``stage__field`` keys changed.

        Raises
        ------
        insight.errors.ConfigError
            An unknown section or setting (the message suggests the closest name), or a bad value.
        """
        _reject_unknown([k.split("__", 1)[0] for k in changes], _names(self), "section or setting", "")
        top = {k: v for k, v in changes.items() if "__" not in k}
        cfg = dataclasses.replace(self, **top)
        for key, value in changes.items():
            if "__" in key:
                stage, name = key.split("__", 1)
                section = getattr(cfg, stage)
                known = _names(section) if dataclasses.is_dataclass(section) else []
                _reject_unknown([name], known, "setting", f"[{stage}]")
                cfg = dataclasses.replace(cfg, **{stage: dataclasses.replace(section, **{name: value})})
        return cfg

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "InsightConfig":
        """A config from nested dicts (as :meth:`to_dict` writes and TOML/JSON files hold).

        Raises
        ------
        insight.errors.ConfigError
            An unknown section or setting, a section that is not a table, or a value of the
            wrong type or outside its range; the message lists the valid names.
        """
        if not isinstance(data, dict):
            raise ConfigError(f"A config must be a table of settings, got {type(data).__name__}.")
        _reject_unknown(data, [f.name for f in dataclasses.fields(cls)], "section or setting", "")
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            stage_cls = _hints(cls)[name]
            if dataclasses.is_dataclass(stage_cls):
                if not isinstance(value, dict):
                    raise ConfigError(f"[{name}] must be a table of settings, got {value!r}.")
                _reject_unknown(value, [f.name for f in dataclasses.fields(stage_cls)], "setting", f"[{name}]")
                value = stage_cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})
            kwargs[name] = value
        return cls(**kwargs)

    @classmethod
    def load(cls, path: str | Path) -> "InsightConfig":
        """Read a TOML (``.toml``) or JSON config file.

        Raises
        ------
        insight.errors.InputError
            The file cannot be read or is not valid TOML/JSON (ConfigError: it names
            unknown settings or values of the wrong type or range).
        """
        path = Path(path)
        data = read_regular_file(path, what="config file", limit=MAX_CONFIG_BYTES, setting="MAX_CONFIG_BYTES")
        try:
            text = data.decode("utf-8")
            parsed = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"Cannot read the config file {path}: {exc}.") from None
        except RecursionError:
            raise InputError(f"Cannot read the config file {path}: it is nested too deeply.") from None
        return cls.from_dict(parsed)


def _names(config: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(config)]


_SECTION = {cls.__name__: f"{name}." for name, cls in typing.get_type_hints(InsightConfig).items()
            if dataclasses.is_dataclass(cls)}  # "DriverConfig" -> "drivers.", for messages


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"Did you mean 'x'? "`` for the closest known name (a typo), else ``""``: for messages about unknown names."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"Did you mean {close[0]!r}? " if close else ""


def _reject_unknown(data: Iterable[Any], known: list[str], what: str, where: str) -> None:
    """ConfigError naming the unknown keys, the closest valid name (a typo) and every valid name."""
    unknown = [str(k) for k in data if k not in known]
    if unknown:
        guess = did_you_mean(unknown[0], known)
        raise ConfigError(
            f"Unknown {what} {', '.join(map(repr, unknown))}{' in ' + where if where else ''}.",
            hint=f"{guess}Valid names{' in ' + where if where else ''}: {', '.join(known)}. See insight/config.py.",
        )
