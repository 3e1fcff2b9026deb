"""Reading and safety: any file, upload or bytes into a frame of strings, refusing what is unsafe or too large."""
from __future__ import annotations

import codecs
import csv
import io
import json
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insight.config import IngestConfig
from insight.errors import (
    EmptyFileError,
    FileTooLargeError,
    TooManyRowsError,
    UnreadableFileError,
    UnsafeInputError,
    UnsupportedFormatError,
)
from insight.files import check_size, read_regular_file
from insight.ingest.common import (
    DROP_MALFORMED,
    TableMeta,
    _ATTR_LABELS,
    _ATTR_LAYOUT,
    _ATTR_MALFORMED,
    _ATTR_UNCACHED,
    _cell_text,
    _examples,
    _is_nested,
    _stringify,
    _with_warnings,
)
from insight.ingest.layouts import _frame_from_grid, _structural_layout
from insight.privacy import redact
from insight.schemas import make_unique


SUPPORTED_FORMATS = ("csv", "tsv", "xlsx", "json", "jsonl", "parquet")

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
# marks of such cells while reading: NUL is removed from decoded text and cannot occur in a workbook
_UNCACHED = "\x00uncached formula"
_MALFORMED = "\x00malformed line"
_MAX_BYTES = "IngestConfig.max_bytes"


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
    chunks = 0
    chunked = _read_in_chunks(data, fmt, config) if fmt in ("csv", "tsv") and len(data) > config.chunk_bytes else None
    if chunked is not None:
        grid, encoding, delimiter, chunks = chunked
        fmt = "tsv" if delimiter == "\t" else "csv"
    elif fmt in ("csv", "tsv", "json", "jsonl"):
        text, encoding, text_warnings = _decode(data)
        warnings += text_warnings
    if fmt in ("csv", "tsv") and chunked is None:
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
    meta = _with_warnings(TableMeta(fmt, encoding, delimiter, skipped, layout, len(frame), chunks=chunks), warnings)
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


def _read_in_chunks(data: bytes, fmt: str, config: IngestConfig) -> tuple[pd.DataFrame, str, str, int] | None:
    """Grid, encoding, delimiter and chunk count of a large delimited file parsed from its bytes in chunks.

    A decoded copy of the whole text (and the parser's buffer of it) would cost several times the
    file's size. None for anything the whole-text reader must see to explain it: text that is not
    UTF-8, NUL bytes, CR-only line ends, a binary look, a malformed line.
    """
    bom = data.startswith(b"\xef\xbb\xbf")
    if b"\x00" in data or data.count(b"\r") - data.count(b"\r\n") > data.count(b"\n") or not _is_utf8(data):
        return None
    head = data[:1_000_000].decode("utf-8", errors="ignore").removeprefix("\ufeff")
    if len(_CONTROL_CHARS.findall(head)) > 0.05 * max(len(head), 1):
        return None
    delimiter = "\t" if fmt == "tsv" else _sniff_delimiter(head)
    try:
        reader = pd.read_csv(io.BytesIO(data), engine="c", encoding="utf-8-sig" if bom else "utf-8",
                             chunksize=config.chunk_rows, **_grid_options(delimiter, config))
        parts = list(reader)
    except pd.errors.EmptyDataError as exc:
        raise EmptyFileError("The file has no rows.") from exc
    except (pd.errors.ParserError, ValueError):
        return None
    grid = pd.concat(parts, ignore_index=True).fillna("")
    return grid, "utf-8-sig" if bom else "utf-8", delimiter, len(parts)


def _is_utf8(data: bytes, block: int = 1 << 24) -> bool:
    """Whether ``data`` is valid UTF-8, checked a block at a time (no decoded copy of the whole)."""
    decoder, view = codecs.getincrementaldecoder("utf-8")(), memoryview(data)
    try:
        for start in range(0, len(data), block):
            decoder.decode(view[start:start + block])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _grid_options(delimiter: str, config: IngestConfig) -> dict[str, Any]:
    """``read_csv`` options of a grid: every cell a string, nothing read as missing, a row limit past max_rows."""
    return {"sep": delimiter, "header": None, "dtype": str, "keep_default_na": False, "skip_blank_lines": True,
            "nrows": config.max_rows + 4}


def _read_delimited(text: str, delimiter: str, config: IngestConfig) -> pd.DataFrame:
    """The grid of a delimited text; a line with more fields than the header becomes a ``_MALFORMED`` row.

    The fast C parser reads every well-formed file; when it fails, the Python parser reads again
    and keeps each line with too many fields in its place, so it can be counted as a dropped row.
    """
    options = _grid_options(delimiter, config)
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
