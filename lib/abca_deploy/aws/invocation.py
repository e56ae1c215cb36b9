"""What an InvokeAgentRuntime answer says about the container, in either form AgentCore may use.

A container's non-2xx answer reaches the caller either passed through (its status and body, botocore's
``statusCode``) or wrapped: HTTP 424 ``RuntimeClientError`` whose message reads "Received error (NNN) from
runtime", the container's body dropped. A 424 without such a code is AgentCore's own verdict (the container
crashed, did not start, or failed ``/ping``). See docs/emulator.md for the evidence on which form AWS uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

RUNTIME_CLIENT_ERROR = "RuntimeClientError"
_DATA = re.compile(r"^data: ?")
_WRAPPED = re.compile(r"received error\s*\(\s*(\d{3})\s*\)\s*from runtime", re.IGNORECASE)


class Origin(StrEnum):
    """Who produced an invocation's status."""

    CONTAINER = "container"  # the container's own status and body came back (2xx, or passed through)
    WRAPPED = "wrapped"  # the container's status, reported inside AgentCore's 424 RuntimeClientError
    AGENTCORE = "agentcore"  # AgentCore answered itself (throttling, validation, a crashed container...)
    NONE = "none"  # no answer at all (connection reset, read timeout)


@dataclass(frozen=True)
class Invocation:
    """An invocation's outcome: ``status`` is the container's HTTP status whenever AgentCore reports it."""

    status: int
    content_type: str
    body: str
    origin: Origin = Origin.CONTAINER
    error_code: str = ""

    @property
    def reached_container(self) -> bool:
        """Whether ``status`` is the container's (passed through or wrapped), not AgentCore's own."""
        return self.origin in (Origin.CONTAINER, Origin.WRAPPED)


@dataclass(frozen=True)
class ErrorAnswer:
    """An HTTP error answer as botocore saw it: status, parsed error code and message, raw body."""

    status: int
    code: str
    message: str
    body: bytes = b""
    content_type: str = ""
    typed: bool = False  # the answer carried ``x-amzn-ErrorType``: AgentCore's own error


def wrapped_status(message: str) -> int | None:
    """NNN of "Received error (NNN) from runtime", when the message carries a valid HTTP status."""
    found = _WRAPPED.search(message)
    if found is None:
        return None
    status = int(found[1])
    return status if 100 <= status <= 599 else None


def read_error(answer: ErrorAnswer, modelled: Collection[str]) -> Invocation:
    """The Invocation an error answer stands for; ``modelled`` are the operation's own error codes."""
    if answer.code == RUNTIME_CLIENT_ERROR and (status := wrapped_status(answer.message)) is not None:
        return Invocation(status, answer.content_type, answer.message, Origin.WRAPPED, answer.code)
    if answer.typed or answer.code in modelled:
        text = answer.message or _text(answer.body, answer.content_type)
        return Invocation(answer.status, answer.content_type, text, Origin.AGENTCORE, answer.code)
    return Invocation(answer.status, answer.content_type, _text(answer.body, answer.content_type) or
                      answer.message, Origin.CONTAINER, answer.code)


def event_stream_text(lines: Iterable[bytes]) -> str:
    """A ``text/event-stream`` body as text: one line per non-empty line, ``data: `` prefixes removed."""
    text = (line.decode("utf-8", "replace") for line in lines)
    return "\n".join(_DATA.sub("", line, count=1) for line in text if line.strip())


def _text(body: bytes, content_type: str) -> str:
    if "text/event-stream" in content_type:
        return event_stream_text(body.splitlines())
    return body.decode("utf-8", "replace")
