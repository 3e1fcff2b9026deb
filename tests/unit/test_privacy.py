"""Redaction of every stored or shown user string, and pseudonyms for ids that are personal data."""
from __future__ import annotations

import pandas as pd
import pytest

from insight.codeframe import Codeframe
from insight.join import normalise_ids
from insight.privacy import PSEUDONYM_KEY_ENV, redact, redact_codeframe, redact_frame, redact_tree, pseudonymise_ids


@pytest.mark.parametrize(("value", "expected"), [
    ("jane.doe@<b></b>example.com wrote", "[EMAIL] wrote"),
    ("card 4111&nbsp;1111&nbsp;1111&nbsp;1111 charged", "card [CARD] charged"),
    ("IBAN DE89&#32;3704 0044 0532 0130 00 refund", "IBAN [IBAN] refund"),
    ("call +44 20<br>7946 0958 now", "call [PHONE] now"),
    ("card \uff14\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11", "card [CARD]"),
    ('<a href="mailto:jo@example.com">write</a>', '<a href="mailto:[EMAIL]">write</a>'),  # cleaning would drop it
    ("Gold <b>plan</b> & more", "Gold <b>plan</b> & more"),  # nothing personal: the value keeps its form
    ("see w\u200bww.shop.com/?token=abc123", "see [URL]"),  # a zero-width space hides a link
    ("mail jo\uff20example.com today", "mail [EMAIL] today"),  # a full-width at sign
    ("ask https://x.io/reset?key=zz for help", "ask [URL] for help"),
    ("Plain words, nothing else here!", "Plain words, nothing else here!"),  # passed through unread
])
def test_redact_finds_personal_data_hidden_by_markup_entities_or_full_width_digits(value, expected):
    assert redact(value) == expected
    assert redact(expected) == expected  # idempotent: stores and exports may redact again


def test_redact_frame_masks_text_cells_list_cells_and_column_names_but_not_the_kept_ones():
    frame = pd.DataFrame({"customer_id": ["a@b.com"], "contact": ["mail x@y.org"], "n": [1],
                          "themes": [["billing", "x@y.org"]], "jo@example.com": ["ok"]})
    out = redact_frame(frame, keep=["customer_id"])
    assert out.loc[0, "contact"] == "mail [EMAIL]" and out.loc[0, "customer_id"] == "a@b.com"
    assert out.loc[0, "themes"] == ["billing", "[EMAIL]"] and list(out.columns)[-1] == "[EMAIL]"
    assert frame.loc[0, "contact"] == "mail x@y.org" and "jo@example.com" in frame  # input untouched


def test_redact_tree_covers_keys_and_nested_values():
    assert redact_tree({"x@y.org": ["call +44 20 7946 0958", 3, None]}) == {"[EMAIL]": ["call [PHONE]", 3, None]}


def test_personal_ids_get_stable_pseudonyms_that_still_join(monkeypatch):
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, "test-key")
    feedback = pd.Series(["Jane.Doe@Example.com ", "+44 20 7946 0958", "C007", "00123", None], dtype="string")
    customers = pd.Series(["jane.doe@example.com", "C007", "123", "+44 20 7946 0958"], dtype="string")
    fb, n_fb = pseudonymise_ids(feedback)
    cu, n_cu = pseudonymise_ids(customers)
    assert (n_fb, n_cu) == (2, 2)
    assert fb[0].startswith("id-") and fb[0] == cu[0] and fb[1] == cu[3]  # spelt differently, the same pseudonym
    assert fb[2:4].tolist() == ["C007", "00123"] and pd.isna(fb[4])  # plain and digit-only ids are kept
    assert set(normalise_ids(fb).dropna()) & set(normalise_ids(cu)) == {fb[0], fb[1], "c007", "123"}
    assert pseudonymise_ids(feedback)[0].equals(fb)  # stable across runs
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, "another-key")
    assert pseudonymise_ids(feedback)[0][0] != fb[0]  # keyed: without the key no one can recompute them


def test_the_installation_key_is_created_once(monkeypatch, tmp_path):
    monkeypatch.delenv(PSEUDONYM_KEY_ENV, raising=False)
    monkeypatch.setenv("INSIGHT_CACHE_DIR", str(tmp_path))
    first = pseudonymise_ids(pd.Series(["a@example.com"]))[0][0]
    assert (tmp_path / "pseudonym.key").stat().st_mode & 0o077 == 0
    assert pseudonymise_ids(pd.Series(["a@example.com"]))[0][0] == first


def test_redact_codeframe_cleans_every_text_and_keeps_a_clean_one_as_is():
    frame = Codeframe.from_yaml(
        "themes:\n  - name: refunds to x@y.org\n    description: call +44 20 7946 0958\n"
        "    keywords: [refund]\n    examples: ['card 4111 1111 1111 1111']\n  - name: app\n"
    ).rename("app", "app a@b.com")
    redacted = redact_codeframe(frame)
    text = redacted.to_yaml()
    assert "x@y.org" not in text and "7946" not in text and "4111" not in text and "a@b.com" not in text
    assert redacted.names == ("refunds to [EMAIL]", "app [EMAIL]") and redacted.undo().names[1] == "app"
    default = Codeframe.default()
    assert redact_codeframe(default) is default
