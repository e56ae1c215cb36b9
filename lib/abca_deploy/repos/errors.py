"""Why a repository change was refused, as types every front door can tell apart.

Each is a ``UserError`` (exit 2 in the CLI, with the same message as before); the repository API maps each
type to an HTTP status and reads the structured parts (``guardrail``, ``reason``, ``field``) to word its own
answer without the CLI's flag names.
"""

from __future__ import annotations

from abca_deploy.errors import OperationFailed, UserError

GUARDRAIL_TITLE = "Refused by a guardrail"


class Refused(UserError):
    """A guardrail refused the change: ``guardrail`` names it, ``reason`` says why (no flag names)."""

    def __init__(self, guardrail: str, reason: str, *, flag: str | None = None, hint: str | None = None,
                 title: str = GUARDRAIL_TITLE) -> None:
        super().__init__(f"{flag}: {reason}" if flag else reason, hint=hint, title=title)
        self.guardrail = guardrail
        self.reason = reason


class InvalidField(UserError):
    """A field's value is not allowed here (e.g. a compute type the stack did not provision)."""

    def __init__(self, reason: str, *, field: str, where: str, hint: str | None = None) -> None:
        super().__init__(f"{where}: {reason}", hint=hint, title="Invalid input")
        self.field = field
        self.reason = reason


class NotOnboarded(UserError):
    """The repository has no row."""


class AlreadyOnboarded(UserError):
    """Onboarding an active repository whose row differs from what was asked."""


class Offboarded(UserError):
    """The repository's row is removed; only onboarding brings it back."""


class RowTooLarge(UserError):
    """The planned row is larger than DynamoDB stores."""


class KeptChanging(OperationFailed):
    """Others changed the row on every attempt to write it."""
