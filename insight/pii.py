"""Clean a text and redact the personal data in it: the one leaf that the text stage, privacy and errors share.

It imports nothing from insight, so an error message can be redacted without the
error catalogue importing the stages that raise its errors.
"""
from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter

PII_KINDS = ("EMAIL", "PHONE", "CARD", "IBAN", "URL")

# --------------------------------------------------------------------------- cleaning

_HIDDEN_BLOCK = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_BLOCK_TAG = re.compile(r"</?(?:br|p|div|li|ul|ol|tr|td|th|table|h[1-6]|hr|blockquote)\b[^>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_HTML_ELEMENT = re.compile(
    r"</?(?:a|abbr|b|big|blockquote|body|br|center|code|del|div|em|font|form|h[1-6]|head|hr|html|i|iframe|img|"
    r"input|ins|li|link|meta|ol|p|pre|s|small|span|strike|strong|sub|sup|svg|table|tbody|td|th|thead|title|tr|u|ul)"
    r"(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
_WHITESPACE = re.compile(r"\s+")
# Zero-width and bidi controls carry no meaning for analysis; ZWJ (U+200D) is kept
# because it glues multi-part emojis together.
_INVISIBLE = re.compile("[\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Normalise a raw comment so that equal-looking texts are equal strings.

    NFKC-normalises unicode (full-width letters, ligatures, non-breaking spaces),
    unescapes entities and then strips HTML (so an escaped ``&lt;b&gt;`` leaves no
    markup either; ``<script>``/``<style>`` content dropped, the text of links and
    other tags kept), removes invisible control characters and collapses
    whitespace. Emojis are kept: they carry sentiment.

    Parameters
    ----------
    text : str
        A raw comment.

    Returns
    -------
    str
        The cleaned text, stripped of leading/trailing whitespace.

    Examples
    --------
    >>> clean_text("<p>Great&nbsp;<b>app</b></p><script>x()</script> 👍")
    'Great app 👍'
    """
    if "<" in text:
        text = _strip_markup(text, _ANY_TAG)
    if "&" in text:
        text = html.unescape(text)
        if "<" in text:  # markup written as entities; only real element names, so "x&lt;y and y&gt;z" survives
            text = _strip_markup(text, _HTML_ELEMENT)
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    return _WHITESPACE.sub(" ", text).strip()


def _strip_markup(text: str, tag: re.Pattern) -> str:
    """Drop script/style blocks and comments, turn block tags into spaces, remove ``tag`` matches."""
    text = _HIDDEN_BLOCK.sub(" ", text)
    text = _HTML_COMMENT.sub(" ", text)
    text = _BLOCK_TAG.sub(" ", text)
    return tag.sub("", text)


# --------------------------------------------------------------------------- PII

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_TOKEN_SEGMENT = re.compile(r"(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{16,}")
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){10,30}")
# spaces/dashes anywhere, or dots only between groups of four (4111.1111.1111.1111): a dotted date range
# such as 25.01.2023-01.07.2023 is never a card
_CARD = re.compile(r"(?<![\d.-])(?:\d(?:[ -]?\d){12,18}|\d{4}(?:\.\d{4}){3})(?![\d]|\.\d)")
# Only digit runs with a leading + or 0 (international or trunk prefix) count as
# phone numbers, so order numbers ("order 10493822") are kept; a number glued to
# "/", "." or "-" is part of a date, price or version.
_PHONE_PATTERNS = (
    # international: +44 20 7946 0958, 0044 20 7946 0958, +49 30 1234567, +1 (555) 123-4567
    # (after 00 the groups must be separated: "order 0012345678" is an order number)
    re.compile(r"(?<![\w+.,])(?:\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,6}|00[1-9]\d{0,2}(?:[ .-]\(?\d{1,5}\)?){2,6})(?!\w)"),
    # North American: (555) 123-4567, 555-123-4567, 555.123.4567
    re.compile(r"(?<![\w(])(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?!\w)"),
    # national with trunk prefix 0: 020 7946 0958, 030 1234567, 030/1234567, (02) 9876 5432
    # (a slash needs an area code of 3+ digits: "01/2023" is a month)
    re.compile(r"(?<![\w+(/.-])(?:0\d{1,4}[ -]|0\d{2,4}/ ?|\(0\d{1,4}\) ?)\d{3,4}(?:[ -]?\d{3,4})?(?!\w)"),
    # French pairs 06 12 34 56 78 / 06.12.34.56.78, and unspaced 0612345678 / 07700900123
    re.compile(r"(?<![\w+/.,-])0[1-9](?:([ .-])\d{2}(?:\1\d{2}){3}|\d{8,9})(?!\w|[.,/-]\d)"),
)
_DIGIT = re.compile(r"\d")
_PHONE_DIGITS = (7, 15)  # E.164 allows at most 15 digits

# ISO 13616 IBAN lengths per country; other country codes must be 15-34 characters.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}


def _luhn_ok(digits: str) -> bool:
    """Luhn checksum, the check digit of every payment card number."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(iban: str) -> bool:
    """ISO 7064 mod-97 check of a compact IBAN (country, check digits, BBAN)."""
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _sub_url(match: re.Match, counts: Counter) -> str:
    url = match.group(0).rstrip(".,;:!?)]}")
    tail = match.group(0)[len(url):]
    after_host = url.split("//", 1)[-1]
    has_secret = (
        "?" in url
        or "#" in url
        or "@" in after_host.split("/", 1)[0]
        or _TOKEN_SEGMENT.search(after_host) is not None
    )
    if not has_secret:
        return match.group(0)
    counts["URL"] += 1
    return "[URL]" + tail


def _sub_iban(match: re.Match, counts: Counter) -> str:
    text = match.group(0)
    compact_positions = [i for i, ch in enumerate(text) if ch.isalnum()]
    wanted = _IBAN_LENGTHS.get(text[:2].upper())
    if not wanted and not text[:2].isupper():
        # Lower-case text ("in2023 ...") matches the pattern far more often: only a
        # known country's exact length keeps the 1-in-97 chance of a false hit rare.
        return text
    lengths = [wanted] if wanted else range(min(34, len(compact_positions)), 14, -1)
    for n in lengths:
        if n > len(compact_positions):
            continue
        compact = "".join(text[i] for i in compact_positions[:n]).upper()
        if _iban_ok(compact):
            counts["IBAN"] += 1
            return "[IBAN]" + text[compact_positions[n - 1] + 1 :]
    return text


def _card_issuer_ok(digits: str) -> bool:
    """Whether prefix and length fit a card network (Visa, Mastercard, Amex, Diners, JCB, Discover/UnionPay/Maestro)."""
    n = len(digits)
    if digits[0] == "4":
        return n in (13, 16, 19)
    if 51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720:
        return n == 16
    if digits[:2] in ("34", "37"):
        return n == 15
    if digits[:2] in ("36", "38", "39") or 300 <= int(digits[:3]) <= 305 or 3528 <= int(digits[:4]) <= 3589:
        return 14 <= n <= 19
    if digits[0] == "6" or digits[:2] in ("50", "56", "57", "58"):
        return 13 <= n <= 19
    return False


def _sub_card(match: re.Match, counts: Counter) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    # A card network's prefix and length plus the Luhn check keep order and
    # reference numbers unredacted.
    if _card_issuer_ok(digits) and _luhn_ok(digits):
        counts["CARD"] += 1
        return "[CARD]"
    return match.group(0)


def _sub_email(counts: Counter) -> str:
    counts["EMAIL"] += 1
    return "[EMAIL]"


def _sub_phone(match: re.Match, counts: Counter) -> str:
    n_digits = sum(ch.isdigit() for ch in match.group(0))
    if _PHONE_DIGITS[0] <= n_digits <= _PHONE_DIGITS[1]:
        counts["PHONE"] += 1
        return "[PHONE]"
    return match.group(0)


def redact_pii(text: str) -> tuple[str, Counter]:
    """Replace personal data by typed placeholders and count what was replaced.

    Handles emails, phone numbers (international ``+44 20 7946 0958`` / ``0044 ...``,
    North American ``(555) 123-4567`` / ``555-123-4567``, national ``030 1234567``,
    ``030/1234567``, ``(02) 9876 5432``, ``06 12 34 56 78``, ``07700900123``; digit
    runs without a leading 0 or + are left alone), payment card numbers (13-19
    digits, spaces, dots or dashes allowed, Luhn-checked so order numbers survive),
    IBANs (either case, mod-97 and country length checked) and URLs that carry
    secrets (query strings, fragments, credentials, token-like path segments; a
    bare ``www.example.com/help`` is kept).

    Parameters
    ----------
    text : str
        A cleaned comment (see :func:`clean_text`).

    Returns
    -------
    redacted : str
        The text with ``[EMAIL]``, ``[PHONE]``, ``[CARD]``, ``[IBAN]``, ``[URL]``.
    counts : collections.Counter
        Number of replacements per kind.

    Examples
    --------
    >>> redact_pii("Mail jo@example.com or call +44 20 7946 0958")
    ('Mail [EMAIL] or call [PHONE]', Counter({'EMAIL': 1, 'PHONE': 1}))
    """
    counts: Counter = Counter()
    if "://" in text or "www." in text.lower():
        text = _URL.sub(lambda m: _sub_url(m, counts), text)
    if "@" in text:
        text = _EMAIL.sub(lambda m: _sub_email(counts), text)
    if _DIGIT.search(text) is None:
        return text, counts
    text = _IBAN.sub(lambda m: _sub_iban(m, counts), text)
    text = _CARD.sub(lambda m: _sub_card(m, counts), text)
    for pattern in _PHONE_PATTERNS:
        text = pattern.sub(lambda m: _sub_phone(m, counts), text)
    return text, counts


def redact(value: str) -> str:
    """``value`` with personal data replaced, also where markup, entities or full-width digits hide it.

    The value is first read as the text stage cleans it (``jane.doe@<b></b>example.com``,
    ``4111&nbsp;1111&nbsp;...``, ``４１１１ ...``): when the cleaned text holds personal data,
    the cleaned, redacted text is returned. Otherwise the value keeps its form, redacted as
    typed (an address in a markup attribute that cleaning drops).

    Examples
    --------
    >>> redact("mail jane.doe@<b></b>example.com")
    'mail [EMAIL]'
    >>> redact("Gold <b>plan</b>")
    'Gold <b>plan</b>'
    """
    if _MAY_HOLD_PII.search(value) is None:
        return value
    cleaned, hidden = redact_pii(clean_text(value))
    return cleaned if hidden else redact_pii(value)[0]


# what every kind of personal data needs, in the value or in what cleaning makes of it (entities,
# markup, full-width or other non-ASCII forms): a value with none of it is returned as it is, unread
_MAY_HOLD_PII = re.compile(r"[^\t\n\r\x20-\x7e]|[@&<:0-9]|www", re.IGNORECASE)
