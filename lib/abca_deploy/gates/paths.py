"""Path filters: named, ordered lists of gitignore-style globs matched against the files a git range changed.

Patterns are anchored at the repository root, like the ``paths`` filters of GitHub's workflow triggers:
``repos.yaml`` is the root file only, ``agent/**`` everything under ``agent/``, ``**/*.md`` any Markdown file.
A leading ``!`` excludes; the last pattern that matches a path decides. The token ``@image`` stands for the
files the agent image build reads (``gates.image``: what the Dockerfile copies, minus ``.dockerignore``).

The defaults know ABCA's layout (upstream 2cee8800): the runtime is the image build; the infrastructure is
the CDK app, the Yarn workspace root that installs it, and ``contracts/`` (the CDK imports
``contracts/constants.json``); the repo table is ``repos.yaml``. Tests and Markdown deploy nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from abca_deploy.gates.image import ImageInputs

IMAGE = "@image"
DOCUMENTATION = "!**/*.md"
DEFAULT_FILTERS: dict[str, tuple[str, ...]] = {
    "runtime": (IMAGE, DOCUMENTATION),
    "infra": ("cdk/**", "package.json", "yarn.lock", ".yarnrc", ".yarnrc.yml", ".npmrc", "contracts/**",
              "!cdk/test/**", DOCUMENTATION),
    "config": ("repos.yaml",),
}
FILTER_FORM = "NAME=GLOB[,GLOB...], e.g. runtime=@image,!**/*.md or infra=cdk/**,!cdk/test/**"
FILTER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
"""A filter's name, which is also a lifecycle's (``record``)."""


@dataclass(frozen=True)
class Rule:
    """One pattern: whether it excludes, and the test it applies."""

    negate: bool
    test: Callable[[str], bool]


@dataclass(frozen=True)
class PathFilter:
    """One named filter, its patterns as written, and how they were resolved (for the summary)."""

    name: str
    patterns: tuple[str, ...]
    rules: tuple[Rule, ...]
    shown: tuple[str, ...]

    @classmethod
    def build(cls, name: str, patterns: Sequence[str], image: ImageInputs | None = None) -> PathFilter:
        """Compile the patterns; ``@image`` needs the image build's inputs."""
        import pathspec

        rules, shown = [], []
        for pattern in patterns:
            negate, body = (True, pattern[1:]) if pattern.startswith("!") else (False, pattern)
            if body == IMAGE:
                if image is None:
                    msg = f"filter {name!r} uses {IMAGE} but no image build was read"
                    raise ValueError(msg)
                rules.append(Rule(negate, image.reads))
                shown.append(("!" if negate else "") + image.describe())
                continue
            spec = pathspec.GitIgnoreSpec.from_lines([body if body.startswith("/") else "/" + body])
            rules.append(Rule(negate, spec.match_file))
            shown.append(pattern)
        return cls(name, tuple(patterns), tuple(rules), tuple(shown))

    def selects(self, path: str) -> bool:
        """True when the last pattern that matches ``path`` includes it."""
        selected = False
        for rule in self.rules:
            if rule.test(path):
                selected = not rule.negate
        return selected

    def matches(self, paths: Iterable[str]) -> list[str]:
        """The paths this filter selects, in the given order."""
        return [p for p in paths if self.selects(p)]


def parse_filter(text: str) -> tuple[str, tuple[str, ...]]:
    """``NAME=GLOB,GLOB`` -> (name, globs); a ValueError names what is wrong."""
    name, sep, rest = text.partition("=")
    name = name.strip()
    if not sep or not FILTER_NAME.match(name):
        msg = "must be NAME=GLOB[,GLOB...] with a NAME of letters, digits, '_' or '-'"
        raise ValueError(msg)
    globs = tuple(g.strip() for g in rest.split(",") if g.strip())
    if not globs:
        msg = f"filter {name!r} has no glob"
        raise ValueError(msg)
    for glob in globs:
        if glob in {"!", "/"} or glob.startswith("!!") or "\\" in glob or (glob.lstrip("!").startswith("@")
                                                                           and glob.lstrip("!") != IMAGE):
            msg = f"filter {name!r} has an invalid glob {glob!r}"
            raise ValueError(msg)
    return name, globs


def chosen_filters(overrides: Sequence[str], defaults: Mapping[str, Sequence[str]] = DEFAULT_FILTERS,
                   ) -> dict[str, tuple[str, ...]]:
    """The default filters, each ``--filters`` replacing the one of the same name or adding a new one."""
    chosen = {name: tuple(globs) for name, globs in defaults.items()}
    for text in overrides:
        name, globs = parse_filter(text)
        chosen[name] = globs
    return chosen


def uses_image(chosen: Mapping[str, Sequence[str]]) -> bool:
    """True when some filter needs the image build's inputs."""
    return any(glob.lstrip("!") == IMAGE for globs in chosen.values() for glob in globs)


def build_filters(overrides: Sequence[str], defaults: Mapping[str, Sequence[str]] = DEFAULT_FILTERS,
                  image: ImageInputs | None = None) -> list[PathFilter]:
    """The compiled filters (defaults plus ``--filters``)."""
    chosen = chosen_filters(overrides, defaults)
    return [PathFilter.build(name, globs, image) for name, globs in chosen.items()]
