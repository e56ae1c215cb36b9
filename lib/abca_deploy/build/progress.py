"""Read BuildKit's progress (``docker buildx build --progress=rawjson``): log it, count what was reused.

rawjson is BuildKit's own SolveStatus stream, one pretty-printed JSON document after another: vertices
(steps, with ``cached`` when a step's result came from a cache), statuses (transfers such as ``pushing layer
…``) and logs (a step's output). Counting from it is exact where the plain text output only hints.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

# "[stage-1 3/4] COPY …", "[2/5] RUN …": the steps that make layers.
_LAYER_STEP = re.compile(r"^\[(?:[^\]]* )?\d+/\d+\] (RUN|COPY|ADD) ")
_CACHE_IMPORT = re.compile(r"^importing cache manifest from (?P<ref>\S+)")


@dataclass
class _Vertex:
    name: str = ""
    cached: bool = False
    error: str = ""
    started: str = ""
    completed: str = ""
    reported: bool = False


@dataclass
class BuildProgress:
    """Fed one line of buildx's stderr at a time; logs steps as they finish and keeps the counts."""

    log: Callable[[str], None]
    vertices: dict[str, _Vertex] = field(default_factory=dict)
    pushes: dict[str, bool] = field(default_factory=dict)  # layer id -> bytes were sent
    other: list[str] = field(default_factory=list)  # lines that are not progress (buildx's own errors)
    _buffer: list[str] = field(default_factory=list)

    def feed(self, line: str) -> None:
        """One line of stderr."""
        text = line.rstrip("\n")
        if not self._buffer and not text.startswith("{"):
            if text.strip():
                self.other.append(text)
                self.log(text)
            return
        self._buffer.append(text)
        if text == "}":  # only a top-level document closes at column 0
            document = json.loads("\n".join(self._buffer))
            self._buffer.clear()
            self._apply(document)

    def _apply(self, document: dict[str, Any]) -> None:
        for raw in document.get("vertexes") or []:
            vertex = self.vertices.setdefault(raw["digest"], _Vertex())
            vertex.name = raw.get("name", vertex.name)
            vertex.cached = vertex.cached or bool(raw.get("cached"))
            vertex.error = raw.get("error") or vertex.error
            vertex.started = raw.get("started") or vertex.started
            vertex.completed = raw.get("completed") or vertex.completed
            if (vertex.completed or vertex.error) and not vertex.reported:
                vertex.reported = True
                self.log(self._line(vertex))
        for status in document.get("statuses") or []:
            name = str(status.get("id", ""))
            if name.startswith("pushing layer "):
                if not self.pushes:
                    self.log("pushing layers to the registry")
                sent = bool(status.get("total") or status.get("current"))
                self.pushes[name] = self.pushes.get(name, False) or sent
        for entry in document.get("logs") or []:
            data = base64.b64decode(entry.get("data") or b"").decode(errors="replace")
            for out in data.splitlines():
                if out.strip():
                    self.log(f"  {out}")

    @staticmethod
    def _line(vertex: _Vertex) -> str:
        if vertex.error:
            return f"{vertex.name}: ERROR {vertex.error}"
        if vertex.cached:
            return f"{vertex.name}: CACHED"
        return f"{vertex.name}: done in {_seconds(vertex.started, vertex.completed):.1f}s"

    @property
    def steps(self) -> int:
        """Layer-making steps (RUN, COPY, ADD) in the build."""
        return sum(1 for v in self.vertices.values() if _LAYER_STEP.match(v.name))

    @property
    def cached_steps(self) -> int:
        """Layer-making steps whose result came from a cache."""
        return sum(1 for v in self.vertices.values() if v.cached and _LAYER_STEP.match(v.name))

    @property
    def cache_imports(self) -> dict[str, str]:
        """Each cache source the build tried: ref -> "" when imported, else the error."""
        found = {}
        for vertex in self.vertices.values():
            match = _CACHE_IMPORT.match(vertex.name)
            if match:
                found[match["ref"]] = vertex.error
        return found

    @property
    def layers_pushed(self) -> int | None:
        """Layers whose bytes were sent (the engine reports the rest as already present); None if unknown."""
        return sum(self.pushes.values()) if self.pushes else None

    @property
    def layers_present(self) -> int | None:
        """Layers the registry already had."""
        return sum(not sent for sent in self.pushes.values()) if self.pushes else None

    def failure(self) -> str:
        """The most telling error text: a failed step's error, else buildx's last words."""
        errors = [f"{v.name}: {v.error}" for v in self.vertices.values()
                  if v.error and not _CACHE_IMPORT.match(v.name)]
        if errors:
            return errors[-1]
        return " ".join(self.other[-3:]) or "no error message"


def _seconds(started: str, completed: str) -> float:
    try:
        return (_parse(completed) - _parse(started)).total_seconds()
    except ValueError:
        return 0.0


def _parse(stamp: str) -> datetime:
    # BuildKit writes nanoseconds; fromisoformat takes at most microseconds.
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", stamp).replace("Z", "+00:00")
    return datetime.fromisoformat(trimmed)
