"""Settings of a run: one frozen dataclass per stage, nested in :class:`InsightConfig`.

The whole config is saved with every run (``summary.json``, the run store), so a
result can always be traced back to the settings that made it.
"""
from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class IngestConfig:
    """Limits and parsing rules for user files.

    max_bytes : refuse files larger than this (default 200 MB).
    max_rows : refuse tables with more rows than this.
    drop_duplicates : drop comments whose whole input row repeats an earlier one exactly.
    """

    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 2_000_000
    drop_duplicates: bool = True


@dataclass(frozen=True)
class TextConfig:
    """Cleaning, PII redaction and sentence splitting."""

    split_clauses: bool = True
    detect_language: bool = True
    min_sentence_chars: int = 3


@dataclass(frozen=True)
class EmbedConfig:
    """Which embedding backend (a registry name) and where its cache lives.

    cache_dir : None means ``$INSIGHT_CACHE_DIR`` or ``~/.cache/insight``.
    """

    backend: str = "minilm.v1"
    batch_size: int = 64
    cache_dir: str | None = None
    use_cache: bool = True


@dataclass(frozen=True)
class ThemeConfig:
    """Theme discovery and codeframe assignment.

    mode : "codeframe" assigns to the codeframe only, "discover" clusters only,
        "auto" uses the codeframe when one is given, else discovers.
    codeframe : path to a codeframe YAML; None with mode "codeframe" uses the
        default codeframe shipped in ``models/``.
    """

    mode: str = "auto"
    codeframe: str | None = None
    min_cluster_size: int = 15
    max_themes: int = 120
    merge_threshold: float = 0.9
    outlier_threshold: float = 0.35


@dataclass(frozen=True)
class SentimentConfig:
    """Sentiment model (a registry name) and label thresholds on the score.

    neutral_band : comment scores within +-neutral_band are labelled neutral.
    adapt_priors : re-estimate the class balance on the user's sentences (EM,
        Saerens et al. 2002) before labelling them.
    adapt_to_scores : refit the head on the file's own score column (stars or NPS,
        binned) used as weak labels, and report the held-out gain.
    """

    model: str = "head.v1"
    neutral_band: float = 0.2
    adapt_priors: bool = False
    adapt_to_scores: bool = False


@dataclass(frozen=True)
class DriverConfig:
    """Statistics of the driver analysis.

    min_support : themes mentioned by fewer customers are reported as
        insufficient data, not ranked.
    min_events : for churn, a theme also needs this many churners and this
        many retained customers among its mentioners (fewer: insufficient data).
    covariates : customer columns used by the adjusted models when present.
    n_bootstrap : bootstrap draws for the median CLV difference.
    """

    alpha: float = 0.05
    min_support: int = 30
    min_events: int = 5
    covariates: tuple[str, ...] = ("plan", "region", "tenure_months")
    n_bootstrap: int = 500


@dataclass(frozen=True)
class SegmentConfig:
    """Segment columns (None: every categorical customer column found)."""

    columns: tuple[str, ...] | None = None
    min_customers: int = 20


@dataclass(frozen=True)
class InsightConfig:
    """All settings of one run. ``seed`` drives every stochastic part."""

    seed: int = 0
    ingest: IngestConfig = field(default_factory=IngestConfig)
    text: TextConfig = field(default_factory=TextConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)
    themes: ThemeConfig = field(default_factory=ThemeConfig)
    sentiment: SentimentConfig = field(default_factory=SentimentConfig)
    drivers: DriverConfig = field(default_factory=DriverConfig)
    segments: SegmentConfig = field(default_factory=SegmentConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> "InsightConfig":
        """A copy with top-level fields or ``stage__field`` keys changed."""
        top = {k: v for k, v in changes.items() if "__" not in k}
        cfg = dataclasses.replace(self, **top)
        for key, value in changes.items():
            if "__" in key:
                stage, name = key.split("__", 1)
                cfg = dataclasses.replace(cfg, **{stage: dataclasses.replace(getattr(cfg, stage), **{name: value})})
        return cfg

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "InsightConfig":
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if isinstance(value, dict):
                stage_cls = type(getattr(cls(), f.name))
                value = stage_cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})
            kwargs[f.name] = value
        return cls(**kwargs)

    @classmethod
    def load(cls, path: str | Path) -> "InsightConfig":
        """Read a TOML or JSON config file.

        Raises
        ------
        insight.errors.InputError
            The file cannot be read, is not valid TOML/JSON, or names unknown settings.
        """
        from insight.errors import InputError

        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
            return cls.from_dict(data)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"Cannot read the config file {path}: {exc}.") from None
        except TypeError as exc:
            raise InputError(
                f"The config file {path} has a setting insight does not know: {exc}.",
                hint="See insight/config.py for the settings of each stage.",
            ) from None
