"""Everything the user sees: logs, groups, annotations, masks, outputs, job summary and the result.

Inside GitHub Actions (``GITHUB_ACTIONS=true``) calls become workflow commands, ``$GITHUB_OUTPUT`` entries and
``$GITHUB_STEP_SUMMARY`` markdown; outside they print plain text. Logs always go to stderr, so stdout holds
only the result: a text report, or exactly one JSON document with ``--output json``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

log = logging.getLogger("abca_deploy")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class Phase:
    """One timed group of work, for the summary's timing table."""

    title: str
    seconds: float = 0.0
    ok: bool = True


@dataclass
class Reporter:
    """The one owner of output. Construct with ``Reporter.from_env`` in ``main``; pass it to commands."""

    output: str = "text"
    actions: bool = False
    debug_enabled: bool = False
    github_output: Path | None = None
    step_summary: Path | None = None
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    phases: list[Phase] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    result_emitted: bool = False
    _masks: list[str] = field(default_factory=list)

    @classmethod
    def from_env(
        cls, *, output: str = "text", debug: bool = False, env: Mapping[str, str] | None = None
    ) -> Reporter:
        """A reporter configured from the GitHub Actions environment variables, if present."""
        env = os.environ if env is None else env
        actions = _truthy(env.get("GITHUB_ACTIONS"))
        out = env.get("GITHUB_OUTPUT") or None
        summary = env.get("GITHUB_STEP_SUMMARY") or None
        return cls(
            output=output,
            actions=actions,
            debug_enabled=debug or _truthy(env.get("RUNNER_DEBUG")),
            github_output=Path(out) if out and actions else None,
            step_summary=Path(summary) if summary and actions else None,
        )

    # -- secrets -----------------------------------------------------------------------------------
    def mask(self, secret: str | None) -> None:
        """Register a secret: GitHub masks it in logs, and this reporter never prints it."""
        if not secret or secret in self._masks:
            return
        self._masks.append(secret)
        self._masks.sort(key=len, reverse=True)
        if self.actions:
            for line in secret.splitlines() or [secret]:
                if line.strip():
                    self._write(self.stderr, f"::add-mask::{line}", redact=False)

    def redact(self, text: str) -> str:
        """The text with every registered secret replaced by ``***``."""
        for secret in self._masks:
            text = text.replace(secret, "***")
        return text

    def _write(self, stream: TextIO, text: str, *, redact: bool = True) -> None:
        stream.write((self.redact(text) if redact else text) + "\n")
        stream.flush()

    # -- logs and annotations ------------------------------------------------------------------------
    def info(self, message: str) -> None:
        """A progress line (stderr)."""
        self._write(self.stderr, message)

    def debug(self, message: str) -> None:
        """A line shown only with --debug or RUNNER_DEBUG=1."""
        if self.actions and not self.debug_enabled:
            self._write(self.stderr, f"::debug::{_escape_data(message)}")
        elif self.debug_enabled:
            self._write(self.stderr, f"debug: {message}")

    def _annotate(self, level: str, message: str, title: str | None) -> None:
        if self.actions:
            props = f" title={_escape_property(self.redact(title))}" if title else ""
            self._write(self.stderr, f"::{level}{props}::{_escape_data(self.redact(message))}", redact=False)
        else:
            self._write(self.stderr, f"{level}: {message}")

    def notice(self, message: str, *, title: str | None = None) -> None:
        """A notice annotation in Actions; ``notice: …`` otherwise."""
        self._annotate("notice", message, title)

    def warning(self, message: str, *, title: str | None = None) -> None:
        """A warning annotation in Actions; ``warning: …`` otherwise."""
        self._annotate("warning", message, title)

    def error(self, message: str, *, title: str | None = None) -> None:
        """An error annotation in Actions; ``error: …`` otherwise."""
        self._annotate("error", message, title)

    @contextmanager
    def group(self, title: str) -> Iterator[Phase]:
        """A collapsible log group that records its duration as a phase."""
        phase = Phase(title)
        self.phases.append(phase)
        self._write(self.stderr, f"::group::{title}" if self.actions else f"== {title}")
        start = time.monotonic()
        try:
            yield phase
        except BaseException:
            phase.ok = False
            raise
        finally:
            phase.seconds = time.monotonic() - start
            if self.actions:
                self._write(self.stderr, "::endgroup::")
            self._write(
                self.stderr, f"   {title}: {'done' if phase.ok else 'failed'} in {phase.seconds:.1f}s"
            )

    # -- outputs, summary, result ------------------------------------------------------------------
    def set_output(self, name: str, value: object) -> None:
        """A step output (multi-line safe); kept in ``outputs`` outside Actions too."""
        text = self.redact(value if isinstance(value, str) else json.dumps(value))  # True -> "true"
        self.outputs[name] = text
        if self.github_output is None:
            return
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        with self.github_output.open("a", encoding="utf-8") as fh:
            fh.write(f"{name}<<{delimiter}\n{text}\n{delimiter}\n")

    def summary(self, markdown: str) -> None:
        """Append markdown to the job summary (Actions only)."""
        if self.step_summary is None:
            return
        with self.step_summary.open("a", encoding="utf-8") as fh:
            fh.write(self.redact(markdown).rstrip("\n") + "\n\n")

    def result(self, document: Mapping[str, Any], text: str | None = None) -> None:
        """The command's result on stdout: one JSON document with --output json, else ``text``."""
        if self.result_emitted:
            msg = "a command emits its result once"
            raise RuntimeError(msg)
        self.result_emitted = True
        if self.output == "json":
            self._write(self.stdout, json.dumps(document, indent=2, sort_keys=False, default=str))
        elif text is not None:
            self._write(self.stdout, text.rstrip("\n"))

    def timing_table(self) -> str:
        """The phases as a markdown table."""
        rows = [f"| {p.title} | {p.seconds:.1f}s | {'ok' if p.ok else 'failed'} |" for p in self.phases]
        return "\n".join(["| Phase | Duration | Result |", "|---|---|---|", *rows])


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A small markdown table; cells have pipes escaped."""

    def cell(value: str) -> str:
        return value.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain aligned table for terminals."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(line.rstrip() for line in [fmt.format(*headers), *(fmt.format(*r) for r in rows)])
