"""Naming rules shared by ingest (columns, comment ids) and themes (theme names)."""
from insight.schemas import make_unique


def test_repeats_get_a_suffix_that_never_takes_a_name_in_use():
    names = make_unique(["a", "a", "a_2", "b", "a"])
    assert names == ["a", "a_3", "a_2", "b", "a_4"]


def test_theme_style_suffix_and_untouched_unique_names():
    assert make_unique(["Billing", "Billing", "Billing (2)"], "{name} ({n})") == ["Billing", "Billing (3)", "Billing (2)"]
    assert make_unique(["x", "y"]) == ["x", "y"]
