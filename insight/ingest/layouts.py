"""Survey and help-desk layouts: Qualtrics and SurveyMonkey header rows; help-desk, app-store, wide-survey exports."""
from __future__ import annotations

import re

import pandas as pd

from insight.errors import MissingColumnError
from insight.ingest.roles import _ID_WORDS, _is_question, _match, _norm, _text_profile


def _frame_from_grid(grid: pd.DataFrame) -> tuple[pd.DataFrame, int, str, dict[str, str], list[str]]:
    """Header row, survey-tool extra header rows and column names from a raw grid."""
    rows = [grid.iloc[i].map(str.strip).tolist() for i in range(min(3, len(grid)))]
    header = rows[0]
    filled = [h for h in header if h]
    if filled and all(_is_number(h) for h in filled):
        raise MissingColumnError(
            f"The first row ({', '.join(filled[:5])}) holds numbers, not column names: the file has no header row.",
            hint="Add a header row naming the columns (e.g. 'comment', 'customer_id').",
        )
    labels: dict[int, str] = {}
    if len(rows) >= 3 and any(c.startswith('{"ImportId"') for c in rows[2]):
        skipped, layout = 2, "qualtrics"
        labels = {i: rows[1][i] for i in range(len(header)) if rows[1][i]}
        warnings = ["Qualtrics export: skipped 2 extra header rows (question text and import ids)."]
    elif len(rows) >= 2 and _is_surveymonkey(header, rows[1]):
        skipped, layout = 1, "surveymonkey"
        header = _surveymonkey_names(header, rows[1])
        warnings = ["SurveyMonkey export: skipped 1 extra header row of answer labels."]
    else:
        skipped, layout, warnings = 0, "plain", []
    names = [h or f"column_{i + 1}" for i, h in enumerate(header)]
    body = grid.iloc[1 + skipped :].reset_index(drop=True)
    body.columns = range(body.shape[1])
    empty_unnamed = [i for i, h in enumerate(header) if not h and not body[i].str.strip().ne("").any()]
    keep = [i for i in range(len(names)) if i not in empty_unnamed]
    frame = body[keep].set_axis([names[i] for i in keep], axis=1)
    return frame, skipped, layout, {names[i]: labels[i] for i in keep if i in labels}, warnings


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"[-+]?\d[\d,]*(\.\d+)?", text))


_SM_SUBLABELS = {"response", "open-ended response", "open ended response"}


def _is_surveymonkey(header: list[str], second: list[str]) -> bool:
    subs = {c.lower() for c in second if c}
    has_markers = "respondent id" in {h.lower() for h in header} or "open-ended response" in subs
    return bool(subs & _SM_SUBLABELS) and has_markers


def _surveymonkey_names(header: list[str], second: list[str]) -> list[str]:
    """Question text, plus the answer label for the sub-columns of multi-answer questions."""
    names, question = [], ""
    for head, sub in zip(header, second):
        question = head or question
        names.append(question if sub.lower() in _SM_SUBLABELS or not sub else f"{question} - {sub}")
    return names


def _structural_layout(frame: pd.DataFrame) -> str:
    """Help-desk, app-store or wide-survey layouts, recognised from column names and content."""
    names = {c: _norm(c) for c in frame.columns if not _ID_WORDS & set(_norm(c).split())}
    has = {
        kind: any(_match(n, words) for n in names.values() for words in patterns)
        for kind, patterns in _LAYOUT_MARKERS.items()
    }
    if has["subject"] and has["body"] and has["ticket"]:
        return "helpdesk"
    if has["rating"] and has["title"] and has["body"]:
        return "appstore"
    open_questions = [c for c in frame.columns if _is_question(c) and _text_profile(frame[c]).free_text]
    return "wide_survey" if len(open_questions) >= 2 else "plain"


_LAYOUT_MARKERS = {
    "subject": (("subject",),),
    "body": (("description",), ("body",), ("message",), ("comment",), ("content",), ("review",), ("text",)),
    "ticket": (("ticket",), ("tags",), ("status",), ("priority",), ("requester",), ("assignee",)),
    "rating": (("rating",), ("stars",), ("star",), ("score",)),
    "title": (("title",), ("headline",)),
}
