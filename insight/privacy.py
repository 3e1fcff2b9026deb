"""Personal data in what insight stores or shows: every user string redacted, personal ids pseudonymised.

The text stage redacts the comments. Everything else a user supplies (the file's other
columns, column and file names, channel, plan and segment values, codeframe texts, the
values quoted in messages) passes through :func:`redact` before it is stored or shown:
ingest redacts it as it reads, and the run store, ``summary.json`` and error messages
redact once more on the way out, so nothing that escaped a stage reaches a disk.

Ids are join keys and are not redacted. An id that is itself personal data (an e-mail
address, a phone number, a card number or an IBAN) is replaced at ingest by a pseudonym,
``id-`` and 16 hex digits of an HMAC-SHA256 of the id as the join compares it (trimmed,
case-folded): the same id gets the same pseudonym in the feedback file, the customer
table, every export and every run on the machine, so joins keep working. The key is
``$INSIGHT_PSEUDONYM_KEY`` or a random key created once in the insight cache folder
(``pseudonym.key``); without the key a pseudonym cannot be traced back to its id.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insight.backends import default_cache_dir
from insight.codeframe import Codeframe, CodeframeTheme
from insight.errors import InputError
from insight.join import normalise_ids
from insight.pii import redact

PSEUDONYM_KEY_ENV = "INSIGHT_PSEUDONYM_KEY"
PSEUDONYM_PREFIX = "id-"
_KEY_FILE = "pseudonym.key"


def redact_tree(value: Any) -> Any:
    """A JSON/YAML-like structure with every string (keys included) passed through :func:`redact`."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_tree(k): redact_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [redact_tree(v) for v in value]
    return value


def redact_frame(frame: pd.DataFrame, keep: Collection[str] = ()) -> pd.DataFrame:
    """``frame`` with its text cells (also inside list cells) and column names redacted, except the ``keep`` columns.

    For what is stored or shown as read: a saved run's tables carry the user's other
    columns and the raw comment, and the upload preview shows the file as read. Each
    distinct value is redacted once; ``frame`` itself is never changed.
    """
    seen: dict[str, str] = {}

    def cell(value: Any) -> Any:
        if isinstance(value, str):
            if value not in seen:
                seen[value] = redact(value)
            return seen[value]
        if isinstance(value, (list, tuple, np.ndarray)):
            items = [cell(v) for v in value]
            return value if all(a is b or a == b for a, b in zip(items, value)) else items
        return value

    out = frame
    for column in frame.columns:
        values = frame[column]
        if column in keep or values.dtype.kind not in "OSU":
            continue
        redacted = values.astype(object).map(cell)
        if any(a is not b for a, b in zip(redacted, values.astype(object))):
            out = out.copy() if out is frame else out
            out[column] = redacted if values.dtype == object else redacted.astype(values.dtype, errors="ignore")
    names = [c if c in keep or not isinstance(c, str) else redact(c) for c in frame.columns]
    return out.set_axis(names, axis=1) if names != list(frame.columns) else out


def redact_codeframe(codeframe: Any) -> Any:
    """The codeframe with personal data redacted in every text it holds (names, descriptions, keywords,
    examples, background sentences and the edit log): its themes name output columns and its texts are
    stored with the run. The same object when there is nothing to redact."""
    redacted = Codeframe(
        tuple(CodeframeTheme.from_dict(redact_tree(theme.to_dict())) for theme in codeframe.themes),
        tuple(redact_tree(dict(entry)) for entry in codeframe.log),
        tuple(redact(text) for text in codeframe.background),
    )
    return codeframe if redacted == codeframe else redacted


def pseudonym(value: str, key: bytes) -> str:
    """``id-`` and the first 16 hex digits of HMAC-SHA256(key, value)."""
    return PSEUDONYM_PREFIX + hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def pseudonym_key() -> bytes:
    """``$INSIGHT_PSEUDONYM_KEY``, else the installation's key (created on first use, readable by its owner only).

    Raises
    ------
    InputError
        The key file can neither be read nor created.
    """
    if os.environ.get(PSEUDONYM_KEY_ENV):
        return os.environ[PSEUDONYM_KEY_ENV].encode("utf-8")
    path = Path(default_cache_dir()) / _KEY_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    except OSError as exc:
        raise InputError(
            f"Cannot create the pseudonym key {path}: {exc.strerror or exc}.",
            hint=f"Set {PSEUDONYM_KEY_ENV} or INSIGHT_CACHE_DIR to a writable folder.",
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_hex(32).encode("ascii"))
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise InputError(f"Cannot read the pseudonym key {path}: {exc.strerror or exc}.") from None
    if not key:  # another process is writing it this very moment, or it was emptied
        raise InputError(f"The pseudonym key {path} is empty.", hint="Delete it; insight creates a new one.")
    return key


def pseudonymise_ids(ids: pd.Series) -> tuple[pd.Series, int]:
    """Ids that are personal data replaced by their pseudonyms, and how many distinct ids were replaced.

    Decided on the id as the join compares it (:func:`insight.join.normalise_ids`), so an id
    spelt differently in two files gets the same pseudonym. Ids made only of digits lose their
    leading zeros there and are never read as phone numbers: they stay as they are.
    """
    normalised = normalise_ids(ids)
    personal = {v for v in normalised.dropna().unique() if redact(v) != v}
    if not personal:
        return ids, 0
    key = pseudonym_key()
    mapping = {v: pseudonym(v, key) for v in personal}
    hit = normalised.isin(personal).fillna(False).to_numpy(dtype=bool)
    out = ids.copy()
    out[hit] = normalised[hit].map(mapping)
    return out, len(personal)
