"""Join comments (and their themes) to the customer table.

The driver statistics compare customers who mention a theme with everyone else,
so the join works at the customer level: one row per customer of the customer
table, with how many of their comments mention each theme. Customers without
comments stay in as the unexposed baseline. Comments whose id matches no
customer are counted and listed (``unmatched_ids``), never silently dropped.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from insight.errors import InvalidValueError, MissingColumnError
from insight.schemas import UNCLASSIFIED, Col

NEGATIVE = "negative"
"""Column of ``comment_themes``: True when the theme's sentences in the comment were negative."""
N_COMMENTS = "n_comments"
_MISSING_TOKENS = ("", "nan", "none", "null", "na", "n/a", "<na>")


def normalise_ids(values: pd.Series) -> pd.Series:
    """Customer ids in one comparable spelling.

    Ids arrive as ints from one file, floats from a spreadsheet (``123.0``) and
    zero-padded strings from another (``"00123"``); all three must meet. Values
    become strings, stripped and case-folded; purely numeric ids lose leading
    zeros and a trailing ``.0``. Empty and "nan"-like values become ``<NA>``.

    Parameters
    ----------
    values : pandas.Series
        Raw ids of any dtype.

    Returns
    -------
    pandas.Series
        ``string`` dtype, same index.

    Examples
    --------
    >>> normalise_ids(pd.Series(["00123", 123.0, " AB-7 ", None])).tolist()
    ['123', '123', 'ab-7', <NA>]
    """
    s = pd.Series(values, copy=False)
    out = s.astype("string").str.strip().str.casefold()
    out = out.mask(out.isin(_MISSING_TOKENS) | s.isna())
    numeric = out.str.fullmatch(r"\d+(?:\.0*)?").fillna(False).astype(bool)
    stripped = out.str.replace(r"\.0*$", "", regex=True).str.lstrip("0").replace("", "0")
    return out.where(~numeric, stripped)


@dataclass(frozen=True)
class JoinResult:
    """Customers with their theme exposure.

    Attributes
    ----------
    customers : one row per customer (customer table columns + ``n_comments``),
        index = normalised ``customer_id``.
    mentions : same index, one int column per theme: number of the customer's
        comments that mention it.
    negative_mentions : same shape: comments where the theme was negative.
    match_rate : share of comments with a customer id whose id matched a customer.
    n_comments, n_comments_matched, n_comments_without_id : comment counts.
    unmatched_ids : ``customer_id`` (as given) and ``n_comments`` of ids that
        matched no customer, most frequent first.
    themes : theme names, most mentioned first.
    n_customers_without_id : customer rows dropped because their id was empty.
    """

    customers: pd.DataFrame
    mentions: pd.DataFrame
    negative_mentions: pd.DataFrame
    match_rate: float
    n_comments: int
    n_comments_matched: int
    n_comments_without_id: int
    unmatched_ids: pd.DataFrame
    themes: tuple[str, ...]
    n_customers_without_id: int = 0


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnError(
            f"The {what} has no column {', '.join(map(repr, missing))} (found: {', '.join(map(str, frame.columns))}).",
            hint="Map the column in the column-mapping step or rename it.",
        )


def _customer_table(customers: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    _require(customers, (Col.CUSTOMER_ID,), "customer table")
    ids = normalise_ids(customers[Col.CUSTOMER_ID])
    keep = ids.notna().to_numpy()
    table = customers.loc[keep].drop(columns=[Col.CUSTOMER_ID])
    table.index = pd.Index(ids[keep].to_numpy(dtype=object), name=Col.CUSTOMER_ID)
    duplicated = table.index[table.index.duplicated()].unique()
    if len(duplicated):
        raise InvalidValueError(
            f"{len(duplicated)} customer ids occur more than once in the customer table after normalising "
            f"case, spaces and leading zeros (e.g. {', '.join(map(repr, duplicated[:5]))}).",
            hint="Keep one row per customer (ingest_customers resolves exact duplicates).",
        )
    return table, int((~keep).sum())


def _exposure_counts(pairs: pd.DataFrame, index: pd.Index, themes: list[str]) -> pd.DataFrame:
    """Customers x themes: number of distinct comments (rows of ``pairs``) per cell."""
    rows = index.get_indexer(pairs["_cid"])
    cols = pd.Index(themes).get_indexer(pairs[Col.THEME])
    flat = np.bincount(rows * len(themes) + cols, minlength=len(index) * len(themes))
    return pd.DataFrame(flat.reshape(len(index), len(themes)), index=index, columns=themes, dtype=np.int64)


def join_customers(comments: pd.DataFrame, comment_themes: pd.DataFrame, customers: pd.DataFrame) -> JoinResult:
    """Customer-level theme exposure, joined by normalised customer id.

    Parameters
    ----------
    comments : DataFrame
        ``comment_id``, ``customer_id`` (other columns are ignored). A comment
        without a customer id is counted in ``n_comments_without_id``.
    comment_themes : DataFrame
        One row per (comment, theme): ``comment_id``, ``theme`` and
        ``negative`` (bool; optional, False when absent).
    customers : DataFrame
        The ingested customer table (canonical columns, ``customer_id`` required).

    Returns
    -------
    JoinResult

    Raises
    ------
    MissingColumnError
        A required column is absent.
    InvalidValueError
        Two customer rows share an id after normalisation.
    """
    _require(comments, (Col.COMMENT_ID,), "feedback table")
    _require(comment_themes, (Col.COMMENT_ID, Col.THEME), "comment-theme table")
    table, n_customers_without_id = _customer_table(customers)

    raw_ids = comments[Col.CUSTOMER_ID] if Col.CUSTOMER_ID in comments else pd.Series(pd.NA, index=comments.index)
    cids = normalise_ids(raw_ids)
    has_id = cids.notna().to_numpy()
    matched = has_id & cids.isin(table.index).to_numpy()
    n_with_id = int(has_id.sum())

    unmatched_mask = has_id & ~matched
    unmatched = (
        pd.DataFrame({"_cid": cids[unmatched_mask].to_numpy(), Col.CUSTOMER_ID: raw_ids[unmatched_mask].to_numpy()})
        .groupby("_cid", sort=False)
        .agg(**{Col.CUSTOMER_ID: (Col.CUSTOMER_ID, "first"), N_COMMENTS: (Col.CUSTOMER_ID, "size")})
        .sort_values(N_COMMENTS, ascending=False, kind="stable")
        .reset_index(drop=True)
    )

    comment_customer = pd.DataFrame(
        {Col.COMMENT_ID: comments[Col.COMMENT_ID].to_numpy()[matched], "_cid": cids[matched].to_numpy(dtype=object)}
    ).drop_duplicates(Col.COMMENT_ID)
    ct = comment_themes[comment_themes[Col.THEME].notna() & (comment_themes[Col.THEME] != UNCLASSIFIED)]
    negative = ct[NEGATIVE].fillna(False).astype(bool) if NEGATIVE in ct else pd.Series(False, index=ct.index)
    pairs = (
        pd.DataFrame({Col.COMMENT_ID: ct[Col.COMMENT_ID].to_numpy(), Col.THEME: ct[Col.THEME].astype(str).to_numpy(),
                      NEGATIVE: negative.to_numpy()})
        .groupby([Col.COMMENT_ID, Col.THEME], sort=False, as_index=False)[NEGATIVE]
        .any()
        .merge(comment_customer, on=Col.COMMENT_ID, how="inner")
    )
    totals = pairs[Col.THEME].value_counts()
    all_themes = pd.Index(ct[Col.THEME].astype(str).unique())
    themes = list(totals.index) + sorted(set(all_themes) - set(totals.index))

    out = table.copy()
    out[N_COMMENTS] = comment_customer["_cid"].value_counts().reindex(out.index, fill_value=0).astype(np.int64)
    return JoinResult(
        customers=out,
        mentions=_exposure_counts(pairs, out.index, themes),
        negative_mentions=_exposure_counts(pairs[pairs[NEGATIVE]], out.index, themes),
        match_rate=float(matched.sum() / n_with_id) if n_with_id else 0.0,
        n_comments=int(len(comments)),
        n_comments_matched=int(matched.sum()),
        n_comments_without_id=int(len(comments) - n_with_id),
        unmatched_ids=unmatched,
        themes=tuple(themes),
        n_customers_without_id=n_customers_without_id,
    )
