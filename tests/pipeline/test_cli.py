"""The `insight analyze` contract: files, columns, accounting, one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from insight.schemas import OUTPUT_CONTRACT

CARD, IBAN, TOKEN_URL = "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00", "https://pay.example.com/r?token=s3cr3tT0ken99"
PLANTED_PII = ("jane.doe@example.com", "7946 0958", CARD, IBAN, "s3cr3tT0ken99", "reporter7@mail.example.org")


def _insight(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "insight.cli", *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def cli_out(small_corpus, tmp_path_factory):
    """The CLI run on the small corpus, with PII and hostile text planted in a few comments."""
    feedback = pd.read_csv(small_corpus.folder / "feedback.csv", dtype=str, keep_default_na=False)
    feedback.loc[0, "text"] = "Email me at jane.doe@example.com or call +44 20 7946 0958, billing charged me twice."
    feedback.loc[1, "text"] = "=HYPERLINK(\"http://evil\") <script>alert(1)</script> the app keeps crashing."
    feedback.loc[2, "text"] = "   "
    feedback.loc[4, "text"] = "Le service client ne répond jamais et la facture était fausse."
    feedback.loc[5, "text"] = "Die App stürzt jeden Tag ab und der Support antwortet nicht."
    feedback.loc[6, "text"] = f"Card {CARD} and IBAN {IBAN} were charged twice, see {TOKEN_URL} for the receipt."
    feedback["reporter_email"] = [f"reporter{i}@mail.example.org" for i in range(len(feedback))]  # a non-id column
    feedback = pd.concat([feedback, feedback.iloc[[3]]], ignore_index=True)  # an exact duplicate
    path = tmp_path_factory.mktemp("cli") / "feedback.csv"
    feedback.to_csv(path, index=False)
    out = path.parent / "out"
    done = _insight(
        "analyze", "--feedback", str(path), "--customers", str(small_corpus.folder / "customers.csv"),
        "--codeframe", "models/codeframe_default.yaml", "--out", str(out), "--quiet", "--outcome", "upsell",
    )
    assert done.returncode == 0, done.stderr
    assert "(2 flagged non-English)" in done.stdout and "personal data items redacted" in done.stdout
    return out, len(feedback)


@pytest.mark.parametrize("name", sorted(OUTPUT_CONTRACT))
def test_contract_files_and_columns(cli_out, name):
    out, _ = cli_out
    frame = pd.read_csv(out / name, keep_default_na=False)
    columns = OUTPUT_CONTRACT[name]
    assert tuple(frame.columns[: len(columns)]) == columns


def test_summary_accounts_for_every_row(cli_out):
    out, n_rows = cli_out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows_in"] == n_rows
    assert summary["rows_in"] == summary["rows_kept"] + summary["rows_dropped"]
    dropped = pd.read_csv(out / "dropped.csv")
    assert len(dropped) == summary["rows_dropped"] >= 2
    assert {"empty text", "duplicate"} <= set(dropped["reason"])
    assert 0.9 <= summary["match_rate"] <= 1.0
    assert {"nps", "churn_rate"} <= set(summary["kpis"])
    assert summary["settings"]["seed"] == 0


def test_non_english_comments_are_kept_and_flagged(cli_out):
    out, _ = cli_out
    comments = pd.read_csv(out / "comments.csv", dtype=str, keep_default_na=False)
    flagged = comments.loc[~comments["language"].isin(["en", "unknown"])]
    assert sorted(flagged["language"]) == ["de", "fr"]
    assert flagged["sentiment_label"].ne("").all()  # scored like every other comment, not dropped
    summary = json.loads((out / "summary.json").read_text())
    assert summary["languages"] == {"non_english": 2, "by_language": {"de": 1, "fr": 1}}


def test_no_pii_in_any_output(cli_out):
    """Every file written, the saved run's Parquet tables included, is free of the planted personal data."""
    out, _ = cli_out
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files)
    for path in files:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            text = frame.astype(str).to_csv() + frame.index.astype(str).str.cat(sep=" ")
        else:
            text = path.read_bytes().decode("utf-8", errors="replace")
        for secret in PLANTED_PII:
            assert secret not in text, (path.relative_to(out), secret)


def test_formula_cells_are_neutralised(cli_out):
    out, _ = cli_out
    sentences = pd.read_csv(out / "sentences.csv", keep_default_na=False)
    assert not sentences["text"].str.startswith(("=", "+", "@")).any()


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (None, "I101"),  # missing file
        (b"", "I103"),
        (b"\x80\x03csomething\nq\x00.", "I10"),
        (b"id,score\n1,5\n2,3\n", "I106"),
    ],
)
def test_bad_input_exits_with_one_line(tmp_path, content, code):
    path = tmp_path / "feedback.csv"
    if content is not None:
        path.write_bytes(content)
    done = _insight("analyze", "--feedback", str(path), "--out", str(tmp_path / "out"), "--quiet")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"[{code}" in lines[0], done.stderr


@pytest.mark.parametrize(
    ("config", "fragment"),
    [("[drivers]\nmin_suport = 10\n", "min_suport"), ("seed = [", "Cannot read the config file")],
)
def test_bad_config_file_is_one_specific_line(small_corpus, tmp_path, config, fragment):
    path = tmp_path / "settings.toml"
    path.write_text(config)
    done = _insight("analyze", "--feedback", str(small_corpus.folder / "feedback.csv"), "--config", str(path), "--quiet")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and fragment in done.stderr


def test_adapt_sentiment_is_on_by_default_and_reports_its_held_out_gain(small_corpus, tmp_path):
    out = tmp_path / "out"
    done = _insight(
        "analyze", "--feedback", str(small_corpus.folder / "feedback.csv"), "--codeframe",
        "models/codeframe_default.yaml", "--min-confidence", "0.6", "--out", str(out), "--quiet",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "summary.json").read_text())["kpis"]["sentiment_adaptation"]
    assert report["channel"] == "review" and report["scale"] == "stars"  # generated ratings: stars on reviews
    assert report["n_test"] > 100
    assert 0 <= report["before"]["accuracy"] <= 1 and 0 <= report["after"]["accuracy"] <= 1
    assert report["used"] == (report["after"]["macro_f1"] > report["before"]["macro_f1"])
    assert "held-out macro-F1" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["sentiment"]["adapt_to_scores"] is True
    assert summary["settings"]["themes"]["min_confidence"] == 0.6
    coverage = summary["kpis"]["theme_coverage"]
    assert coverage["sentences"] > coverage["no_topic"] + coverage["unclassified"] and "no topic" in done.stdout


def test_customer_table_without_segments_or_matches_keeps_the_run(small_corpus, tmp_path):
    """Customer data that cannot support a stage skips that stage with its reason; the NLP outputs are written."""
    customers = pd.read_csv(small_corpus.folder / "customers.csv")
    feedback = pd.read_csv(small_corpus.folder / "feedback.csv").head(300)
    feedback.to_csv(tmp_path / "feedback.csv", index=False)
    customers[["customer_id", "churned", "nps", "clv"]].to_csv(tmp_path / "outcomes_only.csv", index=False)
    customers.assign(customer_id="X" + customers["customer_id"]).to_csv(tmp_path / "other_ids.csv", index=False)
    for table, skipped in (("outcomes_only", {"segments"}), ("other_ids", {"drivers"})):
        out = tmp_path / table
        done = _insight("analyze", "--feedback", str(tmp_path / "feedback.csv"), "--customers", str(tmp_path / f"{table}.csv"),
                        "--codeframe", "models/codeframe_default.yaml", "--out", str(out), "--quiet")
        assert done.returncode == 0, done.stderr
        summary = json.loads((out / "summary.json").read_text())
        assert set(summary["kpis"]["skipped"]) == skipped
        assert all(f"insight: {stage} skipped: [I300]" in done.stderr for stage in skipped)
        assert len(pd.read_csv(out / "comments.csv")) == 300
    assert len(pd.read_csv(tmp_path / "outcomes_only" / "drivers.csv")) > 0


def test_summary_records_inputs_join_and_settings(cli_out):
    out, _ = cli_out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["feedback_input"]["roles"]["text"] == "text" and summary["customers"]["roles"]["churned"] == "churned"
    join = summary["join"]
    assert join["n_comments_matched"] + join["n_comments_with_unmatched_id"] + join["n_comments_without_id"] == summary["n_comments"]
    unmatched = pd.read_csv(out / "unmatched_ids.csv")
    assert len(unmatched) == join["n_unmatched_ids"] > 0 and unmatched["n_comments"].sum() == join["n_comments_with_unmatched_id"]
    assert summary["settings"]["themes"]["codeframe"] == "models/codeframe_default.yaml"
    assert any("control for" in note for note in summary["driver_notes"])


def test_outcome_flag_adds_the_picked_column_to_drivers_csv(cli_out):
    out, _ = cli_out
    assert json.loads((out / "summary.json").read_text())["settings"]["drivers"]["outcomes"] == ["upsell"]
    drivers = pd.read_csv(out / "drivers.csv")
    churn, upsell = (set(drivers.loc[drivers["outcome"] == o, "theme"]) for o in ("churn", "upsell"))
    assert upsell == churn and len(upsell) > 1


def test_themes_csv_carries_representative_sentences(cli_out):
    out, _ = cli_out
    themes = pd.read_csv(out / "themes.csv", keep_default_na=False)
    reps = themes["representatives"].str.split(" | ", regex=False)
    assert (reps.map(len) == 3).all()
    assert all(len({r.casefold() for r in row}) == 3 for row in reps)


def test_an_unknown_customer_role_is_one_line_with_the_closest_name(small_corpus, tmp_path):
    done = _insight("analyze", "--feedback", str(small_corpus.folder / "feedback.csv"), "--customers",
                    str(small_corpus.folder / "customers.csv"), "--customer-col", "order=upsell", "--out", str(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Unknown role 'order'" in done.stderr and "Did you mean 'orders'?" in done.stderr


def test_customer_roles_and_segments_can_be_named_and_a_bad_out_fails_fast(small_corpus, tmp_path):
    feedback = pd.read_csv(small_corpus.folder / "feedback.csv").head(200)
    feedback.to_csv(tmp_path / "feedback.csv", index=False)
    customers = pd.read_csv(small_corpus.folder / "customers.csv").rename(
        columns={"customer_id": "acct_ref", "churned": "gone", "upsell": "flag_7"})
    customers.to_csv(tmp_path / "customers.csv", index=False)
    out = tmp_path / "out"
    done = _insight("analyze", "--feedback", str(tmp_path / "feedback.csv"), "--customers", str(tmp_path / "customers.csv"),
                    "--customer-col", "customer_id=acct_ref", "--customer-col", "churned=gone", "--customer-col", "region=",
                    "--customer-col", "upsell=flag_7", "--segments", "plan,tenure_band",
                    "--codeframe", "models/codeframe_default.yaml", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    roles = json.loads((out / "summary.json").read_text())["customers"]["roles"]
    assert roles["customer_id"] == "acct_ref" and roles["churned"] == "gone" and "region" not in roles
    assert set(pd.read_csv(out / "segments.csv")["segment_column"]) == {"plan", "tenure_band"}
    by_segment = pd.read_csv(out / "kpis_by_segment.csv").set_index(["segment_column", "segment_value", "kpi"])
    basic = customers.loc[customers["plan"] == "Basic", "flag_7"]  # the mapped column is the upsell KPI's input
    assert by_segment.loc[("plan", "Basic", "upsell_rate"), "estimate"] == pytest.approx(100 * basic.mean())
    assert by_segment.loc[("plan", "Basic", "upsell_rate"), "n"] == len(basic)
    (tmp_path / "taken").write_text("")
    done = _insight("analyze", "--feedback", str(tmp_path / "feedback.csv"), "--out", str(tmp_path / "taken"))
    assert done.returncode == 2 and "is a file, not a folder" in done.stderr
