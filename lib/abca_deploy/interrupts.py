"""Signals as exceptions: SIGINT/SIGTERM (how GitHub cancels a job) and SIGALRM (the --timeout alarm).

GitHub cancels a step by sending SIGINT to its entry process, SIGTERM 7.5 s later and, 2.5 s after that, it
kills the process (docs.github.com "Workflow cancellation reference"; actions/runner
``src/Runner.Sdk/ProcessInvoker.cs``: ``kill(pid, SIGINT)``, ``_sigintTimeout`` 7.5 s, ``_sigtermTimeout``
2.5 s). While the handlers are *armed*, the first signal raises ``Interrupted`` in the main thread; later
ones are only recorded, so the clean-up that follows is not itself interrupted but can see how much of the
grace period is left (``deadline``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# How long the clean-up may take after each signal, leaving a margin before GitHub's next step.
GRACE: dict[int, float] = {signal.SIGINT: 6.0, signal.SIGTERM: 2.0}
HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)


class Interrupted(BaseException):
    """A signal stopped the work: SIGINT or SIGTERM (a cancelled job) or SIGALRM (``--timeout``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def name(self) -> str:
        """``SIGINT``, ``SIGTERM`` or ``SIGALRM``."""
        return signal.Signals(self.signum).name

    @property
    def timed_out(self) -> bool:
        """True for the --timeout alarm."""
        return self.signum == signal.SIGALRM

    @property
    def exit_code(self) -> int:
        """130 for SIGINT, 143 for SIGTERM (the shell convention 128 + n); 1 for a timeout."""
        return 1 if self.timed_out else 128 + self.signum


@dataclass
class Signals:
    """The process's signal state: what arrived when, and whether the next one raises."""

    received: list[tuple[int, float]] = field(default_factory=list)
    armed: bool = False
    installed: bool = False
    clock: Callable[[], float] = time.monotonic

    def _handle(self, signum: int, _frame: object) -> None:
        self.received.append((signum, self.clock()))
        if self.armed:
            self.armed = False
            raise Interrupted(signum)

    @contextlib.contextmanager
    def handled(self) -> Iterator[Signals]:
        """Install the handlers (main thread only) for the duration; restore the previous ones after."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.signal(sig, self._handle) for sig in HANDLED}
        self.received.clear()
        self.armed = self.installed = True
        try:
            yield self
        finally:
            self.armed = self.installed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def alarm(self, seconds: float | None) -> None:
        """Raise Interrupted(SIGALRM) after ``seconds`` (None: no alarm). Only while the handlers are
        installed: SIGALRM's default action ends the process."""
        if seconds and self.installed:
            signal.setitimer(signal.ITIMER_REAL, seconds)

    def disarm_alarm(self) -> None:
        """Cancel a pending alarm."""
        if self.installed:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def deadline(self) -> float | None:
        """The monotonic time by which clean-up must end (the tightest grace of the signals so far)."""
        ends = [at + GRACE[sig] for sig, at in self.received if sig in GRACE]
        return min(ends) if ends else None

    def remaining(self) -> float | None:
        """Seconds of grace left (None: no cancel signal arrived, no limit)."""
        end = self.deadline()
        return None if end is None else end - self.clock()


SIGNALS = Signals()
"""The process-wide signal state; ``cli.main`` installs the handlers around each command."""
