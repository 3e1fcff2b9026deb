"""Emojis as words: a leaf shared by the sentiment lexicon and the MiniLM encoder, which both misread them."""
from __future__ import annotations

import functools
import re

# Skin tones and the emoji variation selector: VADER would read them as words of
# their own ("light skin tone").
_EMOJI_MODIFIERS = re.compile("[\ufe0f\U0001f3fb-\U0001f3ff]")
# Frequent feedback emojis whose CLDR name, VADER's description, holds no word of
# its lexicon ("thumbs up", "pouting face", "face with rolling eyes" score 0): each
# reads as a lexicon word of the sentiment it is used for.
_EMOJI_WORDS = {
    "👍": "good",
    "👏": "great",
    "👎": "bad",
    "😡": "angry",
    "🤬": "furious",
    "😤": "frustrated",
    "🙄": "annoyed",
    "😒": "annoyed",
    "🤦": "frustrated",
    "🤢": "sick",
    "🤮": "disgusting",
    "💩": "crap",
}


@functools.cache
def _descriptions() -> dict[str, str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return {**SentimentIntensityAnalyzer().emojis, **_EMOJI_WORDS}


def emojis_as_words(text: str) -> str:
    """``text`` with every emoji replaced by words VADER can score.

    MiniLM's vocabulary has no emojis (all read as one unknown token), so the
    encoder reads "👎" as "bad" and "🙄" as "annoyed". VADER's ``polarity_scores``
    swaps each emoji for its description itself, but only 391 of its 3,570
    descriptions score at all (👍, 👎 and 😡 scored 0): the descriptions used here
    are VADER's table with :data:`_EMOJI_WORDS` on top.
    """
    if text.isascii():
        return text
    descriptions = _descriptions()
    return "".join(f" {descriptions[ch]} " if ch in descriptions else ch for ch in _EMOJI_MODIFIERS.sub("", text))
