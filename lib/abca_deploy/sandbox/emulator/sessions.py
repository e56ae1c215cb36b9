"""Runtime sessions: each ``runtimeSessionId`` has its own container, as each AWS session has its own microVM.

A session is opened by the first invocation that names it (through one endpoint) and ends when it is
stopped (StopRuntimeSession), idles past the version's ``idleRuntimeSessionTimeout``, outlives its
``maxLifetime``, its container dies, or its endpoint stops serving its version. An ended session is gone: a
later invocation with the same id opens a new one in a fresh container. The first session of a version takes
over the container its readiness check left warm; later ones start their own (a cold start).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from abca_deploy.sandbox.emulator.runner import ContainerDown, StartFailed

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.sandbox.emulator.runner import ContainerSpec, Key, Runner, Target

log = logging.getLogger("abca_deploy.sandbox.emulator")
# (agentRuntimeId, endpoint name, runtimeSessionId): a session is reached through the endpoint that opened it.
SessionId = tuple[str, str, str]
REAP_INTERVAL = 1.0


@dataclass
class Session:
    """One open session: its container's runner key, its clock, and invocations in flight."""

    key: Key
    started: float
    last_active: float
    idle_timeout: float
    max_lifetime: float
    busy: int = 0

    def expired(self, now: float) -> str | None:
        """Why the session ends now (idle or too old), or None."""
        if now - self.started >= self.max_lifetime:
            return f"reached its maxLifetime ({self.max_lifetime:g}s)"
        if self.busy == 0 and now - self.last_active >= self.idle_timeout:
            return f"idle for its idleRuntimeSessionTimeout ({self.idle_timeout:g}s)"
        return None


class Sessions:
    """The open sessions of one emulator, their containers (through the runner) and their reaper."""

    def __init__(self, runner: Runner, clock: Callable[[], float] = time.monotonic) -> None:
        self._runner, self._clock = runner, clock
        self._lock = threading.Lock()
        self._open: dict[SessionId, Session] = {}
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    def enter(self, ident: SessionId, version: Key, spec: ContainerSpec) -> Target:
        """The container serving this invocation of session ``ident`` (opening the session if needed);
        raises StartFailed/ContainerDown (the session is then gone). Pair with ``leave``."""
        key, now = (*version, ident[2]), self._clock()
        with self._lock:
            session, stale = self._open.get(ident), None
            if session is not None and session.key != key:  # its endpoint moved on to another version
                stale, session = session.key, None
            fresh = session is None
            if session is None:
                session = Session(key, now, now, spec.idle_timeout, spec.max_lifetime)
                self._open[ident] = session
            session.busy += 1
            session.last_active = now
        if stale is not None:
            self._runner.release(stale)
        try:
            if fresh:
                self._runner.adopt(version, key)
            return self._runner.ensure(key, spec, revive=False)
        except (StartFailed, ContainerDown):
            self._end(ident, session, "its container failed")
            raise

    def leave(self, ident: SessionId) -> None:
        """An invocation of ``ident`` finished (its answer was sent or abandoned)."""
        with self._lock:
            session = self._open.get(ident)
            if session is not None:
                session.busy = max(0, session.busy - 1)
                session.last_active = self._clock()

    def end(self, ident: SessionId, why: str) -> bool:
        """End the session and remove its container; False when no such session is open."""
        with self._lock:
            session = self._open.get(ident)
        return session is not None and self._end(ident, session, why)

    def count(self, runtime_id: str | None = None) -> int:
        """How many sessions are open (of one runtime)."""
        with self._lock:
            return sum(1 for ident in self._open if runtime_id in (None, ident[0]))

    def retain(self, served: set[Key]) -> None:
        """End the sessions of versions not ``served``; remove every container that is neither a served
        version's nor an open session's. Sessions opening meanwhile wait, so none loses its container."""
        with self._lock:
            ending = [(i, s) for i, s in self._open.items() if s.key[:2] not in served]
        for ident, session in ending:
            self._end(ident, session, "its version is no longer served")
        with self._lock:
            self._runner.retain(served | {session.key for session in self._open.values()})

    def reap(self) -> None:
        """End the sessions that idled out or outlived their maxLifetime."""
        now = self._clock()
        with self._lock:
            ending = [(i, s, why) for i, s in self._open.items() if (why := s.expired(now))]
        for ident, session, why in ending:
            self._end(ident, session, why)

    def start(self) -> None:
        """Reap in the background until ``close``."""
        self._reaper = threading.Thread(target=self._reap_until_closed, daemon=True, name="emulator-reaper")
        self._reaper.start()

    def close(self) -> None:
        """Stop reaping; the runner removes the containers itself when it closes."""
        self._stop.set()
        if self._reaper is not None:
            self._reaper.join(5)
        with self._lock:
            self._open.clear()

    def _reap_until_closed(self) -> None:
        while not self._stop.wait(REAP_INTERVAL):
            try:
                self.reap()
            except Exception:  # the reaper must outlive a failing engine call
                log.exception("reaping sessions failed")

    def _end(self, ident: SessionId, session: Session, why: str) -> bool:
        with self._lock:
            if self._open.get(ident) is not session:
                return False
            del self._open[ident]
        self._runner.release(session.key)
        log.info("runtime %s endpoint %s: session %s ended: %s", *ident, why)
        return True
