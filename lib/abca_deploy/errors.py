"""The project's error types. Each carries the process exit code; only ``cli.main`` catches them."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_DRIFT = 3
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class AbcaError(Exception):
    """Root error: a message for the user, an optional fix, a short title, and an exit code."""

    exit_code = EXIT_FAILED
    default_title = "abca-deploy failed"

    def __init__(self, message: str, *, hint: str | None = None, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.title = title or self.default_title

    def one_line(self) -> str:
        """The message and its fix on one line."""
        return f"{self.message} {self.hint}" if self.hint else self.message


class UserError(AbcaError):
    """The input must be fixed (a flag, an input, a file, or a resource the user named): exit 2."""

    exit_code = EXIT_USAGE
    default_title = "Invalid input"


class OperationFailed(AbcaError):
    """The operation was attempted and failed: exit 1."""

    exit_code = EXIT_FAILED
    default_title = "Operation failed"


class DriftDetected(AbcaError):
    """The deployed state differs from what the stack or the pointer records: exit 3."""

    exit_code = EXIT_DRIFT
    default_title = "Drift detected"


class Cancelled(AbcaError):
    """A signal stopped the operation: exit 130 (SIGINT), 143 (SIGTERM), or 1 (the --timeout alarm)."""

    default_title = "Cancelled"

    def __init__(self, message: str, *, exit_code: int, hint: str | None = None,
                 title: str | None = None) -> None:
        super().__init__(message, hint=hint, title=title)
        self.exit_code = exit_code
