"""Join of comments and their themes to the customer table."""
from __future__ import annotations

import pandas as pd
import pytest

from insight.errors import InvalidValueError, MissingColumnError
from insight.join import join_customers, normalise_ids


def test_normalise_ids_makes_spellings_meet():
    raw = pd.Series(["00123", 123.0, " 123 ", "AB-7", " ab-7", "0", "000", None, "", "NaN", 45])
    assert normalise_ids(raw).tolist() == ["123", "123", "123", "ab-7", "ab-7", "0", "0", pd.NA, pd.NA, pd.NA, "45"]


def _tables():
    comments = pd.DataFrame({
        "comment_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "customer_id": ["0001", " A2 ", "ghost", "ghost", None, 1.0],
    })
    themes = pd.DataFrame({
        "comment_id": ["c1", "c1", "c1", "c2", "c3", "c6", "c6"],
        "theme": ["billing", "billing", "support", "billing", "billing", "billing", "unclassified"],
        "negative": [False, True, False, False, True, False, False],
    })
    customers = pd.DataFrame({"customer_id": [1, "a2", "3"], "churned": [1, 0, 0], "plan": ["B", "P", "B"]})
    return comments, themes, customers


def test_join_counts_comments_per_customer_and_theme():
    result = join_customers(*_tables())
    assert list(result.customers.index) == ["1", "a2", "3"]
    assert result.customers["n_comments"].tolist() == [2, 1, 0]
    assert result.themes == ("billing", "support")  # "unclassified" is not a theme
    # customer 1: c1 mentions billing in two sentences (one comment) and c6 once more
    assert result.mentions.loc["1"].tolist() == [2, 1]
    assert result.mentions.loc["a2"].tolist() == [1, 0]
    assert result.mentions.loc["3"].tolist() == [0, 0]  # no comments: baseline, still present
    assert result.negative_mentions.loc["1"].tolist() == [1, 0]
    assert result.negative_mentions["billing"].sum() == 1  # the ghost's negative comment is not counted


def test_join_reports_unmatched_ids_and_match_rate():
    result = join_customers(*_tables())
    assert result.n_comments == 6
    assert result.n_comments_without_id == 1
    assert result.n_comments_matched == 3
    assert result.match_rate == pytest.approx(3 / 5)
    assert result.unmatched_ids.to_dict("records") == [{"customer_id": "ghost", "n_comments": 2}]


def test_join_with_no_matching_id_gives_zero_match_rate():
    comments, themes, customers = _tables()
    customers = customers.assign(customer_id=["x", "y", "z"])
    result = join_customers(comments, themes, customers)
    assert result.match_rate == 0.0
    assert result.n_comments_matched == 0
    assert int(result.mentions.to_numpy().sum()) == 0


def test_join_refuses_ids_that_collide_after_normalising():
    comments, themes, customers = _tables()
    customers = pd.DataFrame({"customer_id": ["007", 7, "8"], "churned": [1, 0, 0]})
    with pytest.raises(InvalidValueError, match="more than once"):
        join_customers(comments, themes, customers)


def test_join_names_a_missing_id_column():
    comments, themes, customers = _tables()
    with pytest.raises(MissingColumnError, match="customer_id"):
        join_customers(comments, themes, customers.rename(columns={"customer_id": "client"}))


def test_join_does_not_mutate_inputs():
    comments, themes, customers = _tables()
    before = [t.copy() for t in (comments, themes, customers)]
    join_customers(comments, themes, customers)
    for old, new in zip(before, (comments, themes, customers)):
        pd.testing.assert_frame_equal(old, new)



def test_join_without_themes_still_reports_the_match():
    comments, _, customers = _tables()
    empty = pd.DataFrame({"comment_id": pd.Series(dtype=object), "theme": pd.Series(dtype=object)})
    result = join_customers(comments, empty, customers)
    assert result.themes == ()
    assert result.mentions.shape == (3, 0)
    assert result.match_rate == pytest.approx(3 / 5)
