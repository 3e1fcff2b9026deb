"""Text stage: clean, redact PII, split comments into sentences and clauses, flag languages.

Redaction happens here, before anything is embedded, stored, shown or exported, so
every later stage only ever sees placeholders (``[EMAIL]``, ``[PHONE]``, ``[CARD]``,
``[IBAN]``, ``[URL]``). Splitting into sentences and clauses lets one comment carry
several themes, each with its own sentiment ("The app is great but billing charged
me twice" is two units). Non-English comments are flagged, never dropped.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache

import pandas as pd

from insight.config import TextConfig
from insight.errors import MissingColumnError
from insight.pii import _WHITESPACE, PII_KINDS, clean_text, redact_pii
from insight.schemas import Col
from insight.types import Progress


N_REDACTED = "n_redacted"  # column on TextResult.comments: PII items replaced in the comment
UNKNOWN_LANGUAGE = "unknown"

_BATCH = 2000  # comments per spaCy batch / progress report
_MIN_LETTERS_FOR_LANGUAGE = 20  # shorter texts are too short to detect a language reliably
_ENGLISH_STOPWORD_SHARE = 0.25  # above this share of English function words, skip langdetect
# ... or, in an ASCII text without foreign function words, above this lower share
_ASCII_ENGLISH_STOPWORD_SHARE = 0.1
_MIN_LANGUAGE_PROB = 0.95  # langdetect probability needed to call a comment non-English
_MIN_CLAUSE_WORDS = 3  # around "but"/"however": "small but mighty" is one unit
_MIN_SEMICOLON_WORDS = 2  # ";" is a stronger break: "Fast delivery; however, ..." is two
_MIN_RUN_ON_WORDS = 2  # words with letters on each side of a run-on sentence end


@dataclass(frozen=True)
class TextResult:
    """Output of :func:`split_sentences`.

    Attributes
    ----------
    comments : the input comments (a copy) with ``text`` cleaned and PII-redacted,
        plus ``language`` (ISO 639-1 code or "unknown"), ``is_english`` (bool; unknown
        counts as English) and ``n_redacted`` (int).
    sentences : one row per sentence or clause: sentence_id (``"{comment_id}:{idx}"``),
        comment_id, row_id, sentence_idx (0-based), text (redacted, as shown),
        analysis_text (what the models read, see :func:`normalise_for_analysis`; the
        shown text when nothing is left of it) and no_topic (bool, see
        :func:`is_content_free`).
    redactions : count of redacted items per kind, every kind present.
    """

    comments: pd.DataFrame
    sentences: pd.DataFrame
    redactions: dict[str, int]



# --------------------------------------------------------------------------- splitting

_CLAUSE_WORDS = ("but", "however", "although", "whereas")
_CONJUNCTION_BREAK = re.compile(r",?\s+(?=(?:" + "|".join(_CLAUSE_WORDS) + r")\b)", re.IGNORECASE)
_SEMICOLON_BREAK = re.compile(r"\s*;(?![-']?[()DPp*](?!\w))\s*")  # not the wink of ";)", ";-)", ";P"
# A sentence end the tokenizer misses: "!"/"?" glued to the next word ("Great
# app!!!Terrible support"), or an emoji followed by a capitalised word ("Love it 😍
# Hate the price"). The emoji ranges are the pictographic blocks (U+1F300-1FAFF,
# which include skin tones), Misc Symbols and Dingbats, plus the emoji variation selector.
_RUN_ON_BREAK = re.compile(r"(?<=[!?])(?=[^\W\d_])|(?<=[\u2600-\u27bf\ufe0f\U0001f300-\U0001faff])\s+(?=[A-Z])")
_LETTER = re.compile(r"[^\W\d_]")
_NON_LETTERS = re.compile(r"[\W\d_]+")


def _n_words(text: str) -> int:
    return len(text.split())


def _n_letter_words(text: str) -> int:
    return sum(_LETTER.search(w) is not None for w in text.split())


def _split_at(sentence: str, pattern: re.Pattern, min_words: int, count: Callable[[str], int] = _n_words) -> list[str]:
    """Split at each ``pattern`` match (dropped) whose both sides have ``min_words`` words."""
    parts: list[str] = []
    start = 0
    for match in pattern.finditer(sentence):
        if count(sentence[start : match.start()]) >= min_words and count(sentence[match.end() :]) >= min_words:
            parts.append(sentence[start : match.start()].strip())
            start = match.end()
    parts.append(sentence[start:].strip())
    return [p for p in parts if p]


def _split_run_ons(sentence: str) -> list[str]:
    """Split at sentence ends the tokenizer cannot see, when both sides have two words with letters.

    So "Wow!Amazing" and "I ❤ NY" stay whole.
    """
    return _split_at(sentence, _RUN_ON_BREAK, _MIN_RUN_ON_WORDS, _n_letter_words)


def _split_clauses(sentence: str) -> list[str]:
    """Split a sentence at ";" and before "but"/"however"/... when both sides are clauses.

    Around a conjunction a side counts as a clause when it has at least three
    words, so "small but mighty" stays whole while "The app is great but billing
    charged me twice" becomes two units; around ";" two words are enough.
    """
    lowered = sentence.lower()
    if ";" not in sentence and not any(word in lowered for word in _CLAUSE_WORDS):
        return [sentence]
    return [
        clause
        for part in _split_at(sentence, _SEMICOLON_BREAK, _MIN_SEMICOLON_WORDS)
        for clause in _split_at(part, _CONJUNCTION_BREAK, _MIN_CLAUSE_WORDS)
    ]


def _keep_unit(unit: str, min_chars: int) -> bool:
    return len(unit) >= min_chars and _LETTER.search(unit) is not None


@dataclass(frozen=True)
class _Splitter:
    """spaCy's English tokenizer plus the sentencizer's rule, read from token arrays.

    The rule is spaCy ``Sentencizer``'s (same default punctuation set): a sentence
    ends after a run of sentence punctuation, once a non-punctuation token follows.
    It is applied to ``Doc.to_array`` rows instead of ``Token`` objects because the
    Python-level token walk of ``Sentencizer.predict`` cost more than tokenising.
    """

    tokenizer: object
    punct_hashes: frozenset

    def sentences(self, texts: list[str]) -> Iterator[list[str]]:
        from spacy.attrs import IDX, IS_PUNCT, ORTH

        for text, doc in zip(texts, self.tokenizer.pipe(texts, batch_size=256)):
            offsets = [0]
            seen_end = False
            for orth, is_punct, idx in doc.to_array([ORTH, IS_PUNCT, IDX]).tolist():
                if orth in self.punct_hashes:
                    seen_end = True
                elif seen_end and not is_punct:
                    offsets.append(idx)
                    seen_end = False
            ends = offsets[1:] + [len(text)]
            yield [text[a:b].strip() for a, b in zip(offsets, ends)]


@cache
def _splitter() -> _Splitter:
    """The blank English pipeline's tokenizer (no model download) and sentence punctuation."""
    import spacy
    from spacy.pipeline.sentencizer import Sentencizer

    nlp = spacy.blank("en")
    hashes = frozenset(nlp.vocab.strings.add(ch) for ch in Sentencizer.default_punct_chars)
    return _Splitter(tokenizer=nlp.tokenizer, punct_hashes=hashes)


# --------------------------------------------------------------------------- normalisation

_HANDLE = re.compile(r"(?<![\w@.])@\w{1,30}\b:?")
_RETWEET = re.compile(r"^\s*(?:RT|MT)\b\s*:?\s*")
# what is left of "cc @a @b" once handles are gone, at either end
_CC = re.compile(r"^\s*cc\b\s*:?\s*|(?:^|\s)cc\s*:?\s*$", re.IGNORECASE)
_ANY_URL = re.compile(r"\b(?:https?://|www\.)\S+|\[URL\]", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<![\w&#])#([^\W_][\w']*)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_SENT_FROM = re.compile(r"\bsent from my\b(?:\s+[\w-]+){1,2}", re.IGNORECASE)
_GREETING = re.compile(
    r"^(?:hi|hello|hey|hiya|dear|greetings|good (?:morning|afternoon|evening))\b(?:\s+[\w.'-]+){0,2}\s*[,!:]+\s*",
    re.IGNORECASE,
)
# a closing line with at most a (capitalised) name after it: "Thanks, John", "Kind regards", "Best, Jane"
_NAME = r"(?:[A-Z][\w.'-]*\s*){0,3}"
_SIGN_OFF = re.compile(
    r"(?i:(?:many |kind |best |warm(?:est)? )?(?:thanks|thank you|regards|wishes)|cheers|sincerely|"
    r"yours(?: truly| sincerely)?)(?i:\s+again)?[\s,.!-]*" + _NAME + r"|(?i:best),\s*" + _NAME
)
# what the text stage's placeholders mean, so "call me on [PHONE]" is still about a phone call
_PLACEHOLDER_WORDS = {"[EMAIL]": "email address", "[PHONE]": "phone number", "[CARD]": "card number",
                      "[IBAN]": "bank account"}


@cache
def _hashtag_words(tag: str) -> str:
    """``CustomerServiceFail`` / ``customerservicefail`` -> ``customer service fail``.

    Camel case and digits mark word boundaries where they exist; an all-lower-case
    tag is segmented by ``wordsegment`` (unigram and bigram counts of a large
    English corpus, shipped in the package).
    """
    if not tag.islower() or len(tag) < 8:
        return _CAMEL.sub(" ", tag).lower()
    import wordsegment

    if not wordsegment.UNIGRAMS:
        wordsegment.load()
    return " ".join(wordsegment.segment(tag))


def normalise_for_analysis(text: str) -> str:
    """The text the models read: no @handles, links, "RT"/"cc", greetings or sign-offs; hashtags as words.

    Handles and links name who was addressed, not what was said, yet they are
    the most distinctive tokens of a tweet: left in, they name themes
    ("southwestair · flight") and pull clusters together. What users see keeps
    the text as written (redacted); only embedding, sentiment, keywords and
    theme names read this form. Emojis are kept (they carry sentiment) and the
    PII placeholders become the words they stand for.

    Examples
    --------
    >>> normalise_for_analysis("RT @united: Lost my bag AGAIN #customerservicefail http://t.co/x1")
    'Lost my bag AGAIN customer service fail'
    >>> normalise_for_analysis("Thanks, John")
    ''
    >>> normalise_for_analysis("call +44 20 @bob 7946 0958")
    'call phone number'
    """
    written = text
    text = _RETWEET.sub("", text)
    text = _ANY_URL.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    text = _SENT_FROM.sub(" ", text)
    text = _HASHTAG.sub(lambda m: _hashtag_words(m.group(1)), text)
    text = _WHITESPACE.sub(" ", text).strip()
    if text != written:  # "+44 20 @bob 7946 0958", "#call07700900123": the edits can bring digits together
        text = redact_pii(text)[0]
    for placeholder, words in _PLACEHOLDER_WORDS.items():
        if placeholder in text:
            text = text.replace(placeholder, words)
    text = _CC.sub("", _GREETING.sub("", text)).strip(" ,:;-")
    return "" if _SIGN_OFF.fullmatch(text) else text


CHATTER_WORDS = frozenset(
    # courtesy, greetings and fillers
    "hi hello hey hiya dear thanks thank thx ty please pls plz help helps welcome sorry bye goodbye cheers regards "
    "ok okay k kk yes yeah yep yup no nope nah sure well hmm hm um uh oh ah aha wow omg lol lmao rofl haha hahaha "
    "heck hell damn dang gosh geez jeez ugh argh meh yay woo woohoo hooray wtf smh idk btw fyi pm am etc "
    # evaluations without a topic
    "good great nice fine cool awesome amazing excellent fantastic wonderful brilliant superb perfect lovely "
    "best better bad worse worst terrible horrible awful poor sucks suck rubbish crap garbage useless pathetic "
    "love loved loves like liked hate hated hates happy unhappy glad sad angry upset annoyed disappointed "
    "disappointing disappointment satisfied unsatisfied pleased impressed frustrated frustrating ridiculous "
    "unacceptable incredible unbelievable recommend recommended recommending definitely absolutely totally "
    "highly really truly very so much many more most less least lot lots little bit kind sort "
    "thing things stuff everything anything something nothing everyone anyone someone nobody "
    "again still ever never always just even already yet also too quite pretty rather enough "
    "today yesterday tomorrow now soon later day days time times week weeks guys guy folks team "
    "experience overall general generally".split()
)
"""Words that carry courtesy, emphasis or an opinion but no topic. A sentence made only of
these and stop words ("Thanks!", "OMG", "Please help.", "Love it!", "What the heck??") has
nothing a theme could be about: it goes to the *no topic* bucket (its sentiment still counts)."""
_CONTRACTION_ENDS = ("n't", "'s", "'m", "'re", "'ve", "'ll", "'d")


@cache
def _topicless_words() -> frozenset:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | CHATTER_WORDS


def is_content_free(analysis_text: str) -> bool:
    """Whether a normalised sentence has no word a theme could be about.

    Examples
    --------
    >>> [is_content_free(t) for t in ("Thanks!", "What the heck??", "Please help.", "The bag was lost")]
    [True, True, True, False]
    """
    topicless = _topicless_words()
    words = (w.lower() for w in _WORD.findall(analysis_text.replace("\u2019", "'")))
    return not any(len(w) > 1 and w not in topicless and not w.endswith(_CONTRACTION_ENDS) for w in words)


# --------------------------------------------------------------------------- language
def language_summary(comments: pd.DataFrame) -> dict[str, object]:
    """How many comments were flagged non-English, and in which languages (most frequent first).

    The English models (MiniLM, the sentiment head, VADER) still score them, less
    reliably, so every report says how many there are rather than dropping them.
    """
    if Col.IS_ENGLISH not in comments.columns:
        return {"non_english": 0, "by_language": {}}
    other = comments.loc[~comments[Col.IS_ENGLISH].astype(bool), Col.LANGUAGE]
    return {"non_english": int(len(other)), "by_language": {str(k): int(v) for k, v in other.value_counts().items()}}



_ENGLISH_FUNCTION_WORDS = frozenset(
    "the and this that with for not but are have has you they my of to very it its was were be been "
    "would could should what your our we she he her his from at on just all or too had will can "
    "there their them which when about because after before really i is a in so me as if an do did "
    "don't i'm it's than more one up no".split()
)
# Frequent function words of other languages written in Latin script that are not
# English words (so "a", "no", "die", "is" are left out). An ASCII-only text with
# none of them and some English function words is taken as English without asking
# langdetect.
_FOREIGN_FUNCTION_WORDS = frozenset(
    # German
    "der das und ist nicht ich sie mit für auf ein eine zu sehr aber auch wir wie noch nur "
    # French
    "le la les et est une des du pas je il que pour dans avec très mais sont nous vous ce cette "
    # Spanish, Portuguese
    "el los las y es un una que muy por para con pero del al se lo su mas não muito uma com "
    # Italian
    "il gli di che molto sono della questo "
    # Dutch, Scandinavian
    "het een niet dat voor maar zijn ook och att det som inte jeg og ikke "
    # Polish, Turkish
    "nie jest się że jak ale ve bir bu çok".split()
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_PLACEHOLDER = re.compile(r"\[(?:EMAIL|PHONE|CARD|IBAN|URL)\]")


@cache
def _language_detector():
    """langdetect with a fixed seed, so the same text always gets the same language."""
    from langdetect import DetectorFactory, detect_langs

    DetectorFactory.seed = 0
    return detect_langs


def detect_language(text: str) -> str:
    """ISO 639-1 code of a comment's language, or "unknown" when it is too short to tell.

    Cheap tests first, because langdetect costs milliseconds per text: a text
    whose words are largely English function words is English; so is an ASCII-only
    text with a smaller share of them and no frequent function word of another
    Latin-script language. The absence of foreign function words alone proves
    nothing ("Prodotto ottimo, consegna veloce"), so the rest goes to langdetect; a
    guess below 95% probability gives "en" when English is among its candidates or
    the text is ASCII-only without foreign function words ("Great versatile skirt,
    very flattering": Danish 0.83), else "unknown".

    Examples
    --------
    >>> detect_language("The delivery was late and the box was damaged.")
    'en'
    >>> detect_language("ok")
    'unknown'
    """
    text = _PLACEHOLDER.sub(" ", text)
    if len(_NON_LETTERS.sub("", text)) < _MIN_LETTERS_FOR_LANGUAGE:
        return UNKNOWN_LANGUAGE
    words = _WORD.findall(text.lower())
    n_english = sum(w in _ENGLISH_FUNCTION_WORDS for w in words)
    if n_english >= _ENGLISH_STOPWORD_SHARE * len(words):
        return "en"
    plain_ascii = text.isascii() and not any(w in _FOREIGN_FUNCTION_WORDS for w in words)
    if plain_ascii and n_english >= max(1, _ASCII_ENGLISH_STOPWORD_SHARE * len(words)):
        return "en"
    from langdetect.lang_detect_exception import LangDetectException

    try:
        candidates = _language_detector()(text)
    except LangDetectException:
        return UNKNOWN_LANGUAGE
    # langdetect is overconfident on short English phrases ("Great versatile skirt,
    # very flattering" -> Danish 0.83): only a near-certain guess flags a comment.
    if candidates[0].prob >= _MIN_LANGUAGE_PROB:
        return candidates[0].lang
    return "en" if plain_ascii or any(c.lang == "en" for c in candidates) else UNKNOWN_LANGUAGE


# --------------------------------------------------------------------------- stage


def _batches(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(start + size, n)


def split_sentences(
    comments: pd.DataFrame,
    config: TextConfig = TextConfig(),
    progress: Progress | None = None,
) -> TextResult:
    """Clean and redact every comment, then split it into sentences and clauses.

    Parameters
    ----------
    comments : pandas.DataFrame
        Columns comment_id, row_id, text; other columns are passed through on
        ``TextResult.comments``. Not modified.
    config : TextConfig
        ``split_clauses`` splits at ";" and before "but"/"however" between clauses;
        ``min_sentence_chars`` drops shorter units and units without letters (a
        comment always keeps at least one sentence); ``detect_language`` flags
        non-English comments.
    progress : callable, optional
        ``progress("text", done, total, message)``, called after every batch.

    Returns
    -------
    TextResult

    Raises
    ------
    MissingColumnError
        If comment_id, row_id or text is missing.

    Examples
    --------
    >>> df = pd.DataFrame({"comment_id": ["c1"], "row_id": [0],
    ...                    "text": ["The app is great but billing charged me twice."]})
    >>> split_sentences(df).sentences["text"].tolist()
    ['The app is great', 'but billing charged me twice.']
    """
    missing = [c for c in (Col.COMMENT_ID, Col.ROW_ID, Col.TEXT) if c not in comments.columns]
    if missing:
        raise MissingColumnError(
            f"The text stage needs columns {missing}; found {list(comments.columns)}.",
            hint="Run ingest first, or rename your columns to comment_id, row_id and text.",
        )
    raw = comments[Col.TEXT].fillna("").astype(str).tolist()
    comment_ids = comments[Col.COMMENT_ID].tolist()
    row_ids = comments[Col.ROW_ID].tolist()
    n = len(raw)
    splitter = _splitter()

    cleaned: list[str] = []
    n_redacted: list[int] = []
    languages: list[str] = []
    totals: Counter = Counter()
    rows: list[tuple] = []
    for start, stop in _batches(n, _BATCH):
        batch_texts = []
        for text in raw[start:stop]:
            text, counts = redact_pii(clean_text(text))
            totals.update(counts)
            batch_texts.append(text)
            n_redacted.append(sum(counts.values()))
            languages.append(detect_language(text) if config.detect_language else UNKNOWN_LANGUAGE)
        cleaned.extend(batch_texts)
        for offset, units in enumerate(splitter.sentences(batch_texts)):
            i = start + offset
            units = [part for unit in units for part in _split_run_ons(unit)]
            if config.split_clauses:
                units = [clause for unit in units for clause in _split_clauses(unit)]
            units = [u for u in units if _keep_unit(u, config.min_sentence_chars)] or [batch_texts[offset]]
            for idx, unit in enumerate(units):
                analysis = normalise_for_analysis(unit)
                rows.append((f"{comment_ids[i]}:{idx}", comment_ids[i], row_ids[i], idx, unit, analysis or unit,
                             is_content_free(analysis)))
        if progress is not None:
            progress("text", stop, n, f"split {stop} of {n} comments into sentences")

    out = comments.copy()
    out[Col.TEXT] = cleaned
    out[Col.LANGUAGE] = languages
    out[Col.IS_ENGLISH] = [lang in ("en", UNKNOWN_LANGUAGE) for lang in languages]
    out[N_REDACTED] = n_redacted
    sentences = pd.DataFrame(rows, columns=[Col.SENTENCE_ID, Col.COMMENT_ID, Col.ROW_ID, Col.SENTENCE_IDX, Col.TEXT,
                                            Col.ANALYSIS_TEXT, Col.NO_TOPIC])
    if sentences.empty:
        sentences = sentences.astype({Col.SENTENCE_IDX: "int64"})
    return TextResult(comments=out, sentences=sentences, redactions={kind: totals.get(kind, 0) for kind in PII_KINDS})


def first_distinct(texts: Iterable[str], k: int = 3) -> list[str]:
    """The first ``k`` texts that differ by more than letter case: a theme's representative sentences."""
    seen: set[str] = set()
    out: list[str] = []
    for text in texts:
        if text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
            if len(out) == k:
                break
    return out
