"""Streamlit AppTest of app.py: every page, uploads, mapping, drill-down, hostile text, exports.

Most tests inject a small RunResult built from real downstream stages (ingest,
join, drivers, segments, KPIs) on a hand-made corpus with a planted churn driver,
so the pages are exercised in seconds. The end-to-end tests upload a generated
corpus through the real uploader and run the real pipeline.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from insight import ui
from insight.config import DriverConfig, InsightConfig, SegmentConfig
from insight.schemas import Col

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT = 60
HOSTILE = ("<script>alert(1)</script>", "<b>html</b>", "[link](http://x)", '=HYPERLINK("x")')
HOSTILE_THEME = "[pay](http://evil) <b>now</b>"
THEMES = {
    "billing errors": ("I was charged twice on my bill", -0.7),
    "slow app": ("The app is slow and crashes", -0.5),
    "friendly staff": ("Support staff were friendly", 0.8),
    HOSTILE_THEME: ("The pay button looks odd", -0.1),
}


# --------------------------------------------------------------------------- fixture run
def _fixture_result():
    """A RunResult from real ingest/join/drivers/segments/kpi calls on 240 hand-made customers."""
    from insight import drivers, join, kpi, segments, trends
    from insight.codeframe import Codeframe, CodeframeTheme
    from insight.ingest import ingest_customers, ingest_feedback
    from insight.pipeline import RunResult
    from insight.theme_stats import comment_themes

    rng = np.random.default_rng(0)
    n = 240
    names = list(THEMES)
    mentions = rng.random((n, len(names))) < [0.45, 0.35, 0.35, 0.2]
    mentions[:8, names.index(HOSTILE_THEME)] = True  # the hostile comments (i < 8) are in the hostile theme
    churn_p = 0.12 + 0.45 * mentions[:, 0]
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "plan": rng.choice(["basic", "pro"], n),
            "region": rng.choice(["north", "south"], n),
            "tenure_months": rng.integers(1, 60, n),
            "clv": np.round(rng.uniform(100, 900, n), 2),
            "nps": rng.integers(0, 11, n),
            "churned": (rng.random(n) < churn_p).astype(int),
            "upsell": (rng.random(n) < 0.1 + 0.5 * mentions[:, 2]).astype(int),  # friendly staff drives upsell
            "signup_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 540, n), unit="D"),
        }
    )
    rows = []
    for i in range(n):
        parts = [THEMES[t][0] for t, m in zip(names, mentions[i], strict=False) if m]
        if not parts:
            continue
        extra = HOSTILE[i % len(HOSTILE)] if i < 8 else f"Order number {i}"
        month = 12 if mentions[i, 0] and i % 2 else 1 + i % 12  # half the billing comments arrive in December: a spike
        rows.append(
            {
                "customer_id": f"C{i:04d}",
                "date": f"2025-{month:02d}-{1 + i % 27:02d}",
                "channel": ["review", "ticket", "survey"][i % 3],
                "text": ". ".join([*parts, extra]) + ".",
            }
        )
    feedback = pd.DataFrame(rows)
    fb = ingest_feedback(feedback, name="feedback.csv")
    cust = ingest_customers(customers, name="customers.csv")

    sentence_rows, assignment_rows = [], []
    for _, c in fb.data.iterrows():
        for idx, sentence in enumerate(s.strip() + "." for s in c[Col.TEXT].rstrip(".").split(". ")):
            sid = f"{c[Col.COMMENT_ID]}:{idx}"
            theme = next((t for t in names if THEMES[t][0] in sentence), None)
            score = THEMES[theme][1] if theme else 0.0
            label = "negative" if score < -0.2 else "positive" if score > 0.2 else "neutral"
            sentence_rows.append(
                {
                    Col.SENTENCE_ID: sid,
                    Col.COMMENT_ID: c[Col.COMMENT_ID],
                    Col.ROW_ID: c[Col.ROW_ID],
                    Col.SENTENCE_IDX: idx,
                    Col.TEXT: sentence,
                    Col.SENTIMENT_SCORE: score,
                    Col.SENTIMENT_LABEL: label,
                }
            )
            if theme:
                assignment_rows.append(
                    {
                        Col.SENTENCE_ID: sid,
                        Col.THEME_ID: names.index(theme),
                        Col.THEME: theme,
                        Col.THEME_CONFIDENCE: 0.9,
                    }
                )
    sentences = pd.DataFrame(sentence_rows)
    assignments = pd.DataFrame(assignment_rows)
    ct = comment_themes(sentences, assignments)
    per_comment = sentences.groupby(Col.COMMENT_ID)[Col.SENTIMENT_SCORE].mean()
    comments = fb.data.copy()
    comments[Col.SENTIMENT_SCORE] = comments[Col.COMMENT_ID].map(per_comment).astype(float)
    comments[Col.SENTIMENT_LABEL] = np.where(
        comments[Col.SENTIMENT_SCORE] < -0.2,
        "negative",
        np.where(comments[Col.SENTIMENT_SCORE] > 0.2, "positive", "neutral"),
    )
    by_comment = {cid: list(rows[Col.THEME]) for cid, rows in ct.groupby(Col.COMMENT_ID)}
    comments[Col.THEMES] = pd.Series(
        [by_comment.get(c, []) for c in comments[Col.COMMENT_ID]], index=comments.index, dtype=object
    )
    stats = ct.groupby(Col.THEME).agg(
        n_comments=(Col.COMMENT_ID, "nunique"), avg_sentiment=(Col.SENTIMENT_SCORE, "mean")
    )
    themes = pd.DataFrame(
        {
            Col.THEME_ID: range(len(names)),
            Col.THEME: names,
            Col.PARENT: None,
            Col.KEYWORDS: [t.split()[:2] for t in names],
            "description": names,
            "representatives": [[THEMES[t][0] + ".", THEMES[t][0] + " again."] for t in names],
            "n_sentences": [int((assignments[Col.THEME] == t).sum()) for t in names],
        }
    ).merge(stats, left_on=Col.THEME, right_index=True)
    themes["share"] = themes["n_comments"] / len(comments)
    joined = join.join_customers(comments, ct, cust.data)
    driver_result = drivers.analyze_drivers(joined, config=DriverConfig(min_support=10, n_bootstrap=50))
    segs = segments.segment_table(joined, driver_result, config=SegmentConfig(min_customers=5))
    theme_trends = trends.theme_trends(comments, ct, freq="M")
    return RunResult(
        feedback=fb,
        customers=cust,
        comments=comments,
        sentences=sentences,
        assignments=assignments,
        themes=themes,
        theme_model=Codeframe(tuple(CodeframeTheme(name=t, description=t, examples=(THEMES[t][0],)) for t in names)),
        embeddings=np.zeros((len(sentences), 4), dtype=np.float32),
        join=joined,
        drivers=driver_result,
        segments=segs,
        trends=theme_trends,
        kpis={**kpi.summarise_customers(cust.data), "match_rate": joined.match_rate},
        config=InsightConfig().replace(drivers__min_support=10),
        timings={"ingest": 0.1},
        **kpi.kpi_tables(joined, config=SegmentConfig(min_customers=5)),
    )


@pytest.fixture(scope="module")
def result():
    return _fixture_result()


def _app(result=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[ui.STATE_DEMO_TRIED] = True  # tests choose their own result, not the demo run
    if result is not None:
        at.session_state[ui.STATE_RESULT] = result
        at.session_state[ui.STATE_SOURCE] = "the test corpus"
    return at.run()


def _goto(at: AppTest, page: str) -> AppTest:
    at.radio(key=ui.NAV_KEY).set_value(page).run()
    assert not at.exception, at.exception
    return at


def _texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


def _shown(elements) -> list[str]:
    """What the reader sees of markdown elements: escaped characters without their backslash."""
    return [re.sub(r"\\(.)", r"\1", t) for t in _texts(elements)]


def _table(at: AppTest, key: str) -> pd.DataFrame:
    """The table ui._table drew in the container keyed ``key``."""
    (table,) = at.container(key).dataframe
    return table.value


def _markup(at: AppTest) -> list[str]:
    """Everything rendered as markdown (markdown, captions, titles, alerts)."""
    return (
        _texts(at.markdown)
        + _texts(at.caption)
        + _texts(at.title)
        + _texts(at.subheader)
        + _texts(at.info)
        + _texts(at.warning)
        + _texts(at.success)
    )


# --------------------------------------------------------------------------- tests
def test_start_without_result_offers_upload_and_states_the_limit():
    at = _app()
    assert not at.exception
    assert any("200 MB" in t and "2,000,000 rows" in t for t in _texts(at.markdown))
    at.button(key="start:to_upload").click().run()
    assert not at.exception
    assert at.radio(key=ui.NAV_KEY).value == "Upload & map"
    assert at.file_uploader(key="upload:feedback_file") is not None
    for page in ("Overview", "Themes", "Drivers", "Segments", "Trends", "Export"):
        _goto(at, page)
        assert any("Nothing analysed yet" in t for t in _texts(at.info))


def test_every_page_renders_the_run(result):
    at = _app(result)
    assert not at.exception
    _goto(at, "Overview")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Comments"] == f"{len(result.comments):,}"
    assert metrics["Customers"] == "240"
    churn = result.kpis["churn_rate"]
    assert metrics["Churn rate"] == f"{churn['value']:.1f}%"
    assert any(f"95% CI {churn['ci_low']:.1f}% to {churn['ci_high']:.1f}%" in t for t in _texts(at.caption))
    assert metrics["NPS"] == f"{result.kpis['nps']['value']:.1f}"

    _goto(at, "Themes")
    table = _table(at, "themes:table")
    assert table[Col.THEME].tolist()[0] == result.themes.sort_values("n_comments", ascending=False)[Col.THEME].iloc[0]
    assert set(table[Col.THEME]) == set(THEMES)
    assert all(len(trend) >= 5 for trend in table["trend"])  # one point per month: the sparkline

    _goto(at, "Drivers")
    assert at.radio(key="drivers:outcome").options == ["churn", "nps", "clv"]
    captions = _texts(at.markdown)
    assert any("billing errors" in c for c in captions), captions  # the planted driver is described
    at.radio(key="drivers:outcome").set_value("nps").run()
    assert not at.exception
    assert _table(at, "drivers:table")[Col.OUTCOME].eq("nps").all()

    _goto(at, "Segments")
    actions = _table(at, "segments:actions")
    assert len(actions) == 10 and actions[Col.PRIORITY].is_monotonic_decreasing

    _goto(at, "Trends")
    assert at.multiselect(key="trends:themes").value[0] == "billing errors"
    spikes = _table(at, "trends:spikes")
    assert (
        spikes[Col.THEME].tolist()
        == result.trends.loc[result.trends["is_spike"]].sort_values("period")[Col.THEME].tolist()
    )
    assert spikes.loc[spikes[Col.THEME] == "billing errors", "period"].tolist() == [
        pd.Timestamp("2025-12-01")
    ]  # planted

    _goto(at, "Export")
    files = _table(at, "export:files")
    assert {"comments.csv", "drivers.csv", "segments.csv", "dropped.csv"} <= set(files["file"])
    assert at.download_button(key="export:excel") is not None
    assert at.download_button(key="export:html") is not None
    assert at.download_button(key="export:csv:drivers.csv") is not None


def test_theme_drill_down_filters(result):
    at = _goto(_app(result), "Themes")
    at.selectbox(key="themes:drill").set_value("billing errors").run()
    verbatims = _table(at, "themes:verbatims")
    assert len(verbatims) == int((result.assignments[Col.THEME] == "billing errors").sum())
    assert verbatims["sentence"].str.contains("charged twice").all()
    at.multiselect(key="themes:f_channel").set_value(["ticket"]).run()
    assert not at.exception
    filtered = _table(at, "themes:verbatims")
    assert 0 < len(filtered) < len(verbatims) and filtered[Col.CHANNEL].eq("ticket").all()
    at.selectbox(key="themes:f_segment").set_value("plan").run()
    at.multiselect(key="themes:f_segment_values:plan").set_value(["pro"]).run()
    assert not at.exception
    assert _table(at, "themes:verbatims")["plan"].eq("pro").all()


def test_hostile_text_is_shown_as_plain_text(result):
    at = _goto(_app(result), "Themes")
    at.selectbox(key="themes:drill").set_value(HOSTILE_THEME).run()
    assert not at.exception
    comments = _table(at, "themes:verbatims")["comment"]
    for raw in HOSTILE:
        # the dataframe holds the exact raw string (rendered as data, not markup) ...
        assert comments.str.contains(raw, regex=False).any(), raw
    assert HOSTILE_THEME in _table(at, "themes:table")[Col.THEME].tolist()
    assert "The pay button looks odd." in _texts(at.text)  # representative sentence via st.text
    for page in ("Themes", "Drivers", "Segments", "Trends", "Overview"):
        _goto(at, page)
        for markup in _markup(at):  # ... and no markdown element carries it unescaped
            for raw in (*HOSTILE, HOSTILE_THEME, "<script>", "](http"):
                assert raw not in markup, (page, markup)
    assert not at.html


def test_drivers_caption_escapes_theme_names(result):
    at = _goto(_app(result), "Drivers")
    captions = [t for t in _texts(at.markdown) if t.startswith("- ")]
    assert captions
    expected = ui.md_escape(result.drivers.caption("billing errors", "churn"))
    assert "- " + expected in captions


def test_empty_states_without_customer_table(result):
    import dataclasses

    bare = dataclasses.replace(result, customers=None, join=None, drivers=None, segments=None, trends=None, kpis={})
    at = _goto(_app(bare), "Drivers")
    assert any("upload one to see drivers" in t for t in _texts(at.info))
    _goto(at, "Segments")
    assert any("No segment results" in t for t in _texts(at.info))
    _goto(at, "Trends")
    assert any("No dates" in t for t in _texts(at.info))
    _goto(at, "Overview")
    assert {m.label: m.value for m in at.metric}["Churn rate"] == "—"
    assert any("No customer table" in t for t in _texts(at.info))


def test_overview_warns_about_non_english_comments(result):
    import dataclasses

    comments = result.comments.copy()
    comments[Col.LANGUAGE] = ["fr", "fr", "de"] + ["en"] * (len(comments) - 3)
    comments[Col.IS_ENGLISH] = comments[Col.LANGUAGE].eq("en")
    at = _goto(_app(dataclasses.replace(result, comments=comments)), "Overview")
    (warning,) = [t for t in _texts(at.warning) if "non-English" in t]
    assert warning.startswith(f"3 comments ({3 / len(comments):.1%}) look non-English (fr 2, de 1)")
    assert not [t for t in _texts(_goto(_app(result), "Overview").warning) if "non-English" in t]


def test_drivers_page_states_nps_units(result):
    at = _goto(_app(result), "Drivers")
    at.radio(key="drivers:outcome").set_value("nps").run()
    assert not at.exception
    assert any("adjusted NPS effects are regression coefficients in 0–10 score points" in t for t in _texts(at.caption))
    columns = set(_table(at, "drivers:table").columns)
    assert {"effect (NPS points)", "adjusted_effect (0–10 score points)", "adjusted_ci_low (0–10 score points)"} <= columns
    assert Col.EFFECT not in columns and Col.ADJUSTED_EFFECT not in columns


def test_segment_actions_keep_flagged_cells_last_and_show_flags(result, flagged_segment_cells):
    import dataclasses

    actions = _table(_goto(_app(result), "Segments"), "segments:actions")
    assert {"priority_ci_low", "priority_ci_high", "flags"} <= set(actions.columns)
    at = _goto(_app(dataclasses.replace(result, segments=flagged_segment_cells)), "Segments")
    actions = _table(at, "segments:actions")
    assert actions[Col.THEME].tolist() == ["billing errors", "slow app", "friendly staff"]
    assert actions["flags"].tolist() == ["", "confounded", "small_cell"]
    assert actions["priority_ci_low"].tolist() == [3000.0, -400.0, 10000.0]
    assert any("confounded" in t and "small_cell" in t for t in _texts(at.caption))


def test_overview_says_what_personal_data_was_redacted(result):
    import dataclasses

    redacted = dataclasses.replace(result, kpis={**result.kpis, "redactions": {"EMAIL": 2, "PHONE": 0, "CARD": 1}})
    at = _goto(_app(redacted), "Overview")
    assert any("2 email, 1 card" in t for t in _texts(at.caption))


def test_codeframe_edits_and_undo(result):
    at = _goto(_app(result), "Themes")
    assert set(_table(at, "themes:cf:themes")[Col.THEME]) == set(THEMES)
    at.multiselect(key="themes:cf:merge_names").set_value(["billing errors", "slow app"]).run()
    at.text_input(key="themes:cf:merge_into").input("money and speed").run()
    at.button(key="themes:cf:merge").click().run()
    assert not at.exception and not at.error, _texts(at.error)
    after = _table(at, "themes:cf:themes")[Col.THEME].tolist()
    assert "money and speed" in after and "billing errors" not in after and "slow app" not in after
    at.selectbox(key="themes:cf:rename_old").set_value("friendly staff").run()
    at.text_input(key="themes:cf:rename_new").input("kind staff").run()
    at.button(key="themes:cf:rename").click().run()
    assert "kind staff" in _table(at, "themes:cf:themes")[Col.THEME].tolist()
    assert any("2 pending edit(s)" in t for t in _texts(at.warning))
    at.button(key="themes:cf:undo").click().run()
    names = _table(at, "themes:cf:themes")[Col.THEME].tolist()
    assert "friendly staff" in names and "money and speed" in names
    # a rename onto an existing name is refused with the codeframe's own message
    at.selectbox(key="themes:cf:rename_old").set_value("friendly staff").run()
    at.text_input(key="themes:cf:rename_new").input("money and speed").run()
    at.button(key="themes:cf:rename").click().run()
    assert not at.exception
    assert any("[I100]" in e and "exists" in e for e in _shown(at.error)), _texts(at.error)
    # the run itself is untouched until Re-assign
    assert at.session_state[ui.STATE_RESULT] is result


def _corpus_files(n_customers: int = 150, *, churn_column: str = "flag_a"):
    """Generated feedback and customer CSVs; the churn column gets a name detection cannot know."""
    from corpora.generate import generate_corpus

    corpus = generate_corpus(n_customers=n_customers, seed=0)
    customers = corpus.customers.rename(columns={"churned": churn_column})
    return corpus.feedback.to_csv(index=False).encode(), customers.to_csv(index=False).encode()


def test_precomputed_demo_run_opens_at_start(result, tmp_path, monkeypatch):
    from insight.store import save_run

    save_run(result, tmp_path / "run")
    monkeypatch.setattr(ui, "DEMO_RUN_DIR", tmp_path / "run")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error, _texts(at.error)
    assert any("demo corpus" in t and f"{len(result.comments)} comments" in t for t in _texts(at.success))
    assert len(at.session_state[ui.STATE_RESULT].comments) == len(result.comments)
    _goto(at, "Themes")  # a saved run's list cells (keywords, representatives) must render like a fresh run's
    assert not at.exception, at.exception
    assert len(_table(at, "themes:verbatims")) > 0
    _goto(at, "Drivers")
    assert at.radio(key="drivers:outcome").options == ["churn", "nps", "clv"]


def test_demo_button_analyses_the_demo_corpus(tmp_path, monkeypatch):
    feedback, customers = _corpus_files(churn_column="churned")
    (tmp_path / "feedback.csv").write_bytes(feedback)
    (tmp_path / "customers.csv").write_bytes(customers)
    monkeypatch.setattr(ui, "DEMO_DIR", tmp_path)
    monkeypatch.setattr(ui, "DEMO_RUN_DIR", tmp_path / "run")
    at = _app()
    assert any("not been analysed yet" in t for t in _texts(at.info))
    at.button(key="start:analyse_demo").click().run(timeout=300)
    assert not at.exception and not at.error, _texts(at.error)
    result = at.session_state[ui.STATE_RESULT]
    assert at.session_state[ui.STATE_SOURCE] == "the built-in demo corpus"
    assert result.feedback.rows_in == len(pd.read_csv(io.BytesIO(feedback)))
    _goto(at, "Drivers")
    assert "churn" in at.radio(key="drivers:outcome").options


def test_upload_map_and_join_rate():
    feedback, customers = _corpus_files()
    at = _goto(_app(), "Upload & map")
    at.file_uploader(key="upload:feedback_file").upload("feedback.csv", feedback, "text/csv").run()
    assert not at.exception
    assert at.selectbox(key="upload:feedback:role:text").value == "text"
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Rows in file"].replace(",", "")) == len(pd.read_csv(io.BytesIO(feedback)))
    at.file_uploader(key="upload:customers_file").upload("customers.csv", customers, "text/csv").run()
    assert not at.exception
    churn_role = at.selectbox(key="upload:customers:role:churned")
    assert churn_role.value != "flag_a"
    churn_role.set_value("flag_a").run()
    assert not at.exception
    assert at.session_state[ui.STATE_ROLES.format(kind="customers")]["churned"] == "flag_a"
    rate = next(m for m in at.metric if m.label == "Join match rate").value
    assert 0.8 <= float(rate.rstrip("%")) / 100 <= 1.0
    # the file and the mapping survive a page switch
    _goto(at, "Run")
    _goto(at, "Upload & map")
    assert at.selectbox(key="upload:customers:role:churned").value == "flag_a"
    assert any("kept from before" in t for t in _texts(at.caption))
    at.button(key="upload:customers:remove").click().run()
    assert not at.exception
    assert ui.STATE_UPLOAD.format(kind="customers") not in at.session_state
    assert any("No customer table" in t for t in _texts(at.info))


@pytest.mark.parametrize(
    "name, data, code",
    [("empty.csv", b"", "[I103]"), ("model.pkl", b"\x80\x04\x95 pickled", "[I109]"), ("notes.csv", b"a,b\n", "[I103]")],
)
def test_bad_file_shows_the_specific_error(name, data, code):
    at = _goto(_app(), "Upload & map")
    at.session_state[ui.STATE_UPLOAD.format(kind="feedback")] = (name, data)
    at.run()
    assert not at.exception
    errors = _shown(at.error)
    assert len(errors) == 1 and code in errors[0] and "Traceback" not in errors[0], errors


def _sentences(rng, n: int) -> list[str]:
    words = "billing app slow crash support refund login great terrible price update sync export invoice".split()
    return [" ".join(rng.choice(words, size=int(rng.integers(8, 16)))) for _ in range(n)]


def test_two_text_columns_ask_the_user_then_show_the_roles_ingest_used():
    rng = np.random.default_rng(0)
    n = 40
    feedback = pd.DataFrame(
        {
            "id": range(n),
            "customer_id": [f"c{i % 15}" for i in range(n)],
            "date": pd.date_range("2024-01-01", periods=n).strftime("%Y-%m-%d"),
            "comment": _sentences(rng, n),
            "feedback": _sentences(rng, n),
        }
    )
    at = _goto(_app(), "Upload & map")
    at.file_uploader(key="upload:feedback_file").upload("mixed.csv", feedback.to_csv(index=False).encode(), "text/csv")
    at.run()
    assert not at.exception and not at.error, _texts(at.error)
    (prompt,) = [t for t in _shown(at.warning) if "comment" in t and "feedback" in t]
    assert not any(api in t for t in _markup(at) for api in ("roles=", "CLI", "--text-col")), _markup(at)
    assert at.selectbox(key="upload:feedback:role:text").value is None
    at.selectbox(key="upload:feedback:role:text").set_value("feedback").run()
    assert not at.exception and not at.error, _texts(at.error)
    assert prompt not in _shown(at.warning)
    assert at.session_state[ui.STATE_ROLES.format(kind="feedback")] == {"text": "feedback"}
    roles = ("customer_id", "date", "comment_id")
    shown = {role: at.selectbox(key=f"upload:feedback:role:{role}").value for role in roles}
    assert shown == {"customer_id": "customer_id", "date": "date", "comment_id": "id"}
    assert {m.label: m.value for m in at.metric}["Rows kept"] == str(n)


def test_a_detected_role_can_be_unmapped():
    from insight.ingest import ingest_feedback

    rng = np.random.default_rng(1)
    n = 30
    reviews = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(n)], "review": _sentences(rng, n), "rating": rng.integers(1, 6, n)}
    ).to_csv(index=False).encode()
    at = _goto(_app(), "Upload & map")
    at.file_uploader(key="upload:feedback_file").upload("reviews.csv", reviews, "text/csv").run()
    score = at.selectbox(key="upload:feedback:role:score")
    assert score.value == "rating" and ui._NONE in score.options
    score.set_value(ui._NONE).run()
    assert not at.exception and not at.error, _texts(at.error)
    roles = at.session_state[ui.STATE_ROLES.format(kind="feedback")]
    assert roles == {"score": None}
    assert at.selectbox(key="upload:feedback:role:score").value == ui._NONE  # what ingest used, after the rerun
    ingested = ingest_feedback(reviews, roles=roles, name="reviews.csv")
    assert ingested.roles["score"] is None and ingested.data[Col.SCORE].isna().all()
    assert "rating" in ingested.data.columns  # kept as one of the user's own columns


def test_tables_offer_no_unprotected_csv_export(result, monkeypatch):
    """Streamlit's table toolbar exports cells raw (=HYPERLINK(...) included); the Export page's CSVs are safe."""
    from streamlit import config

    monkeypatch.chdir(Path(APP).parent)  # Streamlit reads ./.streamlit/config.toml
    config.get_config_options(force_reparse=True)
    assert config.get_option("client.disableDataExport") is True
    at = _goto(_app(result), "Themes")
    assert not at.exception and len(_table(at, "themes:table")) > 0


def test_upload_run_merge_and_export_end_to_end():
    feedback, customers = _corpus_files(n_customers=150)
    at = _goto(_app(), "Upload & map")
    at.file_uploader(key="upload:feedback_file").upload("feedback.csv", feedback, "text/csv").run()
    at.file_uploader(key="upload:customers_file").upload("customers.csv", customers, "text/csv").run()
    at.selectbox(key="upload:customers:role:churned").set_value("flag_a").run()
    _goto(at, "Run")
    at.checkbox(key="run:adapt_sentiment").check().run()
    at.button(key="run:run").click().run(timeout=300)
    assert not at.exception
    assert not at.error, _texts(at.error)
    result = at.session_state[ui.STATE_RESULT]
    assert result.config.sentiment.adapt_to_scores and "before" in result.kpis["sentiment_adaptation"]
    assert result.drivers is not None and at.session_state[ui.STATE_RUN_INFO]["files"]["customers"]["roles"] == {
        "churned": "flag_a"
    }
    assert "Done in" in at.get("progress")[0].proto.text

    _goto(at, "Overview")
    assert {m.label: m.value for m in at.metric}["Churn rate"].endswith("%")
    assert any("your stars scores" in t and "held-out accuracy" in t for t in _texts(at.caption))
    agreement = _table(at, "overview:agreement").set_index("comments")  # stars on reviews, NPS on surveys
    assert agreement.loc["review", "score scale"] == "stars" and agreement.loc["survey", "score scale"] == "nps"

    _goto(at, "Themes")
    names = _table(at, "themes:table")[Col.THEME].tolist()
    assert len(names) >= 2
    at.selectbox(key="themes:drill").set_value(names[0]).run()
    assert len(_table(at, "themes:verbatims")) > 0
    at.multiselect(key="themes:cf:merge_names").set_value(names[:2]).run()
    at.text_input(key="themes:cf:merge_into").input("merged theme").run()
    at.button(key="themes:cf:merge").click().run()
    assert not at.exception and not at.error, _texts(at.error)
    at.button(key="themes:cf:reassign").click().run(timeout=120)
    assert not at.exception and not at.error, _texts(at.error)
    after = _table(at, "themes:table")[Col.THEME].tolist()
    assert "merged theme" in after and names[0] not in after and names[1] not in after
    # a codeframe run now: the sensitivity control re-assigns with a stricter confidence
    before = at.session_state[ui.STATE_RESULT].kpis["theme_coverage"]
    assert any("are unclassified" in t and "have no topic" in t for t in _texts(at.caption))
    at.slider(key="themes:coverage:slider").set_value(0.8).run()
    at.button(key="themes:coverage:apply").click().run(timeout=120)
    assert not at.exception and not at.error, _texts(at.error)
    stricter = at.session_state[ui.STATE_RESULT]
    assert stricter.config.themes.min_confidence == 0.8
    assert stricter.kpis["theme_coverage"]["unclassified"] >= before["unclassified"]

    _goto(at, "Drivers")
    assert at.radio(key="drivers:outcome").options
    _goto(at, "Export")
    files = _table(at, "export:files")
    assert files.loc[files["file"] == "comments.csv", "rows"].item() == len(at.session_state[ui.STATE_RESULT].comments)


def test_a_run_can_go_to_a_dask_cluster():
    """The Run page's engine choice reaches the pipeline: an empty address starts a local cluster."""
    pytest.importorskip("distributed")
    feedback, _ = _corpus_files(n_customers=120)
    at = _goto(_app(), "Upload & map")
    at.file_uploader(key="upload:feedback_file").upload("feedback.csv", feedback, "text/csv").run()
    _goto(at, "Run")
    assert at.text_input(key="run:scheduler").disabled
    at.radio(key="run:engine").set_value("a Dask cluster").run()
    assert not at.text_input(key="run:scheduler").disabled
    at.button(key="run:run").click().run(timeout=300)
    assert not at.exception and not at.error, _texts(at.error)
    result = at.session_state[ui.STATE_RESULT]
    assert result.config.engine.engine == "dask" and result.config.engine.scheduler is None
    assert result.kpis["partitions"]["engine"] == "dask"
    assert len(result.comments) == result.feedback.accounting()["rows_kept"] > 0


def test_segment_columns_can_be_picked_without_a_new_run(result):
    at = _goto(_app(result), "Segments")
    picker = at.multiselect(key="segments:columns")
    assert set(picker.value) == set(result.segments[Col.SEGMENT_COLUMN])
    picker.set_value(["plan"]).run()
    assert not at.exception
    actions = _table(at, "segments:actions")
    assert set(actions[Col.SEGMENT_COLUMN]) == {"plan"} and len(actions) > 0
    picker.set_value([]).run()
    assert any("Pick at least one segment column" in t for t in _texts(at.info))


def test_segment_picker_keeps_the_runs_own_columns(result):
    import dataclasses

    own = result.segments.assign(**{Col.SEGMENT_COLUMN: result.segments[Col.SEGMENT_COLUMN].replace("plan", "store_no")})
    at = _goto(_app(dataclasses.replace(result, segments=own)), "Segments")
    assert "store_no" in at.multiselect(key="segments:columns").value
    assert not any("Pick at least one" in t for t in _texts(at.info))
    assert len(_table(at, "segments:actions")) > 0


def test_overview_shows_a_card_per_kpi_with_its_formula_and_what_the_others_need(result):
    at = _goto(_app(result), "Overview")
    catalogue = result.kpis["catalogue"]
    cards = {m.label: m for m in at.container(key="overview:kpi_cards").metric}
    assert cards["Upsell rate"].value == f"{catalogue['upsell_rate']['value']:.1f}%"
    assert cards["Upsell rate"].proto.help == f"Upsell rate = {catalogue['upsell_rate']['formula']}"
    assert "Average order value" not in cards  # the table has no orders or revenue
    needs = _shown(at.markdown)
    assert any("Average order value: needs orders, revenue" in t for t in needs), needs
    assert any("Retention rate: needs churn_date" in t for t in needs)


def test_overview_breaks_a_kpi_down_by_segment_and_by_month_for_one_segment(result):
    at = _goto(_app(result), "Overview")
    at.selectbox(key="overview:kpi_pick").set_value("churn_rate").run()
    at.selectbox(key="overview:kpi_segment_column").set_value("plan").run()
    assert not at.exception
    shown = _table(at, "overview:kpi_table")
    expected = result.kpis_by_segment.query("segment_column == 'plan' and kpi == 'churn_rate'")
    assert shown[Col.ESTIMATE].tolist() == pytest.approx(expected[Col.ESTIMATE].tolist())

    at.radio(key="overview:kpi_by").set_value("month").run()
    at.selectbox(key="overview:kpi_pick").set_value("churn_rate").run()
    at.selectbox(key="overview:kpi_month_segment").set_value(("plan", "basic")).run()
    assert not at.exception
    shown = _table(at, "overview:kpi_table")
    basic = result.join.customers.loc[result.join.customers["plan"] == "basic"]
    first = shown.iloc[0]
    cohort = basic.loc[basic["signup_date"].dt.to_period("M").astype(str) == first[Col.MONTH], Col.CHURNED]
    assert first[Col.ESTIMATE] == pytest.approx(100 * cohort.mean()) and first[Col.N] == len(cohort)


def test_drivers_page_adds_a_picked_outcome_and_finds_its_planted_driver(result):
    at = _goto(_app(result), "Drivers")
    assert "upsell" in at.selectbox(key="drivers:add_outcome").options
    at.selectbox(key="drivers:add_outcome").set_value("upsell").run()
    assert not at.exception
    assert at.radio(key="drivers:outcome").options == ["churn", "nps", "clv", "upsell"]
    at.radio(key="drivers:outcome").set_value("upsell").run()
    assert not at.exception
    table = _table(at, "drivers:table")
    assert table[Col.OUTCOME].eq("upsell").all()
    top = table.loc[table[Col.Q_VALUE] <= 0.05, Col.THEME].tolist()
    assert top and top[0] == "friendly staff"  # planted: friendly staff raises upsell
    assert any("friendly staff" in t for t in _shown(at.markdown))


# --------------------------------------------------------------------------- a large run
@pytest.fixture(scope="module")
def large_result(result):
    """The test run tiled to ~50,000 comments (scripts/inflate_run.py): pages must page, sample and aggregate."""
    from scripts.inflate_run import inflate

    return inflate(result, 50_000)


def test_a_large_run_pages_its_tables_samples_verbatims_and_aggregates_charts(large_result):
    from insight.ui.themes import VERBATIM_SAMPLE

    at = _app(large_result)
    for page in ("Overview", "Themes", "Drivers", "Segments", "Trends", "Export"):
        _goto(at, page)
        assert not at.error, (page, _texts(at.error))
    _goto(at, "Overview")
    sentiment = next(e for e in at.get("plotly_chart") if "sentiment" in e.proto.id)
    assert len(sentiment.proto.spec) < 50_000  # counts per bin, not 50,000 points

    _goto(at, "Themes")
    theme = at.selectbox(key="themes:drill").value
    n_theme = int((large_result.assignments[Col.THEME] == theme).sum())
    assert n_theme > VERBATIM_SAMPLE
    assert any(f"{n_theme:,} sentences; showing a random sample of {VERBATIM_SAMPLE:,}" in t for t in _texts(at.caption))
    page = at.number_input(key="themes:verbatims:page")
    assert page.value == 1 and page.max == -(-VERBATIM_SAMPLE // ui.PAGE_ROWS)
    first = _table(at, "themes:verbatims")
    assert len(first) == ui.PAGE_ROWS and first[Col.THEME_CONFIDENCE].is_monotonic_decreasing
    page.set_value(2).run()
    second = _table(at, "themes:verbatims")
    assert len(second) == ui.PAGE_ROWS  # the next thousand of the sample, less confident
    assert second[Col.THEME_CONFIDENCE].max() <= first[Col.THEME_CONFIDENCE].min()
    assert any("Rows 1,001–2,000 of 5,000" in t for t in _texts(at.caption))


def test_the_uploader_and_ingest_share_one_limit_and_a_larger_file_is_refused_clearly():
    from streamlit import config

    assert ui.app_config().ingest.max_bytes == config.get_option("server.maxUploadSize") * 1024**2
    before = config.get_option("server.maxUploadSize")
    config.set_option("server.maxUploadSize", 1)
    try:
        at = _goto(_app(), "Upload & map")
        assert at.file_uploader(key="upload:feedback_file").proto.max_upload_size_mb == 1
        assert any("Files up to 1 MB" in t for t in _texts(at.info))
        big = b"customer_id,text\n" + b"C1,This is a long enough comment to fill a file.\n" * 30_000
        at.file_uploader(key="upload:feedback_file").upload("big.csv", big, "text/csv").run()
        assert not at.exception
        assert any("over the app's limit of 1 MB" in t and "server.maxUploadSize" in t for t in _texts(at.error))
        assert ui.STATE_UPLOAD.format(kind="feedback") not in at.session_state
    finally:
        config.set_option("server.maxUploadSize", before)
