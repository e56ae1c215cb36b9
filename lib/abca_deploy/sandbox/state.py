"""The sandbox's state file: what ``up`` started (pids, ports, container ids) and what it seeded."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
DEFAULT_STATE_DIR = Path("~/.abca-sandbox")


def default_state_dir() -> Path:
    """``~/.abca-sandbox``, expanded."""
    return DEFAULT_STATE_DIR.expanduser()


def instance_name(state_dir: Path) -> str:
    """The container-label instance for a state dir: ``default`` for the default dir, else a stable hash."""
    resolved = state_dir.expanduser().resolve()
    if resolved == default_state_dir().resolve():
        return "default"
    return "sb-" + hashlib.sha256(str(resolved).encode()).hexdigest()[:10]


@dataclass
class ServiceRecord:
    """One started service: how to find it again and how to stop exactly it."""

    port: int
    pid: int | None = None
    container_id: str | None = None
    log: str | None = None


@dataclass
class State:
    """Everything ``down`` needs to stop exactly what ``up`` started, plus facts ``env`` prints."""

    instance: str
    services: dict[str, ServiceRecord] = field(default_factory=dict)
    base_image: str | None = None
    platform: str | None = None
    seed: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The state as JSON text."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        """Parse a state document written by ``to_json``."""
        services = {name: ServiceRecord(**record) for name, record in data.get("services", {}).items()}
        return cls(instance=str(data["instance"]), services=services, base_image=data.get("base_image"),
                   platform=data.get("platform"), seed=dict(data.get("seed") or {}))


def load(state_dir: Path) -> State | None:
    """The recorded state, or None when there is none (or it is unreadable)."""
    path = state_dir / STATE_FILE
    try:
        return State.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(state_dir: Path, state: State) -> None:
    """Write the state atomically (readable by the owner only)."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = state_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.to_json() + "\n", encoding="utf-8")
    tmp.replace(path)
