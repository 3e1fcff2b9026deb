"""Fast mode: static token vectors distilled from the installed MiniLM.

A sentence vector here is the normalised sum of per-word-piece vectors that
``models/build_static.py`` distilled offline (model2vec, SIF-weighted) from the
same hash-verified all-MiniLM-L6-v2 the default uses, then centred and mapped
onto the default's sentence vectors of feedback sentences; the artefact ships in
``models/embed/static.v1`` and both of its files are sha256-checked before
loading. Encoding is a lookup of each distinct word and sparse matrix products:
no torch, no sentence-transformers, no download, tens of thousands of sentences
per second on two cores, where the default encodes a few hundred. Fast mode's
sentiment head (:class:`insight.sentiment.StaticSentimentModel`) reads the same
vectors and word pieces, so no sentence is re-encoded with MiniLM.
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insight.backends import _report, as_text_list, check_sha256
from insight.config import EmbedConfig
from insight.emoji import emojis_as_words
from insight.errors import ModelIntegrityError
from insight.types import Progress

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
STATIC = "static.v1"
NAMES = (STATIC, "fast")  # its registry names; "fast" is the command line's
STATIC_DIR = MODELS_DIR / "embed" / STATIC
STATIC_SHA256 = {
    "model.safetensors": "e29a291e0b16c27da8808e539dae400750c2791cb80fe529ad26b6bc95957559",
    "tokenizer.json": "dd33465341c98889c3338356b6200c8b232b89af5f1b7aa8e6ee1d4d7a699631",
}
RESTORE = "Restore it from the repository (git checkout -- models/) or rebuild it with models/build_static.py."


# BERT's pre-tokenizer: runs of word characters, and every other non-space character on its own
_PRETOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class StaticVectors:
    """A loaded static model: the word-piece tokenizer, its vocabulary in id order, one float32
    row per token id (the unknown piece's row is zero, so it adds nothing to a sum) and the
    per-piece columns of the sentiment cues (:func:`cue_table`)."""

    tokenizer: Any
    vocabulary: pd.Index
    vectors: np.ndarray
    cues: np.ndarray

    def piece_counts(self, texts: Sequence[str]) -> Any:
        """Sparse (len(texts), vocabulary) counts of each text's word pieces.

        The same counts as tokenizing each whole text, at a fraction of the cost:
        feedback repeats its words, so each distinct whitespace-separated chunk is
        pre-tokenized once as BERT does (emojis read as words first, as the
        default encoder does), and each distinct pre-token is looked up once: an
        ASCII word that is itself in the vocabulary is its own piece (WordPiece
        keeps a whole word it knows), any other goes through the tokenizer.
        """
        chunks, text_chunks = _distinct([emojis_as_words(t).lower().split() for t in texts])
        pretokens, chunk_pretokens = _distinct([_PRETOKEN.findall(c) for c in chunks])
        known = self.vocabulary.get_indexer(pretokens)
        direct = (known >= 0) & np.fromiter((p.isascii() for p in pretokens), bool, count=len(pretokens))
        rest = np.flatnonzero(~direct)
        rest_ids = [e.ids for e in self.tokenizer.encode_batch([pretokens[i] for i in rest], add_special_tokens=False)]
        lengths = np.ones(len(pretokens), dtype=np.int64)
        lengths[rest] = [len(ids) for ids in rest_ids]
        starts = np.concatenate([[0], np.cumsum(lengths)])
        columns = np.empty(starts[-1], dtype=np.int64)
        columns[starts[:-1][direct]] = known[direct]
        in_rest = np.ones(len(columns), bool)
        in_rest[starts[:-1][direct]] = False
        columns[in_rest] = np.fromiter(itertools.chain.from_iterable(rest_ids), dtype=np.int64, count=int(in_rest.sum()))
        pieces = _rows(columns, starts, len(self.vocabulary))
        return text_chunks @ (chunk_pretokens @ pieces)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length sum of each text's word-piece vectors, float32 (zero for a text with no known piece)."""
        return unit_rows(np.asarray(self.piece_counts(texts) @ self.vectors, dtype=np.float32))


def unit_rows(rows: np.ndarray) -> np.ndarray:
    """``rows`` scaled to unit length in place; all-zero rows stay zero."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    np.divide(rows, norms, out=rows, where=norms > 0)
    return rows


def _rows(columns: np.ndarray, starts: np.ndarray, width: int) -> Any:
    """A sparse count matrix whose row i has a 1 in each of ``columns[starts[i]:starts[i + 1]]``."""
    from scipy.sparse import csr_matrix

    return csr_matrix((np.ones(len(columns), np.float32), columns, starts), shape=(len(starts) - 1, width))


def _distinct(groups: list[list[str]]) -> tuple[list[str], Any]:
    """The distinct strings of ``groups`` and a sparse (len(groups), n_distinct) count matrix of them."""
    starts = np.zeros(len(groups) + 1, dtype=np.int64)
    np.cumsum([len(g) for g in groups], out=starts[1:])
    codes, uniques = pd.factorize(np.fromiter(itertools.chain.from_iterable(groups), dtype=object, count=starts[-1]))
    return list(uniques), _rows(codes, starts, len(uniques))


def cue_table(vocabulary: pd.Index) -> np.ndarray:
    """Per-piece columns summed into the cues: VADER valence (whole-word pieces), its
    positive and negative parts, "!", "?" and 1 (the piece count)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    lexicon = SentimentIntensityAnalyzer().lexicon
    valence = np.array([lexicon.get(token, 0.0) for token in vocabulary], dtype=np.float32)
    return np.stack([valence, np.maximum(valence, 0), np.maximum(-valence, 0), vocabulary == "!", vocabulary == "?",
                     np.ones(len(vocabulary))], axis=1).astype(np.float32)


def load_static_from(directory: Path, expected: dict[str, str]) -> StaticVectors:
    """Check every file of a static model against ``expected`` sha256s, then load it (numpy and tokenizers only)."""
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    for name, digest in expected.items():
        check_sha256(directory / name, digest, f"The fast-mode model file {name}", hint=RESTORE)
    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    vectors = load_file(str(directory / "model.safetensors"))["embeddings"].astype(np.float32)
    unk = json.loads(tokenizer.to_str())["model"].get("unk_token")
    if unk is not None and tokenizer.token_to_id(unk) is not None:
        vectors[tokenizer.token_to_id(unk)] = 0.0
    by_id = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    if [i for _, i in by_id] != list(range(len(vectors))):
        raise ModelIntegrityError(f"The fast-mode tokenizer in {directory} does not match its {len(vectors)} vectors.",
                                  hint=RESTORE)
    vocabulary = pd.Index([token for token, _ in by_id])
    return StaticVectors(tokenizer, vocabulary, vectors, cue_table(vocabulary))


@functools.cache
def load_static() -> StaticVectors:
    """The shipped static model, verified and loaded once per process."""
    return load_static_from(STATIC_DIR, STATIC_SHA256)


def canonical(backend: str) -> str:
    """The registry name a run records: ``fast`` is ``static.v1``."""
    return STATIC if backend in NAMES else backend


def choose_backend(config: EmbedConfig, n_comments: int) -> tuple[EmbedConfig, str | None]:
    """``config`` with fast mode chosen for an input above ``config.fast_above`` comments, and the note saying so.

    Only the default backend is replaced: any other was chosen on purpose. The
    alias ``fast`` becomes ``static.v1``, the name the run records.
    """
    if config.backend in NAMES:
        return dataclasses.replace(config, backend=canonical(config.backend)), None
    if config.backend != EmbedConfig().backend or not 0 < config.fast_above < n_comments:
        return config, None
    note = (f"{n_comments:,} comments (more than embed.fast_above = {config.fast_above:,}): using the fast static "
            f"embedder ({STATIC}); name the embedder {config.backend} to keep the default")
    return dataclasses.replace(config, backend=STATIC), note


class StaticEmbedder:
    """The fast-mode ``Embedder`` (registry name ``static.v1``, alias ``fast``).

    Not cached on disk (``cacheable = False``): at tens of thousands of sentences
    per second, writing 1.5 KB per sentence to the cache would cost more than
    encoding it again.

    Parameters
    ----------
    batch_size : sentences per progress report (each batch looks its distinct words up once).
    """

    name = STATIC
    cacheable = False

    def __init__(self, *, batch_size: int = 16384) -> None:
        self.batch_size = batch_size

    @property
    def dim(self) -> int:
        return load_static().vectors.shape[1]

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        """Encode ``texts``; returns float32 (n, dim) unit-length rows (zero where a text has no known word piece)."""
        texts = as_text_list(texts)
        model = load_static()
        out = np.zeros((len(texts), model.vectors.shape[1]), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            chunk = texts[start:start + self.batch_size]
            out[start:start + len(chunk)] = model.embed(chunk)
            _report(progress, start + len(chunk), len(texts))
        return out
