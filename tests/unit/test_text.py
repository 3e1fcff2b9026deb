"""Text stage: cleaning, PII redaction, sentence/clause splitting, language flags."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from insight.config import TextConfig
from insight.errors import MissingColumnError
from insight.schemas import Col
from insight.pii import PII_KINDS, clean_text, redact_pii
from insight.text import N_REDACTED, detect_language, split_sentences


def _comments(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            Col.COMMENT_ID: [f"c{i}" for i in range(len(texts))],
            Col.ROW_ID: [10 + i for i in range(len(texts))],
            Col.TEXT: texts,
            Col.CUSTOMER_ID: [f"cust{i}" for i in range(len(texts))],
        }
    )


# ----------------------------------------------------------------------------- clean_text


def test_clean_text_strips_html_scripts_and_entities():
    raw = "<div><p>Great&nbsp;<b>app</b>&amp; fast</p><script>alert('x')</script><style>p{}</style></div>"
    assert clean_text(raw) == "Great app& fast"


def test_clean_text_keeps_link_text_and_emojis():
    assert clean_text('Read <a href="https://x.io">the FAQ</a> 👍😡') == "Read the FAQ 👍😡"


def test_clean_text_strips_markup_written_as_entities():
    assert clean_text("&lt;b&gt;bold&lt;/b&gt; text") == "bold text"
    assert clean_text("&lt;script&gt;alert(1)&lt;/script&gt;Hi &amp; bye, 2 &lt; 3") == "Hi & bye, 2 < 3"


def test_clean_text_keeps_non_tag_angle_brackets_and_normalises_unicode():
    assert clean_text("I <3 it, 2 < 3") == "I <3 it, 2 < 3"
    assert clean_text("Ｆｕｌｌ\u00a0width\u200b  ﬁne\n\tok") == "Full width fine ok"


# ----------------------------------------------------------------------------- redact_pii


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("write to jo.smith+tag@example.co.uk please", "EMAIL"),
        ("JOHN@EXAMPLE.COM", "EMAIL"),
        ("call +44 20 7946 0958 now", "PHONE"),
        ("call (555) 123-4567 now", "PHONE"),
        ("call 555-123-4567 now", "PHONE"),
        ("call 555.123.4567 now", "PHONE"),
        ("ruf an: +49 30 1234567", "PHONE"),
        ("call +1-555-123-4567", "PHONE"),
        ("call 020 7946 0958", "PHONE"),
        ("call 0044 20 7946 0958 now", "PHONE"),
        ("appelez le 06 12 34 56 78 svp", "PHONE"),
        ("appelez le 06.12.34.56.78", "PHONE"),
        ("text me on 07700900123", "PHONE"),
        ("ruf an: 030/1234567", "PHONE"),
        ("call (02) 9876 5432 today", "PHONE"),
        ("card 4111 1111 1111 1111 declined", "CARD"),
        ("card 5500-0000-0000-0004 declined", "CARD"),
        ("amex 3782 822463 10005", "CARD"),
        ("card 4012888888881881", "CARD"),
        ("card 4111.1111.1111.1111 declined", "CARD"),
        ("iban GB82 WEST 1234 5698 7654 32 thanks", "IBAN"),
        ("iban DE89370400440532013000", "IBAN"),
        ("iban FR14 2004 1010 0505 0001 3M02 606", "IBAN"),
        ("iban de89 3704 0044 0532 0130 00 thanks", "IBAN"),
        ("reset via https://example.com/reset?token=abc123 please", "URL"),
        ("reset via HTTPS://EXAMPLE.COM/reset?token=abc123", "URL"),
        ("see http://user:secret@example.com/x", "URL"),
        ("see https://shop.example.com/orders/a8f9e7d6c5b4a3f2e1d0", "URL"),
    ],
)
def test_redact_pii_replaces_each_kind_and_counts_it(text, kind):
    redacted, counts = redact_pii(text)
    assert f"[{kind}]" in redacted
    assert counts == {kind: 1}
    assert not re.search(r"\d{3}|@", redacted)


def test_redact_pii_counts_several_items():
    text = "Mail a@b.com or c@d.org, call +44 20 7946 0958, card 4111-1111-1111-1111."
    redacted, counts = redact_pii(text)
    assert redacted == "Mail [EMAIL] or [EMAIL], call [PHONE], card [CARD]."
    assert counts == {"EMAIL": 2, "PHONE": 1, "CARD": 1}


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 (Luhn fails)",
        "order 1234567812345670 shipped",  # Luhn-valid but no card issuer prefix
        "order number 20231115004217 arrived",  # Luhn-valid, but no card network starts with 2023
        "ref 4111 1111 1111 111",  # 15 digits: not a Visa length
        "iban GB82 WEST 1234 5698 7654 33 (bad check digits)",
        "on 2023-01-15 at 10:30 it cost $1,299.99, 3 out of 5, +5 points",
        "see https://example.com/help for details",
        "version 4.2.1 and ticket #123456",
        "order 10493822 and ref 2025550143",  # no leading 0 or +: not a phone number
        "on 2025-01-15, 15.01.2025, 01/02/2025 and 06/12/2023 1430 at 10:30 or 00:15",
        "06.12.2024 14:30, 1.5.2025, 2025/06/12",
        "it cost €1.299,99 or $1,299.99, 0.5 kg, 0,75 l, 1 234 567 EUR",
        "version 10.0.19045, v2.3.4, build 0.12.34.56.78, 4111.1111.1111.1112",
        "in2023 the product was bad and de12 apples arrived damaged",  # lower case, not an IBAN
    ],
)
def test_redact_pii_leaves_non_pii_numbers_and_plain_urls(text):
    assert redact_pii(text) == (text, {})


# ----------------------------------------------------------------------------- split_sentences


def test_split_sentences_multi_sentence_and_but_clause():
    result = split_sentences(_comments(["Love the app. The app is great but billing charged me twice!"]))
    assert result.sentences[Col.TEXT].tolist() == ["Love the app.", "The app is great", "but billing charged me twice!"]
    assert result.sentences[Col.SENTENCE_IDX].tolist() == [0, 1, 2]


def test_split_sentences_clause_rules():
    texts = ["Small but mighty.", "Shipping was slow; the support team never answered my emails."]
    sents = split_sentences(_comments(texts)).sentences
    assert sents.loc[sents[Col.COMMENT_ID] == "c0", Col.TEXT].tolist() == ["Small but mighty."]
    assert sents.loc[sents[Col.COMMENT_ID] == "c1", Col.TEXT].tolist() == [
        "Shipping was slow",
        "the support team never answered my emails.",
    ]
    unsplit = split_sentences(_comments(texts[1:]), TextConfig(split_clauses=False)).sentences
    assert len(unsplit) == 1


def test_split_sentences_semicolon_before_short_clause_and_run_on_sentence_ends():
    texts = [
        "Fast delivery; however, the box was damaged",
        "Great app!!!Terrible support.",
        "Love it 😍 Hate the price 😡",
        "Wow!Amazing product",  # one word before the glued "!"
        "I ❤ NY so much",  # one word before the emoji
        "Great app ;) love it a lot",  # a wink, not a semicolon
    ]
    per_comment = split_sentences(_comments(texts)).sentences.groupby(Col.COMMENT_ID)[Col.TEXT].apply(list).to_dict()
    assert per_comment == {
        "c0": ["Fast delivery", "however, the box was damaged"],
        "c1": ["Great app!!!", "Terrible support."],
        "c2": ["Love it 😍", "Hate the price 😡"],
        "c3": ["Wow!Amazing product"],
        "c4": ["I ❤ NY so much"],
        "c5": ["Great app ;) love it a lot"],
    }


def test_split_sentences_short_and_empty_comments_keep_one_sentence():
    result = split_sentences(_comments(["ok", "", "!!!", "Fine. 123. Good :)"]))
    per_comment = result.sentences.groupby(Col.COMMENT_ID)[Col.TEXT].apply(list).to_dict()
    assert per_comment == {"c0": ["ok"], "c1": [""], "c2": ["!!!"], "c3": ["Fine.", "Good :)"]}


def test_split_sentences_ids_unique_row_id_carried_and_pii_redacted():
    texts = ["Call me at +44 20 7946 0958. Thanks!", "Email jo@example.com. The fit is odd; the colour fades fast."]
    result = split_sentences(_comments(texts))
    sents = result.sentences
    assert list(sents.columns) == [Col.SENTENCE_ID, Col.COMMENT_ID, Col.ROW_ID, Col.SENTENCE_IDX, Col.TEXT,
                                   Col.ANALYSIS_TEXT, Col.NO_TOPIC]
    assert sents[Col.SENTENCE_ID].is_unique
    assert sents[Col.SENTENCE_ID].tolist() == [f"{c}:{i}" for c, i in zip(sents[Col.COMMENT_ID], sents[Col.SENTENCE_IDX])]
    assert sents.set_index(Col.COMMENT_ID)[Col.ROW_ID].groupby(level=0).first().to_dict() == {"c0": 10, "c1": 11}
    assert result.redactions == {"EMAIL": 1, "PHONE": 1, "CARD": 0, "IBAN": 0, "URL": 0}
    assert set(result.redactions) == set(PII_KINDS)
    assert result.comments[N_REDACTED].tolist() == [1, 1]
    assert result.comments[Col.TEXT].tolist() == [
        "Call me at [PHONE]. Thanks!",
        "Email [EMAIL]. The fit is odd; the colour fades fast.",
    ]
    assert not sents[Col.TEXT].str.contains("@|7946").any()


def test_split_sentences_flags_non_english_without_dropping():
    texts = [
        "Das Kleid ist sehr schön, aber die Lieferung hat viel zu lange gedauert.",
        "The dress is lovely but the delivery took far too long.",
        "ok",
    ]
    result = split_sentences(_comments(texts))
    comments = result.comments.set_index(Col.COMMENT_ID)
    assert comments.loc["c0", Col.LANGUAGE] == "de"
    assert comments[Col.IS_ENGLISH].tolist() == [False, True, True]
    assert comments.loc["c2", Col.LANGUAGE] == "unknown"
    assert set(result.sentences[Col.COMMENT_ID]) == {"c0", "c1", "c2"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("La robe est très belle mais la livraison était lente.", "fr"),
        ("El vestido es muy bonito pero el envío tardó mucho.", "es"),
        ("Great versatile skirt, very flattering", "en"),  # ASCII, no foreign function word (langdetect: Danish)
        ("Ooo la la! sooo chic! sooo retailer!!", "en"),  # langdetect unsure (it 0.43), English a candidate
        ("Fast shipping, great price, excellent quality", "en"),
        ("Runs big and looked unflattering. i am petite, might work on someone taller.", "en"),
        # ASCII without foreign function words, but no English ones either: langdetect decides
        ("Prodotto ottimo, consegna veloce, consigliato", "it"),
        ("Produto excelente, entrega rapida, recomendo", "pt"),
        ("Bardzo dobry produkt, szybka dostawa, polecam", "pl"),
        ("Fast shipping, great price", "en"),
    ],
)
def test_detect_language(text, expected):
    assert detect_language(text) == expected


def test_split_sentences_does_not_mutate_input_and_passes_columns_through():
    df = _comments(["<b>Hi</b> there. Mail x@y.com"])
    before = df.copy(deep=True)
    result = split_sentences(df)
    pd.testing.assert_frame_equal(df, before)
    assert result.comments[Col.CUSTOMER_ID].tolist() == ["cust0"]
    assert result.comments[Col.TEXT].tolist() == ["Hi there. Mail [EMAIL]"]


def test_split_sentences_reports_progress_and_handles_empty_frame():
    calls = []
    split_sentences(_comments(["a b c", "d e f"]), progress=lambda *a: calls.append(a))
    assert calls[-1][:3] == ("text", 2, 2)
    empty = split_sentences(_comments([]))
    assert empty.sentences.empty and empty.comments.empty


def test_split_sentences_missing_column():
    with pytest.raises(MissingColumnError, match="text"):
        split_sentences(pd.DataFrame({Col.COMMENT_ID: ["a"], Col.ROW_ID: [0]}))


def test_fast_splitter_matches_spacy_sentencizer():
    """The array-based splitter must cut exactly where spaCy's Sentencizer does."""
    import spacy

    from insight.text import _splitter

    texts = [
        "Love this dress! it's sooo pretty. i bought a petite and am 5'8\". Hits below the knee.",
        "!!! Great. ok",
        'He said "No way." Then left... (Really?) Yes!! Dr. Smith agreed, e.g. on 3.5 stars.',
        "No punctuation at all here",
        "",
        "   ",
        "Email [EMAIL]. Call [PHONE]!Thanks?? 😀 Bye.",
        "Shipping was slow。 The 客服 never replied！ Fine",
    ]
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    expected = [[s.text.strip() for s in doc.sents] for doc in nlp.pipe(texts)]
    got = list(_splitter().sentences(texts))
    assert [[s for s in sents if s] for sents in got] == [[s for s in sents if s] for sents in expected]


@pytest.mark.parametrize("text", [
    "Stay 25.01.2023-01.07.2023 was fine",  # a dotted date range is not a card
    "order 0012345678 arrived",  # a zero-padded order number is not an international phone number
    "invoice 01/2023 1234 paid",  # month/year is not an area code
])
def test_redaction_leaves_dates_and_order_numbers(text):
    assert redact_pii(text)[0] == text


def test_escaped_comparisons_survive_cleaning():
    assert clean_text("if x&lt;y and y&gt;z") == "if x<y and y>z"
    assert clean_text("&lt;script&gt;alert(1)&lt;/script&gt; ok") == "ok"


@pytest.mark.parametrize("text", ["call +44 20 @bob 7946 0958 now", "#call07700900123 please", "RT @x: 0044 @y 20 7946 0958"])
def test_the_analysis_text_never_exposes_what_redaction_could_not_see(text):
    """Removing a handle or splitting a hashtag can bring a phone number's digits together: the
    analysis text (stored, and read for keywords) is redacted again after such edits."""
    frame = pd.DataFrame({Col.COMMENT_ID: ["c1"], Col.ROW_ID: [0], Col.TEXT: [text]})
    result = split_sentences(frame)
    analysis = " ".join(result.sentences[Col.ANALYSIS_TEXT])
    assert "phone number" in analysis and not re.search(r"\d{4}", analysis)
