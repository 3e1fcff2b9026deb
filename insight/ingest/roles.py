"""Column roles: which column holds the comment, the customer id, the date, the score, ... from names and content."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from insight.errors import AmbiguousColumnError
from insight.ingest.common import (
    CUSTOMER_ROLES,
    FEEDBACK_ROLES,
    RoleDetection,
    _ATTR_LABELS,
    _ATTR_LAYOUT,
    _SURVEY_LAYOUTS,
    _mapping_hint,
    _stringify,
)
from insight.ingest.values import _parse_dates, _parse_numbers


_SAMPLE = 2000


@dataclass(frozen=True)
class _Rule:
    """Name rule of one role: ranked exact names, word patterns, excluded words."""

    exact: tuple[str, ...]
    contains: tuple[tuple[str, ...], ...] = ()
    exclude: frozenset[str] = frozenset()
    contains_score: float = 0.7

    def score(self, name: str) -> float:
        if not name or self.exclude & set(name.split()):
            return 0.0
        if name in self.exact:
            return 1.0 - 0.01 * self.exact.index(name)
        return self.contains_score if any(_match(name, words) for words in self.contains) else 0.0


_ID_WORDS = frozenset({"id", "ids", "number", "no", "uuid", "key"})
_RULES: dict[str, _Rule] = {
    "text": _Rule(
        exact=(
            "comment", "comments", "review text", "review", "feedback", "verbatim", "text", "body", "review body",
            "content", "response", "open ended response", "answer", "message", "description", "remarks",
            "customer comment", "feedback text", "comment text", "free text",
        ),
        contains=(("comment",), ("review",), ("feedback",), ("verbatim",), ("open", "ended"), ("text",),
                  ("description",), ("message",), ("body",), ("remark",), ("please", "specify")),
        exclude=_ID_WORDS | {"date", "time", "rating", "score", "title", "subject", "name", "email", "url", "link",
                             "count", "tags", "type", "language", "length", "stars", "helpful", "sentiment"},
    ),
    "customer_id": _Rule(
        exact=("customer id", "customerid", "customer", "client id", "account id", "user id", "userid",
               "member id", "customer number", "cust id", "customer no", "subscriber id", "account number",
               "account", "client", "user", "contact id", "external reference", "external data reference"),
        contains=(("customer", "id"), ("client", "id"), ("account", "id"), ("user", "id"), ("member", "id"),
                  ("cust", "id"), ("customer", "number"), ("subscriber",), ("requester",)),
        exclude=frozenset({"name", "email", "date", "type", "segment", "since"}),
    ),
    "comment_id": _Rule(
        exact=("id", "comment id", "review id", "response id", "feedback id", "ticket id", "ticket number",
               "ticket", "respondent id", "record id", "submission id", "case id", "case number", "uuid"),
        contains=(("review", "id"), ("response", "id"), ("comment", "id"), ("ticket", "id"), ("feedback", "id")),
        exclude=frozenset({"collector", "customer", "user", "account", "client", "date"}),
    ),
    "date": _Rule(
        exact=("date", "review date", "created at", "created", "created date", "date created", "submitted at",
               "submitted", "date submitted", "submission date", "response date", "recorded date", "end date",
               "timestamp", "datetime", "start date", "time", "updated at"),
        contains=(("date",), ("time",), ("created",), ("submitted",)),
        contains_score=0.6,
        exclude=frozenset({"id", "signup", "churn"}),
    ),
    "score": _Rule(
        exact=("rating", "stars", "star rating", "score", "nps", "nps score", "csat", "csat score",
               "overall rating", "review rating", "satisfaction", "ltr", "likelihood to recommend", "recommend"),
        contains=(("rating",), ("stars",), ("score",), ("nps",), ("csat",), ("recommend",), ("satisfaction",)),
        contains_score=0.6,
        exclude=frozenset({"id", "date", "sentiment", "helpful", "category", "group"}),
    ),
    "channel": _Rule(
        exact=("channel", "source", "platform", "origin", "via", "medium", "store", "feedback type",
               "source type"),
        contains=(("channel",), ("source",), ("platform",)),
        contains_score=0.6,
        exclude=frozenset({"id", "date", "distribution"}),
    ),
    "title": _Rule(
        exact=("title", "review title", "subject", "headline", "ticket subject", "summary", "header"),
        contains=(("title",), ("subject",), ("headline",)),
        contains_score=0.6,
        exclude=frozenset({"id", "job"}),
    ),
    "churned": _Rule(
        exact=("churned", "churn", "is churned", "has churned", "churn flag", "churn label", "churn status",
               "exited", "attrition", "attrited", "cancelled", "canceled", "is cancelled"),
        contains=(("churn",), ("attrition",), ("cancel",)),
        contains_score=0.6,
        exclude=frozenset({"date", "reason", "score", "probability", "risk", "id", "at", "on", "prediction"}),
    ),
    "nps": _Rule(
        exact=("nps", "nps score", "net promoter score", "likelihood to recommend", "ltr", "recommend score",
               "recommendation score"),
        contains=(("nps",), ("recommend",), ("promoter",)),
        contains_score=0.6,
        exclude=frozenset({"date", "category", "group", "segment", "type", "label", "comment"}),
    ),
    "clv": _Rule(
        exact=("clv", "ltv", "cltv", "customer lifetime value", "lifetime value", "total charges",
               "total revenue", "lifetime revenue", "total spend"),
        contains=(("clv",), ("ltv",), ("lifetime", "value")),
        exclude=frozenset({"date", "id"}),
    ),
    "monthly_revenue": _Rule(
        exact=("monthly revenue", "mrr", "monthly charges", "monthly charge", "monthly fee", "monthly spend",
               "arpu", "monthly price", "monthly amount", "revenue"),
        contains=(("monthly",), ("mrr",), ("arpu",)),
        contains_score=0.6,
        exclude=frozenset({"date", "id", "tenure"}),
    ),
    "tenure_months": _Rule(
        exact=("tenure months", "tenure", "tenure in months", "months active", "months as customer",
               "customer tenure", "months subscribed", "lifetime months", "months"),
        contains=(("tenure",),),
        exclude=frozenset({"date", "id"}),
    ),
    "plan": _Rule(
        exact=("plan", "plan name", "subscription plan", "plan type", "pricing plan", "contract", "tier",
               "subscription", "package", "product", "membership"),
        contains=(("plan",), ("tier",), ("contract",)),
        contains_score=0.6,
        exclude=frozenset({"date", "id", "price", "length"}),
    ),
    "region": _Rule(
        exact=("region", "country", "state", "market", "area", "territory", "city", "location", "geo",
               "geography", "country code"),
        contains=(("region",), ("country",)),
        contains_score=0.6,
        exclude=frozenset({"id",}),
    ),
    "signup_date": _Rule(
        exact=("signup date", "sign up date", "signup", "signed up", "created at", "join date", "joined",
               "joined at", "start date", "subscription start", "customer since", "acquisition date",
               "registration date", "first purchase date", "created"),
        contains=(("signup",), ("sign", "up"), ("join",), ("since",), ("registration",)),
        contains_score=0.6,
        exclude=frozenset({"churn", "cancel", "end", "id"}),
    ),
    "churn_date": _Rule(
        exact=("churn date", "churned at", "churned on", "cancel date", "cancellation date", "cancelled at",
               "canceled at", "end date", "termination date", "exit date"),
        contains=(("churn", "date"), ("cancel", "date"), ("churn", "at"), ("termination",)),
        contains_score=0.6,
        exclude=frozenset({"id"}),
    ),
    # the KPI catalogue's inputs (insight.kpi): after the roles above, which keep first pick of a shared name
    "orders": _Rule(
        exact=("orders", "order count", "n orders", "num orders", "number of orders", "orders count",
               "total orders", "purchases", "purchase count", "n purchases", "number of purchases", "transactions"),
        contains=(("order",), ("purchases",), ("transactions",)),
        contains_score=0.6,
        exclude=frozenset({"date", "id", "value", "amount", "revenue", "last", "first"}),
    ),
    "revenue": _Rule(
        exact=("revenue", "total revenue", "total spend", "sales", "total sales", "spend", "total spent",
               "amount spent", "gross revenue", "lifetime spend", "order revenue", "total order value"),
        contains=(("revenue",), ("sales",), ("spend",), ("spent",)),
        contains_score=0.6,
        exclude=frozenset({"date", "id", "monthly", "acquisition", "marketing", "per", "average", "avg"}),
    ),
    "csat": _Rule(
        exact=("csat", "csat score", "satisfaction", "customer satisfaction", "satisfaction score",
               "satisfaction rating", "csat rating"),
        contains=(("csat",), ("satisf",)),
        contains_score=0.6,
        exclude=frozenset({"date", "id", "comment", "reason"}),
    ),
    "converted": _Rule(
        exact=("converted", "conversion", "is converted", "has converted", "trial converted", "converted flag",
               "paying", "is paying"),
        contains=(("convert",), ("conversion",)),
        contains_score=0.6,
        exclude=frozenset({"date", "id", "rate", "value"}),
    ),
    "acquisition_spend": _Rule(
        exact=("acquisition spend", "acquisition cost", "cac", "marketing spend", "sales and marketing spend",
               "customer acquisition cost", "cost of acquisition", "ad spend"),
        contains=(("acquisition", "cost"), ("acquisition", "spend"), ("marketing", "spend"), ("cac",)),
        contains_score=0.6,
        exclude=frozenset({"date", "id"}),
    ),
    "sessions": _Rule(
        exact=("sessions", "session count", "n sessions", "logins", "login count", "session minutes",
               "minutes used", "usage minutes", "visits", "active days", "usage"),
        contains=(("session",), ("login",), ("visits",), ("usage",)),
        contains_score=0.6,
        exclude=frozenset({"date", "id", "last", "first"}),
    ),
    "upsell": _Rule(
        exact=("upsell", "upsold", "upgraded", "upgrade", "has upgraded", "bought upgrade", "upsell flag"),
        contains=(("upsell",), ("upgrade",), ("upsold",)),
        contains_score=0.6,
        exclude=frozenset({"date", "id", "cross", "value", "amount"}),
    ),
    "cross_sell": _Rule(
        exact=("cross sell", "crosssell", "cross sold", "cross sale", "bought other product", "cross sell flag"),
        contains=(("cross", "sell"), ("cross", "sold"), ("crosssell",)),
        contains_score=0.6,
        exclude=frozenset({"date", "id", "value", "amount"}),
    ),
}
_CUSTOMER_ID_RULE = dataclasses.replace(_RULES["customer_id"], exact=("id", *_RULES["customer_id"].exact))
_QUESTION_START = re.compile(
    r"^(what|why|how|please|is there|are there|anything|tell us|describe|which|would|do you|did you|"
    r"if you|in your|any other|any further|was there|what's)\b",
    re.IGNORECASE,
)


def _norm(name: Any) -> str:
    """``"customerID"`` -> ``"customer id"``: camelCase split, lower case, words only."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", str(name))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def _match(name: str, words: tuple[str, ...]) -> bool:
    """Every pattern word is the start of some word of ``name`` ("cancel" matches "cancellation")."""
    parts = name.split()
    return all(any(p.startswith(w) for p in parts) for w in words)


def _is_question(label: str) -> bool:
    label = str(label).strip()
    return label.endswith("?") or bool(_QUESTION_START.match(label)) or "open-ended" in label.lower()


@dataclass(frozen=True)
class _Profile:
    """Content statistics of a column's sample."""

    n: int
    mean_words: float
    unique_share: float
    numeric_share: float
    date_share: float
    distinct: int
    min_value: float
    max_value: float

    @property
    def free_text(self) -> bool:
        texty = self.n > 0 and self.mean_words >= 3 and self.numeric_share < 0.5 and self.date_share < 0.5
        return texty and (self.n < 10 or self.unique_share >= 0.3)

    @property
    def text_score(self) -> float:
        return min(1.0, self.mean_words / 12) * (0.5 + 0.5 * self.unique_share) if self.numeric_share < 0.5 else 0.0


def _text_profile(series: pd.Series) -> _Profile:
    values = _stringify(series.head(_SAMPLE * 5)).str.strip()
    values = values[values.ne("")].head(_SAMPLE)
    if values.empty:
        return _Profile(0, 0.0, 0.0, 0.0, 0.0, 0, np.nan, np.nan)
    numbers, _ = _parse_numbers(values)
    numeric = numbers.notna()
    dates = 0.0
    if numeric.mean() < 0.5:
        looks_like_date = values.str.contains(r"\d", regex=True) & values.str.len().le(40)
        if looks_like_date.mean() >= _NAMED_SHARE:
            dates = float(_parse_dates(values[looks_like_date])[0].notna().sum()) / len(values)
    return _Profile(
        n=len(values),
        mean_words=float(values.str.split().str.len().mean()),
        unique_share=values.nunique() / len(values),
        numeric_share=float(numeric.mean()),
        date_share=dates,
        distinct=int(values.nunique()),
        min_value=float(numbers.min()) if numeric.any() else np.nan,
        max_value=float(numbers.max()) if numeric.any() else np.nan,
    )


def _plausible(role: str, profile: _Profile) -> bool:
    """Content check of a name-matched feedback column (a "type" column of essays is no channel)."""
    if profile.n == 0:  # an empty column named "comment" is still the comment column
        return True
    if role == "date":  # named as the date: unreadable values are left empty and counted, down to a fifth read
        return profile.date_share >= _NAMED_SHARE
    if role == "score":
        return profile.numeric_share >= _NAMED_SHARE
    if role == "channel":
        return profile.numeric_share < 0.5 and profile.distinct <= max(50, profile.n // 5) and profile.mean_words <= 5
    if role in ("comment_id", "customer_id"):
        return profile.mean_words <= 3
    if role == "title":
        return profile.mean_words <= 40
    if role == "text":
        return profile.numeric_share < 0.5 and profile.date_share < 0.5
    return True


_NAMED_SHARE = 0.2  # share of readable values a date or score column named as such needs to be used


def _misfit(role: str, column: str, profile: _Profile) -> str:
    """Why a column named like ``role`` was not used for it (a note for the warnings)."""
    found = {
        "date": f"only {profile.date_share:.0%} of its values read as dates",
        "score": f"only {profile.numeric_share:.0%} of its values are numbers",
    }.get(role, "its values do not look like one")
    return (
        f"Column '{column}' is named like the {role} column, but {found}; it was not used as the {role}. "
        f"To use it anyway, name it {_mapping_hint(role)} (values that do not fit are left empty and counted)."
    )


def _content_only(role: str, profile: _Profile) -> bool:
    """Columns whose names say nothing but whose content fits the role (feedback only)."""
    if role == "date":
        return profile.n > 0 and profile.date_share >= 0.9
    if role == "score":
        return (
            profile.numeric_share >= 0.95 and 2 <= profile.distinct <= 11
            and profile.min_value >= 0 and profile.max_value <= 10
        )
    return False


def detect_roles(frame: pd.DataFrame, kind: str = "feedback") -> RoleDetection:
    """Map columns to roles by name, and for feedback also by content.

    Names decide first (ranked exact names such as "comment", "customer_id",
    then word patterns such as "... review ..."), checked against content (a
    "date" must mostly parse as dates). Where no name fits, content decides:
    long, varied free text is comment text; a numeric column in 0-10 is a
    score; a column of dates is the date. Several open-text columns in a survey
    export (question-like names) are a wide survey: each becomes a comment
    source. Otherwise the best text column is taken only when it is clearly
    better than the next.

    Parameters
    ----------
    frame : DataFrame
        As returned by :func:`read_table` (its ``attrs`` carry the layout and
        Qualtrics question texts) or any frame.
    kind : {"feedback", "customers"}

    Returns
    -------
    RoleDetection

    Raises
    ------
    AmbiguousColumnError
        Two or more columns fit the text role (or another role) equally well;
        the error names them and its ``candidates`` attribute lists them.

    Examples
    --------
    >>> df = pd.DataFrame({"CustomerID": ["a1", "b2"], "Review Text": ["Love the new app design", "Billing is broken again"]})
    >>> detect_roles(df).roles["text"], detect_roles(df).roles["customer_id"]
    ('Review Text', 'CustomerID')
    """
    return _detect(frame, kind, {})


def _detect(frame: pd.DataFrame, kind: str, fixed: Mapping[str, Any]) -> RoleDetection:
    if kind not in ("feedback", "customers"):
        raise ValueError(f"kind must be 'feedback' or 'customers', not {kind!r}")
    labels = frame.attrs.get(_ATTR_LABELS, {}) or {}
    layout = frame.attrs.get(_ATTR_LAYOUT, "plain")
    order = FEEDBACK_ROLES[1:] + ("text",) if kind == "feedback" else CUSTOMER_ROLES
    used = {c for v in fixed.values() if v is not None for c in ([v] if isinstance(v, str) else v)}
    profiles: dict[str, _Profile] = {}

    def profile(column: str) -> _Profile:
        if column not in profiles:
            profiles[column] = _text_profile(frame[column])
        return profiles[column]

    roles: dict[str, str | None] = {}
    candidates: dict[str, tuple[str, ...]] = {}
    text_columns: tuple[str, ...] = ()
    notes: list[str] = []
    for role in order:
        rule = _CUSTOMER_ID_RULE if (kind, role) == ("customers", "customer_id") else _RULES[role]
        scored, misfits = [], []
        for column in frame.columns:
            names = [_norm(column)] + ([_norm(labels[column])] if column in labels else [])
            score = max(rule.score(n) for n in names)
            if role == "text" and score == 0 and (_is_question(column) or _is_question(labels.get(column, ""))):
                score = 0.5 if profile(column).free_text else 0.0
            plausible = kind == "customers" or _plausible(role, profile(column))
            if score > 0 and plausible:
                scored.append((score, column))
            elif kind == "feedback" and role == "text" and profile(column).free_text:
                scored.append((0.0, column))
            elif kind == "feedback" and _content_only(role, profile(column)):
                scored.append((0.1, column))
            if score >= 0.7 and not plausible and role != "text":
                misfits.append(column)
        if role == "text":
            scored.sort(key=lambda sc: -(sc[0] + profile(sc[1]).text_score))
        else:
            scored.sort(key=lambda sc: -sc[0])
        candidates[role] = tuple(c for _, c in scored)
        if role in fixed:
            value = fixed[role]
            roles[role] = value if value is None or isinstance(value, str) else value[0]
            if role == "text":
                text_columns = (value,) if isinstance(value, str) else tuple(value)
            continue
        free = [(s, c) for s, c in scored if c not in used]
        if role == "text":
            text_columns = _choose_text(free, profile, labels, layout)
            chosen = text_columns[0] if text_columns else None
            if chosen is None and roles.get("title"):  # the only text is what looked like a title
                chosen, roles["title"] = roles["title"], None
                text_columns = (chosen,)
        else:
            if len(free) >= 2 and free[0][0] == free[1][0] and free[0][0] >= 0.7:
                _raise_ambiguous(role, [c for _, c in free[:4]])
            chosen = free[0][1] if free else None
            misfits = [c for c in misfits if c not in used]
            if chosen is None and misfits:
                notes.append(_misfit(role, misfits[0], profile(misfits[0])))
        roles[role] = chosen
        used.update(text_columns if role == "text" else [chosen] if chosen else [])
    return RoleDetection(roles=roles, candidates=candidates, text_columns=text_columns, notes=tuple(notes))


def _choose_text(
    scored: list[tuple[float, str]],
    profile: Callable[[str], _Profile],
    labels: Mapping[str, str],
    layout: str,
) -> tuple[str, ...]:
    """One text column, or several for a wide survey, or AmbiguousColumnError.

    ``scored`` is (name score, column), best first.
    """
    filled = [(s, c) for s, c in scored if profile(c).n > 0]
    scored = filled or scored
    if len(scored) <= 1:
        return tuple(c for _, c in scored)
    questions = [c for _, c in scored if _is_question(c) or _is_question(labels.get(c, ""))]
    if layout in _SURVEY_LAYOUTS or len(questions) >= 2:
        return tuple(c for s, c in scored if s >= 0.7 or profile(c).free_text)
    strong = [(s, c) for s, c in scored if s >= 0.7]
    if len(strong) == 1:
        return (strong[0][1],)
    ranked = strong or scored
    totals = [s + profile(c).text_score for s, c in ranked]
    if totals[0] - totals[1] >= 0.3:
        return (ranked[0][1],)
    _raise_ambiguous("text", [c for _, c in ranked[:4]])


def _raise_ambiguous(role: str, columns: Sequence[str]) -> NoReturn:
    raise AmbiguousColumnError(
        f"Several columns could be the {role} column: {', '.join(map(repr, columns))}.",
        role=role, candidates=tuple(columns), hint=f"Choose one {_mapping_hint(role)}.",
    )
