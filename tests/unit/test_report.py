"""Exports: formula-injection guard, the CLI output contract, Excel and the HTML report."""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

from insight import report
from insight.config import InsightConfig, TextConfig
from insight.drivers import EXPOSURE, DriverResult
from insight.ingest import ingest_customers, ingest_feedback
from insight.join import join_customers
from insight.kpi import summarise_customers
from insight.pipeline import RunResult
from insight.report import safe_cell, safe_frame, to_excel, to_html, write_outputs
from insight.schemas import OUTPUT_CONTRACT, Col
from insight.text import split_sentences
from insight.theme_stats import comment_themes

HOSTILE = (
    "<script>alert(1)</script> the app is broken",
    "<img src=x onerror=alert(1)> billing charged me twice",
    "[link](javascript:alert(1)) support never answered",
    '=HYPERLINK("http://x") price went up again',
)
RAW_COMMENTS = (
    "Billing charged me twice, mail me at jo.smith@example.com please.",
    "Support never answered my calls on +44 20 7946 0958. Terrible!",
    "Great app, easy to use. Love it.",
    "The price went up again; I will cancel.",
    "Card 4111 1111 1111 1111 was billed wrong by billing.",
    "ok",
    *HOSTILE,
)
SCRIPT_THEME = "<script>alert(1)</script>"  # a user-named theme (codeframes are user files)
THEME_WORDS = {"billing": "bill", "price increase": "price", "slow support": "support", "ease of use": "easy", SCRIPT_THEME: "app"}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\+\d{1,3}[\d ()-]{8,}\d")  # international numbers as in RAW_COMMENTS
RAW_PII = ("jo.smith", "example.com", "7946 0958", "4111 1111")


def _sentiment(text: str) -> float:
    lowered = text.lower()
    if any(w in lowered for w in ("great", "love", "easy")):
        return 0.7
    if any(w in lowered for w in ("twice", "never", "terrible", "broken", "cancel", "wrong")):
        return -0.6
    return 0.0


def _label(score: float) -> str:
    return "negative" if score < -0.2 else "positive" if score > 0.2 else "neutral"


def _drivers_table() -> pd.DataFrame:
    rows = []
    for exposure, outcome, scale in (("mentioned", "churn", 0.1), ("mentioned", "nps", -8.0), ("negative", "churn", 0.2)):
        for i, theme in enumerate(THEME_WORDS):
            effect = scale * (i - 1)
            rows.append(
                {
                    EXPOSURE: exposure,
                    Col.THEME: theme,
                    Col.OUTCOME: outcome,
                    Col.N_WITH: 40 + i,
                    Col.N_WITHOUT: 400,
                    Col.EFFECT: effect,
                    Col.CI_LOW: effect - abs(scale),
                    Col.CI_HIGH: effect + abs(scale),
                    Col.P_VALUE: 0.01 * (i + 1),
                    Col.Q_VALUE: 0.02 * (i + 1),
                    Col.ADJUSTED_EFFECT: effect / 2,
                    Col.ADJUSTED_P_VALUE: 0.2,
                    Col.ADJUSTED_Q_VALUE: 0.3,
                    "flags": "insufficient_data" if i == 3 else "",
                }
            )
    # columns deliberately out of contract order: the writer must reorder them
    return pd.DataFrame(rows).iloc[:, ::-1]


def _segments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            Col.SEGMENT_COLUMN: ["plan", "plan", "region"],
            Col.SEGMENT_VALUE: ["basic", "-premium", "<b>north</b>"],
            Col.THEME: ["billing", "price increase", "billing"],
            Col.N_CUSTOMERS: [30, 25, 40],
            Col.CHURN_RATE: [0.4, 0.3, 0.2],
            Col.EXCESS_CHURN: [0.15, -0.05, 0.02],
            Col.CLV_AT_RISK: [1200.0, -300.0, 90.0],
            Col.PRIORITY: [3.2, 0.4, 1.1],
        }
    )


def _trends() -> pd.DataFrame:
    periods = pd.date_range("2025-01-01", periods=4, freq="MS")
    rows = [
        {"period": p, Col.THEME: t, "n_comments": n, "share": n / 10, "avg_sentiment": -0.2, "is_spike": n == 7}
        for t in ("billing", "price increase")
        for p, n in zip(periods, (2, 3, 7, 2))
    ]
    return pd.DataFrame(rows)


def _feedback_csv() -> bytes:
    n = len(RAW_COMMENTS)
    frame = pd.DataFrame(
        {
            "customer_id": [f"u{i % 5}" for i in range(n)],
            "comment": list(RAW_COMMENTS),
            "date": pd.date_range("2025-01-01", periods=n, freq="7D").strftime("%Y-%m-%d"),
            "channel": ["review", "ticket", "survey"] * (n // 3) + ["review"] * (n % 3),
        }
    )
    blank = pd.DataFrame({"customer_id": ["u1"], "comment": ["   "], "date": ["2025-01-02"], "channel": ["review"]})
    frame = pd.concat([frame.iloc[:1], blank, frame.iloc[1:]], ignore_index=True)  # row 1 is dropped
    return frame.to_csv(index=False).encode("utf-8")


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            # u4's comments match no customer; the last row has no id and is dropped
            "customer_id": ["u0", "u1", "u2", "u3", "u5", "u6", ""],
            "plan": ["basic", "premium", "basic", "premium", "basic", "basic", "basic"],
            "churned": ["Yes", "No", "No", "No", "Yes", "No", "No"],
            "nps": [3, 9, 7, 10, 2, 8, 5],
            "clv": [500.0, 1500.0, 800.0, 1200.0, 300.0, 600.0, 10.0],
        }
    )


def _run_result(*, with_customers: bool = True) -> RunResult:
    """A small but complete run: real ingest, text stage (PII redaction, splitting) and join;
    rule-based themes and sentiment; a hand-made driver table and segments."""
    ingested = ingest_feedback(_feedback_csv(), name="feedback.csv")
    feedback = ingested.data
    text = split_sentences(feedback, TextConfig(detect_language=False))
    sentences = text.sentences.copy()
    # Defence in depth: the text stage strips tags, but the report must be safe on its own,
    # so the hostile comments reach it as typed.
    raw = dict(zip(feedback[Col.COMMENT_ID], feedback[Col.TEXT]))
    hostile = sentences[Col.COMMENT_ID].map(raw).isin(HOSTILE)
    sentences.loc[hostile, Col.TEXT] = sentences.loc[hostile, Col.COMMENT_ID].map(raw)
    sentences[Col.SENTIMENT_SCORE] = sentences[Col.TEXT].map(_sentiment)
    sentences[Col.SENTIMENT_LABEL] = sentences[Col.SENTIMENT_SCORE].map(_label)
    links = [
        (sid, i, theme, 0.9 - 0.1 * i)
        for sid, sentence in zip(sentences[Col.SENTENCE_ID], sentences[Col.TEXT])
        for i, (theme, word) in enumerate(THEME_WORDS.items())
        if word in sentence.lower()
    ]
    assignments = pd.DataFrame(links, columns=[Col.SENTENCE_ID, Col.THEME_ID, Col.THEME, Col.THEME_CONFIDENCE])
    ct = comment_themes(sentences, assignments)
    names = ct.groupby(Col.COMMENT_ID)[Col.THEME].agg(list)
    comments = text.comments.copy()
    scores = sentences.groupby(Col.COMMENT_ID)[Col.SENTIMENT_SCORE].mean()
    comments[Col.SENTIMENT_SCORE] = comments[Col.COMMENT_ID].map(scores)
    comments[Col.SENTIMENT_LABEL] = comments[Col.SENTIMENT_SCORE].map(_label)
    comments[Col.THEMES] = comments[Col.COMMENT_ID].astype(object).map(names).apply(lambda v: v if isinstance(v, list) else [])
    themes = pd.DataFrame(
        {
            Col.THEME_ID: range(len(THEME_WORDS)),
            Col.THEME: list(THEME_WORDS),
            Col.PARENT: ["money", "money", "service", "product", "product"],
            Col.KEYWORDS: [[w, "+charge"] for w in THEME_WORDS.values()],
            "description": ["=1+1", "prices", "support", "usability", "<img src=x onerror=alert(1)>"],
            "n_sentences": [3, 2, 2, 1, 2],
            "n_comments": [3, 2, 2, 1, 2],
            "share": [0.3, 0.2, 0.2, 0.1, 0.2],
            "avg_sentiment": [-0.5, -0.4, -0.6, 0.7, -0.1],
        }
    )
    customers = joined = drivers = segments = None
    kpis = {"redactions": dict(text.redactions)}
    if with_customers:
        customers = ingest_customers(_customers(), name="customers.csv")
        joined = join_customers(comments, ct, customers.data)
        drivers = DriverResult(table=_drivers_table(), alpha=0.05, n_customers=len(customers.data), notes=())
        segments = _segments()
        kpis |= summarise_customers(customers.data) | {"match_rate": joined.match_rate}
        kpis["sentiment_score_agreement"] = {"value": np.float64("nan"), "n": np.int64(0)}
    return RunResult(
        feedback=ingested,
        customers=customers,
        comments=comments,
        sentences=sentences,
        assignments=assignments,
        themes=themes,
        theme_model=None,
        embeddings=np.zeros((len(sentences), 4), dtype=np.float32),
        join=joined,
        drivers=drivers,
        segments=segments,
        trends=_trends(),
        kpis=kpis,
        config=InsightConfig(seed=7),
        timings={"text": 0.01},
    )


@pytest.fixture(scope="module")
def result() -> RunResult:
    return _run_result()


@pytest.fixture(scope="module")
def written(result, tmp_path_factory):
    return write_outputs(result, tmp_path_factory.mktemp("out"))


@pytest.fixture(scope="module")
def html_report(result) -> str:
    return to_html(result)


# --------------------------------------------------------------------------- safe_cell
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("-1+1", "'-1+1"),
        ("@x", "'@x"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1+1", "'  =1+1"),
        ("\uff1dSUM(1)", "'\uff1dSUM(1)"),
        ("\uff0b1", "'\uff0b1"),
        ("\uff0d1", "'\uff0d1"),
        ("\uff20x", "'\uff20x"),
        ("\u22121", "'\u22121"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("plain text", "plain text"),
        ("a = b + c", "a = b + c"),
        ("", ""),
        ("'already quoted", "'already quoted"),
        (3, 3),
        (2.5, 2.5),
        (-2, -2),
        (-0.75, -0.75),
        (np.float64(-1.5), np.float64(-1.5)),
        (None, None),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected
    assert type(safe_cell(value)) is type(expected)


def test_safe_frame_guards_text_only_and_copies():
    frame = pd.DataFrame(
        {
            "text": ["=1+1", "fine", None],
            "score": [-1.0, 0.5, -3.0],
            "n": [-1, 2, 3],
            "label": pd.Categorical(["@a", "b", "@a"]),
            "when": pd.to_datetime(["2025-01-01", "2025-01-02", None]),
        }
    )
    before = frame.copy()
    out = safe_frame(frame)
    pd.testing.assert_frame_equal(frame, before)  # input untouched
    assert out["text"].tolist()[:2] == ["'=1+1", "fine"] and pd.isna(out["text"].iloc[2])
    assert out["label"].tolist() == ["'@a", "b", "'@a"]
    pd.testing.assert_series_equal(out["score"], frame["score"])
    pd.testing.assert_series_equal(out["n"], frame["n"])
    pd.testing.assert_series_equal(out["when"], frame["when"])


# --------------------------------------------------------------------------- write_outputs
def test_write_outputs_writes_every_contract_file_with_contract_columns_first(written):
    expected = set(OUTPUT_CONTRACT) | {"summary.json", "dropped_customers.csv", "unmatched_ids.csv", "trends.csv"}
    assert set(written) == expected
    for name, columns in OUTPUT_CONTRACT.items():
        header = pd.read_csv(written[name], nrows=0).columns.tolist()
        assert tuple(header[: len(columns)]) == columns, name
    assert pd.read_csv(written["dropped_customers.csv"], nrows=0).columns.tolist()[:2] == [Col.ROW_ID, Col.REASON]


def test_write_outputs_rows(result, written):
    comments = pd.read_csv(written["comments.csv"], keep_default_na=False)
    assert len(comments) == len(result.comments)
    themes_of = dict(zip(comments[Col.ROW_ID], comments[Col.THEMES]))
    assert themes_of[0] == "billing"
    assert themes_of[RAW_COMMENTS.index("Great app, easy to use. Love it.") + 1] == f"{SCRIPT_THEME}|ease of use"
    assert themes_of[RAW_COMMENTS.index("ok") + 1] == ""  # no theme

    sentences = pd.read_csv(written["sentences.csv"], keep_default_na=False)
    classified = result.assignments[Col.SENTENCE_ID].nunique()
    assert len(sentences) == len(result.assignments) + len(result.sentences) - classified
    assert (sentences[Col.THEME] == "").sum() == len(result.sentences) - classified
    assert set(sentences.loc[sentences[Col.THEME] != "", Col.THEME_ID]) <= {str(i) for i in range(len(THEME_WORDS))}

    themes = pd.read_csv(written["themes.csv"])
    assert themes[Col.KEYWORDS].iloc[0] == "bill; +charge"
    assert themes["description"].iloc[0] == "'=1+1"

    drivers = pd.read_csv(written["drivers.csv"])
    assert len(drivers) == len(result.drivers.table)
    assert set(drivers.columns[len(OUTPUT_CONTRACT["drivers.csv"]) :]) == {EXPOSURE, "flags"}  # extras appended
    assert drivers[Col.EFFECT].min() < 0  # negative numbers stay numbers

    segments = pd.read_csv(written["segments.csv"])
    assert segments[Col.SEGMENT_VALUE].tolist()[1] == "'-premium"
    assert segments[Col.CLV_AT_RISK].tolist()[1] == -300.0

    dropped = pd.read_csv(written["dropped.csv"])
    assert dropped[Col.ROW_ID].tolist() == [1] and dropped[Col.REASON].tolist() == ["empty text"]
    dropped_customers = pd.read_csv(written["dropped_customers.csv"])
    assert dropped_customers[Col.REASON].tolist() == ["missing customer id"]


def test_summary_json(result, written):
    summary = json.loads(written["summary.json"].read_text(encoding="utf-8"))
    assert summary["rows_in"] == summary["rows_kept"] + summary["rows_dropped"] == len(RAW_COMMENTS) + 1
    assert summary["dropped_by_reason"] == {"empty text": 1}
    assert summary["match_rate"] == result.join.match_rate == 0.8
    assert summary["kpis"]["churn_rate"]["value"] == pytest.approx(100 / 3)
    assert summary["kpis"]["sentiment_score_agreement"] == {"value": None, "n": 0}  # NaN is not valid JSON
    assert "redactions" not in summary["kpis"]
    assert summary["redactions"]["EMAIL"] == 1 and summary["redactions"]["PHONE"] == 1
    assert summary["n_themes"] == len(result.themes)
    classified = result.assignments[Col.SENTENCE_ID].nunique()
    assert summary["unclassified_share"] == pytest.approx(1 - classified / len(result.sentences))
    assert summary["settings"]["seed"] == 7
    assert {"insight", "python", "pandas", "scikit-learn", "sentence-transformers", "torch", "statsmodels", "spacy"} <= set(
        summary["versions"]
    )
    assert summary["versions"]["pandas"] == pd.__version__
    accounting = {k: summary["customers"][k] for k in ("rows_in", "rows_kept", "rows_dropped", "dropped_by_reason")}
    assert accounting == {"rows_in": 7, "rows_kept": 6, "rows_dropped": 1, "dropped_by_reason": {"missing customer id": 1}}
    assert "customer_id" in summary["customers"]["roles"] and "text" in summary["feedback_input"]["roles"]


def test_package_versions_reports_missing_packages(monkeypatch):
    monkeypatch.setattr(report, "VERSIONED_PACKAGES", ("pandas", "surely-not-an-installed-package"))
    versions = report.package_versions()
    assert versions["surely-not-an-installed-package"] == report.NOT_INSTALLED
    assert versions["pandas"] == pd.__version__


def test_write_outputs_without_customers_writes_header_only_files(tmp_path):
    written = write_outputs(_run_result(with_customers=False), tmp_path)
    assert "dropped_customers.csv" not in written
    for name in ("drivers.csv", "segments.csv"):
        frame = pd.read_csv(written[name])
        assert frame.empty and tuple(frame.columns) == OUTPUT_CONTRACT[name]
    assert json.loads(written["summary.json"].read_text())["match_rate"] is None


def test_outputs_hold_no_raw_pii_or_live_formulas(written):
    for path in written.values():
        content = path.read_text(encoding="utf-8")
        assert not EMAIL.search(content), path.name
        assert not PHONE.search(content), path.name
        assert not [pii for pii in RAW_PII if pii in content], path.name
    sentences = written["sentences.csv"].read_text(encoding="utf-8")
    assert "[EMAIL]" in sentences and "[PHONE]" in sentences and "[CARD]" in sentences
    for name in (n for n in written if n.endswith(".csv")):
        with written[name].open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                for column, cell in row.items():
                    if cell[:1] and cell[0] in "=+-@" and column not in _NUMERIC_COLUMNS:
                        pytest.fail(f"{name}:{column} holds a live formula {cell!r}")
    assert "'=HYPERLINK" in sentences


_NUMERIC_COLUMNS = {
    Col.SENTIMENT_SCORE, Col.EFFECT, Col.CI_LOW, Col.CI_HIGH, Col.ADJUSTED_EFFECT,
    Col.EXCESS_CHURN, Col.CLV_AT_RISK, "avg_sentiment",
}


def test_contract_violation_is_a_clear_error(result, tmp_path):
    from insight.errors import SchemaValidationError

    bad = dataclasses.replace(
        result, drivers=dataclasses.replace(result.drivers, table=result.drivers.table.drop(columns=[Col.Q_VALUE]))
    )
    with pytest.raises(SchemaValidationError, match="q_value"):
        write_outputs(bad, tmp_path)


# --------------------------------------------------------------------------- Excel
def test_excel_round_trip_is_formula_safe(result):
    book = openpyxl.load_workbook(io.BytesIO(to_excel(result)))
    assert book.sheetnames == ["summary", "comments", "sentences", "themes", "drivers", "segments", "dropped", "dropped_customers", "unmatched_ids", "trends"]
    texts = []
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.bold for cell in sheet[1])
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str):
                    assert cell.value[:1] not in report.FORMULA_TRIGGERS, f"{sheet.title}!{cell.coordinate}"
                    texts.append(cell.value)
    assert any(t.startswith("'=HYPERLINK") for t in texts)
    drivers = pd.read_excel(io.BytesIO(to_excel(result)), sheet_name="drivers")
    assert tuple(drivers.columns[:12]) == OUTPUT_CONTRACT["drivers.csv"]
    assert (drivers[Col.EFFECT] < 0).any()  # negative numbers are still numbers
    summary = dict(book["summary"].iter_rows(min_row=2, values_only=True))
    assert summary["rows_in"] == len(RAW_COMMENTS) + 1


# --------------------------------------------------------------------------- HTML
def _outside_plotly_bundle(document: str) -> str:
    """The report without the one inlined plotly.js library (which names URLs in its code)."""
    bundles = re.findall(r"<script[^>]*>\s*/\*\*\s*\* plotly\.js v.*?</script>", document, flags=re.S)
    assert len(bundles) == 1, "plotly.js must be inlined exactly once"
    return document.replace(bundles[0], "")


def test_html_report_escapes_hostile_text(html_report):
    assert "<script>alert" not in html_report
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_report
    assert "<img src=x" not in html_report and "&lt;img src=x onerror=alert(1)&gt;" in html_report
    assert "[link](javascript:alert(1))" in html_report  # shown as text, never a link
    assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", html_report, flags=re.I)
    assert "=HYPERLINK(&quot;http://x&quot;)" in html_report
    assert "&lt;b&gt;north&lt;/b&gt;" in html_report  # a segment value in the table and chart
    assert "<b>north</b>" not in html_report
    # chart labels: plotly reads "<b>" etc. as markup, so raw user text must not reach its JSON
    assert "\\u003cscript" not in html_report and "\\u003cb\\u003enorth" not in html_report


def test_html_report_is_self_contained(html_report):
    rest = _outside_plotly_bundle(html_report)
    assert not re.search(r"<(link|iframe|img|object|embed)\b", rest, flags=re.I)
    assert not re.search(r"<[a-z][^<>]*\b(src|href)\s*=", rest, flags=re.I)  # no tag loads or links anything
    assert not re.search(r"url\(|@import", rest, flags=re.I)
    hosts = set(re.findall(r"https?://([\w.-]+)", rest))
    assert hosts == {"x"}  # only the URL a customer typed, shown as escaped text


def test_html_report_sections_and_charts(html_report):
    for title in ("Headline KPIs", "Themes", "Drivers", "Segments", "Trends", "Verbatims"):
        assert f"<h2>{title}</h2>" in html_report
    assert html_report.count("Plotly.newPlot(") == 4  # churn + nps forest, heat map, trends
    assert "33.3%" in html_report and "95% CI 9.68 – 70" in html_report  # churn-rate card (2 of 6) with its interval
    assert "[EMAIL]" in html_report and not EMAIL.search(_outside_plotly_bundle(html_report))


def test_html_report_lists_the_kpi_catalogue_with_what_is_missing(html_report):
    head, rows = _table_rows(_section_html(html_report, "KPI catalogue"))
    table = {row[0]: dict(zip(head, row)) for row in rows}
    assert table["churn_rate"]["value"] == "33.3" and table["churn_rate"]["ci_low"] == "9.68"  # 2 of 6 churned
    assert table["churn_rate"]["formula"] == "churned customers / customers x 100" and table["churn_rate"]["needs"] == ""
    assert table["average_order_value"]["needs"] == "orders, revenue" and table["average_order_value"]["value"] == ""


def test_html_report_without_customers_still_renders():
    document = to_html(_run_result(with_customers=False))
    assert document.count("Plotly.newPlot(") == 1  # trends only
    assert "No data for this chart." in document


def _section_html(document: str, title: str) -> str:
    return document.split(f"<h2>{title}</h2>", 1)[1].split("</section>", 1)[0]


def _table_rows(section: str) -> tuple[list[str], list[list[str]]]:
    """Header and body cells (as HTML text) of the first table in a section."""
    table = section[section.index("<table>") :]
    head = re.findall(r"<th>(.*?)</th>", table.split("</thead>")[0])
    body = table.split("<tbody>")[1].split("</tbody>")[0]
    return head, [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_html_report_drivers_state_nps_units(html_report):
    drivers = _section_html(html_report, "Drivers")
    assert "adjusted NPS effects are regression coefficients in 0–10 score points" in drivers
    head, rows = _table_rows(drivers)
    units = {row[head.index(Col.OUTCOME)]: row[head.index("units")] for row in rows}
    assert units["nps"] == "effect: NPS points; adjusted: 0–10 score points"
    assert units["churn"] == "proportion"
    # the NPS forest chart puts the adjusted effects on their own axis, titled with the unit
    assert '"xaxis2"' in drivers and re.search(r"adjusted: 0(–|\\u2013)10 score points", drivers)


def test_html_report_segments_keep_flagged_last_with_interval_and_flags(result, flagged_segment_cells):
    section = _section_html(to_html(dataclasses.replace(result, segments=flagged_segment_cells)), "Segments")
    head, rows = _table_rows(section)
    assert head[head.index(Col.PRIORITY) :] == [Col.PRIORITY, "priority_ci_low", "priority_ci_high", "flags"]
    assert [row[head.index(Col.THEME)] for row in rows] == ["billing errors", "slow app", "friendly staff"]
    assert [row[head.index("flags")] for row in rows] == ["", "confounded", "small_cell"]
    assert [row[head.index("priority_ci_low")] for row in rows] == ["3,000", "-400", "10,000"]
