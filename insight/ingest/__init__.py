"""Ingest: read the user's feedback and customer tables and account for every row.

The stage has three layers, each usable on its own:

1. :func:`read_table` turns a file (path, bytes or upload) into a frame of
   strings plus a :class:`TableMeta` saying what was found: format, encoding,
   delimiter, survey-tool header rows that were skipped, the export layout.
   Everything is read as text so nothing is silently coerced ("NA" stays a
   comment, "007" stays an id).
2. :func:`detect_roles` maps columns to roles (comment text, customer id, date,
   score, ...) from their names and, where names say nothing, their content.
3. :func:`ingest_feedback` / :func:`ingest_customers` build the canonical
   columns (:class:`insight.schemas.Col`) and split the rows into kept and
   dropped-with-a-reason, so that ``rows_in == rows_kept + rows_dropped``.

``row_id`` is the 0-based position of a data row after the header rows
(blank lines of a text file are not rows). Feedback drops only what cannot be analysed (empty text, repeated
rows, lines with more fields than the header); a bad
date or score keeps the row with an empty value and is counted in the
warnings. Customer tables are stricter, because their values are outcomes:
unknown churn spellings, NPS outside 0-10 or negative CLV raise
:class:`~insight.errors.InvalidValueError` (an NPS that is not a whole number
keeps the row with NPS empty, counted in the warnings).

The modules follow those layers: :mod:`~insight.ingest.reading` (files and their
safety), :mod:`~insight.ingest.layouts` (survey and help-desk exports),
:mod:`~insight.ingest.roles`, :mod:`~insight.ingest.values` (parsing dates, scores,
churn flags and ids) and :mod:`~insight.ingest.tables` (the two entry points);
:mod:`~insight.ingest.common` holds what they share.
"""
from insight.ingest.common import (
    CUSTOMER_ROLES,
    DROP_CONFLICTING_ID,
    DROP_DUPLICATE,
    DROP_DUPLICATE_ID,
    DROP_EMPTY_TEXT,
    DROP_MALFORMED,
    DROP_MISSING_ID,
    DROP_UNCACHED_FORMULA,
    FEEDBACK_ROLES,
    IngestResult,
    RoleDetection,
    TableMeta,
)
from insight.ingest.reading import SUPPORTED_FORMATS, _unique_columns, read_table  # _unique_columns: tested on its own
from insight.ingest.roles import detect_roles
from insight.ingest.tables import ingest_customers, ingest_feedback

__all__ = [
    "CUSTOMER_ROLES",
    "DROP_CONFLICTING_ID",
    "DROP_DUPLICATE",
    "DROP_DUPLICATE_ID",
    "DROP_EMPTY_TEXT",
    "DROP_MALFORMED",
    "DROP_MISSING_ID",
    "DROP_UNCACHED_FORMULA",
    "FEEDBACK_ROLES",
    "SUPPORTED_FORMATS",
    "IngestResult",
    "RoleDetection",
    "TableMeta",
    "detect_roles",
    "ingest_customers",
    "ingest_feedback",
    "read_table",
]
