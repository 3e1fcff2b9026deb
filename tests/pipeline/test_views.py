"""The reader's tables built from a run (the app's Themes page shows the same frames)."""
from __future__ import annotations

from insight.schemas import Col
from insight.views import as_text_list, theme_table, theme_verbatims


def test_theme_table_has_one_row_per_theme_largest_first(small_run):
    table = theme_table(small_run)
    assert sorted(table[Col.THEME]) == sorted(small_run.themes[Col.THEME].astype(str))
    assert table["n_comments"].is_monotonic_decreasing
    assert table[Col.KEYWORDS].map(lambda v: isinstance(v, str)).all()


def test_theme_verbatims_are_the_theme_sentences_most_confident_first(small_run):
    theme = theme_table(small_run)[Col.THEME].iloc[0]
    verbatims = theme_verbatims(small_run, theme)
    assigned = small_run.assignments.loc[small_run.assignments[Col.THEME] == theme, Col.SENTENCE_ID]
    assert set(verbatims[Col.SENTENCE_ID]) == set(assigned)
    assert verbatims[Col.THEME_CONFIDENCE].is_monotonic_decreasing and "comment" in verbatims


def test_as_text_list_flattens_list_cells():
    assert as_text_list(["slow", "crash"]) == "slow, crash"
    assert as_text_list(None) == "" and as_text_list("as is") == "as is"
