"""Hostile and malformed inputs for insight, with the outcome each must have.

One generator, two users: ``tests/hostile`` asserts every case and ``python -m bench
robustness`` counts them. Each :class:`Case` writes its files into a fresh folder and
says what must happen: a run (exit 0) or one specific ``[Ixxx]`` error (exit 2). What
is checked for every case (:meth:`Outcome.problems`):

* the exit code is 0 or 2, never 1 (an internal error), and nothing prints a traceback;
* a failure is one ``[Ixxx]`` line with the expected code;
* ``rows_in == rows_kept + rows_dropped`` and ``rows_in`` is the file's true row count;
* the roles and texts the file holds are read as such (nothing silently misread);
* none of the personal data planted in the inputs (:data:`PII`) is in any output or
  stored file: CSV, JSON, Parquet, DuckDB, YAML, Excel and HTML;
* no planted formula starts a CSV or Excel cell unescaped (:data:`FORMULAS`) and no
  planted markup stands unescaped in the HTML report (:data:`MARKUP`).

Most cases call the entry points in-process (ingest, config and codeframe loading,
``insight.cli.main`` for argument handling); the ``e2e`` cases are full tiny runs
(a dozen comments, a three-theme codeframe) followed by the Excel and HTML exports of
the saved run, and the cases marked ``via_cli`` go through a real ``python -m
insight.cli`` process.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------- planted content
EMAILS = ("jane.doe@hostile-mail.test", "ops.lead@hostile-mail.test", "agent.smith@hostile-mail.test")
PHONES = ("+44 20 7946 0958", "+1 (555) 010-4477", "+49 30 9017 3355")
CARDS = ("4111 1111 1111 1111", "5500 0000 0000 0004")
IBANS = ("DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32")
PII = EMAILS + PHONES + CARDS + IBANS
"""Personal data planted in the inputs; none of it may reach an output or stored file."""

FORMULAS = ('=HYPERLINK("http://evil.test","x")', "@SUM(1+1)*cmd|' /C calc'!A0", "+1+cmd|'/c calc'!A1",
            "-2+3+cmd|'/c calc'!A2", "=cmd|' /C notepad'!A0", "=SUM(A1:A9)*2")
"""Spreadsheet formulas planted in user text; none may start a CSV or Excel cell unescaped."""

MARKUP = ("<script>alert('hostile-7')</script>", "<img src=x onerror=alert('hostile-8')>",
          "<svg onload=alert('hostile-9')>")
"""Markup planted in user text; none may stand unescaped in the HTML report."""

_HIDDEN_PII = (  # personal data hidden the ways defect 1 of the issue found: markup, entities, full-width digits
    "write to jane.doe@<b></b>hostile-mail.test please",
    "card 4111&nbsp;1111&nbsp;1111&nbsp;1111 was charged twice",
    "refund to DE89&#32;3704 0044 0532 0130 00 now",
    "call +44 20<br>7946 0958 any time",
    "my card \uff14\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 billed",
    "ops.lead@hostile-mail.test said the app crashed",
)
_COMMENTS = (
    "Billing charged me twice this month and nobody answered.",
    "The app keeps crashing whenever I open my invoices.",
    "Support staff were friendly and solved my problem quickly.",
    "Delivery was late again and the parcel was damaged.",
    "Great value for money, I would recommend it to friends.",
    "The new update made the app slow and confusing.",
)
CODEFRAME = """themes:
  - name: billing
    description: charges, invoices and refunds
    keywords: [charged, invoice, refund, billing]
    examples: ["I was charged twice", "refund to {iban} please"]
  - name: "{markup} app problems"
    keywords: [crash, slow, update, app]
    examples: ["the app keeps crashing", "call me on {phone}"]
  - name: "{formula} support"
    description: "staff and support, write to {email}"
    examples: ["support staff were friendly", "card {card} charged"]
"""
"""A three-theme codeframe with personal data in its texts, markup and a formula in its theme names."""


def tiny_codeframe() -> str:
    return CODEFRAME.format(iban=IBANS[0], markup=MARKUP[0].replace("'", ""), phone=PHONES[1],
                            formula=FORMULAS[5], email=EMAILS[2], card=CARDS[1])


# --------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Case:
    """One hostile input and the outcome it must have.

    Attributes
    ----------
    name : "target/format/what", unique.
    target : "feedback" | "customers" | "codeframe" | "config" | "cli" | "e2e".
    build : writes the case's files into a folder and returns what the runner needs: the
        main ``path``, and ``argv`` (cli, e2e), ``roles`` or ``config`` (an InsightConfig) as used.
    expect : "ok" or the error code, e.g. "I109".
    rows : the true number of data rows (runs only).
    roles : roles that must be mapped to these columns (nothing misread).
    texts : strings that kept comments must contain as written (nothing misread).
    via_cli : run through a real ``python -m insight.cli`` process.
    """

    name: str
    target: str
    build: Callable[[Path], dict[str, Any]]
    expect: str = "ok"
    rows: int | None = None
    roles: Mapping[str, str] = field(default_factory=dict)
    texts: tuple[str, ...] = ()
    via_cli: bool = False


def _frame(n: int = 6, **columns: Any) -> pd.DataFrame:
    """A feedback frame: customer_id, comment, date, rating for ``n`` rows, with ``columns`` added or replaced."""
    base = {
        "customer_id": [f"C{i:03d}" for i in range(n)],
        "comment": [_COMMENTS[i % len(_COMMENTS)] + f" (#{i})" for i in range(n)],
        "date": [f"2024-{i % 12 + 1:02d}-{i % 27 + 1:02d}" for i in range(n)],
        "rating": [str(i % 5 + 1) for i in range(n)],
    }
    base.update(columns)
    return pd.DataFrame(base)


def _customers(n: int = 6, **columns: Any) -> pd.DataFrame:
    base = {
        "customer_id": [f"C{i:03d}" for i in range(n)],
        "churned": ["yes" if i % 3 == 0 else "no" for i in range(n)],
        "plan": ["basic" if i % 2 else "pro" for i in range(n)],
        "region": ["north" if i % 3 else "south" for i in range(n)],
        "clv": [str(100 + 37 * i) for i in range(n)],
        "nps": [str(i % 11) for i in range(n)],
    }
    base.update(columns)
    return pd.DataFrame(base)


FORMATS = ("csv", "tsv", "xlsx", "json", "jsonl", "parquet")


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` (strings) written in the format of ``path``'s suffix."""
    fmt = path.suffix.lstrip(".")
    with warnings.catch_warnings():  # pandas' notes on long Excel cells and mixed-type column names
        warnings.simplefilter("ignore", UserWarning)
        _write(frame, path, fmt)
    return path


def _write(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt in ("csv", "tsv"):
        frame.to_csv(path, index=False, sep="," if fmt == "csv" else "\t")
    elif fmt == "xlsx":
        frame.to_excel(path, index=False)
    elif fmt == "json":
        path.write_text(frame.to_json(orient="records", force_ascii=False), encoding="utf-8")
    elif fmt == "jsonl":
        path.write_text(frame.to_json(orient="records", lines=True, force_ascii=False), encoding="utf-8")
    else:
        frame.to_parquet(path, index=False)


def _table_case(target: str, fmt: str, what: str, frame: pd.DataFrame | Callable[[], pd.DataFrame], *,
                expect: str = "ok", rows: int | None = None, roles: Mapping[str, str] | None = None,
                texts: tuple[str, ...] = (), config: Mapping[str, Any] | None = None) -> Case:
    def build(folder: Path) -> dict[str, Any]:
        table = frame() if callable(frame) else frame
        return {"path": write_table(table, folder / f"{target}.{fmt}"), "config": config}

    n = rows if rows is not None else (None if expect != "ok" or callable(frame) else len(frame))
    return Case(f"{target}/{fmt}/{what}", target, build, expect, n, dict(roles or {}), texts)


def _bytes_case(target: str, name: str, what: str, data: bytes | Callable[[Path], None], *, expect: str = "ok",
                rows: int | None = None, roles: Mapping[str, str] | None = None, texts: tuple[str, ...] = (),
                config: Mapping[str, Any] | None = None) -> Case:
    def build(folder: Path) -> dict[str, Any]:
        path = folder / name
        if callable(data):
            data(path)
        else:
            path.write_bytes(data)
        return {"path": path, "config": config}

    suffix = Path(name).suffix.lstrip(".") or "none"
    return Case(f"{target}/{suffix}/{what}", target, build, expect, rows, dict(roles or {}), texts)


def _feedback_families() -> Iterator[Case]:
    """The same hostile contents in each of the six formats."""
    n = 8
    families: dict[str, tuple[Any, dict[str, Any]]] = {
        "plain": (_frame(n), {"roles": {"text": "comment", "customer_id": "customer_id", "date": "date",
                                        "score": "rating"}}),
        "pii-in-text": (_frame(len(_HIDDEN_PII), comment=list(_HIDDEN_PII)), {}),
        "pii-in-other-columns": (_frame(n, channel=[EMAILS[i % 3] for i in range(n)],
                                        contact=[PHONES[i % 3] for i in range(n)],
                                        **{EMAILS[1]: [IBANS[0]] * n}), {"roles": {"channel": "channel"}}),
        "pii-ids": (_frame(n, customer_id=[EMAILS[i % 3] if i % 2 else PHONES[i % 3] for i in range(n)]),
                    {"roles": {"customer_id": "customer_id"}}),
        "formulas": (_frame(n, comment=[f"{FORMULAS[i % 5]} the app crashed" for i in range(n)],
                            source=[FORMULAS[i % 5] for i in range(n)]), {}),
        "markup": (_frame(n, comment=[f"{MARKUP[i % 3]} support was rude" for i in range(n)]), {}),
        "empty-and-duplicate-rows": (pd.concat([_frame(n), _frame(n).iloc[[2, 3]]], ignore_index=True)
                                     .assign(comment=lambda f: f["comment"].where(f.index % 5 != 1, "  ")), {}),
        "unreadable-dates": (_frame(n, date=[("2024-03-0%d" % (i + 1)) if i % 3 == 0 else "soon-ish" for i in range(n)]),
                             {"roles": {"date": "date"}}),
        "scores-out-of-range": (_frame(n, rating=["11", "-3", "ten", "4", "5", "1e999", "2", "3"][:n]),
                                {"roles": {"score": "rating"}}),
        "unicode": (_frame(n, comment=[
            "Great app 👍🏽 but slow", "التطبيق رائع", "zero\u200bwidth\u200bspaces everywhere", "e\u0301\u0301\u0301 combining",
            "\U0001f4a9" * 50, "mixed ‮RTL override‬ text", "tab\tinside", "ｆｕｌｌ ｗｉｄｔｈ letters"]), {}),
        "long-comment": (_frame(4, comment=["word " * 40_000, "short one", "another short one", "x" * 100_000]), {}),
        "many-columns": (_frame(n, **{f"extra_{i}": [str(i)] * n for i in range(300)}), {}),
    }
    for what, (frame, extra) in families.items():
        for fmt in FORMATS:
            yield _table_case("feedback", fmt, what, frame, **extra)
    for fmt in FORMATS:  # an empty table and one without any text: the same error in every format
        yield _table_case("feedback", fmt, "header-only", _frame(0), expect="I103")
        yield _table_case("feedback", fmt, "no-text-column", _frame(n).drop(columns="comment"), expect="I106")


def _special(path: Path, kind: str) -> None:
    """A FIFO, a folder or a link to a device at ``path``."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to("/dev/zero")


def _xlsx_bomb(cells: int, filler: int) -> Callable[[Path], None]:
    """An .xlsx whose one sheet holds ``cells`` cells padded with ``filler`` bytes of blanks: a few KB zipped."""
    def write(path: Path) -> None:
        _frame(4).to_excel(path, index=False)
        with zipfile.ZipFile(path) as src:
            parts = {name: src.read(name) for name in src.namelist()}
        row = b"".join(b'<c r="A%d" t="inlineStr"><is><t>x</t></is></c>' % (i + 6) for i in range(cells))
        sheet = parts["xl/worksheets/sheet1.xml"]
        parts["xl/worksheets/sheet1.xml"] = sheet.replace(b"</sheetData>", b"<row r=\"6\">" + row + b"</row>"
                                                          + b" " * filler + b"</sheetData>")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
            for name, data in parts.items():
                dst.writestr(name, data)
    return write


def _feedback_files() -> Iterator[Case]:
    """Format-specific hostile files: encodings, line ends, damaged and disguised files, limits."""
    header = "customer_id,comment,date\n"
    yield _bytes_case("feedback", "old-mac.csv", "cr-only-line-ends",
                      b"customer_id,comment,date\rC1,Great app really,2024-01-01\rC2,Billing is broken,2024-01-02\r"
                      b"C3,Delivery late,2024-01-03\r", rows=3, roles={"customer_id": "customer_id", "date": "date"},
                      texts=("Billing is broken",))
    yield _bytes_case("feedback", "mixed.csv", "utf8-and-cp1252-lines",
                      (header + "C1,Le café est bon,2024-01-01\n").encode()
                      + "C2,Le thé était froid,2024-01-02\nC3,Prix élevé,2024-01-03\n".encode("cp1252"),
                      rows=3, texts=("café", "thé", "élevé"))
    yield _bytes_case("feedback", "win.csv", "cp1252", (header + "C1,Crème brûlée was cold,2024-01-01\n"
                                                        "C2,Service €5 too pricey,2024-01-02\n").encode("cp1252"),
                      rows=2, texts=("brûlée", "€5"))
    utf16 = header + "C1,Ünïcode everywhere,2024-01-01\nC2,Plain text here,2024-01-02\n"
    yield _bytes_case("feedback", "bom16.csv", "utf16-bom", utf16.encode("utf-16"), rows=2, texts=("Ünïcode",))
    yield _bytes_case("feedback", "le16.csv", "utf16-no-bom", utf16.encode("utf-16-le"), rows=2, texts=("Ünïcode",))
    yield _bytes_case("feedback", "bom8.csv", "utf8-bom", b"\xef\xbb\xbf" + utf16.encode(), rows=2,
                      roles={"customer_id": "customer_id"})
    yield _bytes_case("feedback", "semi.csv", "semicolons-decimal-comma",
                      b"customer_id;comment;rating\nC1;Good app, mostly;4,5\nC2;Bad; really bad;2\n", rows=2)
    yield _bytes_case("feedback", "crlf.csv", "crlf-quoted-newlines",
                      b'customer_id,comment\r\nC1,"line one\r\nline two"\r\nC2,"say ""hi"""\r\n', rows=2)
    yield _bytes_case("feedback", "nul.csv", "nul-bytes", b"customer_id,comment\nC1,Go\x00od app\nC2,Bad\x00 app\n", rows=2)
    yield _bytes_case("feedback", "malformed.csv", "one-line-too-many-fields",
                      (header + "".join(f"C{i},Comment number {i},2024-01-0{i % 9 + 1}\n" for i in range(9))
                       + "C9,extra,field,here\n").encode(), rows=10)
    yield _bytes_case("feedback", "quote.csv", "unbalanced-quote", b'customer_id,comment\nC1,"never closed\nC2,ok\n',
                      expect="I101")
    yield _bytes_case("feedback", "qualtrics.csv", "qualtrics-headers",
                      b'ResponseId,Q1,Q2\n"Response ID","What did you like?","Any other comments?"\n'
                      b'"{""ImportId"":""_recordId""}","{""ImportId"":""QID1_TEXT""}","{""ImportId"":""QID2_TEXT""}"\n'
                      b"R_1,The app is fast and clean,Nothing more to add here\nR_2,Support answered in minutes,Keep it up team\n",
                      rows=4)
    yield _bytes_case("feedback", "dupcols.csv", "duplicate-column-names",
                      b"customer_id,comment,customer_id\nC1,first text here,X1\nC2,more text there,X2\n", rows=2,
                      roles={"customer_id": "customer_id"})
    yield _bytes_case("feedback", "formula-header.csv", "formula-column-names",
                      b'customer_id,comment,"=cmd|\' /C calc\'!A0"\nC1,Great app,x\nC2,Bad app,y\n', rows=2)
    yield _bytes_case("feedback", "blank.csv", "blank-lines-only", b"\n\n  \n\n", expect="I103")
    yield _bytes_case("feedback", "empty.csv", "empty-file", b"", expect="I103")
    yield _bytes_case("feedback", "binary.csv", "binary-garbage", bytes(range(256)) * 64, expect="I101")
    yield _bytes_case("feedback", "pickle.csv", "pickle-named-csv", b"\x80\x04\x95\x10\x00cos\nsystem\n.", expect="I109")
    yield _bytes_case("feedback", "elf.csv", "executable-named-csv", b"\x7fELF\x02\x01\x01" + b"\x00" * 64, expect="I109")
    yield _bytes_case("feedback", "tool.exe", "exe-extension", b"customer_id,comment\nC1,hi\n", expect="I109")
    yield _bytes_case("feedback", "old.xls", "legacy-xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,
                      expect="I102")
    yield _bytes_case("feedback", "report.docx", "unsupported-extension", b"PK\x03\x04", expect="I102")
    yield _bytes_case("feedback", "zip.csv", "zip-named-csv", lambda p: zipfile.ZipFile(p, "w").writestr("a.txt", "hi"),
                      expect="I102")
    yield _bytes_case("feedback", "big.csv", "over-max-bytes", (header + "C1,text,2024-01-01\n" * 200).encode(),
                      expect="I104", config={"ingest": {"max_bytes": 1000}})
    yield _bytes_case("feedback", "rows.csv", "over-max-rows", (header + "C1,text,2024-01-01\n" * 20).encode(),
                      expect="I105", config={"ingest": {"max_rows": 5}})
    for kind, code in (("fifo", "I109"), ("folder", "I101"), ("device-link", "I109")):
        yield _bytes_case("feedback", f"{kind}.csv", kind, lambda p, kind=kind: _special(p, kind), expect=code)
    yield Case("feedback/path/missing", "feedback", lambda folder: {"path": folder / "nope.csv"}, "I101")
    yield Case("feedback/path/dev-null", "feedback", lambda folder: {"path": Path("/dev/null")}, "I109")
    # Excel
    yield _bytes_case("feedback", "bomb.xlsx", "unpacked-size-bomb", _xlsx_bomb(10, 3_000_000), expect="I104",
                      config={"ingest": {"max_bytes": 200_000}})
    yield _bytes_case("feedback", "cells.xlsx", "cell-count-bomb", _xlsx_bomb(30_000, 0), expect="I105",
                      config={"ingest": {"max_cells": 10_000}})
    yield _bytes_case("feedback", "cut.xlsx", "truncated", lambda p: p.write_bytes(_excel_bytes()[:700]), expect="I101")
    yield _bytes_case("feedback", "word.xlsx", "word-document-renamed", _docx, expect="I102")
    yield _bytes_case("feedback", "sheets.xlsx", "several-sheets", _two_sheets, rows=5)
    # JSON
    yield _bytes_case("feedback", "deep.json", "nested-too-deep", b"[" * 100_000 + b"]" * 100_000, expect="I101")
    yield _bytes_case("feedback", "scalar.json", "not-a-table", b'"just a string"', expect="I101")
    yield _bytes_case("feedback", "bad.json", "invalid-json", b'[{"comment": "unterminated}]', expect="I101")
    yield _bytes_case("feedback", "columns.json", "column-oriented",
                      json.dumps({"comment": ["good app here", "bad app there"], "customer_id": ["C1", "C2"]}).encode(),
                      rows=2)
    yield _bytes_case("feedback", "nested.json", "nested-values",
                      json.dumps([{"comment": "good app", "tags": ["a", "b"], "meta": {"k": 1}},
                                  {"comment": "bad app", "tags": [], "meta": None}]).encode(), rows=2)
    yield _bytes_case("feedback", "huge.json", "huge-numbers",
                      b'[{"comment": "fine app", "rating": 1e308, "id": 123456789012345678901234567890},'
                      b' {"comment": "poor app", "rating": -1e308, "id": 1}]', rows=2)
    yield _bytes_case("feedback", "surrogate.json", "lone-surrogates",
                      b'[{"comment": "broken \\ud800 text here"}, {"comment": "fine text"}]', expect="I101")
    yield _bytes_case("feedback", "bad.jsonl", "bad-line", b'{"comment": "ok"}\n{"comment": \n', expect="I101")
    yield _bytes_case("feedback", "mixed.jsonl", "array-line", b'{"comment": "ok app"}\n[1, 2]\n', expect="I101")
    # Parquet
    yield _bytes_case("feedback", "lists.parquet", "list-and-struct-cells", _nested_parquet, rows=2,
                      texts=("good app",))
    yield _bytes_case("feedback", "junk.parquet", "damaged", b"PAR1" + b"\x00garbage" * 20, expect="I101")
    yield _bytes_case("feedback", "cut.parquet", "truncated", lambda p: p.write_bytes(_parquet_bytes()[:-40]),
                      expect="I101")
    yield _bytes_case("feedback", "typed.parquet", "typed-columns", _typed_parquet, rows=3)


def _excel_bytes() -> bytes:
    buffer = io.BytesIO()
    _frame(4).to_excel(buffer, index=False)
    return buffer.getvalue()


def _parquet_bytes() -> bytes:
    buffer = io.BytesIO()
    _frame(4).to_parquet(buffer, index=False)
    return buffer.getvalue()


def _docx(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")


def _two_sheets(path: Path) -> None:
    with pd.ExcelWriter(path) as writer:
        _frame(2).to_excel(writer, sheet_name="small", index=False)
        _frame(5).to_excel(writer, sheet_name="big", index=False)


def _nested_parquet(path: Path) -> None:
    pd.DataFrame({"comment": ["good app here", "bad billing there"], "tags": [["a", "b"], []],
                  "meta": [{"k": 1, "v": "x"}, {"k": 2, "v": "y"}], "blob": [b"\x00\xffbytes", b"ok"]}).to_parquet(path)


def _typed_parquet(path: Path) -> None:
    write_table(pd.DataFrame({
        1: ["good app here", "bad billing there", "slow delivery today"], "rating": [4.0, None, 1e300],
        "when": pd.to_datetime(["2024-01-01", None, "2024-03-01"]).tz_localize("Europe/Berlin"),
        "plan": pd.Categorical(["a", "b", "a"]), "flag": [True, False, None],
    }), path)


def _customer_cases() -> Iterator[Case]:
    n = 6
    for fmt in ("csv", "xlsx", "parquet"):
        yield _table_case("customers", fmt, "plain", _customers(n), roles={"customer_id": "customer_id", "churned": "churned"})
        yield _table_case("customers", fmt, "pii-columns", _customers(
            n, contact_email=[EMAILS[i % 3] for i in range(n)], phone=[PHONES[i % 3] for i in range(n)],
            plan=[IBANS[i % 2] for i in range(n)], **{EMAILS[0]: ["x"] * n}))
        yield _table_case("customers", fmt, "pii-ids", _customers(n, customer_id=[EMAILS[0], EMAILS[1], PHONES[0],
                                                                                  PHONES[1], CARDS[0], "C005"]))
        yield _table_case("customers", fmt, "formulas-and-markup", _customers(
            n, plan=[FORMULAS[i % 5] for i in range(n)], region=[MARKUP[i % 3] for i in range(n)]))
    yield _table_case("customers", "csv", "unknown-churn-values", _customers(n, churned=["maybe"] * n), expect="I108")
    yield _table_case("customers", "csv", "nps-out-of-range", _customers(n, nps=["11"] * n), expect="I108")
    yield _table_case("customers", "csv", "negative-clv", _customers(n, clv=["-5"] * n), expect="I108")
    yield _table_case("customers", "csv", "infinite-clv", _customers(n, clv=["inf"] + ["1e999"] * (n - 1)), expect="I108")
    yield _table_case("customers", "csv", "text-in-clv", _customers(n, clv=["lots"] * n), expect="I108")
    yield _table_case("customers", "csv", "no-id-column", _customers(n).drop(columns="customer_id")
                      .rename(columns={"plan": "tier"}), expect="I106")
    yield _table_case("customers", "csv", "duplicate-and-missing-ids",
                      _customers(n, customer_id=["C1", "C1", "", "C2", "C2", "C3"],
                                 churned=["yes", "yes", "no", "no", "yes", "no"]))
    yield _table_case("customers", "csv", "header-only", _customers(0), expect="I103")
    yield _bytes_case("customers", "old-mac.csv", "cr-only-line-ends",
                      b"customer_id,churned,plan\rC1,yes,pro\rC2,no,basic\r", rows=2,
                      roles={"customer_id": "customer_id", "churned": "churned", "plan": "plan"})


def _codeframe_cases() -> Iterator[Case]:
    def case(what: str, text: str | bytes | Callable[[Path], None], expect: str = "ok") -> Case:
        return _bytes_case("codeframe", "codeframe.yaml", what,
                           text.encode("utf-8") if isinstance(text, str) else text, expect=expect)

    lol = "a: &a [" + ",".join(['"lol"'] * 9) + "]\n"
    for level, name in zip("bcdefghi", "abcdefgh"):
        lol += f"{level}: &{level} [" + ",".join([f"*{name}"] * 9) + "]\n"
    yield case("valid-with-pii", tiny_codeframe())
    yield case("alias-bomb", lol + "themes:\n  - name: x\n    examples: *i\n", "I109")
    yield case("one-alias", "k: &k [crash]\nthemes:\n  - name: app\n    keywords: *k\n", "I109")
    yield case("nested-too-deep", "themes: " + "[" * 20_000 + "]" * 20_000, "I100")
    yield case("python-tag", "themes:\n  - name: !!python/object/apply:os.system [echo hi]\n", "I100")
    yield case("not-a-mapping", "just a sentence", "I100")
    yield case("empty", "", "I100")
    yield case("themes-not-a-list", "themes: billing", "I100")
    yield case("theme-without-name", "themes:\n  - description: nameless\n", "I100")
    yield case("duplicate-names", "themes:\n  - name: a\n  - name: a\n", "I100")
    yield case("pipe-in-name", "themes:\n  - name: a|b\n", "I100")
    yield case("unknown-key", "themes:\n  - name: a\n    colour: red\n", "I100")
    yield case("description-a-list", "themes:\n  - name: a\n    description: [x, y]\n", "I100")
    yield case("too-large", "themes:\n  - name: a\n    examples: [" + ", ".join(["example text"] * 400_000) + "]\n",
               "I104")
    yield case("not-utf8", b"themes:\n  - name: caf\xe9\n", "I100")
    yield _bytes_case("codeframe", "codeframe.yaml", "fifo", lambda p: _special(p, "fifo"), expect="I109")
    yield _bytes_case("codeframe", "codeframe.yaml", "folder", lambda p: _special(p, "folder"), expect="I101")


def _config_cases() -> Iterator[Case]:
    def case(what: str, text: str | bytes | Callable[[Path], None], expect: str = "I111", name: str = "settings.toml") -> Case:
        return _bytes_case("config", name, what, text.encode("utf-8") if isinstance(text, str) else text, expect=expect)

    yield case("valid-toml", "seed = 3\n[drivers]\nmin_support = 10\ncovariates = ['plan']\n", "ok")
    yield case("valid-json", '{"seed": 3, "ingest": {"max_rows": 1000}}', "ok", "settings.json")
    yield case("negative-max-bytes", "[ingest]\nmax_bytes = -5\n")
    yield case("unknown-section", "[ingst]\nmax_bytes = 5\n")
    yield case("unknown-setting", "[drivers]\nmin_suport = 10\n")
    yield case("string-for-number", "[drivers]\nmin_support = 'ten'\n")
    yield case("bool-for-number", "[drivers]\nmin_support = true\n")
    yield case("float-for-whole-number", "[drivers]\nmin_support = 2.5\n")
    yield case("negative-seed", "seed = -1\n")
    yield case("huge-seed-json", '{"seed": 1180591620717411303424}', name="settings.json")
    yield case("huge-seed-toml", "seed = 1180591620717411303424\n")
    yield case("alpha-above-one", "[drivers]\nalpha = 2\n")
    yield case("unknown-mode", "[themes]\nmode = 'magic'\n")
    yield case("section-not-a-table", "drivers = 5\n")
    yield case("list-of-numbers", "[segments]\ncolumns = [1, 2]\n")
    yield case("nan-band", "[sentiment]\nneutral_band = nan\n")
    yield case("json-list", "[1, 2, 3]", name="settings.json")
    yield case("invalid-toml", "seed = [", "I100")
    yield case("invalid-json", "{seed: 1}", "I100", "settings.json")
    yield case("nested-too-deep", "[" * 100_000 + "]" * 100_000, "I100", "settings.json")
    yield case("nested-too-deep-toml", "a = " + "[" * 5_000 + "]" * 5_000 + "\n", "I100")
    yield case("not-utf8", b"seed = 1 # caf\xe9\n", "I100")
    yield case("too-large", "# " + "x" * (2 * 1024 * 1024) + "\n", "I104")
    yield _bytes_case("config", "settings.toml", "fifo", lambda p: _special(p, "fifo"), expect="I109")
    yield _bytes_case("config", "settings.toml", "folder", lambda p: _special(p, "folder"), expect="I101")


def _small_feedback(folder: Path) -> Path:
    return write_table(_frame(12), folder / "feedback.csv")


def _cli_case(what: str, args: Callable[[Path], list[str]], expect: str, *, via_cli: bool = False) -> Case:
    def build(folder: Path) -> dict[str, Any]:
        return {"argv": ["analyze", *args(folder), "--quiet"]}

    return Case(f"cli/args/{what}", "cli", build, expect, via_cli=via_cli)


def _cli_cases() -> Iterator[Case]:
    def feedback(folder: Path, *extra: str) -> list[str]:
        return ["--feedback", str(_small_feedback(folder)), "--out", str(folder / "out"), *extra]

    def make(path: Path, kind: str) -> str:
        _special(path, kind)
        return str(path)

    yield _cli_case("seed-not-a-number", lambda f: feedback(f, "--seed", "abc"), "I110", via_cli=True)
    yield _cli_case("seed-negative", lambda f: feedback(f, "--seed", "-1"), "I111", via_cli=True)
    yield _cli_case("seed-too-large", lambda f: feedback(f, "--seed", "1180591620717411303424"), "I111")
    yield _cli_case("out-in-proc", lambda f: feedback(f)[:-2] + ["--out", "/proc/x"], "I100", via_cli=True)
    yield _cli_case("out-is-a-file", lambda f: feedback(f)[:-2] + ["--out", str(_small_feedback(f))], "I100")
    yield _cli_case("feedback-folder", lambda f: ["--feedback", str(f), "--out", str(f / "out")], "I101", via_cli=True)
    yield _cli_case("feedback-dev-null", lambda f: ["--feedback", "/dev/null", "--out", str(f / "out")], "I109",
                    via_cli=True)
    yield _cli_case("feedback-fifo", lambda f: ["--feedback", make(f / "pipe.csv", "fifo"), "--out", str(f / "out")],
                    "I109")
    yield _cli_case("feedback-missing", lambda f: ["--feedback", str(f / "nope.csv"), "--out", str(f / "out")], "I101")
    yield _cli_case("no-feedback", lambda f: ["--out", str(f / "out")], "I110")
    yield _cli_case("unknown-flag", lambda f: feedback(f, "--colour", "red"), "I110", via_cli=True)
    yield _cli_case("customer-col-without-equals", lambda f: feedback(f, "--customer-col", "churned"), "I110")
    yield _cli_case("customer-col-unknown-role", lambda f: feedback(f, "--customers", str(
        write_table(_customers(), f / "customers.csv")), "--customer-col", "shoe_size=plan"), "I106")
    yield _cli_case("date-col-names-text", lambda f: feedback(f, "--date-col", "comment"), "I108", via_cli=True)
    yield _cli_case("score-col-names-text", lambda f: feedback(f, "--score-col", "comment"), "I108")
    yield _cli_case("text-col-missing", lambda f: feedback(f, "--text-col", "review"), "I106")
    yield _cli_case("unknown-embedder", lambda f: feedback(f, "--embedder", "gpt.v9"), "I100")
    yield _cli_case("config-missing", lambda f: feedback(f, "--config", str(f / "none.toml")), "I101")
    yield _cli_case("config-negative-max-bytes", lambda f: feedback(f, "--config", _text(f / "c.toml", "[ingest]\nmax_bytes = -5\n")),
                    "I111", via_cli=True)
    yield _cli_case("codeframe-alias-bomb", lambda f: feedback(f, "--codeframe", _text(
        f / "cf.yaml", "k: &k [a]\nthemes:\n  - name: x\n    keywords: *k\n")), "I109")
    yield _cli_case("codeframe-folder", lambda f: feedback(f, "--codeframe", str(f)), "I101")


def _text(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def _e2e_case(what: str, feedback: Callable[[Path], Path], rows: int, *, customers: bool = True,
              codeframe: bool = True, texts: tuple[str, ...] = (), roles: Mapping[str, str] | None = None,
              via_cli: bool = False) -> Case:
    def build(folder: Path) -> dict[str, Any]:
        argv = ["analyze", "--feedback", str(feedback(folder)), "--out", str(folder / "out"), "--quiet"]
        if customers:
            argv += ["--customers", str(write_table(_e2e_customers(), folder / "customers.csv"))]
        if codeframe:
            argv += ["--codeframe", _text(folder / "codeframe.yaml", tiny_codeframe())]
        return {"argv": argv}

    return Case(f"e2e/{what}", "e2e", build, "ok", rows, dict(roles or {}), texts, via_cli)


def _e2e_customers() -> pd.DataFrame:
    ids = ["C000", "C001", EMAILS[0], PHONES[0], "C004", "C005", "C006", "C007"]
    return _customers(8, customer_id=ids, plan=[FORMULAS[i % 5] for i in range(8)],
                      region=[MARKUP[i % 3] for i in range(8)], contact=[EMAILS[i % 3] for i in range(8)],
                      mobile=[PHONES[i % 3] for i in range(8)], **{EMAILS[1]: [IBANS[1]] * 8})


def _e2e_feedback(n: int = 12) -> pd.DataFrame:
    texts = list(_HIDDEN_PII) + [f"{FORMULAS[0]} billing charged me twice", f"{MARKUP[1]} the app keeps crashing",
                                 f"{MARKUP[0]} support staff were friendly", f"card {CARDS[1]} and {IBANS[1]}",
                                 f"{EMAILS[2]} says delivery was late", f"call {PHONES[2]} about the refund"]
    ids = ["C000", "C001", EMAILS[0], PHONES[0], "C004", "C005", "C006", "C007", EMAILS[0], "C009", "C010", "C011"]
    return _frame(n, comment=texts[:n], customer_id=ids[:n], channel=[EMAILS[1] if i % 2 else FORMULAS[1] for i in range(n)],
                  **{f"{FORMULAS[4]}": [MARKUP[2]] * n, PHONES[1]: ["x"] * n})


def _e2e_cases() -> Iterator[Case]:
    yield _e2e_case("pii-formulas-markup-everywhere", lambda f: write_table(_e2e_feedback(), f / "feedback.csv"), 12)
    yield _e2e_case("pii-everywhere-via-cli", lambda f: write_table(_e2e_feedback(), f / "feedback.csv"), 12, via_cli=True)
    yield _e2e_case("xlsx", lambda f: write_table(_e2e_feedback(), f / "feedback.xlsx"), 12)
    yield _e2e_case("parquet-lists", lambda f: write_table(_e2e_feedback().assign(
        tags=lambda t: [[EMAILS[0], "x"]] * len(t)), f / "feedback.parquet"), 12)
    yield _e2e_case("jsonl-without-customers", lambda f: write_table(_e2e_feedback(), f / "feedback.jsonl"), 12,
                    customers=False)
    yield _e2e_case("discovery", lambda f: write_table(_e2e_feedback(), f / "feedback.csv"), 12, codeframe=False)
    yield _e2e_case("cr-line-ends", lambda f: _cr_only(write_table(_frame(10), f / "feedback.csv")), 10,
                    roles={"customer_id": "customer_id", "date": "date", "score": "rating"}, texts=(_COMMENTS[1],))
    yield _e2e_case("mixed-encoding", lambda f: _mixed(f / "feedback.csv"), 10, texts=("café", "thé"))
    yield _e2e_case("bad-dates-and-scores", lambda f: write_table(_frame(
        10, date=["2024-01-05" if i % 3 == 0 else "unknown" for i in range(10)],
        rating=["11", "-3", "ten", "4", "5", "1", "2", "3", "4", "5"]), f / "feedback.csv"), 10,
        roles={"date": "date", "score": "rating"})


def _cr_only(path: Path) -> Path:
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    return path


def _mixed(path: Path) -> Path:
    frame = _frame(10)
    frame.loc[0, "comment"] = "Le café est froid et le service lent"
    frame.loc[1, "comment"] = "Le thé était trop cher pour la qualité"
    lines = frame.to_csv(index=False).splitlines(keepends=True)
    path.write_bytes(b"".join(line.encode("cp1252" if i == 2 else "utf-8") for i, line in enumerate(lines)))
    return path


def cases() -> list[Case]:
    """Every hostile case, in a fixed order with unique names."""
    out = [*_feedback_families(), *_feedback_files(), *_customer_cases(), *_codeframe_cases(), *_config_cases(),
           *_cli_cases(), *_e2e_cases()]
    names = [c.name for c in out]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ValueError(f"duplicate case names: {sorted(duplicated)}")
    return out


# --------------------------------------------------------------------------- running and checking
@dataclass
class Outcome:
    """What a case did, and every way it fell short of what it must do (:meth:`problems`)."""

    case: Case
    exit_code: int
    errors: list[str] = field(default_factory=list)  # the [Ixxx] lines (or internal error lines) printed
    traceback: bool = False
    accounting: dict[str, int] = field(default_factory=dict)  # rows_in, rows_kept, rows_dropped (per table)
    misread: list[str] = field(default_factory=list)
    leaks: dict[str, list[str]] = field(default_factory=dict)  # file -> planted personal data found in it
    injections: list[str] = field(default_factory=list)

    @property
    def code(self) -> str | None:
        found = re.search(r"\[(I\d{3})\]", " ".join(self.errors))
        return found.group(1) if found else None

    @property
    def rows_lost(self) -> bool:
        acc = self.accounting
        return bool(acc) and (acc["rows_in"] != acc["rows_kept"] + acc["rows_dropped"]
                              or (self.case.rows is not None and acc["rows_in"] != self.case.rows))

    def problems(self) -> list[str]:
        found = []
        if self.exit_code not in (0, 2):
            found.append(f"exit code {self.exit_code}: {' '.join(self.errors)[:300]}")
        if self.traceback:
            found.append("printed a traceback")
        if self.exit_code == 2 and len(self.errors) != 1:
            found.append(f"{len(self.errors)} error lines, not one")
        if self.case.expect == "ok" and self.exit_code != 0:
            found.append(f"expected a run, got: {' '.join(self.errors)[:300]}")
        if self.case.expect != "ok" and self.code != self.case.expect:
            found.append(f"expected [{self.case.expect}], got exit {self.exit_code}: {' '.join(self.errors)[:300]}")
        if self.rows_lost:
            found.append(f"rows lost: {self.accounting} for {self.case.rows} rows")
        found += [f"misread: {m}" for m in self.misread]
        found += [f"personal data in {path}: {', '.join(items)}" for path, items in self.leaks.items()]
        found += [f"injection: {i}" for i in self.injections]
        return found


def run_case(case: Case, folder: Path) -> Outcome:
    """Build ``case`` in ``folder`` (empty, its own) and run it."""
    folder.mkdir(parents=True, exist_ok=True)
    built = case.build(folder)
    if case.via_cli or case.target in ("cli", "e2e"):
        outcome = _run_cli(case, built["argv"], folder)
    else:
        outcome = _run_in_process(case, built)
    if case.target == "e2e" and outcome.exit_code == 0:
        _check_run_folder(outcome, folder / "out")
    return outcome


def _run_cli(case: Case, argv: list[str], folder: Path) -> Outcome:
    if case.via_cli:
        done = subprocess.run([sys.executable, "-m", "insight.cli", *argv], capture_output=True, text=True,
                              cwd=REPO, timeout=900)
        code, stderr = done.returncode, done.stderr
    else:
        from insight import cli

        stderr_buffer, stdout_buffer = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(stderr_buffer), contextlib.redirect_stdout(stdout_buffer):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse's --help; anything else escaping main() is a traceback
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException as exc:  # noqa: BLE001 - counted, not raised: the case reports it
                code, stderr_buffer = 1, io.StringIO(f"Traceback (most recent call last):\n{type(exc).__name__}: {exc}")
        stderr = stderr_buffer.getvalue()
    lines = [line for line in stderr.splitlines() if line.startswith("insight: error") or "internal error" in line]
    return Outcome(case, code, lines, traceback="Traceback (most recent call last)" in stderr)


def _run_in_process(case: Case, built: dict[str, Any]) -> Outcome:
    from insight.config import InsightConfig
    from insight.errors import InsightError

    try:
        config = InsightConfig.from_dict(built.get("config") or {})
        result = _LOADERS[case.target](built["path"], config, built.get("roles"))
    except InsightError as exc:
        return Outcome(case, 2, [exc.one_line()])
    except Exception as exc:  # noqa: BLE001 - an internal error is what this case reports
        return Outcome(case, 1, [f"internal error: {type(exc).__name__}: {exc}"])
    outcome = Outcome(case, 0)
    if case.target in ("feedback", "customers"):
        _check_ingested(outcome, result)
    else:
        _scan_text(outcome, case.target, _stored_text(result))
    return outcome


def _load_feedback(path: Path, config: Any, roles: Any) -> Any:
    from insight.ingest import ingest_feedback

    return ingest_feedback(path, roles=roles, config=config.ingest)


def _load_customers(path: Path, config: Any, roles: Any) -> Any:
    from insight.ingest import ingest_customers

    return ingest_customers(path, roles=roles, config=config.ingest)


def _load_codeframe(path: Path, config: Any, roles: Any) -> Any:
    from insight.codeframe import Codeframe

    return Codeframe.from_yaml(path)


def _load_config(path: Path, config: Any, roles: Any) -> Any:
    from insight.config import InsightConfig

    return InsightConfig.load(path)


_LOADERS = {"feedback": _load_feedback, "customers": _load_customers, "codeframe": _load_codeframe,
            "config": _load_config}


def _stored_text(result: Any) -> str:
    """What a loaded codeframe or config puts on disk with a run (the codeframe as the pipeline redacts it)."""
    from insight.codeframe import Codeframe
    from insight.privacy import redact_codeframe

    if isinstance(result, Codeframe):
        return redact_codeframe(result).to_yaml()
    return json.dumps(result.to_dict())


def _check_ingested(outcome: Outcome, result: Any) -> None:
    """Accounting, roles and texts of an IngestResult; no personal data outside the comment text
    (which the text stage redacts) in what ingest passes on: columns, values, warnings, roles."""
    outcome.accounting = {"rows_in": result.rows_in, "rows_kept": result.rows_kept, "rows_dropped": result.rows_dropped}
    for role, column in outcome.case.roles.items():
        if result.roles.get(role) != column:
            outcome.misread.append(f"role {role} is {result.roles.get(role)!r}, not {column!r}")
    texts = " ".join(result.data["text"].astype(str)) if "text" in result.data else ""
    outcome.misread += [f"no kept text holds {t!r}" for t in outcome.case.texts if t not in texts]
    shown = result.data.drop(columns=["text"], errors="ignore")
    _scan_text(outcome, "ingest result", "\n".join([
        shown.astype(str).to_csv(), " ".join(map(str, shown.columns)), *result.meta.warnings,
        json.dumps(result.roles, default=str),
    ]))


def _check_run_folder(outcome: Outcome, out: Path) -> None:
    """A finished run: accounting from summary.json, the Excel and HTML exports of the saved run, every file scanned."""
    from insight import report, store

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    outcome.accounting = {k: summary[k] for k in ("rows_in", "rows_kept", "rows_dropped")}
    roles = summary["feedback_input"]["roles"]
    for role, column in outcome.case.roles.items():
        if roles.get(role) != column:
            outcome.misread.append(f"role {role} is {roles.get(role)!r}, not {column!r}")
    comments = pd.read_csv(out / "comments.csv", dtype=str, keep_default_na=False)
    texts = " ".join(comments["text"])
    outcome.misread += [f"no comment holds {t!r}" for t in outcome.case.texts if t not in texts]
    run = store.load_run(out / "run")
    (out / "report.xlsx").write_bytes(report.to_excel(run))
    (out / "report.html").write_text(report.to_html(run), encoding="utf-8")
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        name = str(path.relative_to(out))
        _scan_text(outcome, name, _file_text(path))
        _check_injection(outcome, path, name)


def _file_text(path: Path) -> str:
    """Everything a reader of the file could see, as text."""
    suffix = path.suffix
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        frame = pd.read_parquet(path)
        metadata = pq.read_schema(path).metadata or {}
        return (frame.astype(str).to_csv() + " ".join(map(str, frame.columns))
                + b" ".join(metadata.values()).decode("utf-8", errors="replace"))
    if suffix == ".duckdb":
        import duckdb

        with duckdb.connect(str(path), read_only=True) as con:
            tables = [row[0] for row in con.sql("SHOW TABLES").fetchall()]
            return "\n".join(con.sql(f'SELECT * FROM "{t}"').to_arrow_table().to_pandas().astype(str).to_csv()
                             for t in tables)
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        try:
            return "\n".join(f"{ws.title} " + " ".join(str(v) for row in ws.iter_rows(values_only=True) for v in row
                                                       if v is not None) for ws in book.worksheets)
        finally:
            book.close()
    if suffix == ".npy":
        return ""  # sentence vectors: numbers only
    return path.read_bytes().decode("utf-8", errors="replace")


def _needles() -> dict[str, str]:
    """Planted value -> what gives it away: the value with its blanks collapsed."""
    return {value: " ".join(value.split()) for value in PII}


def _scan_text(outcome: Outcome, name: str, text: str) -> None:
    """Record every planted personal datum in ``text``, also where markup, entities or full-width forms hide it."""
    from insight.pii import clean_text

    variants = (" ".join(text.split()), clean_text(text))
    found = [value for value, needle in _needles().items() if any(needle in v for v in variants)]
    if found:
        outcome.leaks.setdefault(name, []).extend(dict.fromkeys(found))


def _check_injection(outcome: Outcome, path: Path, name: str) -> None:
    """Formulas starting CSV/Excel cells unescaped; planted markup unescaped in HTML."""
    from insight.report import FORMULA_TRIGGERS

    def live(cell: Any) -> bool:
        if not isinstance(cell, str) or not cell or cell[0] not in FORMULA_TRIGGERS:
            return False
        try:
            float(cell)
        except ValueError:
            return True
        return False

    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            cells = [cell for row in csv.reader(handle) for cell in row]
        outcome.injections += [f"{name}: {cell[:60]!r}" for cell in cells if live(cell)]
    elif path.suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path)
        for ws in book.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f" or live(cell.value):
                        outcome.injections.append(f"{name}!{ws.title}!{cell.coordinate}: {str(cell.value)[:60]!r}")
    elif path.suffix == ".html":
        text = path.read_text(encoding="utf-8")
        outcome.injections += [f"{name}: {m!r}" for m in MARKUP if m in text or m.replace("'", "") in text]
