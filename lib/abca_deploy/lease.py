"""Leases in SSM Parameter Store: one holder at a time per resource (a runtime, a repo table).

A lease is a series of numbered *generations* under ``<path>/<n>``, each a String parameter created
create-only (``PutParameter`` without ``Overwrite`` fails with ``ParameterAlreadyExists``: the one
compare-and-set Parameter Store has). Only the highest generation counts: its holder renews it (a heartbeat
overwrites it, so AWS stamps a new ``LastModifiedDate``) and marks it released at the end. A generation
whose ``LastModifiedDate`` is older than its ``ttl`` *by the server's clock* (the ``Date`` header of the
listing) has expired: a crashed or SIGKILLed holder never blocks for longer than that. Taking over means
creating the next number, so two takers of one expired generation cannot both win; the winner then checks
that no higher generation appeared (a taker that had read an older listing loses and deletes its own), and
removes the generations below its own. The decision is the pure ``decide``; ``Lease`` is the loop around it.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from abca_deploy.errors import OperationFailed

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from datetime import datetime

    from abca_deploy.aws.ssm import Listing, Stored
    from abca_deploy.report import Reporter

DEFAULT_TTL = 90.0
POLL = 2.0


class Store(Protocol):
    """What a lease needs from Parameter Store (``abca_deploy.aws.ssm.Parameters``)."""

    def children(self, path: str) -> Listing: ...
    def create(self, name: str, value: str) -> bool: ...
    def put(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> bool: ...


@dataclass(frozen=True)
class Owner:
    """Who holds a lease: the CI run (or host), the process, and a key naming the CI job it runs in."""

    run: str
    host: str
    pid: int
    job: str = ""

    @classmethod
    def current(cls, env: Mapping[str, str] | None = None) -> Owner:
        """This process, described from the GitHub Actions variables when present."""
        env = os.environ if env is None else env
        run_id = env.get("GITHUB_RUN_ID", "")
        if run_id:
            url = f"{env.get('GITHUB_SERVER_URL', 'https://github.com')}/{env.get('GITHUB_REPOSITORY', '')}"
            attempt, job = env.get("GITHUB_RUN_ATTEMPT", "1"), env.get("GITHUB_JOB", "")
            run = f"{url}/actions/runs/{run_id} (attempt {attempt}, job {job})"
            key = f"{run_id}/{attempt}/{job}/{env.get('RUNNER_NAME', '')}"
            return cls(run, socket.gethostname(), os.getpid(), key)
        return cls("local", socket.gethostname(), os.getpid())

    def describe(self) -> str:
        """One line for messages."""
        where = "a local run" if self.run == "local" else self.run
        return f"{where} on {self.host}, pid {self.pid}"

    def as_dict(self) -> dict[str, Any]:
        """The JSON form stored in a generation."""
        return {"run": self.run, "host": self.host, "pid": self.pid, "job": self.job}


@dataclass(frozen=True)
class Generation:
    """One generation as read back: its number, holder, state, ttl and AWS's last-modified time."""

    number: int
    name: str
    owner: Owner | None
    released: bool
    ttl: float
    modified: datetime


@dataclass(frozen=True)
class Decision:
    """What to do now: ``take`` generation ``number`` (replacing ``holder``), or ``wait`` for ``holder``."""

    action: Literal["take", "wait"]
    number: int
    reason: str
    holder: Generation | None = None
    expires_in: float = 0.0
    stale: tuple[str, ...] = field(default=())


def parse(item: Stored) -> Generation | None:
    """A generation from a stored parameter; None when its name does not end in a number."""
    tail = item.name.rsplit("/", 1)[-1]
    if not tail.isdigit():
        return None
    try:
        data = json.loads(item.value)
        raw = data["owner"]
        owner = Owner(str(raw["run"]), str(raw["host"]), int(raw["pid"]), str(raw.get("job", "")))
        return Generation(int(tail), item.name, owner, bool(data.get("released")),
                          float(data.get("ttl", DEFAULT_TTL)), item.modified)
    except (ValueError, KeyError, TypeError):  # unreadable: a holder we cannot name, still bound by the ttl
        return Generation(int(tail), item.name, None, False, DEFAULT_TTL, item.modified)


def decide(generations: Sequence[Generation], server_now: datetime, me: Owner) -> Decision:
    """Take the next generation when the highest one is absent, released, expired or ours; else wait."""
    if not generations:
        return Decision("take", 1, "free")
    top = max(generations, key=lambda g: g.number)
    stale = tuple(g.name for g in generations)
    age = (server_now - top.modified).total_seconds()
    if top.released:
        return Decision("take", top.number + 1, "released", top, stale=stale)
    if age > top.ttl:
        return Decision("take", top.number + 1, "expired", top, stale=stale)
    if top.owner is not None and me.job and top.owner.job == me.job and top.owner.pid != me.pid:
        # An earlier step of this very job (steps run one after another): it has exited.
        return Decision("take", top.number + 1, "left by an earlier step of this job", top, stale=stale)
    return Decision("wait", top.number, "held", top, expires_in=max(0.0, top.ttl - age))


class LeaseBusy(OperationFailed):
    """The lease stayed held by someone else for the whole wait."""


class LeaseLost(OperationFailed):
    """Someone took the lease over (this holder stopped renewing it for longer than its ttl)."""


class Lease:
    """Acquire, renew (a background thread) and release one lease at ``path``."""

    def __init__(self, store: Store, path: str, owner: Owner, *, what: str, ttl: float = DEFAULT_TTL,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.store, self.path, self.owner, self.what, self.ttl = store, path.rstrip("/"), owner, what, ttl
        self.sleep, self.clock = sleep, clock
        self.number = 0
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._beats = 0
        self._thread: threading.Thread | None = None

    def _value(self, *, released: bool = False) -> str:
        return json.dumps({"owner": self.owner.as_dict(), "ttl": self.ttl, "released": released,
                           "what": self.what, "beat": self._beats}, sort_keys=True)

    def acquire(self, timeout: float, announce: Callable[[Decision], None]) -> Decision:
        """Wait (up to ``timeout`` seconds) until this process holds the lease; the decision that took it."""
        deadline, announced = self.clock() + timeout, False
        while True:
            listing = self.store.children(self.path)
            generations = [g for item in listing.parameters if (g := parse(item))]
            decision = decide(generations, listing.server_time, self.owner)
            if decision.action == "take":
                if self._take(decision):
                    return decision
                continue  # another taker created that generation first: read again
            if not announced:
                announce(decision)
                announced = True
            left = deadline - self.clock()
            if left <= 0:
                raise self._busy(decision, timeout)
            # Poll every 2 s at most (the holder may release any moment), sooner when its ttl runs out.
            self.sleep(min(left, POLL, max(0.5, decision.expires_in + 0.5)) * random.uniform(0.8, 1.0))

    def _take(self, decision: Decision) -> bool:
        name = f"{self.path}/{decision.number}"
        if not self.store.create(name, self._value()):
            return False
        self.number = decision.number
        newer = [g for item in self.store.children(self.path).parameters
                 if (g := parse(item)) and g.number > decision.number]
        if newer:  # we read an old listing; a newer generation already holds the lease
            self.store.delete(name)
            self.number = 0
            return False
        for stale in decision.stale:
            self.store.delete(stale)
        self._thread = threading.Thread(target=self._renew, name="lease-heartbeat", daemon=True)
        self._thread.start()
        return True

    def _busy(self, decision: Decision, timeout: float) -> LeaseBusy:
        holder = decision.holder
        who = holder.owner.describe() if holder and holder.owner else "an unreadable holder"
        msg = (f"{self.what} is locked by {who} (lease {self.path}/{decision.number}); waited "
               f"{timeout:.0f}s. It expires {decision.expires_in:.0f}s after its last heartbeat unless "
               "renewed.")
        return LeaseBusy(msg, hint="Let that run finish, or raise --lease-timeout.",
                         title="Locked by another run")

    def _renew(self) -> None:
        """Heartbeat: overwrite our generation every ttl/4; stop when told or when a newer one exists."""
        interval, last_ok = max(0.5, self.ttl / 4), self.clock()
        while not self._stop.wait(interval):
            try:
                listing = self.store.children(self.path)
                if any((g := parse(item)) and g.number > self.number for item in listing.parameters):
                    self.lost.set()
                    return
                self._beats += 1
                self.store.put(f"{self.path}/{self.number}", self._value())
                last_ok = self.clock()
            except Exception:  # a failed beat is retried; too many in a row and the lease may be gone
                if self.clock() - last_ok > self.ttl * 0.8:
                    self.lost.set()
                    return

    def check(self) -> None:
        """Raise LeaseLost if the lease was taken over; call before each change."""
        if self.lost.is_set():
            msg = (f"The lease on {self.what} ({self.path}/{self.number}) was taken over: this run stopped "
                   f"renewing it for longer than its ttl ({self.ttl:.0f}s). Stopped before changing anything "
                   "else.")
            raise LeaseLost(msg, title="Lease lost")

    def release(self) -> str | None:
        """Stop renewing and mark our generation released (kept: the numbers must only grow). Never raises
        (it runs while another error may be on its way out): returns why it could not, if it could not."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        number, self.number = self.number, 0
        if not number or self.lost.is_set():
            return None
        try:
            self.store.put(f"{self.path}/{number}", self._value(released=True))
        except Exception as exc:  # reported by the caller; the lease then expires by itself
            return (f"Could not release the lease {self.path}/{number} ({exc}); it expires {self.ttl:.0f}s "
                    "after its last heartbeat.")
        return None


TABLE_PREFIX = "/abca-deploy/table"
TABLE_WAIT = 900.0


@contextlib.contextmanager
def table_lease(table: str, region: str | None, reporter: Reporter, *, enabled: bool = True,
                timeout: float = TABLE_WAIT) -> Iterator[Lease | None]:
    """Hold the repo table's lease (``/abca-deploy/table/<table>/lease``) while syncing it; a concurrent sync
    waits (up to ``timeout``) and then plans against the table as the first left it."""
    if not enabled:
        yield None
        return
    from abca_deploy.aws.session import client
    from abca_deploy.aws.ssm import Parameters

    lease = Lease(Parameters(client("ssm", region)), f"{TABLE_PREFIX}/{table}/lease", Owner.current(),
                  what=f"repo table {table}")

    def announce(decision: Decision) -> None:
        holder = decision.holder
        who = holder.owner.describe() if holder and holder.owner else "an unreadable holder"
        reporter.notice(f"Another sync of repo table {table} is running ({who}); waiting up to "
                        f"{timeout:.0f}s, then planning against the table as it leaves it.",
                        title="Waiting for the lease")

    lease.acquire(timeout, announce)
    try:
        yield lease
    finally:
        if problem := lease.release():
            reporter.warning(problem, title="Lease not released")
