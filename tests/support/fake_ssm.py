"""A hand-written fake of the SSM Parameter Store adapter with AWS's semantics that leases rely on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from abca_deploy.aws.ssm import Listing, Stored

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass
class FakeParameters:
    """Create-only puts fail on an existing name; each put is a new version stamped with ``now``."""

    start: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    offset: float = 0.0
    clock: Callable[[], float] | None = None  # seconds; e.g. a test's fake clock, so AWS time moves with it
    versions: dict[str, list[Stored]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.offset + (self.clock() if self.clock else 0.0))

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def _write(self, name: str, value: str) -> None:
        history = self.versions.setdefault(name, [])
        number = history[-1].version + 1 if history else 1
        history.append(Stored(name, value, number, self.now()))

    def read(self, name: str) -> Stored | None:
        self.calls.append(f"read {name}")
        history = self.versions.get(name)
        return history[-1] if history else None

    def get(self, name: str) -> str | None:
        found = self.read(name)
        return found.value if found else None

    def put(self, name: str, value: str) -> None:
        self.calls.append(f"put {name}")
        self._write(name, value)

    def create(self, name: str, value: str) -> bool:
        self.calls.append(f"create {name}")
        if self.versions.get(name):
            return False
        self._write(name, value)
        return True

    def delete(self, name: str) -> bool:
        self.calls.append(f"delete {name}")
        return self.versions.pop(name, None) is not None

    def children(self, path: str) -> Listing:
        self.calls.append(f"children {path}")
        prefix = path.rstrip("/") + "/"
        found = [h[-1] for name, h in sorted(self.versions.items())
                 if name.startswith(prefix) and "/" not in name[len(prefix):] and h]
        return Listing(tuple(found), self.now())

    def history(self, name: str) -> list[Stored]:
        return list(reversed(self.versions.get(name, [])))
