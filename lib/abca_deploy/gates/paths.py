"""Path filters: named sets of gitignore-style globs, matched against the files a git range changed.

Patterns are anchored at the repository root, like the ``paths`` filters of GitHub's workflow triggers:
``repos.yaml`` is the root file only, ``agent/**`` everything under ``agent/``, ``**/*.md`` any Markdown file.
A leading ``!`` excludes what earlier patterns of the same filter matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

DEFAULT_FILTERS: dict[str, tuple[str, ...]] = {
    # Both feed ABCA's agent image: the Dockerfile builds from the repo root and copies contracts/.
    "runtime": ("agent/**", "contracts/**"),
    "infra": ("cdk/**",),
    "config": ("repos.yaml",),
}
FILTER_FORM = "NAME=GLOB[,GLOB...], e.g. runtime=agent/**,contracts/**"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class PathFilter:
    """One named filter and its compiled patterns."""

    name: str
    patterns: tuple[str, ...]
    _spec: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def build(cls, name: str, patterns: Sequence[str]) -> PathFilter:
        """Compile the patterns (gitignore semantics, anchored at the root)."""
        import pathspec

        spec = pathspec.GitIgnoreSpec.from_lines([_anchor(p) for p in patterns])
        return cls(name, tuple(patterns), spec)

    def matches(self, paths: Iterable[str]) -> list[str]:
        """The paths this filter selects, in the given order."""
        return [p for p in paths if self._spec.match_file(p)]


def _anchor(pattern: str) -> str:
    negate, body = ("!", pattern[1:]) if pattern.startswith("!") else ("", pattern)
    return negate + (body if body.startswith("/") else "/" + body)


def parse_filter(text: str) -> tuple[str, tuple[str, ...]]:
    """``NAME=GLOB,GLOB`` -> (name, globs); a ValueError names what is wrong."""
    name, sep, rest = text.partition("=")
    name = name.strip()
    if not sep or not _NAME.match(name):
        msg = "must be NAME=GLOB[,GLOB...] with a NAME of letters, digits, '_' or '-'"
        raise ValueError(msg)
    globs = tuple(g.strip() for g in rest.split(",") if g.strip())
    if not globs:
        msg = f"filter {name!r} has no glob"
        raise ValueError(msg)
    for glob in globs:
        if glob in {"!", "/"} or glob.startswith("!!") or "\\" in glob:
            msg = f"filter {name!r} has an invalid glob {glob!r}"
            raise ValueError(msg)
    return name, globs


def build_filters(overrides: Sequence[str], defaults: Mapping[str, Sequence[str]] = DEFAULT_FILTERS,
                  ) -> list[PathFilter]:
    """The default filters, each ``--filters`` replacing the one of the same name or adding a new one."""
    chosen: dict[str, Sequence[str]] = dict(defaults)
    for text in overrides:
        name, globs = parse_filter(text)
        chosen[name] = globs
    return [PathFilter.build(name, globs) for name, globs in chosen.items()]
