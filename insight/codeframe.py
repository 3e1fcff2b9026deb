"""An editable codeframe (YAML) and zero-shot, multi-label assignment of sentences to it.

A codeframe is the analyst's list of themes: name, description, keywords, example
sentences and a parent group. It can be written by hand, exported from discovered
themes (:meth:`Codeframe.from_theme_model`) and edited; every edit returns a new
codeframe and is logged, so ids stay traceable (:meth:`Codeframe.resolve`) and the
last edit can be undone.

:class:`CodeframeAssigner` embeds each theme's texts once (prototypes, cached by
text), calibrates a per-theme threshold on the user's corpus and gives each sentence
every theme whose score passes it, with a confidence in [0, 1]. After an edit only
the changed themes' prototypes are embedded; sentence embeddings are reused.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml
from sklearn.preprocessing import normalize

from insight.errors import InputError, UnsafeInputError
from insight.files import check_size, read_regular_file
from insight.schemas import Col
from insight.text import first_distinct
from insight.types import Embedder
from insight.validation import check_fitted

if TYPE_CHECKING:
    from insight.themes import ThemeModel

DEFAULT_CODEFRAME_PATH = Path(__file__).resolve().parent.parent / "models" / "codeframe_default.yaml"
_THEME_KEYS = ("name", "description", "keywords", "examples", "parent")


@dataclass(frozen=True)
class CodeframeTheme:
    """One theme of a codeframe (immutable; edits build new themes)."""

    name: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    parent: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError(f"A codeframe theme needs a non-empty name, got {self.name!r}.")
        object.__setattr__(self, "name", self.name.strip())
        if "|" in self.name:
            raise InputError(f"Theme name {self.name!r} contains '|', which separates a comment's themes in comments.csv.",
                             hint="Use another character, e.g. 'billing / refunds'.")
        object.__setattr__(self, "keywords", _str_tuple(self.keywords, self.name, "keywords"))
        object.__setattr__(self, "examples", _str_tuple(self.examples, self.name, "examples"))
        if self.description is None:
            object.__setattr__(self, "description", "")
        if not isinstance(self.description, str):
            raise InputError(f"Theme {self.name!r}: description must be text, got {type(self.description).__name__}.")
        if self.parent is not None and (not isinstance(self.parent, str) or not self.parent.strip()):
            object.__setattr__(self, "parent", None)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CodeframeTheme":
        """Build a theme from a mapping (a YAML entry); unknown keys are an error."""
        if not isinstance(data, Mapping):
            raise InputError(f"Each codeframe theme must be a mapping with a name, got {data!r}.")
        unknown = sorted(set(data) - set(_THEME_KEYS))
        if unknown:
            raise InputError(
                f"Unknown key(s) {unknown} in codeframe theme {data.get('name')!r}.",
                hint=f"Valid keys: {', '.join(_THEME_KEYS)}.",
            )
        if "name" not in data or data["name"] is None:
            raise InputError(f"A codeframe theme has no name: {dict(data)!r}.", hint="Add `name: ...` to it.")
        return cls(**{k: data[k] for k in _THEME_KEYS if k in data})

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "parent": self.parent, "description": self.description,
                "keywords": list(self.keywords), "examples": list(self.examples)}


def _str_tuple(value: Any, name: str, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v for v in value.split(",")] if what == "keywords" else [value]
    if not isinstance(value, Iterable):
        raise InputError(f"Theme {name!r}: {what} must be a list of texts, got {value!r}.")
    out = tuple(str(v).strip() for v in value if v is not None and str(v).strip())
    return out


def _coerce_theme(value: Any, name: str | None = None, parent: str | None = None) -> CodeframeTheme:
    """A CodeframeTheme from a theme or a mapping; ``name``/``parent`` fill what is missing."""
    if isinstance(value, CodeframeTheme):
        theme = value
    else:
        data = dict(value or {})
        if name is not None:
            data.setdefault("name", name)
        theme = CodeframeTheme.from_dict(data)
    if name is not None and theme.name != name:
        theme = dataclasses.replace(theme, name=name)
    if theme.parent is None and parent is not None:
        theme = dataclasses.replace(theme, parent=parent)
    return theme


@dataclass(frozen=True)
class Codeframe:
    """An ordered set of uniquely named themes plus the log of edits that made it.

    Every edit (:meth:`rename`, :meth:`merge`, :meth:`split`, :meth:`delete`,
    :meth:`add`) returns a new Codeframe whose ``log`` has one more entry recording
    what was removed (with positions) and what was added, so :meth:`undo` can
    restore the previous state and :meth:`resolve` can follow an old name.
    ``background`` holds generic sentences that belong to no theme ("Thanks.",
    "Overall fine."): a sentence closer to them than to a theme is left unassigned.

    Examples
    --------
    >>> cf = Codeframe((CodeframeTheme("late"), CodeframeTheme("delayed")))
    >>> cf.merge(["late", "delayed"], into="delivery delays").names
    ('delivery delays',)
    >>> cf.merge(["late", "delayed"], into="delivery delays").undo().names
    ('late', 'delayed')
    """

    themes: tuple[CodeframeTheme, ...]
    log: tuple[dict[str, Any], ...] = field(default=())
    background: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        themes = tuple(_coerce_theme(t) for t in self.themes)
        seen: set[str] = set()
        duplicates = sorted({t.name for t in themes if t.name in seen or seen.add(t.name)})
        if duplicates:
            raise InputError(f"Duplicate theme name(s) in the codeframe: {duplicates}.",
                             hint="Each theme needs a unique name; rename or merge them.")
        object.__setattr__(self, "themes", themes)
        object.__setattr__(self, "log", tuple(dict(e) for e in self.log))
        object.__setattr__(self, "background", _str_tuple(self.background, "(codeframe)", "background"))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.themes)

    def __len__(self) -> int:
        return len(self.themes)

    def to_codeframe(self) -> "Codeframe":
        """The codeframe itself: the same call works on fitted theme models."""
        return self

    @property
    def embedder(self) -> None:
        """None: a codeframe alone (a loaded run's theme model) has no embedder (:class:`insight.types.ThemeSource`)."""
        return None

    @property
    def assigns_by_confidence(self) -> bool:
        """True: re-assigning a codeframe applies ``min_confidence``."""
        return True

    def get(self, name: str) -> CodeframeTheme:
        """The theme called ``name``; InputError naming the valid themes if there is none."""
        for theme in self.themes:
            if theme.name == name:
                return theme
        raise InputError(f"No theme called {name!r} in the codeframe.",
                         hint=f"Themes: {', '.join(self.names) or '(none)'}.")

    # -- I/O ------------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path_or_text: str | Path) -> "Codeframe":
        """Read a codeframe from a YAML file path or YAML text (``yaml.safe_load`` only).

        The document is a mapping with a ``themes`` list (optionally ``background``
        sentences and the edit ``log``), or a bare list of themes.
        """
        data = _safe_yaml(_read_yaml_source(path_or_text))
        if isinstance(data, list):
            data = {"themes": data}
        if not isinstance(data, dict) or not isinstance(data.get("themes"), list):
            raise InputError("A codeframe YAML needs a `themes:` list of theme mappings.",
                             hint="See models/codeframe_default.yaml for the format.")
        if not data["themes"]:
            raise InputError("The codeframe has no themes.")
        log = data.get("log") or []
        if not isinstance(log, list) or not all(isinstance(e, dict) for e in log):
            raise InputError("The codeframe `log:` must be a list of mappings.")
        unknown = sorted(set(data) - {"version", "themes", "background", "log"})
        if unknown:
            raise InputError(f"Unknown top-level key(s) {unknown} in the codeframe YAML.",
                             hint="Valid keys: version, themes, background, log.")
        return cls(tuple(CodeframeTheme.from_dict(t) for t in data["themes"]), tuple(log),
                   data.get("background") or ())

    def to_yaml(self) -> str:
        """The codeframe (and its edit log) as YAML text that :meth:`from_yaml` reads back."""
        doc: dict[str, Any] = {"version": 1, "themes": [t.to_dict() for t in self.themes]}
        if self.background:
            doc["background"] = list(self.background)
        if self.log:
            doc["log"] = [dict(e) for e in self.log]
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)

    @classmethod
    def default(cls) -> "Codeframe":
        """The generic customer-feedback codeframe shipped in ``models/codeframe_default.yaml``."""
        return cls.from_yaml(DEFAULT_CODEFRAME_PATH)

    @classmethod
    def from_theme_model(cls, model: ThemeModel) -> "Codeframe":
        """Export discovered themes (keywords, representatives, parents) as an editable codeframe."""
        check_fitted(model)
        themes = [
            CodeframeTheme(
                name=row[Col.THEME], description=f"Sentences about {', '.join(row[Col.KEYWORDS][:4])}.",
                keywords=tuple(row[Col.KEYWORDS]), examples=tuple(row["representatives"]),
                parent=row[Col.PARENT] or None,
            )
            for row in model.themes_.to_dict("records")
        ]
        if not themes:
            raise InputError("The theme model found no themes to export.")
        return cls(tuple(themes))

    # -- edits --------------------------------------------------------------------
    def _edit(self, op: str, removed: Sequence[str], added: Sequence[CodeframeTheme], **details: Any
              ) -> "Codeframe":
        """Remove ``removed`` themes, insert ``added`` where the first one was (or at the end), log it."""
        for name in removed:
            self.get(name)
        positions = {t.name: i for i, t in enumerate(self.themes)}
        at = min((positions[n] for n in removed), default=len(self.themes))
        kept = [t for t in self.themes if t.name not in set(removed)]
        at_kept = sum(1 for t in self.themes[:at] if t.name not in set(removed))
        themes = tuple(kept[:at_kept]) + tuple(added) + tuple(kept[at_kept:])
        entry = {
            "op": op, **details,
            "removed": [{"position": positions[n], **self.get(n).to_dict()} for n in removed],
            "added": [t.name for t in added],
        }
        return Codeframe(themes, self.log + (entry,), self.background)

    def rename(self, old: str, new: str) -> "Codeframe":
        """Rename theme ``old`` to ``new`` (everything else unchanged)."""
        new = _check_name(new)
        if new != old and new in self.names:
            raise InputError(f"Cannot rename {old!r} to {new!r}: a theme called {new!r} exists.",
                             hint="Use merge to combine the two themes.")
        return self._edit("rename", [old], [dataclasses.replace(self.get(old), name=new)], old=old, new=new)

    def merge(self, names: Sequence[str], into: str) -> "Codeframe":
        """Merge ``names`` into one theme ``into`` (keywords and examples pooled, descriptions joined)."""
        if isinstance(names, str) or len(set(names)) < 2:
            raise InputError(f"merge needs at least two different theme names, got {names!r}.")
        names = list(dict.fromkeys(names))
        into = _check_name(into)
        if into in self.names and into not in names:
            raise InputError(f"Cannot merge into {into!r}: another theme already has that name.",
                             hint=f"Include {into!r} in the themes to merge, or pick a new name.")
        parts = [self.get(n) for n in names]
        merged = CodeframeTheme(
            name=into,
            description=" ".join(dict.fromkeys(p.description for p in parts if p.description)),
            keywords=tuple(dict.fromkeys(k for p in parts for k in p.keywords)),
            examples=tuple(dict.fromkeys(e for p in parts for e in p.examples)),
            parent=parts[0].parent,
        )
        return self._edit("merge", names, [merged], names=names, into=into)

    def split(self, name: str, into: Mapping[str, CodeframeTheme | Mapping[str, Any]]) -> "Codeframe":
        """Replace theme ``name`` by the themes in ``into`` (new name -> theme or mapping).

        Parts without a parent inherit the split theme's parent.
        """
        source = self.get(name)
        if not isinstance(into, Mapping) or len(into) < 2:
            raise InputError(f"split needs at least two new themes for {name!r}, got {into!r}.")
        parts = [_coerce_theme(value, _check_name(new), source.parent) for new, value in into.items()]
        clash = sorted(p.name for p in parts if p.name in self.names and p.name != name)
        if clash:
            raise InputError(f"Cannot split {name!r}: theme name(s) {clash} already exist.")
        return self._edit("split", [name], parts, name=name, into=[p.name for p in parts])

    def delete(self, name: str) -> "Codeframe":
        """Remove theme ``name``; its sentences become unclassified unless another theme fits."""
        if len(self.themes) == 1:
            raise InputError(f"Cannot delete {name!r}: it is the codeframe's only theme.")
        return self._edit("delete", [name], [], name=name)

    def add(self, theme: CodeframeTheme | Mapping[str, Any]) -> "Codeframe":
        """Append a new theme (a CodeframeTheme or a mapping with at least a name)."""
        theme = _coerce_theme(theme)
        if theme.name in self.names:
            raise InputError(f"Cannot add {theme.name!r}: a theme with that name exists.")
        return self._edit("add", [], [theme], name=theme.name)

    def undo(self) -> "Codeframe":
        """The codeframe as it was before the last edit."""
        if not self.log:
            raise InputError("Nothing to undo: the codeframe has no edits.")
        entry = self.log[-1]
        themes = [t for t in self.themes if t.name not in set(entry["added"])]
        for removed in sorted(entry["removed"], key=lambda r: r["position"]):
            data = {k: v for k, v in removed.items() if k != "position"}
            themes.insert(removed["position"], CodeframeTheme.from_dict(data))
        return Codeframe(tuple(themes), self.log[:-1], self.background)

    def resolve(self, name: str) -> tuple[str, ...]:
        """The current theme name(s) that a name used at any earlier point maps to.

        Follows the log: a renamed theme maps to its new name, a merged one to the
        merged theme, a split one to its parts, a deleted one to nothing.
        """
        current = {name}
        for entry in self.log:
            removed = {r["name"] for r in entry["removed"]}
            hit = current & removed
            if hit:
                current = (current - hit) | set(entry["added"])
        return tuple(n for n in self.names if n in current)


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"A theme name must be non-empty text, got {name!r}.")
    return name.strip()


def _is_file(text: str) -> bool:
    """Whether ``text`` names an existing file (a long one-line YAML text is no file name)."""
    try:
        return Path(text).is_file()
    except OSError:
        return False


MAX_CODEFRAME_BYTES = 4 * 1024 * 1024
"""A codeframe is a list of themes; a larger file or text is refused unread."""


def _read_yaml_source(path_or_text: str | Path) -> str:
    """YAML text from a path (Path, or a one-line str naming a .yaml/.yml or existing file) or text."""
    if isinstance(path_or_text, Path) or (
        isinstance(path_or_text, str) and "\n" not in path_or_text
        and (path_or_text.endswith((".yaml", ".yml")) or _is_file(path_or_text))
    ):
        path = Path(path_or_text)
        data = read_regular_file(path, what="codeframe file", limit=MAX_CODEFRAME_BYTES, setting="MAX_CODEFRAME_BYTES")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"Cannot read codeframe file {path}: it is not UTF-8 text ({exc}).") from None
    if not isinstance(path_or_text, str):
        raise InputError(f"Expected a codeframe path or YAML text, got {type(path_or_text).__name__}.")
    check_size(len(path_or_text.encode("utf-8")), MAX_CODEFRAME_BYTES, "the codeframe", "MAX_CODEFRAME_BYTES")
    return path_or_text


_MAX_YAML_DEPTH = 20  # a codeframe nests four deep: document, themes, theme, examples
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's: a 4 MB codeframe in a second, not a minute


def _safe_yaml(text: str) -> Any:
    """``yaml.safe_load`` of a codeframe, refusing aliases and deep nesting before anything is built:
    nested ``*alias`` references expand a kilobyte into gigabytes (a "billion laughs"), and thousands
    of nested brackets keep the parser busy for minutes; a codeframe needs neither."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_YAML_LOADER):
            if isinstance(event, yaml.AliasEvent):
                raise UnsafeInputError(
                    "The codeframe uses YAML aliases (*name), which insight refuses: nested aliases can expand a "
                    "small file into gigabytes.", hint="Write the repeated keywords or examples out in full.",
                )
            depth += isinstance(event, yaml.CollectionStartEvent) - isinstance(event, yaml.CollectionEndEvent)
            if depth > _MAX_YAML_DEPTH:
                raise InputError(f"The codeframe YAML is nested more than {_MAX_YAML_DEPTH} levels deep; a codeframe "
                                 "is a list of themes.", hint="See models/codeframe_default.yaml for the format.")
        return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader, C or Python
    except yaml.YAMLError as exc:
        raise InputError(f"The codeframe is not valid YAML: {exc}".strip()) from exc


# --------------------------------------------------------------------------- assignment
UNCALIBRATED_THRESHOLD = 0.3
"""Cosine a sentence needs to join a theme when there is no corpus to calibrate on."""
UNCALIBRATED_SCALE = 0.05
"""Cosine units per logit of confidence when uncalibrated."""
MIN_ON_TOPIC_SCORE = 0.2
"""A sentence is a pseudo-positive of a theme only above this cosine: a theme the corpus never
mentions has a one-humped score distribution that a mixture would still cut in two."""
MIN_CALIBRATION_ROWS = 50
MAX_CALIBRATION_ROWS = 20000
NEIGHBOURS = 15
"""Neighbours whose scores smooth a sentence's own (a sentence about "the sushi" sits among
sentences that say "the food")."""
SMOOTHING = 0.5
RIVAL_MARGIN = 0.08
"""Weight of the neighbours' mean score in the smoothed score."""
EXAMPLE_WEIGHT = 10.0
"""Weight of a codeframe example sentence against one pseudo-labelled corpus sentence."""
_PHRASE_BREAK = re.compile(r"[:;,.()/]|\s(?:and|or)\s", re.IGNORECASE)


def theme_phrases(theme: CodeframeTheme) -> tuple[str, ...]:
    """The texts that stand for a theme: "name: description", the name, the phrases of the
    description and each keyword.

    Analysts write descriptions as lists of sub-topics ("The food: taste, dishes,
    menu, portions"), so each listed phrase is a prototype of its own; the theme's
    vector is the mean of all of them. Example sentences are not averaged in (one
    example pulls the mean towards its own wording); they label the corpus instead
    (see :class:`CodeframeAssigner`).
    """
    texts = [f"{theme.name}: {theme.description}" if theme.description else theme.name, theme.name]
    texts += [p.strip() for p in _PHRASE_BREAK.split(theme.description) if p.strip()]
    texts += list(theme.keywords)
    return tuple(dict.fromkeys(texts))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


class CodeframeAssigner:
    """Zero-shot, multi-label assignment of sentences to a codeframe, calibrated on the user's corpus.

    1. **Theme vectors.** Each theme is the mean unit vector of its phrases
       (:func:`theme_phrases`: name, description and its listed sub-topics, keywords).
    2. **Scores.** Cosine between each sentence and each theme vector.
    3. **Calibration on the file being analysed**, no labels needed: each sentence's
       scores are averaged with those of its nearest neighbours, then a two-component
       Gaussian mixture per theme separates the theme's sentences from its background
       (how high "on topic" lies differs per theme and per corpus: 52% of restaurant
       sentences are about food, 10% about prices). The mixture's posterior labels
       the corpus, where the theme is also within ``RIVAL_MARGIN`` of the sentence's
       best theme: close themes ("price increase", "value for money") would otherwise
       both claim each other's sentences. The margin trades multi-label recall for
       precision (SemEval restaurants, 4 themes: micro-F1 0.79 without it, 0.75 with it;
       the generated corpus, 14 themes: 0.65 without, 0.85 with).
    4. **Self-training.** Per theme, a logistic regression on the sentence vectors
       learns those labels, plus the theme's example sentences (weighted up; other
       themes' examples are its negatives). Its probability is the confidence; a
       sentence gets every theme whose confidence reaches ``min_confidence``.

    With too few sentences to calibrate (or a fixed ``threshold``), confidence is
    ``sigmoid((cosine - threshold) / 0.05)`` with threshold 0.3 unless given. A
    codeframe ``background`` (generic chatter) vetoes themes it beats.

    Parameters
    ----------
    codeframe : Codeframe
    embedder : object with ``embed(texts) -> (n, d) array``
        Embeds the theme phrases and examples only (cached by text, so edits
        re-embed only what changed). It must be the model that embedded the sentences.
    threshold : "auto" or float, default="auto"
        "auto" calibrates on the corpus given to ``fit``; a float is a fixed cosine
        threshold for every theme.
    min_confidence : float, default=0.5
        Confidence an assignment needs. Higher leaves more sentences unclassified
        and keeps the assigned ones surer (the app's sensitivity control, the CLI's
        ``--min-confidence``).
    random_state : int, default=0
        Seeds the calibration sample of very large corpora and the mixtures.

    Attributes
    ----------
    codeframe_ : Codeframe
    prototype_means_ : ndarray (n_themes, d)
        The theme vectors.
    calibrated_ : ndarray (n_themes,) of bool
        Whether each theme was calibrated on the corpus (else the fixed threshold applies).
    coef_, intercept_ : ndarray (n_themes, d), (n_themes,)
        The self-trained logistic regressions (zeros where not calibrated).
    prevalence_ : ndarray (n_themes,)
        Share of the calibration sentences labelled as each theme (NaN when uncalibrated).
    n_embedded_ : int
        Phrases and examples embedded by the last fit (0 when all came from the cache).

    Examples
    --------
    >>> import numpy as np
    >>> class Toy:  # a stand-in embedder: one axis per word
    ...     words = ["food", "staff", "price"]
    ...     def embed(self, texts):
    ...         return np.array([[float(w in t) for w in self.words] + [0.1] for t in texts])
    >>> cf = Codeframe((CodeframeTheme("food"), CodeframeTheme("staff")))
    >>> a = CodeframeAssigner(cf, embedder=Toy()).fit()
    >>> a.transform(["the food", "the price"])["theme"].tolist()
    ['food']
    """

    def __init__(self, codeframe: Codeframe, *, embedder: Embedder, threshold: str | float = "auto",
                 min_confidence: float = 0.5, random_state: int = 0) -> None:
        self.codeframe = codeframe
        self.embedder = embedder
        self.threshold = threshold
        self.min_confidence = min_confidence
        self.random_state = random_state

    def _validate_params(self) -> None:
        if not isinstance(self.codeframe, Codeframe):
            raise InputError(f"codeframe must be a Codeframe, got {type(self.codeframe).__name__}.",
                             hint="Load one with Codeframe.from_yaml(path) or Codeframe.default().")
        if not callable(getattr(self.embedder, "embed", None)):
            raise InputError("embedder must have an embed(texts) method (see insight.registry.get_embedder).")
        if self.threshold != "auto" and not isinstance(self.threshold, (int, float)):
            raise InputError(f"threshold must be 'auto' or a number, got {self.threshold!r}.")
        if not 0.0 < float(self.min_confidence) < 1.0:
            raise InputError(f"min_confidence must lie in (0, 1), got {self.min_confidence!r}.")

    def _embed_prototypes(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of phrase and example texts, embedding only those not cached yet."""
        cache: dict[str, np.ndarray] = self.__dict__.setdefault("_prototype_cache", {})
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            vectors = np.asarray(self.embedder.embed(missing), dtype=np.float32)
            if vectors.ndim != 2 or vectors.shape[0] != len(missing):
                raise InputError(f"The embedder returned shape {vectors.shape} for {len(missing)} texts.")
            cache.update(zip(missing, normalize(vectors)))
        self.n_embedded_ += len(missing)
        return np.vstack([cache[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)

    def fit(self, texts: Sequence[str] | None = None, embeddings: np.ndarray | None = None) -> "CodeframeAssigner":
        """Embed the theme phrases and, given the corpus embeddings, calibrate every theme on them.

        Parameters
        ----------
        texts : sequence of str, optional
            The corpus sentences (only checked against ``embeddings``; never embedded).
        embeddings : array of shape (n, d), optional
            The corpus sentence embeddings used for calibration.

        Returns
        -------
        self
        """
        self._validate_params()
        self.n_embedded_ = 0
        self.codeframe_ = self.codeframe
        themes = self.codeframe_.themes
        self.prototype_means_ = normalize(np.vstack([self._embed_prototypes(theme_phrases(t)).mean(axis=0)
                                                     for t in themes]))
        background = list(self.codeframe_.background)
        self._background = self._embed_prototypes(background) if background else None
        k, d = self.prototype_means_.shape
        self.calibrated_ = np.zeros(k, dtype=bool)
        self.coef_, self.intercept_ = np.zeros((k, d)), np.zeros(k)
        self.prevalence_ = np.full(k, np.nan)
        self._threshold = float(UNCALIBRATED_THRESHOLD if self.threshold == "auto" else self.threshold)
        if embeddings is not None and self.threshold == "auto":
            X = self._check_embeddings(embeddings, texts)
            if X.shape[0] >= MIN_CALIBRATION_ROWS:
                self._calibrate(X)
        return self

    def _calibrate(self, X: np.ndarray) -> None:
        """Mixture pseudo-labels on neighbour-smoothed scores, then one self-trained logistic regression per theme."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.mixture import GaussianMixture
        from sklearn.neighbors import NearestNeighbors

        rng = np.random.default_rng(self.random_state)
        if X.shape[0] > MAX_CALIBRATION_ROWS:
            X = X[np.sort(rng.choice(X.shape[0], MAX_CALIBRATION_ROWS, replace=False))]
        scores = X @ self.prototype_means_.T
        neighbours = NearestNeighbors(n_neighbors=min(NEIGHBOURS + 1, X.shape[0]), metric="cosine",
                                      algorithm="brute").fit(X).kneighbors(X, return_distance=False)[:, 1:]
        smoothed = (1 - SMOOTHING) * scores + SMOOTHING * scores[neighbours].mean(axis=1)
        contender = smoothed >= smoothed.max(axis=1, keepdims=True) - RIVAL_MARGIN
        examples = [self._embed_prototypes(list(t.examples)) if t.examples else np.zeros((0, X.shape[1]), np.float32)
                    for t in self.codeframe_.themes]
        example_X = np.vstack(examples)
        example_owner = np.repeat(np.arange(len(examples)), [len(e) for e in examples])
        for j in range(scores.shape[1]):
            column = smoothed[:, j : j + 1].astype(np.float64)
            mixture = GaussianMixture(2, random_state=self.random_state,
                                      means_init=np.percentile(column, [25, 95])[:, None]).fit(column)
            high = int(np.argmax(mixture.means_.ravel()))
            labels = (mixture.predict_proba(column)[:, high] >= 0.5) & (scores[:, j] >= MIN_ON_TOPIC_SCORE) & contender[:, j]
            y = np.concatenate([labels, example_owner == j])
            if min(y.sum(), (~y).sum()) < 3:
                continue
            weight = np.concatenate([np.ones(len(labels)), np.full(len(example_owner), EXAMPLE_WEIGHT)])
            model = LogisticRegression(C=1.0, max_iter=2000).fit(np.vstack([X, example_X]), y, sample_weight=weight)
            self.coef_[j], self.intercept_[j] = model.coef_[0], model.intercept_[0]
            self.calibrated_[j] = True
            self.prevalence_[j] = float(labels.mean())
    def refit(self, codeframe: Codeframe, texts: Sequence[str] | None = None,
              embeddings: np.ndarray | None = None, *, min_confidence: float | None = None) -> "CodeframeAssigner":
        """A new assigner for an edited codeframe (or another ``min_confidence``), reusing this one's prototype cache.

        Only phrases and examples that changed are embedded; sentence embeddings are
        passed in again, never recomputed.
        """
        new = CodeframeAssigner(codeframe, embedder=self.embedder, threshold=self.threshold,
                                min_confidence=self.min_confidence if min_confidence is None else min_confidence,
                                random_state=self.random_state)
        new._prototype_cache = self.__dict__.get("_prototype_cache", {})
        return new.fit(texts, embeddings)

    def _check_embeddings(self, embeddings: np.ndarray, texts: Sequence[str] | None) -> np.ndarray:
        X = np.asarray(embeddings, dtype=np.float32)
        if X.ndim != 2 or (texts is not None and X.shape[0] != len(texts)):
            n = "?" if texts is None else len(texts)
            raise InputError(f"Embeddings have shape {X.shape} for {n} texts.",
                             hint="Pass one embedding row per text, in the same order.")
        if X.shape[1] != self.prototype_means_.shape[1]:
            raise InputError(
                f"Sentence embeddings have {X.shape[1]} dimensions but the theme vectors "
                f"{self.prototype_means_.shape[1]}.", hint="Embed sentences and themes with the same backend.")
        return normalize(X)

    def _confidences(self, X: np.ndarray) -> np.ndarray:
        cosine = X @ self.prototype_means_.T
        fixed = _sigmoid((cosine - self._threshold) / UNCALIBRATED_SCALE)
        learnt = _sigmoid(X @ self.coef_.T + self.intercept_)
        return np.where(self.calibrated_, learnt, fixed)

    def decision_function(self, embeddings: np.ndarray) -> np.ndarray:
        """Confidence of every theme for every sentence, shape (n_sentences, n_themes), in [0, 1]."""
        check_fitted(self, "prototype_means_")
        return self._confidences(self._check_embeddings(embeddings, None))

    @property
    def assigns_by_confidence(self) -> bool:
        """True: ``min_confidence`` decides which themes a sentence gets."""
        return True

    def to_codeframe(self) -> Codeframe:
        """The codeframe this assigner was fitted with (edits and their log included)."""
        check_fitted(self, "prototype_means_")
        return self.codeframe_

    def transform(self, texts: Sequence[str], embeddings: np.ndarray | None = None) -> pd.DataFrame:
        """Multi-label assignments: one row per (sentence, theme) whose confidence reaches ``min_confidence``.

        Parameters
        ----------
        texts : sequence of str
        embeddings : array (n, d), optional
            The sentences' embeddings; when None the texts are embedded (pass them
            to avoid that).

        Returns
        -------
        DataFrame with columns sentence_pos (row of ``texts``), theme_id (position
        in the codeframe), theme, theme_confidence in [0, 1]; sentences with no
        theme have no row.
        """
        check_fitted(self, "prototype_means_")
        if isinstance(texts, str):
            raise InputError("Expected a sequence of texts, got one string.", hint="Wrap it in a list.")
        if embeddings is None:
            embeddings = np.asarray(self.embedder.embed(list(texts)), dtype=np.float32)
        X = self._check_embeddings(embeddings, texts)
        confidence = self._confidences(X)
        keep = confidence >= self.min_confidence
        if self._background is not None:
            keep &= X @ self.prototype_means_.T >= (X @ self._background.T).max(axis=1, keepdims=True)
        rows, cols = np.nonzero(keep)
        names = np.array(self.codeframe_.names, dtype=object)
        out = pd.DataFrame({"sentence_pos": rows, Col.THEME_ID: cols, Col.THEME: names[cols],
                            Col.THEME_CONFIDENCE: confidence[rows, cols]})
        return out.sort_values(["sentence_pos", Col.THEME_CONFIDENCE], ascending=[True, False],
                               kind="stable").reset_index(drop=True)

    def themes_frame(self, texts: Sequence[str], assignments: pd.DataFrame) -> pd.DataFrame:
        """The themes table for ``assignments`` from :meth:`transform` on ``texts``.

        Columns theme_id, theme, parent, keywords, description, representatives (the
        3 most confident distinct sentences), n_sentences.
        """
        check_fitted(self, "prototype_means_")
        rows = []
        for theme_id, theme in enumerate(self.codeframe_.themes):
            mine = assignments[assignments[Col.THEME_ID] == theme_id].sort_values(
                Col.THEME_CONFIDENCE, ascending=False, kind="stable")
            reps = first_distinct(texts[i] for i in mine["sentence_pos"])
            rows.append({Col.THEME_ID: theme_id, Col.THEME: theme.name, Col.PARENT: theme.parent or "",
                         Col.KEYWORDS: list(theme.keywords), "description": theme.description,
                         "representatives": reps, "n_sentences": int(mine["sentence_pos"].nunique())})
        return pd.DataFrame(rows)
