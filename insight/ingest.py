"""Ingest: read the user's feedback and customer tables and account for every row.

The stage has three layers, each usable on its own:

1. :func:`read_table` turns a file (path, bytes or upload) into a frame of
   strings plus a :class:`TableMeta` saying what was found: format, encoding,
   delimiter, survey-tool header rows that were skipped, the export layout.
   Everything is read as text so nothing is silently coerced ("NA" stays a
   comment, "007" stays an id).
2. :func:`detect_roles` maps columns to roles (comment text, customer id, date,
   score, ...) from their names and, where names say nothing, their content.
3. :func:`ingest_feedback` / :func:`ingest_customers` build the canonical
   columns (:class:`insight.schemas.Col`) and split the rows into kept and
   dropped-with-a-reason, so that ``rows_in == rows_kept + rows_dropped``.

``row_id`` is the 0-based position of a data row after the header rows
(blank lines of a text file are not rows). Feedback drops only what cannot be analysed (empty text, repeated
rows, lines with more fields than the header); a bad
date or score keeps the row with an empty value and is counted in the
warnings. Customer tables are stricter, because their values are outcomes:
unknown churn spellings, NPS outside 0-10 or negative CLV raise
:class:`~insight.errors.InvalidValueError` (an NPS that is not a whole number
keeps the row with NPS empty, counted in the warnings).
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from warnings import catch_warnings, simplefilter

import numpy as np
import pandas as pd

from insight.config import IngestConfig
from insight.errors import (
    AmbiguousColumnError,
    EmptyFileError,
    FileTooLargeError,
    InvalidValueError,
    MissingColumnError,
    SchemaValidationError,
    TooManyRowsError,
    UnreadableFileError,
    UnsafeInputError,
    UnsupportedFormatError,
)
from insight.files import check_size, read_regular_file
from insight.privacy import pseudonymise_ids, redact, redact_frame
from insight.schemas import Col, make_unique
from insight.text import clean_text

__all__ = [
    "CUSTOMER_ROLES",
    "DROP_CONFLICTING_ID",
    "DROP_DUPLICATE",
    "DROP_DUPLICATE_ID",
    "DROP_EMPTY_TEXT",
    "DROP_MALFORMED",
    "DROP_MISSING_ID",
    "DROP_UNCACHED_FORMULA",
    "FEEDBACK_ROLES",
    "SUPPORTED_FORMATS",
    "IngestResult",
    "RoleDetection",
    "TableMeta",
    "detect_roles",
    "ingest_customers",
    "ingest_feedback",
    "read_table",
]

FEEDBACK_ROLES = ("text", "customer_id", "comment_id", "date", "score", "channel", "title")
CUSTOMER_ROLES = (
    "customer_id",
    "churned",
    "nps",
    "clv",
    "monthly_revenue",
    "tenure_months",
    "plan",
    "region",
    "signup_date",
    "churn_date",
)
SUPPORTED_FORMATS = ("csv", "tsv", "xlsx", "json", "jsonl", "parquet")

# Drop reasons: exact strings, written to dropped.csv and shown in the app.
DROP_EMPTY_TEXT = "empty text"
DROP_DUPLICATE = "duplicate"
DROP_MISSING_ID = "missing customer id"
DROP_DUPLICATE_ID = "duplicate customer id"
DROP_CONFLICTING_ID = "conflicting duplicate customer id"
DROP_UNCACHED_FORMULA = "formula read as empty"
DROP_MALFORMED = "malformed line"

_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_UNSAFE_EXTENSIONS = frozenset(
    ".pkl .pickle .p .joblib .npy .npz .dill .sav .exe .dll .so .dylib .com .bat .cmd .msi .ps1 .scr .jar .bin".split()
)
_UNSAFE_MAGIC = (
    (b"\x93NUMPY", "a NumPy array file"),
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "an ELF executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "a Java class or Mach-O executable"),
)
_DELIMITERS = (",", ";", "\t", "|")
_NO_DELIMITER = "\x1f"  # a one-column text file: split on a byte that never occurs
_SURVEY_LAYOUTS = frozenset({"qualtrics", "surveymonkey", "wide_survey"})
_LAYOUT_CHANNEL = {"appstore": "review", "helpdesk": "ticket"}
_CLI_FLAGS = {"text": "--text-col", "date": "--date-col", "score": "--score-col"}
_ATTR_LAYOUT = "insight.layout"
_ATTR_LABELS = "insight.labels"
_ATTR_UNCACHED = "insight.uncached_formulas"  # column -> rows whose Excel formula had no cached value
_ATTR_MALFORMED = "insight.malformed_rows"  # rows of a text file with more fields than the header
# marks of such cells while reading: NUL is removed from decoded text and cannot occur in a workbook
_UNCACHED = "\x00uncached formula"
_MALFORMED = "\x00malformed line"
_SAMPLE = 2000
_MAX_BYTES = "IngestConfig.max_bytes"
_DATETIME = "datetime64[us]"  # microseconds: placeholder dates such as 9999-12-31 stay in range


# ----------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class TableMeta:
    """What :func:`read_table` found in a file.

    Attributes
    ----------
    format : "csv" | "tsv" | "xlsx" | "json" | "jsonl" | "parquet" ("dataframe" when a frame was passed).
    encoding : text encoding used, None for binary formats.
    delimiter : field separator of a delimited text file, else None.
    header_rows_skipped : extra header rows of survey tools that were skipped
        (2 for Qualtrics: question text and import ids; 1 for SurveyMonkey's answer labels).
    layout : "plain" | "qualtrics" | "surveymonkey" | "helpdesk" | "appstore" | "wide_survey".
    n_rows : data rows after the header rows.
    warnings : everything the reader (and later ingest) noticed but did not refuse.
    """

    format: str
    encoding: str | None
    delimiter: str | None
    header_rows_skipped: int
    layout: str
    n_rows: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleDetection:
    """Columns found for each role.

    Attributes
    ----------
    roles : role -> chosen column, None when no column fits.
    candidates : role -> plausible columns, best first (what the app offers in its drop-downs).
    text_columns : the open-text columns comments are taken from; several for a wide survey.
    notes : columns named like a role whose values do not fit it, so the role was left without
        a column, and why (ingest adds them to the warnings: no role is dropped silently).
    """

    roles: dict[str, str | None]
    candidates: dict[str, tuple[str, ...]]
    text_columns: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class IngestResult:
    """Kept rows, dropped rows with reasons, and how columns were mapped.

    For a wide survey file (several open-text columns) the unit of accounting
    is one (row, text column) cell: ``rows_in`` is input rows x text columns,
    and ``dropped`` carries a ``source_column``. ``rows_in == rows_kept +
    rows_dropped`` holds in every case and is checked on construction.

    Attributes
    ----------
    data : kept rows: canonical columns first, then the user's other columns.
    dropped : one row per dropped row: ``row_id``, ``reason`` (+ ``source_column`` for wide files).
    roles : role -> column used (None when absent).
    meta : what the reader found, with ingest's warnings appended.
    rows_in : rows (or row x text-column cells) read.
    kind : "feedback" or "customers".
    """

    data: pd.DataFrame
    dropped: pd.DataFrame
    roles: dict[str, Any]
    meta: TableMeta
    rows_in: int
    kind: str

    def __post_init__(self) -> None:
        if self.rows_in != self.rows_kept + self.rows_dropped:
            raise SchemaValidationError(
                f"Row accounting broken: rows_in={self.rows_in} but kept={self.rows_kept} + "
                f"dropped={self.rows_dropped}. This is a bug in insight.ingest."
            )

    @property
    def rows_kept(self) -> int:
        return len(self.data)

    @property
    def rows_dropped(self) -> int:
        return len(self.dropped)

    def accounting(self) -> dict[str, Any]:
        """Row counts and drops per reason (goes into summary.json)."""
        by_reason = self.dropped[Col.REASON].value_counts(sort=True)
        return {
            "rows_in": self.rows_in,
            "rows_kept": self.rows_kept,
            "rows_dropped": self.rows_dropped,
            "dropped_by_reason": {str(k): int(v) for k, v in by_reason.items()},
        }


# ----------------------------------------------------------------------------------------------
# reading


def read_table(
    source: Any, *, name: str | None = None, config: IngestConfig = IngestConfig()
) -> tuple[pd.DataFrame, TableMeta]:
    """Read a feedback or customer file into a frame of strings.

    Parameters
    ----------
    source : str, Path, bytes or binary file-like
        A path, raw bytes, or an upload (anything with ``getvalue()`` or ``read()``,
        such as Streamlit's ``UploadedFile``; its ``.name`` gives the format).
    name : str, optional
        File name used for the format when ``source`` has none (bytes).
    config : IngestConfig
        Size and row limits.

    Returns
    -------
    frame : DataFrame
        One column per input column (names made unique), every cell a string,
        empty cells as "". ``frame.attrs`` holds the layout and, for Qualtrics,
        the question text of each column (used by :func:`detect_roles`).
    meta : TableMeta

    Raises
    ------
    UnsafeInputError, UnsupportedFormatError, FileTooLargeError, TooManyRowsError,
    EmptyFileError, UnreadableFileError, MissingColumnError (no header row)

    Examples
    --------
    >>> frame, meta = read_table(b"comment;score\\nGreat app;5\\n", name="x.csv")
    >>> meta.delimiter, frame["comment"].tolist()
    (';', ['Great app'])
    """
    data, name = _load_bytes(source, name, config)
    fmt, warnings = _resolve_format(data, name)
    encoding = delimiter = None
    labels: dict[str, str] = {}
    skipped, layout = 0, "plain"
    if fmt in ("csv", "tsv", "json", "jsonl"):
        text, encoding, text_warnings = _decode(data)
        warnings += text_warnings
    if fmt in ("csv", "tsv"):
        delimiter = "\t" if fmt == "tsv" else _sniff_delimiter(text)
        fmt = "tsv" if delimiter == "\t" else "csv"
        grid = _read_delimited(text, delimiter, config)
    elif fmt == "xlsx":
        grid, sheet_warnings = _read_xlsx(data, config)
        warnings += sheet_warnings
    if fmt in ("csv", "tsv", "xlsx"):
        frame, skipped, layout, labels, header_warnings = _frame_from_grid(grid)
        warnings += header_warnings
    elif fmt in ("json", "jsonl"):
        frame, nested_warnings, fmt = _read_json(text, fmt)
        warnings += nested_warnings
    else:
        frame, nested_warnings = _read_parquet(data)
        warnings += nested_warnings
    frame, dup_warnings = _unique_columns(frame)
    warnings += dup_warnings
    if frame.shape[1] == 0 or len(frame) == 0:
        raise EmptyFileError(
            f"{_label(name)} has a header but no data rows."
            if frame.shape[1]
            else f"{_label(name)} holds no table."
        )
    _check_rows(len(frame), config, name)
    frame, uncached = _take_uncached(frame, warnings) if fmt == "xlsx" else (frame, {})
    frame, malformed = _take_malformed(frame, warnings) if fmt in ("csv", "tsv") else (frame, ())
    if layout == "plain":
        layout = _structural_layout(frame)
    frame.attrs[_ATTR_LAYOUT] = layout
    frame.attrs[_ATTR_LABELS] = labels
    frame.attrs[_ATTR_UNCACHED] = uncached
    frame.attrs[_ATTR_MALFORMED] = malformed
    if delimiter == _NO_DELIMITER:
        delimiter = None
    meta = _with_warnings(TableMeta(fmt, encoding, delimiter, skipped, layout, len(frame)), warnings)
    return frame, meta


def _label(name: str | None) -> str:
    return f"'{name}'" if name else "the input"


def _load_bytes(source: Any, name: str | None, config: IngestConfig) -> tuple[bytes, str | None]:
    """Raw bytes of ``source`` and its file name, refusing anything over ``max_bytes``."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        return read_regular_file(path, what="file", limit=config.max_bytes, setting=_MAX_BYTES), name or path.name
    name = name or getattr(source, "name", None)
    name = Path(name).name if isinstance(name, str) else None
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "getvalue"):
        data = source.getvalue()
    elif hasattr(source, "read"):
        data = source.read(config.max_bytes + 1)
    else:
        raise UnreadableFileError(
            f"Cannot read a {type(source).__name__}: pass a file path, bytes or an uploaded file."
        )
    if isinstance(data, str):
        data = data.encode("utf-8")
    check_size(len(data), config.max_bytes, name, _MAX_BYTES)
    return bytes(data), name


def _check_rows(n_rows: int, config: IngestConfig, name: str | None) -> None:
    if n_rows > config.max_rows:
        raise TooManyRowsError(
            f"{_label(name)} has more than {config.max_rows:,} data rows (read {n_rows:,}); the limit is "
            f"{config.max_rows:,} rows (IngestConfig.max_rows).",
            hint="Split the file or raise the limit.",
        )


def _resolve_format(data: bytes, name: str | None) -> tuple[str, list[str]]:
    """Format from the extension, confirmed (or corrected) by the file's first bytes."""
    suffix = Path(name).suffix.lower() if name else ""
    if suffix in _UNSAFE_EXTENSIONS:
        raise UnsafeInputError(
            f"{_label(name)}: insight does not open '{suffix}' files; they can run code when loaded.",
            hint=f"Export the data as one of: {', '.join(SUPPORTED_FORMATS)}.",
        )
    for magic, what in _UNSAFE_MAGIC:
        if data.startswith(magic):
            raise UnsafeInputError(f"{_label(name)} is {what}, not a data table; insight refuses to open it.")
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        raise UnsafeInputError(
            f"{_label(name)} is a Python pickle; insight never opens pickles because loading one can run code.",
            hint=f"Export the data as one of: {', '.join(SUPPORTED_FORMATS)}.",
        )
    if not data.strip():
        raise EmptyFileError(f"{_label(name)} is empty.")
    if suffix == ".xls" or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedFormatError(
            f"{_label(name)} is a legacy Excel (.xls) or other OLE file, which insight does not read.",
            hint="Save it as .xlsx or .csv.",
        )
    if suffix and suffix not in _EXTENSIONS:
        raise UnsupportedFormatError(
            f"{_label(name)}: unsupported file type '{suffix}'. Supported formats: {', '.join(SUPPORTED_FORMATS)}."
        )
    by_name = _EXTENSIONS.get(suffix)
    by_content = _sniff_content(data)
    warnings: list[str] = []
    if by_name in ("xlsx", "parquet") and by_content != by_name:
        expected = "an Excel workbook (a zip container)" if by_name == "xlsx" else "a Parquet file (PAR1 magic)"
        raise UnreadableFileError(f"{_label(name)} is not {expected}; the file is damaged or mislabelled.")
    if by_content in ("xlsx", "parquet") and by_name not in (None, by_content):
        warnings.append(f"{name} is named like a {by_name} file but holds {by_content}; read it as {by_content}.")
    if by_content in ("xlsx", "parquet") or by_name is None:
        return by_content, warnings
    return by_name, warnings


def _sniff_content(data: bytes) -> str:
    if data.startswith(b"PAR1"):
        return "parquet"
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"[", b"{"):
        first_line = head.split(b"\n", 1)[0].strip()
        return "jsonl" if first_line.startswith(b"{") and first_line.endswith(b"}") and b"\n{" in head else "json"
    return "csv"


def _decode(data: bytes) -> tuple[str, str, list[str]]:
    """Decode text: BOM, then UTF-8, then UTF-8 line by line with cp1252 for the lines that are not,
    then cp1252, then charset-normalizer's best guess. Old-Mac line ends (CR only) become LF."""
    warnings: list[str] = []
    bom = next((enc for mark, enc in _BOMS if data.startswith(mark)), None)
    try:
        text, encoding, mixed = (data.decode(bom), bom, ()) if bom else _decode_without_bom(data)
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"The file starts with a {bom} byte-order mark but is not valid {bom}: {exc}.") from exc
    sample = text[:1_000_000]
    if len(_CONTROL_CHARS.findall(sample)) > 0.05 * max(len(sample), 1):
        raise UnreadableFileError(
            "The file looks binary, not like a text table (too many control characters).",
            hint=f"Export the data as one of: {', '.join(SUPPORTED_FORMATS)}.",
        )
    if "\x00" in text:
        warnings.append(f"Removed {text.count(chr(0)):,} NUL characters from the text.")
        text = text.replace("\x00", "")
    lone_cr = text.count("\r") - text.count("\r\n")
    if lone_cr > text.count("\n"):
        warnings.append("The file ends its lines with CR only (old Mac style); read each CR as a line break.")
        text = _LONE_CR.sub("\n", text)
    if mixed:
        shown = ", ".join(map(str, mixed[:10])) + (" ..." if len(mixed) > 10 else "")
        warnings.append(
            f"The file is UTF-8 but {len(mixed):,} line{'s are' if len(mixed) > 1 else ' is'} not (line{'s' if len(mixed) > 1 else ''} "
            f"{shown}, counting the header as line 1); decoded {'them' if len(mixed) > 1 else 'it'} as cp1252. "
            "Check those rows' accents and symbols."
        )
    elif encoding in ("utf-16-le", "utf-16-be"):
        warnings.append(f"The file is UTF-16 without a byte-order mark; decoded it as {encoding}.")
    elif encoding not in ("utf-8", "utf-8-sig"):
        warnings.append(f"The file is not UTF-8; decoded it as {encoding}.")
    return text, encoding, warnings


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
_LONE_CR = re.compile(r"\r(?!\n)")
_MIXED_ENCODING = "utf-8+cp1252"


def _decode_without_bom(data: bytes) -> tuple[str, str, tuple[int, ...]]:
    """Text, encoding, and the 1-based lines decoded as cp1252 in an otherwise UTF-8 file."""
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        try:
            return data.decode(utf16), utf16, ()
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8", ()
    except UnicodeDecodeError:
        pass
    mixed = _decode_mixed(data)
    if mixed is not None:
        return mixed
    try:
        return data.decode("cp1252"), "cp1252", ()
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UnreadableFileError(
            "Could not decode the file as text (tried UTF-8, cp1252 and automatic detection); it may be binary.",
            hint="Save it as UTF-8 CSV.",
        )
    return str(best), best.encoding, ()


def _decode_mixed(data: bytes) -> tuple[str, str, tuple[int, ...]] | None:
    """A file whose lines were appended from UTF-8 and cp1252 sources, decoded line by line.

    None unless some lines are UTF-8 with non-ASCII characters (evidence the file is UTF-8)
    and every other line decodes as cp1252: a file with no UTF-8 evidence is plain cp1252.
    """
    lines, fallback, utf8_evidence = [], [], False
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8"))
            utf8_evidence = utf8_evidence or not raw.isascii()
        except UnicodeDecodeError:
            try:
                lines.append(raw.decode("cp1252"))
            except UnicodeDecodeError:
                return None
            fallback.append(number)
    return ("\n".join(lines), _MIXED_ENCODING, tuple(fallback)) if utf8_evidence else None


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 byte order when NUL bytes fill one of the alternating positions (mostly-Latin text).

    UTF-8 accepts NUL bytes, so without this a BOM-less UTF-16 file decodes as "binary" UTF-8.
    """
    sample = data[:4096]
    half = max(len(sample) // 2, 1)
    even, odd = sample[0::2].count(0) / half, sample[1::2].count(0) / half
    if max(even, odd) > 0.3 and min(even, odd) < 0.05:
        return "utf-16-le" if odd > even else "utf-16-be"
    return None


def _sniff_delimiter(text: str) -> str:
    """The delimiter among , ; tab | that splits the first records most consistently."""
    sample = text[:65536]
    if len(text) > len(sample):
        sample = sample[: sample.rfind("\n") + 1] or sample
    best, best_key = _NO_DELIMITER, (0.0, 0)
    for delimiter in _DELIMITERS:
        try:
            records = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r][:50]
        except csv.Error:
            continue
        if not records:
            continue
        counts = pd.Series([len(r) for r in records])
        mode = int(counts.mode().iloc[0])
        if mode < 2:
            continue
        key = (float((counts == mode).mean()), mode)
        if key > best_key:
            best, best_key = delimiter, key
    return best


def _read_delimited(text: str, delimiter: str, config: IngestConfig) -> pd.DataFrame:
    """The grid of a delimited text; a line with more fields than the header becomes a ``_MALFORMED`` row.

    The fast C parser reads every well-formed file; when it fails, the Python parser reads again
    and keeps each line with too many fields in its place, so it can be counted as a dropped row.
    """
    options = {
        "sep": delimiter, "header": None, "dtype": str, "keep_default_na": False, "skip_blank_lines": True,
        "nrows": config.max_rows + 4,
    }
    try:
        grid = pd.read_csv(io.StringIO(text), engine="c", **options)
    except pd.errors.EmptyDataError as exc:
        raise EmptyFileError("The file has no rows.") from exc
    except (pd.errors.ParserError, ValueError) as exc:
        try:
            grid = pd.read_csv(io.StringIO(text), engine="python", on_bad_lines=lambda _: [_MALFORMED], **options)
        except (pd.errors.ParserError, ValueError, csv.Error):
            grid = pd.DataFrame({0: []})
        if not grid[0].eq(_MALFORMED).any():  # another fault (an unbalanced quote) that the Python parser hides
            raise UnreadableFileError(
                f"Could not parse the file as a delimited table (delimiter {delimiter!r}): {exc}".strip(),
                hint="Check for unbalanced quotes.",
            ) from exc
    return grid.fillna("")


def _read_xlsx(data: bytes, config: IngestConfig) -> tuple[pd.DataFrame, list[str]]:
    """The sheet with the most non-empty rows, as a grid of strings.

    Formulas without a cached value (workbooks written by scripts and never opened in Excel) read as
    empty; they are marked with ``_UNCACHED`` so that they can be reported rather than silently lost.
    """
    _check_workbook(data, config)
    from openpyxl import load_workbook

    options = {"sheet_name": None, "header": None, "dtype": str, "keep_default_na": False}
    try:
        sheets = pd.read_excel(io.BytesIO(data), engine="openpyxl", **options)
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
        try:
            formulas = pd.read_excel(pd.ExcelFile(book, engine="openpyxl"), **options)
        finally:
            book.close()
    except Exception as exc:  # openpyxl fails in many ways on damaged files; all mean "unreadable"
        raise UnreadableFileError(f"Could not read the Excel workbook: {type(exc).__name__}: {exc}") from exc
    filled = {}
    for sheet, grid in sheets.items():
        formula, grid = formulas[sheet].fillna("").astype(str).align(grid.fillna("").astype(str), fill_value="")
        grid = grid.mask(formula.map(lambda v: v.startswith("=")) & grid.eq(""), _UNCACHED)
        grid = grid[grid.map(str.strip).ne("").any(axis=1)]
        if len(grid):
            filled[sheet] = grid.reset_index(drop=True)
    if not filled:
        raise EmptyFileError(f"The Excel workbook has no data in any of its sheets ({', '.join(map(repr, sheets))}).")
    sheet = max(filled, key=lambda name: len(filled[name]))
    warnings = []
    if len(sheets) > 1:
        warnings.append(
            f"The workbook has {len(sheets)} sheets ({', '.join(map(repr, sheets))}); read '{sheet}', "
            f"the one with the most non-empty rows ({len(filled[sheet]):,})."
        )
    return filled[sheet], warnings


_UNPACK_FACTOR = 5  # a workbook may unpack to 5 x IngestConfig.max_bytes of XML
_CELL = re.compile(rb"<(?:\w+:)?c[\s>/]")  # a cell element of a worksheet, with or without a namespace prefix


def _check_workbook(data: bytes, config: IngestConfig) -> None:
    """Refuse a damaged workbook, another zip document, or one that unpacks (or holds cells) beyond the limits.

    Sizes come from the zip directory, which the reader enforces; cells are counted by
    streaming each worksheet's XML, before openpyxl builds anything in memory, so a zip
    bomb costs a scan, not the machine's memory.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            if "xl/workbook.xml" not in names:
                kind = "a Word document" if "word/document.xml" in names else "a zip archive"
                raise UnsupportedFormatError(f"The file is {kind}, not an Excel workbook.", hint="Export the table as .xlsx or .csv.")
            unpacked, limit = sum(info.file_size for info in infos), _UNPACK_FACTOR * config.max_bytes
            if unpacked > limit:
                raise FileTooLargeError(
                    f"The workbook unpacks to {unpacked:,} bytes; the limit is {_UNPACK_FACTOR} x {_MAX_BYTES} "
                    f"= {limit:,} bytes.",
                    hint="Save the sheet as CSV, or raise the limit.",
                )
            cells = 0
            for info in infos:
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    cells = _count_cells(archive, info, cells, config.max_cells)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error) as exc:
        raise UnreadableFileError(f"The Excel file is damaged, encrypted or truncated ({exc}).") from exc


def _count_cells(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cells: int, limit: int) -> int:
    """``cells`` plus the cells of one worksheet; TooManyRowsError as soon as the total passes ``limit``."""
    tail = b""
    with archive.open(info) as stream:
        while chunk := stream.read(1 << 20):
            block = tail + chunk
            tail = block[-16:]  # a cell tag cut by the chunk's end is found in the next block
            cells += len(_CELL.findall(block)) - len(_CELL.findall(tail))
            if cells > limit:
                raise TooManyRowsError(
                    f"The workbook holds more than {limit:,} cells (IngestConfig.max_cells).",
                    hint="Save the sheet as CSV, or raise the limit.",
                )
    return cells + len(_CELL.findall(tail))


def _take_malformed(frame: pd.DataFrame, warnings: list[str]) -> tuple[pd.DataFrame, tuple[int, ...]]:
    """Empty the rows :func:`_read_delimited` marked as lines with too many fields; their positions."""
    marked = frame.iloc[:, 0].eq(_MALFORMED).to_numpy()
    rows = tuple(np.flatnonzero(marked).tolist())
    if not rows:
        return frame, ()
    if len(rows) == len(frame) or (len(rows) > 5 and len(rows) > 0.1 * len(frame)):  # the header is off, not a few lines
        raise UnreadableFileError(
            f"{len(rows):,} of {len(frame):,} lines have more fields than the header ({frame.shape[1]}), so the header "
            "and the data do not line up.",
            hint="Check for a title line above the header, a delimiter at the end of every row, "
            "or values that contain the delimiter without quotes.",
        )
    shown = ", ".join(map(str, rows[:10])) + (" ..." if len(rows) > 10 else "")
    warnings.append(
        f"{len(rows):,} line{'s have' if len(rows) > 1 else ' has'} more fields than the header ({frame.shape[1]}) "
        f"and {'were' if len(rows) > 1 else 'was'} dropped as '{DROP_MALFORMED}' (row{'s' if len(rows) > 1 else ''} "
        f"{shown}). Quote values that contain the delimiter."
    )
    frame = frame.copy()
    frame.iloc[marked] = ""
    return frame, rows


def _take_uncached(frame: pd.DataFrame, warnings: list[str]) -> tuple[pd.DataFrame, dict[str, tuple[int, ...]]]:
    """Empty the cells :func:`_read_xlsx` marked as formulas without a cached value; their rows per column."""
    marked = frame.eq(_UNCACHED)
    counts = marked.sum()
    counts = counts[counts > 0]
    if counts.empty:
        return frame, {}
    warnings.append(
        f"{int(counts.sum()):,} formula cells were read as empty (never computed, e.g. written by a script, or "
        "computing to an empty text), in columns "
        + ", ".join(f"'{column}' ({n:,})" for column, n in counts.items())
        + ". If they should hold values, open the workbook in Excel and save it."
    )
    rows = {column: tuple(np.flatnonzero(marked[column]).tolist()) for column in counts.index}
    return frame.mask(marked, ""), rows


def _read_json(text: str, fmt: str) -> tuple[pd.DataFrame, list[str], str]:
    """Records list, ``{"data": [...]}``, column-oriented dict, or JSON lines."""
    if fmt == "json":
        try:
            payload = json.loads(text)
        except RecursionError as exc:
            raise UnreadableFileError("The JSON is nested too deeply to be a table.") from exc
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data":
                raise UnreadableFileError(f"Invalid JSON: {exc}.") from exc
            fmt = "jsonl"
    if fmt == "jsonl":
        payload = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    payload.append(json.loads(line))
                except (json.JSONDecodeError, RecursionError) as exc:
                    raise UnreadableFileError(f"Invalid JSON on line {number}: {exc}.") from exc
    if payload == [] or payload == {}:
        raise EmptyFileError("The JSON holds no records.")
    records = _json_records(payload)
    if records is None:
        raise UnreadableFileError(
            "The JSON is not a table. Expected a list of objects, an object with one list of objects "
            '(e.g. {"data": [...]}), or an object of equal-length column lists.'
        )
    try:
        frame = records if isinstance(records, pd.DataFrame) else pd.DataFrame.from_records(records)
    except (ValueError, TypeError) as exc:
        raise UnreadableFileError(f"The JSON could not be turned into a table: {exc}.") from exc
    frame.columns = [str(c) for c in frame.columns]
    return (*_stringify_frame(frame), fmt)


def _json_records(payload: Any) -> list[dict] | pd.DataFrame | None:
    if isinstance(payload, list):
        return payload if payload and all(isinstance(r, dict) for r in payload) else None
    if not isinstance(payload, dict) or not payload:
        return None
    lists = [v for v in payload.values() if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)]
    if len(lists) == 1:
        return lists[0]
    values = list(payload.values())
    same_length_lists = all(isinstance(v, list) for v in values) and len({len(v) for v in values}) == 1
    if same_length_lists or all(isinstance(v, dict) for v in values):
        try:
            return pd.DataFrame(payload)
        except (ValueError, TypeError):
            return None
    return None


def _read_parquet(data: bytes) -> tuple[pd.DataFrame, list[str]]:
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several unrelated types for damaged files
        raise UnreadableFileError(f"Could not read the Parquet file: {type(exc).__name__}: {exc}") from exc
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    return _stringify_frame(frame)


def _stringify_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Every column as strings, on a fresh 0..n-1 index (row_id is the position), and a warning
    naming the columns whose lists or records (JSON arrays, Parquet list and struct cells) became JSON text."""
    frame = frame.reset_index(drop=True)
    columns = [frame.iloc[:, i] for i in range(frame.shape[1])]
    out = pd.DataFrame({i: _stringify(column) for i, column in enumerate(columns)}).set_axis(list(frame.columns), axis=1)
    nested = [(str(name), column[column.map(_is_nested)]) for name, column in zip(frame.columns, columns)
              if column.dtype == object]
    nested = [(name, values) for name, values in nested if len(values)]
    if not nested:
        return out, []
    names = ", ".join(repr(name) for name, _ in nested)
    return out, [
        f"{len(nested)} column{'s hold' if len(nested) > 1 else ' holds'} lists or records ({names}); each such "
        f"value is kept as JSON text, e.g. {_examples(nested[0][1].map(_cell_text), 1)}."
    ]


def _is_nested(value: Any) -> bool:
    return isinstance(value, (dict, list, tuple, np.ndarray))


def _json_value(value: Any) -> Any:
    """JSON stand-ins for what Parquet nests in a cell: arrays, NumPy scalars, bytes, timestamps."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _stringify(series: pd.Series) -> pd.Series:
    """Values as strings with "" for missing; integral floats lose their ".0" (ids, counts); lists and
    records become JSON text; bytes are decoded as UTF-8."""
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.na_value is np.nan:  # pandas' default str
        return series.fillna("")
    missing = series.isna().to_numpy()
    present = series[~missing]
    if pd.api.types.is_float_dtype(series) and np.all(np.mod(present, 1) == 0) and np.all(np.abs(present) < 2**53):
        out = series.astype("Int64").astype(str)
    elif pd.api.types.is_object_dtype(series):
        out = series.map(_cell_text)
    else:
        out = series.astype(str)
    return pd.Series(np.where(missing, "", out.to_numpy(dtype=object)), index=series.index, dtype=str)


def _cell_text(value: Any) -> str:
    if _is_nested(value):
        return json.dumps(value, ensure_ascii=False, default=_json_value)
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _frame_from_grid(grid: pd.DataFrame) -> tuple[pd.DataFrame, int, str, dict[str, str], list[str]]:
    """Header row, survey-tool extra header rows and column names from a raw grid."""
    rows = [grid.iloc[i].map(str.strip).tolist() for i in range(min(3, len(grid)))]
    header = rows[0]
    filled = [h for h in header if h]
    if filled and all(_is_number(h) for h in filled):
        raise MissingColumnError(
            f"The first row ({', '.join(filled[:5])}) holds numbers, not column names: the file has no header row.",
            hint="Add a header row naming the columns (e.g. 'comment', 'customer_id').",
        )
    labels: dict[int, str] = {}
    if len(rows) >= 3 and any(c.startswith('{"ImportId"') for c in rows[2]):
        skipped, layout = 2, "qualtrics"
        labels = {i: rows[1][i] for i in range(len(header)) if rows[1][i]}
        warnings = ["Qualtrics export: skipped 2 extra header rows (question text and import ids)."]
    elif len(rows) >= 2 and _is_surveymonkey(header, rows[1]):
        skipped, layout = 1, "surveymonkey"
        header = _surveymonkey_names(header, rows[1])
        warnings = ["SurveyMonkey export: skipped 1 extra header row of answer labels."]
    else:
        skipped, layout, warnings = 0, "plain", []
    names = [h or f"column_{i + 1}" for i, h in enumerate(header)]
    body = grid.iloc[1 + skipped :].reset_index(drop=True)
    body.columns = range(body.shape[1])
    empty_unnamed = [i for i, h in enumerate(header) if not h and not body[i].str.strip().ne("").any()]
    keep = [i for i in range(len(names)) if i not in empty_unnamed]
    frame = body[keep].set_axis([names[i] for i in keep], axis=1)
    return frame, skipped, layout, {names[i]: labels[i] for i in keep if i in labels}, warnings


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"[-+]?\d[\d,]*(\.\d+)?", text))


_SM_SUBLABELS = {"response", "open-ended response", "open ended response"}


def _is_surveymonkey(header: list[str], second: list[str]) -> bool:
    subs = {c.lower() for c in second if c}
    has_markers = "respondent id" in {h.lower() for h in header} or "open-ended response" in subs
    return bool(subs & _SM_SUBLABELS) and has_markers


def _surveymonkey_names(header: list[str], second: list[str]) -> list[str]:
    """Question text, plus the answer label for the sub-columns of multi-answer questions."""
    names, question = [], ""
    for head, sub in zip(header, second):
        question = head or question
        names.append(question if sub.lower() in _SM_SUBLABELS or not sub else f"{question} - {sub}")
    return names


def _unique_columns(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Redact personal data in column names, then rename duplicates with a numeric suffix (Comment, Comment_2)."""
    stripped = [str(c).strip() for c in frame.columns]
    redacted = [redact(name) for name in stripped]
    names = [name or f"column_{i + 1}" for i, name in enumerate(redacted)]
    unique = make_unique(names)
    if unique == list(frame.columns):
        return frame, []
    warnings = []
    n_personal = sum(name != typed for name, typed in zip(redacted, stripped))
    if n_personal:
        warnings.append(f"{n_personal} column name{'s hold' if n_personal > 1 else ' holds'} personal data; redacted.")
    renamed = [f"'{old}' -> '{new}'" for old, new in zip(names, unique) if old != new]
    if renamed:
        warnings.append(f"Duplicate column names renamed: {', '.join(renamed)}.")
    return frame.set_axis(unique, axis=1), warnings


def _structural_layout(frame: pd.DataFrame) -> str:
    """Help-desk, app-store or wide-survey layouts, recognised from column names and content."""
    names = {c: _norm(c) for c in frame.columns if not _ID_WORDS & set(_norm(c).split())}
    has = {
        kind: any(_match(n, words) for n in names.values() for words in patterns)
        for kind, patterns in _LAYOUT_MARKERS.items()
    }
    if has["subject"] and has["body"] and has["ticket"]:
        return "helpdesk"
    if has["rating"] and has["title"] and has["body"]:
        return "appstore"
    open_questions = [c for c in frame.columns if _is_question(c) and _text_profile(frame[c]).free_text]
    return "wide_survey" if len(open_questions) >= 2 else "plain"


# ----------------------------------------------------------------------------------------------
# role detection

_LAYOUT_MARKERS = {
    "subject": (("subject",),),
    "body": (("description",), ("body",), ("message",), ("comment",), ("content",), ("review",), ("text",)),
    "ticket": (("ticket",), ("tags",), ("status",), ("priority",), ("requester",), ("assignee",)),
    "rating": (("rating",), ("stars",), ("star",), ("score",)),
    "title": (("title",), ("headline",)),
}


@dataclass(frozen=True)
class _Rule:
    """Name rule of one role: ranked exact names, word patterns, excluded words."""

    exact: tuple[str, ...]
    contains: tuple[tuple[str, ...], ...] = ()
    exclude: frozenset[str] = frozenset()
    contains_score: float = 0.7

    def score(self, name: str) -> float:
        if not name or self.exclude & set(name.split()):
            return 0.0
        if name in self.exact:
            return 1.0 - 0.01 * self.exact.index(name)
        return self.contains_score if any(_match(name, words) for words in self.contains) else 0.0


_ID_WORDS = frozenset({"id", "ids", "number", "no", "uuid", "key"})
_RULES: dict[str, _Rule] = {
    "text": _Rule(
        exact=(
            "comment", "comments", "review text", "review", "feedback", "verbatim", "text", "body", "review body",
            "content", "response", "open ended response", "answer", "message", "description", "remarks",
            "customer comment", "feedback text", "comment text", "free text",
        ),
        contains=(("comment",), ("review",), ("feedback",), ("verbatim",), ("open", "ended"), ("text",),
                  ("description",), ("message",), ("body",), ("remark",), ("please", "specify")),
        exclude=_ID_WORDS | {"date", "time", "rating", "score", "title", "subject", "name", "email", "url", "link",
                             "count", "tags", "type", "language", "length", "stars", "helpful", "sentiment"},
    ),
    "customer_id": _Rule(
        exact=("customer id", "customerid", "customer", "client id", "account id", "user id", "userid",
               "member id", "customer number", "cust id", "customer no", "subscriber id", "account number",
               "account", "client", "user", "contact id", "external reference", "external data reference"),
        contains=(("customer", "id"), ("client", "id"), ("account", "id"), ("user", "id"), ("member", "id"),
                  ("cust", "id"), ("customer", "number"), ("subscriber",), ("requester",)),
        exclude=frozenset({"name", "email", "date", "type", "segment", "since"}),
    ),
    "comment_id": _Rule(
        exact=("id", "comment id", "review id", "response id", "feedback id", "ticket id", "ticket number",
               "ticket", "respondent id", "record id", "submission id", "case id", "case number", "uuid"),
        contains=(("review", "id"), ("response", "id"), ("comment", "id"), ("ticket", "id"), ("feedback", "id")),
        exclude=frozenset({"collector", "customer", "user", "account", "client", "date"}),
    ),
    "date": _Rule(
        exact=("date", "review date", "created at", "created", "created date", "date created", "submitted at",
               "submitted", "date submitted", "submission date", "response date", "recorded date", "end date",
               "timestamp", "datetime", "start date", "time", "updated at"),
        contains=(("date",), ("time",), ("created",), ("submitted",)),
        contains_score=0.6,
        exclude=frozenset({"id", "signup", "churn"}),
    ),
    "score": _Rule(
        exact=("rating", "stars", "star rating", "score", "nps", "nps score", "csat", "csat score",
               "overall rating", "review rating", "satisfaction", "ltr", "likelihood to recommend", "recommend"),
        contains=(("rating",), ("stars",), ("score",), ("nps",), ("csat",), ("recommend",), ("satisfaction",)),
        contains_score=0.6,
        exclude=frozenset({"id", "date", "sentiment", "helpful", "category", "group"}),
    ),
    "channel": _Rule(
        exact=("channel", "source", "platform", "origin", "via", "medium", "store", "feedback type",
               "source type"),
        contains=(("channel",), ("source",), ("platform",)),
        contains_score=0.6,
        exclude=frozenset({"id", "date", "distribution"}),
    ),
    "title": _Rule(
        exact=("title", "review title", "subject", "headline", "ticket subject", "summary", "header"),
        contains=(("title",), ("subject",), ("headline",)),
        contains_score=0.6,
        exclude=frozenset({"id", "job"}),
    ),
    "churned": _Rule(
        exact=("churned", "churn", "is churned", "has churned", "churn flag", "churn label", "churn status",
               "exited", "attrition", "attrited", "cancelled", "canceled", "is cancelled"),
        contains=(("churn",), ("attrition",), ("cancel",)),
        contains_score=0.6,
        exclude=frozenset({"date", "reason", "score", "probability", "risk", "id", "at", "on", "prediction"}),
    ),
    "nps": _Rule(
        exact=("nps", "nps score", "net promoter score", "likelihood to recommend", "ltr", "recommend score",
               "recommendation score"),
        contains=(("nps",), ("recommend",), ("promoter",)),
        contains_score=0.6,
        exclude=frozenset({"date", "category", "group", "segment", "type", "label", "comment"}),
    ),
    "clv": _Rule(
        exact=("clv", "ltv", "cltv", "customer lifetime value", "lifetime value", "total charges",
               "total revenue", "lifetime revenue", "total spend"),
        contains=(("clv",), ("ltv",), ("lifetime", "value")),
        exclude=frozenset({"date", "id"}),
    ),
    "monthly_revenue": _Rule(
        exact=("monthly revenue", "mrr", "monthly charges", "monthly charge", "monthly fee", "monthly spend",
               "arpu", "monthly price", "monthly amount", "revenue"),
        contains=(("monthly",), ("mrr",), ("arpu",)),
        contains_score=0.6,
        exclude=frozenset({"date", "id", "tenure"}),
    ),
    "tenure_months": _Rule(
        exact=("tenure months", "tenure", "tenure in months", "months active", "months as customer",
               "customer tenure", "months subscribed", "lifetime months", "months"),
        contains=(("tenure",),),
        exclude=frozenset({"date", "id"}),
    ),
    "plan": _Rule(
        exact=("plan", "plan name", "subscription plan", "plan type", "pricing plan", "contract", "tier",
               "subscription", "package", "product", "membership"),
        contains=(("plan",), ("tier",), ("contract",)),
        contains_score=0.6,
        exclude=frozenset({"date", "id", "price", "length"}),
    ),
    "region": _Rule(
        exact=("region", "country", "state", "market", "area", "territory", "city", "location", "geo",
               "geography", "country code"),
        contains=(("region",), ("country",)),
        contains_score=0.6,
        exclude=frozenset({"id",}),
    ),
    "signup_date": _Rule(
        exact=("signup date", "sign up date", "signup", "signed up", "created at", "join date", "joined",
               "joined at", "start date", "subscription start", "customer since", "acquisition date",
               "registration date", "first purchase date", "created"),
        contains=(("signup",), ("sign", "up"), ("join",), ("since",), ("registration",)),
        contains_score=0.6,
        exclude=frozenset({"churn", "cancel", "end", "id"}),
    ),
    "churn_date": _Rule(
        exact=("churn date", "churned at", "churned on", "cancel date", "cancellation date", "cancelled at",
               "canceled at", "end date", "termination date", "exit date"),
        contains=(("churn", "date"), ("cancel", "date"), ("churn", "at"), ("termination",)),
        contains_score=0.6,
        exclude=frozenset({"id"}),
    ),
}
_CUSTOMER_ID_RULE = dataclasses.replace(_RULES["customer_id"], exact=("id", *_RULES["customer_id"].exact))
_QUESTION_START = re.compile(
    r"^(what|why|how|please|is there|are there|anything|tell us|describe|which|would|do you|did you|"
    r"if you|in your|any other|any further|was there|what's)\b",
    re.IGNORECASE,
)


def _norm(name: Any) -> str:
    """``"customerID"`` -> ``"customer id"``: camelCase split, lower case, words only."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", str(name))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def _match(name: str, words: tuple[str, ...]) -> bool:
    """Every pattern word is the start of some word of ``name`` ("cancel" matches "cancellation")."""
    parts = name.split()
    return all(any(p.startswith(w) for p in parts) for w in words)


def _is_question(label: str) -> bool:
    label = str(label).strip()
    return label.endswith("?") or bool(_QUESTION_START.match(label)) or "open-ended" in label.lower()


@dataclass(frozen=True)
class _Profile:
    """Content statistics of a column's sample."""

    n: int
    mean_words: float
    unique_share: float
    numeric_share: float
    date_share: float
    distinct: int
    min_value: float
    max_value: float

    @property
    def free_text(self) -> bool:
        texty = self.n > 0 and self.mean_words >= 3 and self.numeric_share < 0.5 and self.date_share < 0.5
        return texty and (self.n < 10 or self.unique_share >= 0.3)

    @property
    def text_score(self) -> float:
        return min(1.0, self.mean_words / 12) * (0.5 + 0.5 * self.unique_share) if self.numeric_share < 0.5 else 0.0


def _text_profile(series: pd.Series) -> _Profile:
    values = _stringify(series.head(_SAMPLE * 5)).str.strip()
    values = values[values.ne("")].head(_SAMPLE)
    if values.empty:
        return _Profile(0, 0.0, 0.0, 0.0, 0.0, 0, np.nan, np.nan)
    numbers, _ = _parse_numbers(values)
    numeric = numbers.notna()
    dates = 0.0
    if numeric.mean() < 0.5:
        looks_like_date = values.str.contains(r"\d", regex=True) & values.str.len().le(40)
        if looks_like_date.mean() >= _NAMED_SHARE:
            dates = float(_parse_dates(values[looks_like_date])[0].notna().sum()) / len(values)
    return _Profile(
        n=len(values),
        mean_words=float(values.str.split().str.len().mean()),
        unique_share=values.nunique() / len(values),
        numeric_share=float(numeric.mean()),
        date_share=dates,
        distinct=int(values.nunique()),
        min_value=float(numbers.min()) if numeric.any() else np.nan,
        max_value=float(numbers.max()) if numeric.any() else np.nan,
    )


def _plausible(role: str, profile: _Profile) -> bool:
    """Content check of a name-matched feedback column (a "type" column of essays is no channel)."""
    if profile.n == 0:  # an empty column named "comment" is still the comment column
        return True
    if role == "date":  # named as the date: unreadable values are left empty and counted, down to a fifth read
        return profile.date_share >= _NAMED_SHARE
    if role == "score":
        return profile.numeric_share >= _NAMED_SHARE
    if role == "channel":
        return profile.numeric_share < 0.5 and profile.distinct <= max(50, profile.n // 5) and profile.mean_words <= 5
    if role in ("comment_id", "customer_id"):
        return profile.mean_words <= 3
    if role == "title":
        return profile.mean_words <= 40
    if role == "text":
        return profile.numeric_share < 0.5 and profile.date_share < 0.5
    return True


_NAMED_SHARE = 0.2  # share of readable values a date or score column named as such needs to be used


def _misfit(role: str, column: str, profile: _Profile) -> str:
    """Why a column named like ``role`` was not used for it (a note for the warnings)."""
    found = {
        "date": f"only {profile.date_share:.0%} of its values read as dates",
        "score": f"only {profile.numeric_share:.0%} of its values are numbers",
    }.get(role, "its values do not look like one")
    return (
        f"Column '{column}' is named like the {role} column, but {found}; it was not used as the {role}. "
        f"To use it anyway, name it {_mapping_hint(role)} (values that do not fit are left empty and counted)."
    )


def _content_only(role: str, profile: _Profile) -> bool:
    """Columns whose names say nothing but whose content fits the role (feedback only)."""
    if role == "date":
        return profile.n > 0 and profile.date_share >= 0.9
    if role == "score":
        return (
            profile.numeric_share >= 0.95 and 2 <= profile.distinct <= 11
            and profile.min_value >= 0 and profile.max_value <= 10
        )
    return False


def detect_roles(frame: pd.DataFrame, kind: str = "feedback") -> RoleDetection:
    """Map columns to roles by name, and for feedback also by content.

    Names decide first (ranked exact names such as "comment", "customer_id",
    then word patterns such as "... review ..."), checked against content (a
    "date" must mostly parse as dates). Where no name fits, content decides:
    long, varied free text is comment text; a numeric column in 0-10 is a
    score; a column of dates is the date. Several open-text columns in a survey
    export (question-like names) are a wide survey: each becomes a comment
    source. Otherwise the best text column is taken only when it is clearly
    better than the next.

    Parameters
    ----------
    frame : DataFrame
        As returned by :func:`read_table` (its ``attrs`` carry the layout and
        Qualtrics question texts) or any frame.
    kind : {"feedback", "customers"}

    Returns
    -------
    RoleDetection

    Raises
    ------
    AmbiguousColumnError
        Two or more columns fit the text role (or another role) equally well;
        the error names them and its ``candidates`` attribute lists them.

    Examples
    --------
    >>> df = pd.DataFrame({"CustomerID": ["a1", "b2"], "Review Text": ["Love the new app design", "Billing is broken again"]})
    >>> detect_roles(df).roles["text"], detect_roles(df).roles["customer_id"]
    ('Review Text', 'CustomerID')
    """
    return _detect(frame, kind, {})


def _detect(frame: pd.DataFrame, kind: str, fixed: Mapping[str, Any]) -> RoleDetection:
    if kind not in ("feedback", "customers"):
        raise ValueError(f"kind must be 'feedback' or 'customers', not {kind!r}")
    labels = frame.attrs.get(_ATTR_LABELS, {}) or {}
    layout = frame.attrs.get(_ATTR_LAYOUT, "plain")
    order = FEEDBACK_ROLES[1:] + ("text",) if kind == "feedback" else CUSTOMER_ROLES
    used = {c for v in fixed.values() if v is not None for c in ([v] if isinstance(v, str) else v)}
    profiles: dict[str, _Profile] = {}

    def profile(column: str) -> _Profile:
        if column not in profiles:
            profiles[column] = _text_profile(frame[column])
        return profiles[column]

    roles: dict[str, str | None] = {}
    candidates: dict[str, tuple[str, ...]] = {}
    text_columns: tuple[str, ...] = ()
    notes: list[str] = []
    for role in order:
        rule = _CUSTOMER_ID_RULE if (kind, role) == ("customers", "customer_id") else _RULES[role]
        scored, misfits = [], []
        for column in frame.columns:
            names = [_norm(column)] + ([_norm(labels[column])] if column in labels else [])
            score = max(rule.score(n) for n in names)
            if role == "text" and score == 0 and (_is_question(column) or _is_question(labels.get(column, ""))):
                score = 0.5 if profile(column).free_text else 0.0
            plausible = kind == "customers" or _plausible(role, profile(column))
            if score > 0 and plausible:
                scored.append((score, column))
            elif kind == "feedback" and role == "text" and profile(column).free_text:
                scored.append((0.0, column))
            elif kind == "feedback" and _content_only(role, profile(column)):
                scored.append((0.1, column))
            if score >= 0.7 and not plausible and role != "text":
                misfits.append(column)
        if role == "text":
            scored.sort(key=lambda sc: -(sc[0] + profile(sc[1]).text_score))
        else:
            scored.sort(key=lambda sc: -sc[0])
        candidates[role] = tuple(c for _, c in scored)
        if role in fixed:
            value = fixed[role]
            roles[role] = value if value is None or isinstance(value, str) else value[0]
            if role == "text":
                text_columns = (value,) if isinstance(value, str) else tuple(value)
            continue
        free = [(s, c) for s, c in scored if c not in used]
        if role == "text":
            text_columns = _choose_text(free, profile, labels, layout)
            chosen = text_columns[0] if text_columns else None
            if chosen is None and roles.get("title"):  # the only text is what looked like a title
                chosen, roles["title"] = roles["title"], None
                text_columns = (chosen,)
        else:
            if len(free) >= 2 and free[0][0] == free[1][0] and free[0][0] >= 0.7:
                _raise_ambiguous(role, [c for _, c in free[:4]])
            chosen = free[0][1] if free else None
            misfits = [c for c in misfits if c not in used]
            if chosen is None and misfits:
                notes.append(_misfit(role, misfits[0], profile(misfits[0])))
        roles[role] = chosen
        used.update(text_columns if role == "text" else [chosen] if chosen else [])
    return RoleDetection(roles=roles, candidates=candidates, text_columns=text_columns, notes=tuple(notes))


def _choose_text(
    scored: list[tuple[float, str]],
    profile: Callable[[str], _Profile],
    labels: Mapping[str, str],
    layout: str,
) -> tuple[str, ...]:
    """One text column, or several for a wide survey, or AmbiguousColumnError.

    ``scored`` is (name score, column), best first.
    """
    filled = [(s, c) for s, c in scored if profile(c).n > 0]
    scored = filled or scored
    if len(scored) <= 1:
        return tuple(c for _, c in scored)
    questions = [c for _, c in scored if _is_question(c) or _is_question(labels.get(c, ""))]
    if layout in _SURVEY_LAYOUTS or len(questions) >= 2:
        return tuple(c for s, c in scored if s >= 0.7 or profile(c).free_text)
    strong = [(s, c) for s, c in scored if s >= 0.7]
    if len(strong) == 1:
        return (strong[0][1],)
    ranked = strong or scored
    totals = [s + profile(c).text_score for s, c in ranked]
    if totals[0] - totals[1] >= 0.3:
        return (ranked[0][1],)
    _raise_ambiguous("text", [c for _, c in ranked[:4]])


def _mapping_hint(role: str, kind: str = "feedback") -> str:
    """How to name a role's column, for whoever reads the message: app user, CLI user or Python caller."""
    flag = _CLI_FLAGS.get(role) if kind == "feedback" else None
    cli = f"{flag} COLUMN" if flag else f"--customer-col {role}=COLUMN" if kind == "customers" else None
    where = "under Column roles on the Upload page" + (f", with {cli} on the command line" if cli else "")
    return f"{where}, or roles={{'{role}': ...}} in Python"


def _raise_ambiguous(role: str, columns: Sequence[str]) -> NoReturn:
    err = AmbiguousColumnError(
        f"Several columns could be the {role} column: {', '.join(map(repr, columns))}.",
        hint=f"Choose one {_mapping_hint(role)}.",
    )
    err.role, err.candidates = role, tuple(columns)
    raise err


# ----------------------------------------------------------------------------------------------
# value parsing

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


_TRUE = ("yes", "y", "true", "t", "1", "churned", "churn", "lost", "left", "cancelled", "canceled", "exited", "inactive")
_FALSE = ("no", "n", "false", "f", "0", "active", "retained", "stayed", "current", "not churned", "existing")
_MISSING = ("", "na", "n/a", "nan", "null", "none", "unknown", "-")


def _parse_churned(values: pd.Series, column: str) -> pd.Series:
    text = _stringify(values).str.strip().str.lower()
    text = text.str.replace(r"^([01])\.0+$", r"\1", regex=True)
    mapping = {**{v: 1 for v in _TRUE}, **{v: 0 for v in _FALSE}}
    unknown = sorted(set(text[~text.isin(list(mapping) + list(_MISSING))]))
    if unknown:
        raise InvalidValueError(
            f"Column '{column}' (churned) has values insight cannot read as churned/not churned: "
            f"{_examples(pd.Series(unknown), 10)}{' ...' if len(unknown) > 10 else ''}.",
            hint=f"Accepted (any case): churned = {', '.join(_TRUE)}; not churned = {', '.join(_FALSE)}; "
            "empty means unknown.",
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


def _with_warnings(meta: TableMeta, warnings: list[str]) -> TableMeta:
    """``meta`` carrying ``warnings``, personal data redacted (they quote values and names and are stored)."""
    return dataclasses.replace(meta, warnings=tuple(redact(w) for w in warnings))


# ----------------------------------------------------------------------------------------------
# ingest


def _prepare(source: Any, name: str | None, config: IngestConfig) -> tuple[pd.DataFrame, pd.DataFrame | None, TableMeta]:
    """Frame of strings, the user's original frame (DataFrame input only) and the meta."""
    if isinstance(source, pd.DataFrame):
        _check_rows(len(source), config, name)
        original, warnings = _unique_columns(source.reset_index(drop=True).set_axis([str(c) for c in source.columns], axis=1))
        frame, nested_warnings = _stringify_frame(original)
        warnings += nested_warnings
        if frame.empty:
            raise EmptyFileError("The frame has no rows." if frame.shape[1] else "The frame has no columns.")
        layout = _structural_layout(frame)
        frame.attrs[_ATTR_LAYOUT] = layout
        frame.attrs[_ATTR_LABELS] = {}
        return frame, original, TableMeta("dataframe", None, None, 0, layout, len(frame), tuple(warnings))
    frame, meta = read_table(source, name=name, config=config)
    return frame, None, meta


def _resolve_roles(frame: pd.DataFrame, kind: str, overrides: Mapping[str, Any] | None) -> RoleDetection:
    """Detected roles with the user's overrides; a column name holding personal data is found under its redacted name."""
    allowed = FEEDBACK_ROLES if kind == "feedback" else CUSTOMER_ROLES
    resolved: dict[str, Any] = {}
    for role, value in (overrides or {}).items():
        if role not in allowed:
            raise MissingColumnError(f"Unknown role '{role}'; {kind} roles are: {', '.join(allowed)}.")
        if value is None or value == "":
            if role != "text":
                resolved[role] = None
            continue
        columns = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else None
        if columns is None or not all(isinstance(c, str) for c in columns):
            raise MissingColumnError(f"roles['{role}'] must name a column, got {value!r}.")
        if role != "text" and len(columns) != 1:
            raise MissingColumnError(f"Role '{role}' takes one column, not {columns}.")
        columns = [c if c in frame.columns else redact(c) for c in columns]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise MissingColumnError(
                f"roles['{role}'] names {', '.join(map(repr, missing))}, which is not a column of the table. "
                f"Available columns: {', '.join(map(repr, frame.columns))}."
            )
        resolved[role] = columns[0] if isinstance(value, str) else columns
    return _detect(frame, kind, resolved)


def ingest_feedback(
    source: Any,
    *,
    roles: Mapping[str, Any] | None = None,
    name: str | None = None,
    config: IngestConfig = IngestConfig(),
) -> IngestResult:
    """Read a feedback file and return its comments with every row accounted for.

    Parameters
    ----------
    source : path, bytes, uploaded file or DataFrame
    roles : dict, optional
        Role -> column overrides, e.g. ``{"text": "Review Text"}``. ``"text"``
        may also be a list of columns (a wide survey). A role mapped to None
        has no column (e.g. ``{"title": None}`` keeps a title out of the text);
        roles not given are detected.
    name : str, optional
        File name when ``source`` has none; its stem is the default channel.
    config : IngestConfig

    Returns
    -------
    IngestResult
        ``data`` columns: row_id, comment_id, customer_id, text, date, score,
        channel, source_column, then the user's other columns. Rows with empty
        text or duplicating an earlier comment are in ``dropped``; a duplicate is
        the whole input row repeated (every column, and for a wide survey the
        same text column), never just the same text.

    Raises
    ------
    MissingColumnError, AmbiguousColumnError, and the errors of :func:`read_table`.

    Examples
    --------
    >>> res = ingest_feedback(b"comment,stars\\nGreat app,5\\n  ,4\\n", name="reviews.csv")
    >>> res.accounting()
    {'rows_in': 2, 'rows_kept': 1, 'rows_dropped': 1, 'dropped_by_reason': {'empty text': 1}}
    """
    frame, original, meta = _prepare(source, name, config)
    detection = _resolve_roles(frame, "feedback", roles)
    r = dict(detection.roles)
    named = {role for role, column in (roles or {}).items() if column}
    warnings = list(meta.warnings) + list(detection.notes)
    n = len(frame)
    base = pd.DataFrame({Col.ROW_ID: np.arange(n, dtype=np.int64)})
    # dates and scores first: a column named for them that holds none is the error to report, not the missing text
    base[Col.DATE] = _role_dates(frame, r["date"], warnings, named="date" in named)
    base[Col.SCORE] = _role_scores(frame, r["score"], warnings, named="score" in named)
    if not detection.text_columns:
        elsewhere = [f"{col!r} ({role})" for role, col in detection.roles.items() if col]
        raise MissingColumnError(
            "No column with comment text found. Columns: " + ", ".join(map(repr, frame.columns)) + "."
            + (f" Used for other roles: {', '.join(elsewhere)}." if elsewhere else ""),
            hint=f"Name the text column {_mapping_hint('text')}.",
        )
    text_columns = detection.text_columns
    wide = len(text_columns) > 1
    if wide and meta.layout == "plain":
        meta = dataclasses.replace(meta, layout="wide_survey")
    role_columns = {c for c in r.values() if c} | set(text_columns)
    others = [c for c in frame.columns if c not in role_columns]
    base.insert(1, Col.CUSTOMER_ID, _role_ids(frame, r["customer_id"], "customer ids", warnings))
    default_channel = _default_channel(meta.layout, name or _source_name(source))
    base[Col.CHANNEL] = redact_frame(_role_strings(frame, r["channel"]).fillna(default_channel).to_frame(Col.CHANNEL))[Col.CHANNEL]
    ids = _role_ids(frame, r["comment_id"], "comment ids", warnings) if r["comment_id"] else None
    title = _clean_text(frame[r["title"]]) if r["title"] else None

    parts = []
    for column in text_columns:
        part = base.copy()
        body = _clean_text(frame[column])
        part[Col.TEXT] = _join_title(title, body) if title is not None else body
        part[Col.SOURCE_COLUMN] = column
        own_id = ids.fillna(part[Col.ROW_ID].astype(str)) if ids is not None else part[Col.ROW_ID].astype(str)
        part[Col.COMMENT_ID] = (own_id + ":" + column) if wide else own_id
        parts.append(part)
    data = pd.concat(parts, ignore_index=True) if wide else parts[0]
    user = redact_frame((original if original is not None else frame)[others])
    user = user.set_axis([f"input_{c}" if c in _FEEDBACK_COLUMNS else c for c in others], axis=1)
    user = pd.concat([user] * len(text_columns), ignore_index=True) if wide else user

    reason = pd.Series(None, index=data.index, dtype=object)
    # judged on the text as the text stage will see it: "<br>" or "&nbsp;" alone is empty
    cleaned = data[Col.TEXT].map(lambda t: clean_text(t) if isinstance(t, str) else "")
    empty = ~cleaned.str.contains(_HAS_CONTENT, regex=True).fillna(False).astype(bool)
    reason[empty] = DROP_EMPTY_TEXT
    uncached = frame.attrs.get(_ATTR_UNCACHED, {})
    formula = np.concatenate([np.isin(np.arange(n), uncached.get(column, ())) for column in text_columns])
    reason[empty & formula] = DROP_UNCACHED_FORMULA
    reason[np.tile(np.isin(np.arange(n), frame.attrs.get(_ATTR_MALFORMED, ())), len(text_columns))] = DROP_MALFORMED
    if config.drop_duplicates:
        # only a whole input row repeated is a duplicate: the same customer may legitimately send
        # the same text twice (another comment id, date, channel or rating). The first of identical
        # rows has the same text, so it is kept: a duplicate always points at an earlier kept comment.
        whole_row = pd.concat([frame] * len(text_columns), ignore_index=True).assign(_src=data[Col.SOURCE_COLUMN])
        reason[reason.isna() & ~empty & whole_row.duplicated().to_numpy()] = DROP_DUPLICATE
    keep = reason.isna().to_numpy()
    if not keep.any():
        raise EmptyFileError(
            f"No comment to analyse: all {len(data):,} values of {', '.join(map(repr, text_columns))} are empty "
            "(blank or punctuation only).",
            hint=f"Check the text column {_mapping_hint('text')}.",
        )
    kept = pd.concat([data[keep].reset_index(drop=True), user[keep].reset_index(drop=True)], axis=1)
    kept[Col.COMMENT_ID] = _unique_ids(kept[Col.COMMENT_ID], warnings)
    kept = kept[list(_FEEDBACK_COLUMNS) + list(user.columns)]
    for column in (Col.COMMENT_ID, Col.TEXT, Col.CHANNEL, Col.SOURCE_COLUMN):
        kept[column] = kept[column].astype("string")
    dropped_columns = [Col.ROW_ID, Col.REASON] + ([Col.SOURCE_COLUMN] if wide else [])
    dropped = data.loc[~keep, [Col.ROW_ID, Col.SOURCE_COLUMN]].assign(**{Col.REASON: reason[~keep]})
    dropped = dropped[dropped_columns].reset_index(drop=True)
    r["text"] = text_columns[0]
    if wide:
        warnings.append(
            f"Wide survey: {len(text_columns)} open-text columns ({', '.join(map(repr, text_columns))}); "
            "each answer is one comment and rows are counted per (row, column)."
        )
    return IngestResult(kept, dropped, r, _with_warnings(meta, warnings), len(data), "feedback")


_FEEDBACK_COLUMNS = (
    Col.ROW_ID, Col.COMMENT_ID, Col.CUSTOMER_ID, Col.TEXT, Col.DATE, Col.SCORE, Col.CHANNEL, Col.SOURCE_COLUMN,
)
_HAS_CONTENT = re.compile(r"[^\W_]|[\u2600-\u27bf\U0001f300-\U0001faff]")


def _source_name(source: Any) -> str | None:
    if isinstance(source, (str, Path)):
        return Path(source).name
    value = getattr(source, "name", None)
    return value if isinstance(value, str) else None


def _default_channel(layout: str, name: str | None) -> str:
    if layout in _LAYOUT_CHANNEL:
        return _LAYOUT_CHANNEL[layout]
    if layout in _SURVEY_LAYOUTS:
        return "survey"
    return Path(name).stem if name else "feedback"


def _clean_text(values: pd.Series) -> pd.Series:
    """Raw text with NUL bytes removed, newlines normalised and outer whitespace stripped."""
    text = _stringify(values).str.replace("\x00", "", regex=False)
    return text.str.replace("\r\n", "\n", regex=False).str.replace("\r", "\n", regex=False).str.strip()


def _join_title(title: pd.Series, body: pd.Series) -> pd.Series:
    """``title + ". " + body`` (no extra period after a title ending in . ! ? or :)."""
    sep = pd.Series(np.where(title.str.contains(r"[.!?:…]$", regex=True), " ", ". "), index=title.index)
    both = title.ne("") & body.ne("")
    return pd.Series(np.where(both, title + sep + body, title + body), index=title.index, dtype=str)


def _examples(values: pd.Series, n: int) -> str:
    """Up to ``n`` distinct values quoted for a message, personal data redacted (messages are shown and stored)."""
    return ", ".join(repr(redact(v)) for v in values.astype(str).unique()[:n])


def _count_bad(bad: pd.Series, raw: pd.Series, column: str, what: str, warnings: list[str]) -> None:
    if bad.any():
        examples = _examples(raw[bad], 3)
        warnings.append(f"{int(bad.sum()):,} values of '{column}' could not be read as {what}, e.g. {examples}.")


def _unique_ids(ids: pd.Series, warnings: list[str]) -> pd.Series:
    """Make repeated comment ids unique (``id``, ``id_2``, ...) and say how many."""
    n_repeats = int(ids.duplicated().sum())
    if not n_repeats:
        return ids
    warnings.append(f"{n_repeats:,} duplicated comment ids were made unique with a _2, _3 ... suffix.")
    return pd.Series(make_unique(ids), index=ids.index, dtype=ids.dtype)


_CUSTOMER_BOUNDS = {
    Col.NPS: (0.0, 10.0),
    Col.CLV: (0.0, None),
    Col.REVENUE: (None, None),
    Col.TENURE: (0.0, None),
}


def ingest_customers(
    source: Any,
    *,
    roles: Mapping[str, Any] | None = None,
    name: str | None = None,
    config: IngestConfig = IngestConfig(),
) -> IngestResult:
    """Read a customer table: one row per customer with outcome and segment columns.

    Parameters
    ----------
    source : path, bytes, uploaded file or DataFrame
    roles : dict, optional
        Role -> column overrides, e.g. ``{"churned": "Exited"}``; None means
        "no column for this role"; roles not given are detected.
    name : str, optional
    config : IngestConfig

    Returns
    -------
    IngestResult
        ``data`` columns: row_id, customer_id, churned (Int64 0/1), nps, clv,
        monthly_revenue, tenure_months (float), plan, region (string),
        signup_date, churn_date (datetime), then the other columns (segment
        candidates). Drops: "missing customer id"; "duplicate customer id"
        (identical repeats, the first is kept); "conflicting duplicate customer
        id" (all rows of an id whose rows disagree).

    Raises
    ------
    MissingColumnError
        No customer id column.
    InvalidValueError
        Unknown churn spellings, NPS outside 0-10, negative CLV or tenure, text in numeric columns.

    Examples
    --------
    >>> res = ingest_customers(b"customer_id,churned\\nc1,Yes\\nc2,no\\n", name="c.csv")
    >>> res.data["churned"].tolist()
    [1, 0]
    """
    frame, original, meta = _prepare(source, name, config)
    detection = _resolve_roles(frame, "customers", roles)
    r = dict(detection.roles)
    if not r["customer_id"]:
        raise MissingColumnError(
            "The customer table has no customer id column. Columns: " + ", ".join(map(repr, frame.columns)) + ".",
            hint=f"Name it {_mapping_hint('customer_id', 'customers')}.",
        )
    warnings = list(meta.warnings)
    if not any(r[k] for k in ("churned", "nps", "clv")):
        warnings.append("No churned, NPS or CLV column found: driver analysis will have no outcome to explain.")
    data = pd.DataFrame({Col.ROW_ID: np.arange(len(frame), dtype=np.int64)})
    data[Col.CUSTOMER_ID] = _role_ids(frame, r["customer_id"], "customer ids", warnings)
    data[Col.CHURNED] = _parse_churned(frame[r["churned"]], r["churned"]) if r["churned"] else pd.array([pd.NA] * len(frame), dtype="Int64")
    for role, (low, high) in _CUSTOMER_BOUNDS.items():
        data[role] = _numeric_role(frame[r[role]], r[role], role, low, high) if r[role] else np.nan
    if r[Col.NPS]:  # NPS is a 0-10 answer: 7.5 is no answer the driver stage can use
        fractional = data[Col.NPS].mod(1).gt(0)
        _count_bad(fractional, frame[r[Col.NPS]], r[Col.NPS], "whole numbers (kept, NPS left empty)", warnings)
        data.loc[fractional, Col.NPS] = np.nan
    data[[Col.PLAN, Col.REGION]] = redact_frame(pd.DataFrame({role: _role_strings(frame, r[role]) for role in (Col.PLAN, Col.REGION)}))
    for role in (Col.SIGNUP_DATE, Col.CHURN_DATE):
        data[role] = _role_dates(frame, r[role], warnings)
    others = [c for c in frame.columns if c not in {c for c in r.values() if c}]
    user = redact_frame((original if original is not None else frame)[others])
    user = user.set_axis([f"input_{c}" if c in data.columns else c for c in others], axis=1)
    data = pd.concat([data, user], axis=1)

    reason = pd.Series(None, index=data.index, dtype=object)
    missing = data[Col.CUSTOMER_ID].isna()
    reason[missing] = DROP_MISSING_ID
    reason[np.isin(data[Col.ROW_ID], frame.attrs.get(_ATTR_MALFORMED, ()))] = DROP_MALFORMED
    content = data.drop(columns=[Col.ROW_ID])[~missing]
    versions = content.drop_duplicates().groupby(Col.CUSTOMER_ID).size()
    conflicting = data[Col.CUSTOMER_ID].isin(versions.index[versions > 1]) & ~missing
    reason[conflicting] = DROP_CONFLICTING_ID
    repeat = content.duplicated().reindex(data.index, fill_value=False)
    reason[repeat & ~conflicting] = DROP_DUPLICATE_ID
    if conflicting.any():
        warnings.append(
            f"{int(versions.gt(1).sum()):,} customer ids appear in rows that disagree; all "
            f"{int(conflicting.sum()):,} of their rows were dropped ('{DROP_CONFLICTING_ID}')."
        )
    keep = reason.isna().to_numpy()
    dropped = pd.DataFrame({Col.ROW_ID: data.loc[~keep, Col.ROW_ID].to_numpy(), Col.REASON: reason[~keep].to_numpy()})
    return IngestResult(data[keep].reset_index(drop=True), dropped, r, _with_warnings(meta, warnings), len(data), "customers")
