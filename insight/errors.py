"""One catalogue of the errors insight raises.

Every error carries a stable ``code`` and a message that says what was found,
what was expected and what to do, so the CLI can print one line and the app can
show it without a traceback.
"""
from __future__ import annotations

from insight.pii import redact


class InsightError(Exception):
    """Base class of every error insight raises on purpose."""

    code = "I000"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} {hint}")

    def one_line(self) -> str:
        """The message as one line, prefixed by its code (for CLI and app).

        Personal data is redacted: messages quote values and file names the user supplied.
        """
        return redact(f"[{self.code}] {self}".replace("\n", " "))


class InputError(InsightError):
    """The user's file or arguments cannot be used as they are."""

    code = "I100"


class UnreadableFileError(InputError):
    code = "I101"


class UnsupportedFormatError(InputError):
    code = "I102"


class EmptyFileError(InputError):
    code = "I103"


class FileTooLargeError(InputError):
    code = "I104"


class TooManyRowsError(InputError):
    code = "I105"


class MissingColumnError(InputError):
    """A required column role (e.g. the comment text) could not be found."""

    code = "I106"


class AmbiguousColumnError(InputError):
    """Two or more columns fit a role equally well; the user must choose (the app offers ``candidates``)."""

    code = "I107"

    def __init__(self, message: str, *, role: str, candidates: tuple[str, ...], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.role = role
        self.candidates = tuple(candidates)


class InvalidValueError(InputError):
    """A column holds values outside what its role allows (NPS 11, CLV -5, ...)."""

    code = "I108"


class UnsafeInputError(InputError):
    """The file is of a kind insight refuses to open (pickle, executable, ...)."""

    code = "I109"


class UsageError(InputError):
    """A command-line argument is missing, unknown or of the wrong type."""

    code = "I110"


class ConfigError(InputError):
    """A setting is unknown, of the wrong type or outside its range (config file, ``--seed``, ...)."""

    code = "I111"


class SchemaValidationError(InsightError):
    """A frame passed between stages breaks its schema (a bug or a bad custom stage)."""

    code = "I200"

    def __init__(self, message: str, *, failure_cases=None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.failure_cases = failure_cases


class InsufficientDataError(InsightError):
    """Too little data for the requested statistic or model."""

    code = "I300"


class NotFittedError(InsightError, ValueError, AttributeError):
    """A model was used before ``fit`` was called."""

    code = "I400"


class MissingDependencyError(InsightError, ImportError):
    """An optional dependency is not installed; the message names the extra."""

    code = "I500"


class ModelIntegrityError(InsightError):
    """Shipped model weights do not match their recorded checksum."""

    code = "I600"
