"""Value parsing: dates, scores, churn flags and ids read from strings, every unreadable value counted."""
from __future__ import annotations

import re
from warnings import catch_warnings, simplefilter

import numpy as np
import pandas as pd

from insight.errors import InvalidValueError
from insight.ingest.common import _examples, _mapping_hint, _stringify
from insight.privacy import pseudonymise_ids


_DATETIME = "datetime64[us]"  # microseconds: placeholder dates such as 9999-12-31 stay in range


_NUMBER_WITH_UNIT = re.compile(
    r"^\s*([-+]?\d+(?:\.\d+)?)\s*(?:stars?|/\s*\d+|out of \d+|points?|%|\s*[-–:]\s*\D.*)?\s*$", re.IGNORECASE
)


def _parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Floats from strings ("4", "4.5", "4 stars", "4/5", "$1,200", "3,5", "10 - Extremely likely").

    Returns the numbers and a mask of non-empty values that are not (finite) numbers.
    """
    text = _stringify(values).str.strip()
    numbers = pd.to_numeric(text.where(text.ne("")), errors="coerce")
    failed = numbers.isna() & text.ne("")
    if failed.any():
        cleaned = text[failed].str.replace(r"^[$€£¥]\s*|\s*[$€£¥]$", "", regex=True).str.replace(" ", "")
        thousands = cleaned.str.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?")
        cleaned = cleaned.where(~thousands, cleaned.str.replace(",", ""))
        decimal_comma = cleaned.str.fullmatch(r"[-+]?\d+,\d+")
        cleaned = cleaned.where(~decimal_comma, cleaned.str.replace(",", "."))
        direct = pd.to_numeric(cleaned, errors="coerce")
        with_unit = pd.to_numeric(text[failed].str.extract(_NUMBER_WITH_UNIT, expand=False), errors="coerce")
        numbers[failed] = direct.fillna(with_unit)
    numbers = numbers.astype(float)
    numbers = numbers.where(np.isfinite(numbers))  # "inf", "1e999": no score, CLV or tenure is infinite
    return numbers, numbers.isna() & text.ne("")


def _parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series, str | None]:
    """Datetimes (timezone-aware values converted to naive UTC), a mask of unparseable non-empty values,
    and an example when every nn/nn/yyyy date fits both day-first and month-first (read month-first).
    """
    text = _stringify(values).str.strip()
    present = text.ne("")
    day_first, ambiguous = _day_first(text)
    with catch_warnings():
        simplefilter("ignore", UserWarning)  # "could not infer format": the retry below handles it
        dates = pd.to_datetime(text.where(present), errors="coerce", utc=True, dayfirst=day_first)
        retry = dates.isna() & present
        if retry.any():
            dates[retry] = pd.to_datetime(text[retry], errors="coerce", utc=True, format="mixed", dayfirst=day_first)
    dates = dates.dt.tz_localize(None).astype(_DATETIME)
    return dates, dates.isna() & present, ambiguous


_NUMERIC_DATE = r"^(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}(?!\d)"


def _day_first(text: pd.Series) -> tuple[bool, str | None]:
    """Whether a column's nn/nn/yyyy dates are day-first, decided for the whole column (never per value,
    which would read 03/04 month-first next to 13/04 day-first), and an example when both readings fit.
    """
    fields = text.str.extract(_NUMERIC_DATE).dropna().astype(int)
    over_12 = fields.gt(12).any()
    if over_12.any():
        return bool(over_12[0] and not over_12[1]), None
    differ = fields[0].ne(fields[1])
    return False, text[differ[differ].index[0]] if differ.any() else None


_YES = ("yes", "y", "true", "t", "1")
_NO = ("no", "n", "false", "f", "0")
_TRUE = (*_YES, "churned", "churn", "lost", "left", "cancelled", "canceled", "exited", "inactive")
_FALSE = (*_NO, "active", "retained", "stayed", "current", "not churned", "existing")
_MISSING = ("", "na", "n/a", "nan", "null", "none", "unknown", "-")


def _parse_flags(values: pd.Series, column: str, role: str, true: tuple[str, ...] = _YES,
                 false: tuple[str, ...] = _NO) -> pd.Series:
    """A yes/no column as Int64 0/1 (<NA> where empty); unreadable values are refused, naming a few."""
    text = _stringify(values).str.strip().str.lower()
    text = text.str.replace(r"^([01])\.0+$", r"\1", regex=True)
    mapping = {**{v: 1 for v in true}, **{v: 0 for v in false}}
    unknown = sorted(set(text[~text.isin(list(mapping) + list(_MISSING))]))
    if unknown:
        raise InvalidValueError(
            f"Column '{column}' ({role}) has values insight cannot read as {role}/not {role}: "
            f"{_examples(pd.Series(unknown), 10)}{' ...' if len(unknown) > 10 else ''}.",
            hint=f"Accepted (any case): {role} = {', '.join(true)}; not {role} = {', '.join(false)}; "
            f"empty means unknown. Or map another column {_mapping_hint(role, 'customers')}.",
        )
    return text.map(mapping).astype("Int64")


def _numeric_role(values: pd.Series, column: str, role: str, low: float | None, high: float | None) -> pd.Series:
    """Numbers of a customer column, refusing text and values outside [low, high]."""
    numbers, bad = _parse_numbers(values)
    if bad.any():
        examples = _examples(values[bad], 5)
        raise InvalidValueError(
            f"Column '{column}' ({role}) has {int(bad.sum()):,} non-numeric values, e.g. {examples}.",
            hint=f"Fix them, or map another column {_mapping_hint(role, 'customers')}.",
        )
    outside = (numbers < low if low is not None else False) | (numbers > high if high is not None else False)
    if np.any(outside):
        span = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
        examples = ", ".join(f"{v:g}" for v in numbers[outside].unique()[:5])
        raise InvalidValueError(
            f"Column '{column}' ({role}) must be {span}; {int(np.sum(outside)):,} rows are not, e.g. {examples}.",
        )
    return numbers


def _strings(values: pd.Series) -> pd.Series:
    """Stripped strings, <NA> where empty."""
    text = _stringify(values).str.strip()
    return text.where(text.ne("")).astype("string")


def _role_strings(frame: pd.DataFrame, column: str | None) -> pd.Series:
    """A role's column as stripped strings, all <NA> when the role has no column."""
    return _strings(frame[column]) if column else pd.Series(pd.NA, index=frame.index, dtype="string")


def _role_dates(frame: pd.DataFrame, column: str | None, warnings: list[str], *, named: bool = False) -> pd.Series:
    """A role's column as dates (NaT when absent); unreadable values are counted in ``warnings``.

    InvalidValueError when the user ``named`` the column for the role and not one of its values is a date.
    """
    if not column:
        return pd.Series(pd.NaT, index=frame.index, dtype=_DATETIME)
    dates, bad, ambiguous = _parse_dates(frame[column])
    _check_named(bad, frame[column], column, "date", "dates", named)
    _count_bad(bad, frame[column], column, "dates (kept, date left empty)", warnings)
    if ambiguous:
        warnings.append(
            f"Every date of '{column}' reads as either day-first or month-first (e.g. {ambiguous!r}); "
            "read them month-first (MM/DD/YYYY). Use YYYY-MM-DD dates if they are day-first."
        )
    return dates


SCORE_RANGE = (0.0, 10.0)
"""Scores a feedback file may hold: stars (1-5), CSAT (1-5, 1-7) and NPS (0-10) answers."""


def _role_scores(frame: pd.DataFrame, column: str | None, warnings: list[str], *, named: bool = False) -> pd.Series:
    """A role's column as scores in :data:`SCORE_RANGE` (NaN when absent); text and values outside the
    range are left empty and counted in ``warnings``; InvalidValueError as for :func:`_role_dates`."""
    if not column:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    scores, bad = _parse_numbers(frame[column])
    bad |= scores.lt(SCORE_RANGE[0]) | scores.gt(SCORE_RANGE[1])
    what = f"scores from {SCORE_RANGE[0]:g} to {SCORE_RANGE[1]:g}"
    _check_named(bad, frame[column], column, "score", what, named)
    _count_bad(bad, frame[column], column, f"{what} (kept, score left empty)", warnings)
    return scores.mask(bad)


def _check_named(bad: pd.Series, raw: pd.Series, column: str, role: str, what: str, named: bool) -> None:
    """InvalidValueError when the user named ``column`` for ``role`` but none of its values fits
    (``--date-col comment``): the run would go on without the role and no one would notice."""
    filled = _stringify(raw).str.strip().ne("")
    if named and filled.any() and bad[filled].all():
        raise InvalidValueError(
            f"The {role} column '{column}' holds no {what}: none of its {int(filled.sum()):,} values reads as one, "
            f"e.g. {_examples(raw[filled], 2)}.",
            hint=f"Name the column that holds the {role} {_mapping_hint(role)}.",
        )


def _role_ids(frame: pd.DataFrame, column: str | None, what: str, warnings: list[str]) -> pd.Series:
    """A role's id column as stripped strings, ids that are personal data pseudonymised (see insight.privacy)."""
    ids, n_personal = pseudonymise_ids(_role_strings(frame, column))
    if n_personal:
        warnings.append(
            f"{n_personal:,} {what} of '{column}' are e-mail addresses, phone numbers or other personal data; "
            "they are replaced by pseudonyms (id-...), the same in every file and run on this machine."
        )
    return ids


def _count_bad(bad: pd.Series, raw: pd.Series, column: str, what: str, warnings: list[str]) -> None:
    if bad.any():
        examples = _examples(raw[bad], 3)
        warnings.append(f"{int(bad.sum()):,} values of '{column}' could not be read as {what}, e.g. {examples}.")
