"""Ingestion: formats, encodings, layouts, role detection, row accounting, bad input."""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest

from insight.config import IngestConfig
from insight.errors import (
    AmbiguousColumnError,
    EmptyFileError,
    FileTooLargeError,
    InputError,
    InvalidValueError,
    MissingColumnError,
    TooManyRowsError,
    UnreadableFileError,
    UnsafeInputError,
    UnsupportedFormatError,
)
from insight.ingest import (
    DROP_CONFLICTING_ID,
    DROP_DUPLICATE,
    DROP_DUPLICATE_ID,
    DROP_EMPTY_TEXT,
    DROP_MALFORMED,
    DROP_MISSING_ID,
    DROP_UNCACHED_FORMULA,
    IngestResult,
    detect_roles,
    ingest_customers,
    ingest_feedback,
    read_table,
)
from insight.schemas import Col

FEEDBACK = pd.DataFrame(
    {
        "customer_id": ["C001", "C002", "007", "C004"],
        "comment": [
            "Billing charged me twice, please fix",
            'The app "crashes" on login;\nreinstalling did not help',
            "NA",
            "Great support, friendly staff",
        ],
        "date": ["2024-01-05", "2024-02-10", "2024-03-15", "2024-04-20"],
        "rating": ["1", "2", "3", "5"],
    }
)


def assert_accounted(result: IngestResult) -> IngestResult:
    """Every input row (or row x text column) is kept or dropped exactly once."""
    assert result.rows_in == result.rows_kept + result.rows_dropped
    acc = result.accounting()
    assert acc["rows_in"] == acc["rows_kept"] + acc["rows_dropped"]
    assert sum(acc["dropped_by_reason"].values()) == acc["rows_dropped"]
    keys = [Col.ROW_ID] + ([Col.SOURCE_COLUMN] if Col.SOURCE_COLUMN in result.dropped.columns else [])
    if result.kind == "feedback" and len(keys) == 2:
        units = list(result.data[keys].itertuples(index=False)) + list(result.dropped[keys].itertuples(index=False))
        assert len(set(units)) == len(units) == result.rows_in
    else:
        row_ids = sorted(result.data[Col.ROW_ID].tolist() + result.dropped[Col.ROW_ID].tolist())
        assert row_ids == list(range(result.rows_in))
    return result


def write(frame: pd.DataFrame, path, fmt: str) -> None:
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == "xlsx":
        frame.to_excel(path, index=False)
    elif fmt == "json":
        frame.to_json(path, orient="records")
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)


def csv_bytes(rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


# ---------------------------------------------------------------------------------------------- formats


@pytest.mark.parametrize("fmt", ["csv", "tsv", "xlsx", "json", "jsonl", "parquet"])
def test_round_trip_every_format(tmp_path, fmt):
    path = tmp_path / f"reviews.{fmt}"
    write(FEEDBACK, path, fmt)
    result = assert_accounted(ingest_feedback(path))
    assert result.meta.format == fmt
    assert result.rows_in == 4 and result.rows_dropped == 0
    assert result.data[Col.TEXT].tolist() == FEEDBACK["comment"].tolist()
    assert result.data[Col.CUSTOMER_ID].tolist() == ["C001", "C002", "007", "C004"]
    assert result.data[Col.SCORE].tolist() == [1.0, 2.0, 3.0, 5.0]
    assert result.data[Col.DATE].dt.strftime("%Y-%m-%d").tolist() == FEEDBACK["date"].tolist()
    assert result.data[Col.CHANNEL].unique().tolist() == ["reviews"]
    assert result.data[Col.ROW_ID].tolist() == [0, 1, 2, 3]
    assert result.roles["text"] == "comment" and result.roles["score"] == "rating"


@pytest.mark.parametrize(
    "payload",
    [
        {"data": FEEDBACK.to_dict(orient="records")},
        FEEDBACK.to_dict(orient="list"),
        json.loads(FEEDBACK.to_json()),  # pandas' default: {column: {index: value}}
    ],
    ids=["data-key", "column-lists", "column-dicts"],
)
def test_json_shapes(payload):
    result = assert_accounted(ingest_feedback(json.dumps(payload).encode(), name="x.json"))
    assert result.data[Col.TEXT].tolist() == FEEDBACK["comment"].tolist()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_read_back_exactly(encoding):
    texts = ["Café was great – don’t change", "Price went up to €15, not happy", "Naïve question: où est l’export?"]
    data = csv_bytes([["comment", "customer_id"]] + [[t, f"c{i}"] for i, t in enumerate(texts)], encoding=encoding)
    frame, meta = read_table(data, name="f.csv")
    assert meta.encoding == encoding
    assert list(frame.columns) == ["comment", "customer_id"]  # BOM stripped from the first header
    assert frame["comment"].tolist() == texts
    assert_accounted(ingest_feedback(data, name="f.csv"))


WHOLE, CHUNKED = IngestConfig(), IngestConfig(chunk_bytes=0, chunk_rows=3)


def _same_ingest(data: bytes, name: str, kind=ingest_feedback) -> tuple[IngestResult, IngestResult]:
    """The file ingested whole and in chunks of three rows: same rows, drops, roles and meta but the chunk count."""
    whole, chunked = kind(data, name=name, config=WHOLE), kind(data, name=name, config=CHUNKED)
    pd.testing.assert_frame_equal(chunked.data, whole.data)
    pd.testing.assert_frame_equal(chunked.dropped, whole.dropped)
    assert chunked.roles == whole.roles
    assert dataclasses.replace(chunked.meta, chunks=0) == whole.meta
    assert whole.meta.chunks == 0
    return whole, chunked


def test_chunked_and_whole_file_reads_agree(small_corpus):
    data = (small_corpus.folder / "feedback.csv").read_bytes()
    whole, chunked = _same_ingest(data, "feedback.csv")
    assert chunked.meta.chunks == -(-(whole.rows_in + 1) // 3)  # the header line is parsed as a row too
    _same_ingest((small_corpus.folder / "customers.csv").read_bytes(), "customers.csv", ingest_customers)
    rows = [["comment", "customer_id", "stars"], ["multi\nline, \"quoted\"", "c1", "5"], ["", "c2", "1"],
            ["Café – don’t", "c3", ""], ["multi\nline, \"quoted\"", "c1", "5"], ["ok;fine", "c4", "3"]]
    for data in (csv_bytes(rows), csv_bytes(rows, ";", "utf-8-sig"), csv_bytes(rows, "\t")):
        _, chunked = _same_ingest(data, "export.csv")
        assert chunked.meta.chunks == 2
        assert chunked.accounting()["dropped_by_reason"] == {DROP_EMPTY_TEXT: 1, DROP_DUPLICATE: 1}
    _, one_column = _same_ingest(b"comment\nI liked it, really\nBad\n\"Quoted, too\"\n", "comments.txt")
    assert one_column.meta.chunks == 2 and one_column.meta.delimiter is None


@pytest.mark.parametrize("data", [
    "comment,stars\nCafé,5\nThé,4\n".encode("cp1252"),  # not UTF-8: decoded whole, with its warning
    b"comment,stars\nGreat app,5\nSlow, buggy, crashes,1\nFine,4\n",  # a malformed line is counted there
    b"comment,stars\rGreat app,5\rFine,4\r",  # CR-only line ends
    b"comment,stars\nGreat\x00 app,5\nFine,4\n",  # NUL bytes
], ids=["cp1252", "malformed", "cr", "nul"])
def test_files_the_chunked_reader_cannot_explain_are_read_whole(data):
    _, chunked = _same_ingest(data, "x.csv")
    assert chunked.meta.chunks == 0


def test_utf16_tab_text_export():
    data = "comment\tstars\nGut gemacht – ja\t5\n".encode("utf-16")
    frame, meta = read_table(data, name="excel_unicode.txt")
    assert (meta.encoding, meta.delimiter, meta.format) == ("utf-16", "\t", "tsv")
    assert frame["comment"].tolist() == ["Gut gemacht – ja"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(encoding):
    data = "comment,stars\nGut gemacht – ja,5\nZu teuer,2\n".encode(encoding)
    frame, meta = read_table(data, name="export.csv")
    assert meta.encoding == encoding
    assert frame["comment"].tolist() == ["Gut gemacht – ja", "Zu teuer"]
    assert any(encoding in w for w in meta.warnings)


@pytest.mark.parametrize("delimiter", [";", "|", ",", "\t"])
def test_delimiter_sniffed(delimiter):
    rows = [["id", "comment", "stars"], ["1", "Good, but slow; very slow", "3"], ["2", "Fine | ok", "4"]]
    frame, meta = read_table(csv_bytes(rows, delimiter), name="x.csv")
    assert meta.delimiter == delimiter
    assert meta.format == ("tsv" if delimiter == "\t" else "csv")
    assert frame["comment"].tolist() == ["Good, but slow; very slow", "Fine | ok"]


def test_single_column_text_file_keeps_commas():
    frame, meta = read_table(b"comment\nI liked it, really\nBad\n", name="c.csv")
    assert frame["comment"].tolist() == ["I liked it, really", "Bad"]
    assert meta.delimiter is None


def test_upload_like_objects_and_bytes_without_name():
    class Upload:
        name = "survey.csv"

        def getvalue(self):
            return b"comment\nLove it\n"

    result = assert_accounted(ingest_feedback(Upload()))
    assert result.data[Col.CHANNEL].tolist() == ["survey"]
    stream = io.BytesIO(b'[{"review": "Works fine for me"}]')
    assert ingest_feedback(stream).meta.format == "json"  # no name: format sniffed from content
    assert ingest_feedback(b'{"review": "a b c"}\n{"review": "d e f"}\n').meta.format == "jsonl"


def test_xlsx_first_sheet_with_data_is_named(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame().to_excel(writer, sheet_name="Cover", index=False)
        FEEDBACK.to_excel(writer, sheet_name="Responses", index=False)
    result = assert_accounted(ingest_feedback(path))
    assert any("'Responses'" in w for w in result.meta.warnings)
    assert result.rows_kept == 4


def test_xlsx_sheet_with_most_rows_is_read_after_a_notes_sheet(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"About this export": ["Exported from the survey tool"]}).to_excel(writer, sheet_name="Notes", index=False)
        FEEDBACK.to_excel(writer, sheet_name="Responses", index=False)
    result = assert_accounted(ingest_feedback(path))
    assert result.rows_kept == 4
    assert any("read 'Responses'" in w for w in result.meta.warnings)
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame().to_excel(writer, sheet_name="Cover", index=False)
        pd.DataFrame().to_excel(writer, sheet_name="Blank", index=False)
    with pytest.raises(EmptyFileError, match="'Cover', 'Blank'"):
        read_table(path)


def test_xlsx_formulas_without_cached_values_are_reported(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in [["comment", "stars"], ["Great app", "5"], ['=A2&" again"', "=B2-1"], ["Slow to load", "=B2-2"]]:
        sheet.append(row)
    path = tmp_path / "formulas.xlsx"
    book.save(path)  # openpyxl stores no cached values, like a workbook generated by a script
    result = assert_accounted(ingest_feedback(path))
    assert any("3 formula cells" in w and "'comment' (1)" in w and "'stars' (2)" in w for w in result.meta.warnings)
    assert result.dropped.to_dict("records") == [{Col.ROW_ID: 1, Col.REASON: DROP_UNCACHED_FORMULA}]
    assert result.data[Col.TEXT].tolist() == ["Great app", "Slow to load"]


def test_renamed_xlsx_is_read_as_xlsx(tmp_path):
    path = tmp_path / "export.xlsx"
    FEEDBACK.to_excel(path, index=False)
    frame, meta = read_table(path.read_bytes(), name="export.csv")
    assert meta.format == "xlsx" and any("xlsx" in w for w in meta.warnings)
    assert frame["comment"].tolist() == FEEDBACK["comment"].tolist()


def test_long_cells_formulas_nul_and_newlines_kept():
    long_text = "word " * 60_000
    formula = '=HYPERLINK("http://evil.example","click")'
    rows = [["comment"], [long_text.strip()], [formula], ["line one\r\nline two\rthree"], ["nul\x00 byte here"]]
    result = assert_accounted(ingest_feedback(csv_bytes(rows), name="x.csv"))
    texts = result.data[Col.TEXT].tolist()
    assert texts[0] == long_text.strip()
    assert texts[1] == formula
    assert texts[2] == "line one\nline two\nthree"
    assert texts[3] == "nul byte here"


def test_duplicate_column_names_renamed_with_warning():
    data = b"comment,comment,customer_id\nFirst answer here,Second answer there,c1\n"
    frame, meta = read_table(data, name="x.csv")
    assert list(frame.columns) == ["comment", "comment_2", "customer_id"]
    assert any("comment_2" in w for w in meta.warnings)


def test_dataframe_input_keeps_other_columns_and_is_not_mutated():
    frame = FEEDBACK.assign(plan_size=[1.5, 2.0, 3.0, np.nan])
    before = frame.copy()
    result = assert_accounted(ingest_feedback(frame, name="api.csv"))
    pd.testing.assert_frame_equal(frame, before)
    assert result.meta.format == "dataframe"
    assert result.data["plan_size"].dtype == float
    assert result.data.columns[:8].tolist() == [
        Col.ROW_ID, Col.COMMENT_ID, Col.CUSTOMER_ID, Col.TEXT, Col.DATE, Col.SCORE, Col.CHANNEL, Col.SOURCE_COLUMN,
    ]


# ---------------------------------------------------------------------------------------------- layouts


def test_qualtrics_three_header_rows():
    rows = [
        ["StartDate", "EndDate", "ResponseId", "RecordedDate", "ExternalReference", "Q1", "Q2_TEXT"],
        ["Start Date", "End Date", "Response ID", "Recorded Date", "External Data Reference",
         "How likely are you to recommend us to a friend?", "What is the main reason for your score?"],
        ['{"ImportId":"startDate"}', '{"ImportId":"endDate"}', '{"ImportId":"_recordId"}',
         '{"ImportId":"recordedDate"}', '{"ImportId":"externalDataReference"}', '{"ImportId":"QID1"}',
         '{"ImportId":"QID2_TEXT"}'],
        ["2024-01-01 10:00:00", "2024-01-01 10:05:00", "R_1", "2024-01-01 10:05:01", "C1", "9",
         "Support solved my billing issue quickly"],
        ["2024-01-02 11:00:00", "2024-01-02 11:04:00", "R_2", "2024-01-02 11:04:02", "C2", "3",
         "The app keeps crashing when I export data"],
        ["2024-01-03 12:00:00", "2024-01-03 12:03:00", "R_3", "2024-01-03 12:03:03", "C3", "7", ""],
    ]
    result = assert_accounted(ingest_feedback(csv_bytes(rows), name="qualtrics.csv"))
    meta = result.meta
    assert (meta.layout, meta.header_rows_skipped, meta.n_rows) == ("qualtrics", 2, 3)
    assert any("Qualtrics" in w for w in meta.warnings)
    assert result.roles == {
        "customer_id": "ExternalReference", "comment_id": "ResponseId", "date": "RecordedDate",
        "score": "Q1", "channel": None, "title": None, "text": "Q2_TEXT",
    }
    assert result.data[Col.COMMENT_ID].tolist() == ["R_1", "R_2"]
    assert result.data[Col.SCORE].tolist() == [9.0, 3.0]
    assert result.data[Col.CHANNEL].unique().tolist() == ["survey"]
    assert result.dropped.to_dict("records") == [{Col.ROW_ID: 2, Col.REASON: DROP_EMPTY_TEXT}]


def test_surveymonkey_two_header_rows():
    rows = [
        ["Respondent ID", "Collector ID", "Start Date", "End Date",
         "How likely is it that you would recommend us?", "What could we do better?", "Which features do you use?", ""],
        ["", "", "", "", "Response", "Open-Ended Response", "Reports", "Dashboards"],
        ["111", "9", "01/05/2024 10:00:00 AM", "01/05/2024 10:03:00 AM", "10",
         "Faster exports would make my week", "Reports", ""],
        ["112", "9", "01/06/2024 09:00:00 AM", "01/06/2024 09:02:00 AM", "4",
         "Support never answered my two tickets", "", "Dashboards"],
    ]
    frame, meta = read_table(csv_bytes(rows), name="sm.csv")
    assert (meta.layout, meta.header_rows_skipped, meta.n_rows) == ("surveymonkey", 1, 2)
    assert "Which features do you use? - Dashboards" in frame.columns
    result = assert_accounted(ingest_feedback(csv_bytes(rows), name="sm.csv"))
    assert result.roles["text"] == "What could we do better?"
    assert result.roles["comment_id"] == "Respondent ID"
    assert result.roles["score"] == "How likely is it that you would recommend us?"
    assert result.data[Col.COMMENT_ID].tolist() == ["111", "112"]
    assert result.data[Col.DATE].dt.day.tolist() == [5, 6]


def test_wide_survey_counts_row_by_column():
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "What did you like most?": ["The onboarding videos were clear", "", "Friendly and quick support"],
            "What should we improve?": ["Exports time out on big files", "Price went up again this year", "?!"],
        }
    )
    data = frame.to_csv(index=False).encode()
    _, meta = read_table(data, name="wide.csv")
    assert meta.layout == "wide_survey"
    result = assert_accounted(ingest_feedback(data, name="wide.csv"))
    assert result.meta.layout == "wide_survey"
    assert result.rows_in == 6 and result.rows_kept == 4
    assert result.dropped.to_dict("records") == [
        {Col.ROW_ID: 1, Col.REASON: DROP_EMPTY_TEXT, Col.SOURCE_COLUMN: "What did you like most?"},
        {Col.ROW_ID: 2, Col.REASON: DROP_EMPTY_TEXT, Col.SOURCE_COLUMN: "What should we improve?"},
    ]
    assert "0:What should we improve?" in result.data[Col.COMMENT_ID].tolist()
    assert set(result.data[Col.CHANNEL]) == {"survey"}
    assert result.data.loc[result.data[Col.ROW_ID] == 1, Col.TEXT].tolist() == ["Price went up again this year"]


def test_helpdesk_layout_joins_subject_and_body():
    data = csv_bytes([
        ["Ticket ID", "Subject", "Description", "Tags", "Status", "Created at", "Requester ID"],
        ["T-1", "Refund not received", "I cancelled two weeks ago and still no refund", "billing,refund", "open",
         "2024-03-01T09:00:00Z", "u1"],
        ["T-2", "Login fails!", "Password reset link expired before I could use it", "login", "solved",
         "2024-03-02T10:30:00+02:00", "u2"],
    ])
    result = assert_accounted(ingest_feedback(data, name="zendesk.csv"))
    assert result.meta.layout == "helpdesk"
    assert result.data[Col.TEXT].tolist() == [
        "Refund not received. I cancelled two weeks ago and still no refund",
        "Login fails! Password reset link expired before I could use it",
    ]
    assert result.data[Col.CHANNEL].unique().tolist() == ["ticket"]
    assert result.data[Col.COMMENT_ID].tolist() == ["T-1", "T-2"]
    assert result.data[Col.CUSTOMER_ID].tolist() == ["u1", "u2"]
    assert result.data[Col.DATE].dt.hour.tolist() == [9, 8]  # time zones converted to UTC


def test_appstore_layout_joins_title_and_body():
    data = csv_bytes([
        ["Review ID", "Date", "Rating", "Title", "Review", "App Version"],
        ["r1", "2024-05-01", "1", "Crashes", "Crashes every time I open the camera", "3.2"],
        ["r2", "2024-05-02", "5 stars", "Love it", "Does exactly what I need", "3.2"],
    ])
    result = assert_accounted(ingest_feedback(data, name="appstore.csv"))
    assert result.meta.layout == "appstore"
    assert result.data[Col.TEXT].tolist() == [
        "Crashes. Crashes every time I open the camera", "Love it. Does exactly what I need",
    ]
    assert result.data[Col.SCORE].tolist() == [1.0, 5.0]
    assert result.data[Col.CHANNEL].unique().tolist() == ["review"]
    assert result.data["App Version"].tolist() == ["3.2", "3.2"]


# ---------------------------------------------------------------------------------------------- roles


def test_roles_on_review_site_headers():
    frame = pd.DataFrame({
        "Clothing ID": ["767", "1080", "1077"],
        "Age": ["33", "34", "60"],
        "Title": ["", "Some major design flaws", "My favorite buy!"],
        "Review Text": ["Absolutely wonderful - silky and sexy and comfortable",
                        "Love this dress! it's sooo pretty. i happened to find it in a store",
                        "I had such high hopes for this dress and really wanted it to work"],
        "Rating": ["4", "5", "3"],
        "Recommended IND": ["1", "1", "0"],
        "Positive Feedback Count": ["0", "4", "0"],
        "Division Name": ["Initmates", "General", "General"],
    })
    detection = detect_roles(frame)
    assert detection.roles["text"] == "Review Text"
    assert detection.roles["title"] == "Title"
    assert detection.roles["score"] == "Rating"
    assert detection.candidates["score"][0] == "Rating" and "Recommended IND" in detection.candidates["score"]
    assert detection.text_columns == ("Review Text",)
    joined = assert_accounted(ingest_feedback(frame))
    assert joined.data[Col.TEXT].iloc[1].startswith("Some major design flaws. Love this dress")
    assert joined.data[Col.TEXT].iloc[0] == "Absolutely wonderful - silky and sexy and comfortable"
    alone = assert_accounted(ingest_feedback(frame, roles={"text": "Review Text", "title": None}))
    assert alone.data[Col.TEXT].tolist() == frame["Review Text"].tolist()
    assert alone.roles["title"] is None and "Title" in alone.data.columns


def test_role_overrides_and_camel_case_names():
    frame = pd.DataFrame({
        "customerID": ["a", "b"], "Body": ["Too expensive for what it does", "Slow support"],
        "Notes": ["internal note one here", "internal note two here"], "Submitted": ["2024-01-01", "2024-01-02"],
    })
    assert detect_roles(frame).roles["customer_id"] == "customerID"
    assert detect_roles(frame).roles["date"] == "Submitted"
    result = assert_accounted(ingest_feedback(frame, roles={"text": "Notes", "date": None}))
    assert result.roles["text"] == "Notes"
    assert result.data[Col.TEXT].tolist() == ["internal note one here", "internal note two here"]
    assert result.data["Body"].tolist() == ["Too expensive for what it does", "Slow support"]
    assert result.roles["date"] is None and result.data[Col.DATE].isna().all()
    assert result.data["Submitted"].tolist() == ["2024-01-01", "2024-01-02"]


def test_content_detects_unnamed_text_and_score():
    frame = pd.DataFrame({
        "c1": ["x1", "x2", "x3", "x4"],
        "c2": ["I waited forty minutes on hold", "The new plan is far too pricey",
               "Great update, much faster now", "Could not export my reports at all"],
        "c3": ["2", "1", "9", "3"],
    })
    detection = detect_roles(frame)
    assert detection.roles["text"] == "c2" and detection.roles["score"] == "c3"


def test_ambiguous_error_lists_candidates():
    frame = pd.DataFrame({
        "comment": ["The app is slow to load every morning", "Billing charged me twice last month"],
        "feedback": ["Support was friendly and quick to reply", "Price increase made me cancel my plan"],
    })
    with pytest.raises(AmbiguousColumnError, match="--text-col") as info:
        detect_roles(frame)
    assert set(info.value.candidates) == {"comment", "feedback"}
    result = assert_accounted(ingest_feedback(frame, roles={"text": ["comment", "feedback"]}))
    assert result.rows_in == 4 and result.meta.layout == "wide_survey"


def test_telco_style_customer_headers():
    frame = pd.DataFrame({
        "customerID": ["7590-VHVEG", "5575-GNVDE", "3668-QPYBK"],
        "gender": ["Female", "Male", "Male"],
        "SeniorCitizen": ["0", "0", "1"],
        "tenure": ["1", "34", "2"],
        "Contract": ["Month-to-month", "One year", "Month-to-month"],
        "MonthlyCharges": ["29.85", "56.95", "53.85"],
        "TotalCharges": ["29.85", "1889.5", " "],
        "Churn": ["No", "No", "Yes"],
    })
    result = assert_accounted(ingest_customers(frame))
    assert {k: v for k, v in result.roles.items() if v} == {
        "customer_id": "customerID", "churned": "Churn", "clv": "TotalCharges", "monthly_revenue": "MonthlyCharges",
        "tenure_months": "tenure", "plan": "Contract",
    }
    assert result.data[Col.CHURNED].tolist() == [0, 0, 1]
    assert result.data[Col.CLV].iloc[:2].tolist() == [29.85, 1889.5] and np.isnan(result.data[Col.CLV].iloc[2])
    assert result.data["gender"].tolist() == ["Female", "Male", "Male"]


# ---------------------------------------------------------------------------------------------- row accounting


def test_feedback_drop_reasons_point_at_input_rows():
    rows = [
        ["customer_id", "comment", "date", "score"],
        ["c1", "Billing is wrong again", "2024-01-01", "2"],   # 0 kept
        ["c2", "", "2024-01-02", "3"],                         # 1 empty
        ["c3", "   ", "2024-01-03", "3"],                      # 2 empty
        ["c4", "!!! ...", "2024-01-04", "3"],                  # 3 punctuation only
        ["c1", "Billing is wrong again", "2024-01-01", "2"],   # 4 identical to row 0
        ["c9", "Billing is wrong again", "2024-01-01", "2"],   # 5 other customer: kept
        ["", "Good", "yesterday", "great"],                    # 6 anonymous, bad date and score: kept
        ["", "Good", "2024-01-07", "4"],                       # 7 anonymous, different row: kept
        ["", "Good", "2024-01-07", "4"],                       # 8 identical to 7
        ["c5", "👍", "2024-01-08", "5"],                        # 9 emoji: kept
        ["c6", "Placeholder date", "9999-12-31", "4,5"],       # 10 kept, far date, decimal comma
    ]
    result = assert_accounted(ingest_feedback(csv_bytes(rows), name="x.csv"))
    assert result.dropped.to_dict("records") == [
        {Col.ROW_ID: 1, Col.REASON: DROP_EMPTY_TEXT},
        {Col.ROW_ID: 2, Col.REASON: DROP_EMPTY_TEXT},
        {Col.ROW_ID: 3, Col.REASON: DROP_EMPTY_TEXT},
        {Col.ROW_ID: 4, Col.REASON: DROP_DUPLICATE},
        {Col.ROW_ID: 8, Col.REASON: DROP_DUPLICATE},
    ]
    assert (DROP_EMPTY_TEXT, DROP_DUPLICATE) == ("empty text", "duplicate")
    assert result.accounting() == {
        "rows_in": 11, "rows_kept": 6, "rows_dropped": 5, "dropped_by_reason": {"empty text": 3, "duplicate": 2},
    }
    kept = result.data.set_index(Col.ROW_ID)
    assert pd.isna(kept.loc[6, Col.DATE]) and np.isnan(kept.loc[6, Col.SCORE])
    assert pd.isna(kept.loc[6, Col.CUSTOMER_ID])
    assert kept.loc[10, Col.DATE].year == 9999 and kept.loc[10, Col.SCORE] == 4.5
    assert any("'yesterday'" in w for w in result.meta.warnings)
    assert any("'great'" in w for w in result.meta.warnings)
    no_dedup = assert_accounted(ingest_feedback(csv_bytes(rows), name="x.csv", config=IngestConfig(drop_duplicates=False)))
    assert no_dedup.accounting()["dropped_by_reason"] == {"empty text": 3}


def test_same_customer_and_text_with_other_values_is_not_a_duplicate():
    rows = [
        ["comment_id", "customer_id", "comment", "date", "channel", "rating"],
        ["f1", "c1", "Export is broken", "2024-01-01", "app", "2"],
        ["f2", "c1", "Export is broken", "2024-01-01", "app", "2"],  # other comment id
        ["f1", "c1", "Export is broken", "2024-03-01", "app", "2"],  # other date
        ["f1", "c1", "Export is broken", "2024-01-01", "email", "2"],  # other channel
        ["f1", "c1", "Export is broken", "2024-01-01", "app", "1"],  # other rating
        ["f1", "c1", "Export is broken", "2024-01-01", "app", "2"],  # 5 exact repeat of row 0
    ]
    result = assert_accounted(ingest_feedback(csv_bytes(rows), name="x.csv"))
    assert result.dropped.to_dict("records") == [{Col.ROW_ID: 5, Col.REASON: DROP_DUPLICATE}]
    wide = pd.DataFrame({
        "customer_id": ["c1", "c1", "c1"],
        "What did you like?": ["The search is fast", "The search is fast", "The search is fast"],
        "What should we improve?": ["Pricing page is confusing", "Exports fail on big files", "Pricing page is confusing"],
    })
    result = assert_accounted(ingest_feedback(wide, roles={"text": list(wide.columns[1:])}))
    assert result.dropped[[Col.ROW_ID, Col.SOURCE_COLUMN]].to_dict("records") == [
        {Col.ROW_ID: 2, Col.SOURCE_COLUMN: "What did you like?"},
        {Col.ROW_ID: 2, Col.SOURCE_COLUMN: "What should we improve?"},
    ]


@pytest.mark.parametrize(
    ("dates", "expected", "warned"),
    [
        (["03/04/2025", "13/04/2025"], ["2025-04-03", "2025-04-13"], False),  # a day > 12: the column is day-first
        (["04/03/2025", "04/13/2025"], ["2025-04-03", "2025-04-13"], False),  # a month-first column
        (["03/04/2025", "05/06/2025 10:30"], ["2025-03-04", "2025-05-06"], True),  # either reading fits
    ],
)
def test_day_first_decided_per_column(dates, expected, warned):
    frame = pd.DataFrame({"comment": ["Slow app again", "Great support team"], "date": dates})
    result = assert_accounted(ingest_feedback(frame))
    assert result.data[Col.DATE].dt.strftime("%Y-%m-%d").tolist() == expected
    assert any("'date'" in w and "month-first" in w for w in result.meta.warnings) == warned


def test_malformed_lines_are_dropped_rows():
    data = b"comment,stars\nGreat app,5\nSlow, buggy, crashes,1\n\nFine overall,4\n"
    result = assert_accounted(ingest_feedback(data, name="x.csv"))
    assert result.dropped.to_dict("records") == [{Col.ROW_ID: 1, Col.REASON: DROP_MALFORMED}]
    assert result.data[Col.TEXT].tolist() == ["Great app", "Fine overall"]
    assert any("1 line has more fields than the header (2)" in w and "row 1" in w for w in result.meta.warnings)
    customers = assert_accounted(ingest_customers(b"customer_id,plan\nc1,Pro\nc2,Pro,EU\n", name="c.csv"))
    assert customers.accounting()["dropped_by_reason"] == {DROP_MALFORMED: 1}


def test_duplicate_comment_ids_made_unique():
    data = b"id,comment\n5,First one here\n5,Second one here\n5_2,Third one\n"
    result = assert_accounted(ingest_feedback(data, name="x.csv"))
    assert result.data[Col.COMMENT_ID].tolist() == ["5", "5_3", "5_2"]
    assert result.data[Col.COMMENT_ID].is_unique
    assert any("made unique" in w for w in result.meta.warnings)


def test_customer_table_parsing_and_drops():
    rows = [
        ["Customer ID", "Churned", "NPS", "CLV", "Plan", "Region", "Signup Date", "Churn Date", "Segment"],
        ["c1", "Yes", "3", "$1,200.50", "Pro", "EU", "2023-01-01", "2024-01-01", "smb"],  # 0 kept
        ["c2", "retained", "10", "300", "Basic", "US", "2023-02-01", "", "ent"],            # 1 kept
        ["", "No", "8", "10", "Basic", "US", "2023-02-01", "", "smb"],                       # 2 missing id
        ["c3", "FALSE", "", "0", "Basic", "US", "not a date", "", "smb"],                   # 3 kept
        ["c3", "false", "", "0", "Basic", "US", "not a date", "", "smb"],                   # 4 identical repeat
        ["c4", "lost", "5", "50", "Pro", "EU", "2023-03-01", "", "smb"],                    # 5 conflicting
        ["c4", "stayed", "5", "50", "Pro", "EU", "2023-03-01", "", "smb"],                  # 6 conflicting
    ]
    result = assert_accounted(ingest_customers(csv_bytes(rows), name="customers.csv"))
    assert result.dropped.to_dict("records") == [
        {Col.ROW_ID: 2, Col.REASON: DROP_MISSING_ID},
        {Col.ROW_ID: 4, Col.REASON: DROP_DUPLICATE_ID},
        {Col.ROW_ID: 5, Col.REASON: DROP_CONFLICTING_ID},
        {Col.ROW_ID: 6, Col.REASON: DROP_CONFLICTING_ID},
    ]
    data = result.data
    assert data[Col.CUSTOMER_ID].tolist() == ["c1", "c2", "c3"]
    assert data[Col.CHURNED].tolist() == [1, 0, 0] and str(data[Col.CHURNED].dtype) == "Int64"
    assert data[Col.CLV].tolist() == [1200.5, 300.0, 0.0]
    assert data[Col.NPS].iloc[:2].tolist() == [3.0, 10.0] and np.isnan(data[Col.NPS].iloc[2])
    assert data[Col.PLAN].tolist() == ["Pro", "Basic", "Basic"]
    assert data[Col.SIGNUP_DATE].dt.year.tolist()[:2] == [2023, 2023] and pd.isna(data[Col.SIGNUP_DATE].iloc[2])
    assert data["Segment"].tolist() == ["smb", "ent", "smb"]
    assert any("conflicting" in w or "disagree" in w for w in result.meta.warnings)


def test_fractional_nps_kept_with_nps_left_empty():
    result = assert_accounted(ingest_customers(b"customer_id,nps\na,9\nb,7.5\nc,8.0\nd,0.5\n", name="c.csv"))
    assert result.rows_kept == 4
    assert result.data[Col.NPS].tolist()[::2] == [9.0, 8.0] and result.data[Col.NPS].iloc[[1, 3]].isna().all()
    assert any("2 values of 'nps'" in w and "'7.5', '0.5'" in w for w in result.meta.warnings)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["Yes", "No", "y", "N"], [1, 0, 1, 0]),
        (["1", "0", "1.0", "0.0"], [1, 0, 1, 0]),
        (["True", "FALSE", "true", "false"], [1, 0, 1, 0]),
        (["churned", "active", "Churned", "ACTIVE"], [1, 0, 1, 0]),
        (["lost", "retained", "stayed", ""], [1, 0, 0, None]),
    ],
)
def test_churn_spellings(values, expected):
    frame = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "churn": values})
    result = assert_accounted(ingest_customers(frame))
    assert [None if pd.isna(v) else int(v) for v in result.data[Col.CHURNED]] == expected


def test_customer_table_without_outcome_warns():
    result = assert_accounted(ingest_customers(b"customer_id,plan\nc1,Pro\n", name="c.csv"))
    assert any("no outcome" in w for w in result.meta.warnings)


# ---------------------------------------------------------------------------------------------- bad input


def _xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    FEEDBACK.to_excel(buffer, index=False)
    return buffer.getvalue()


def _docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _feedback(data, name="x.csv", **kwargs):
    return lambda: ingest_feedback(data, name=name, **kwargs)


def _customers(data, name="c.csv", **kwargs):
    return lambda: ingest_customers(data, name=name, **kwargs)


TWO_TEXTS = b"comment,feedback\nThe app is slow to load,Support was friendly and quick\nBilling charged twice,Price went up\n"
BAD_INPUTS = {
    "empty file": (_feedback(b""), EmptyFileError, "is empty"),
    "whitespace only": (_feedback(b"  \n\n "), EmptyFileError, "is empty"),
    "header only": (_feedback(b"comment,score\n"), EmptyFileError, "no data rows"),
    "binary garbage": (_feedback(np.random.default_rng(0).bytes(4096)), UnreadableFileError, "binary"),
    "pickle extension": (_feedback(b"anything", name="model.pkl"), UnsafeInputError, ".pkl"),
    "pickle content": (_feedback(pickle.dumps({"a": 1}), name="data.csv"), UnsafeInputError, "pickle"),
    "npy file": (_feedback(b"\x93NUMPY\x01\x00", name="x.npy"), UnsafeInputError, ".npy"),
    "exe extension": (_feedback(b"hello", name="setup.exe"), UnsafeInputError, ".exe"),
    "exe content": (_feedback(b"MZ\x90\x00\x03", name="data.csv"), UnsafeInputError, "executable"),
    "docx extension": (_feedback(b"hello", name="notes.docx"), UnsupportedFormatError, "Supported formats: csv"),
    "docx named xlsx": (_feedback(_docx_bytes(), name="x.xlsx"), UnsupportedFormatError, "Word document"),
    "legacy xls": (_feedback(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", name="old.xls"), UnsupportedFormatError, ".xls"),
    "gzip": (_feedback(b"\x1f\x8b\x08", name="x.csv.gz"), UnsupportedFormatError, "'.gz'"),
    "too large": (_feedback(b"comment\nhello there\n", config=IngestConfig(max_bytes=10)), FileTooLargeError,
                  "the limit is 10 bytes"),
    "too many rows": (_feedback(b"comment\na b\nc d\ne f\n", config=IngestConfig(max_rows=2)), TooManyRowsError,
                      "limit is 2 rows"),
    "file not found": (lambda: ingest_feedback("/nonexistent/dir/x.csv"), UnreadableFileError, "not found"),
    "unbalanced quote": (_feedback(b'comment,b\n"one two,2\nthree four,4\n'), UnreadableFileError, "parse"),
    "no header": (_feedback(b"1,2,3\n4,5,6\n"), MissingColumnError, "no header row"),
    "no text column": (_feedback(b"id,score\n1,5\n2,3\n"), MissingColumnError, "No column with comment text"),
    "ambiguous text": (_feedback(TWO_TEXTS), AmbiguousColumnError, "--text-col"),
    "override missing": (_feedback(b"comment\nhi there\n", roles={"text": "Review"}), MissingColumnError,
                         "Available columns: 'comment'"),
    "unknown role": (_feedback(b"comment\nhi there\n", roles={"sentiment": "comment"}), MissingColumnError,
                     "Unknown role"),
    "all-empty text": (_feedback(b"customer_id,comment\nc1,\nc2,  \nc3,...\n"), EmptyFileError, "all 3 values"),
    "json not tabular": (_feedback(b"[1, 2, 3]", name="x.json"), UnreadableFileError, "not a table"),
    "json scalar": (_feedback(b'"just a string"', name="x.json"), UnreadableFileError, "not a table"),
    "invalid json": (_feedback(b'{"comment": "a",', name="x.json"), UnreadableFileError, "Invalid JSON"),
    "bad jsonl line": (_feedback(b'{"comment": "a b"}\nnot json\n', name="x.jsonl"), UnreadableFileError, "line 2"),
    "truncated xlsx": (_feedback(_xlsx_bytes()[:700], name="x.xlsx"), UnreadableFileError, "Excel"),
    "parquet garbage": (_feedback(b"PAR1" + b"\x00garbage" * 20, name="x.parquet"), UnreadableFileError, "Parquet"),
    "csv named parquet": (_feedback(b"comment\nhello\n", name="x.parquet"), UnreadableFileError, "not a Parquet"),
    "customers without id": (_customers(b"plan,churned\nPro,yes\n"), MissingColumnError, "no customer id column"),
    "unknown churn values": (_customers(b"customer_id,churned\na,yes\nb,maybe\nc,perhaps\n"), InvalidValueError,
                             "'maybe', 'perhaps'"),
    "nps 11": (_customers(b"customer_id,nps\na,9\nb,11\n"), InvalidValueError, "between 0 and 10; 1 rows"),
    "nps text": (_customers(b"customer_id,nps\na,9\nb,high\n"), InvalidValueError, "non-numeric values, e.g. 'high'"),
    "negative clv": (_customers(b"customer_id,clv\na,100\nb,-5\n"), InvalidValueError, ">= 0"),
    "customer override missing": (_customers(b"customer_id\na\n", roles={"churned": "Exited"}), MissingColumnError,
                                  "'Exited'"),
}


@pytest.mark.parametrize(("make", "error", "fragment"), list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_bad_inputs_raise_specific_errors(make, error, fragment):
    with pytest.raises(error) as info:
        make()
    assert type(info.value) is error
    assert fragment in str(info.value)
    assert isinstance(info.value, InputError) and "\n" not in info.value.one_line()


def test_path_file_too_large_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"comment\n" + b"x y z\n" * 1000)
    with pytest.raises(FileTooLargeError, match="6,008 bytes"):
        read_table(path, config=IngestConfig(max_bytes=1000))


def test_conflicting_duplicate_ids_are_counted_not_raised():
    frame = pd.DataFrame({"customer_id": ["a", "a", "b", " b "], "nps": ["9", "3", "5", "5"]})
    result = assert_accounted(ingest_customers(frame))
    assert result.accounting()["dropped_by_reason"] == {DROP_CONFLICTING_ID: 2, DROP_DUPLICATE_ID: 1}
    assert result.data[Col.CUSTOMER_ID].tolist() == ["b"]


def test_markup_only_text_is_dropped_as_empty():
    result = ingest_feedback(pd.DataFrame({"text": ["<br>", "&nbsp;", "<p> </p>", "The app is great."]}))
    assert result.accounting()["dropped_by_reason"] == {"empty text": 3}
    assert result.data["text"].tolist() == ["The app is great."]


def test_duplicate_column_suffix_never_renames_a_real_column():
    from insight.ingest import _unique_columns

    frame, warnings = _unique_columns(pd.DataFrame([[1, 2, 3]], columns=["a", "a", "a_2"]))
    assert list(frame.columns) == ["a", "a_3", "a_2"]
    assert warnings == ["Duplicate column names renamed: 'a' -> 'a_3'."]


def test_role_hints_speak_to_app_cli_and_python_users():
    with pytest.raises(MissingColumnError) as err:
        ingest_feedback(pd.DataFrame({"n": [1, 2]}))
    assert "Upload page" in err.value.one_line() and "--text-col COLUMN" in err.value.one_line()
    with pytest.raises(MissingColumnError) as err:
        ingest_customers(pd.DataFrame({"plan": ["a", "b"]}))
    assert "--customer-col customer_id=COLUMN" in err.value.one_line()


def test_a_header_that_does_not_line_up_is_an_error_not_a_mass_drop():
    trailing = b"id,text,score\n" + b"".join(b"%d,Good app number %d,5,\n" % (i, i) for i in range(8))
    with pytest.raises(UnreadableFileError, match="do not line up"):
        ingest_feedback(trailing, name="trailing.csv")


def test_values_quoted_in_warnings_are_redacted():
    frame = pd.DataFrame({"comment": ["Slow app today", "Great support team"], "date": ["john.doe@mail.com", "2025-01-02"]})
    result = ingest_feedback(frame)
    text = " ".join(result.meta.warnings)
    assert "could not be read as dates" in text and "john.doe@mail.com" not in text and "[EMAIL]" in text


# --------------------------------------------------------------------------- KPI roles


@pytest.mark.parametrize(
    ("column", "role"),
    [("n_orders", "orders"), ("Purchases", "orders"), ("order_count", "orders"), ("Total Sales", "revenue"),
     ("sales", "revenue"), ("Satisfaction", "csat"), ("CSAT Score", "csat"), ("logins", "sessions"),
     ("session_minutes", "sessions"), ("Upgraded", "upsell"), ("cross_sold", "cross_sell"),
     ("acquisition_cost", "acquisition_spend"), ("trial_converted", "converted"), ("created_at", "signup_date"),
     ("start_date", "signup_date"), ("cancel_date", "churn_date"), ("churned_at", "churn_date")],
)
def test_kpi_columns_are_detected_from_synonyms(column, role):
    values = {"signup_date": "2024-01-05", "churn_date": "2024-03-01", "upsell": "yes", "cross_sell": "1",
              "converted": "true", "csat": "4"}.get(role, "3")
    frame = pd.DataFrame({"customer_id": ["a", "b"], column: [values, values]})
    result = ingest_customers(frame)
    assert result.roles[role] == column
    assert role in result.data.columns and column not in result.data.columns


def test_kpi_roles_are_read_as_numbers_and_flags_and_can_be_mapped_or_unmapped():
    frame = pd.DataFrame({"customer_id": ["a", "b", "c"], "qty": ["1", "4", ""], "Upgraded": ["Yes", "no", ""],
                          "logins": ["3", "5", "8"]})
    result = ingest_customers(frame, roles={"orders": "qty", "sessions": None})
    assert result.data["orders"].tolist()[:2] == [1.0, 4.0] and np.isnan(result.data["orders"].iloc[2])
    assert result.data["upsell"].tolist() == [1, 0, pd.NA]
    assert "sessions" not in result.data.columns and result.data["logins"].tolist() == ["3", "5", "8"]


@pytest.mark.parametrize(
    ("frame", "roles", "error", "fragment"),
    [
        (pd.DataFrame({"id": ["a"], "csat": ["9"]}), None, InvalidValueError, "between 1 and 5"),
        (pd.DataFrame({"id": ["a"], "upsell": ["maybe"]}), None, InvalidValueError, "upsell/not upsell"),
        (pd.DataFrame({"id": ["a"], "orders": ["-2"]}), None, InvalidValueError, "(orders) must be >= 0"),
        (pd.DataFrame({"id": ["a"], "qty": ["1"]}), {"order": "qty"}, MissingColumnError, "Did you mean 'orders'?"),
    ],
)
def test_bad_kpi_columns_and_unknown_roles_are_clear_errors(frame, roles, error, fragment):
    with pytest.raises(error) as info:
        ingest_customers(frame, roles=roles)
    assert fragment in info.value.one_line()
