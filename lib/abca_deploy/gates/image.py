"""Which repository files an image build reads: the Dockerfile's context sources minus the ignore file.

Read from the commit being gated (not the working tree), so the answer is the one the build of that commit
will give. The ignore file is BuildKit's: ``<Dockerfile>.dockerignore`` next to the Dockerfile when it exists,
else ``.dockerignore`` at the context root, matched like Docker does (moby's pattern matcher: ``*`` within a
path segment, ``**`` across segments, ``!`` re-includes, and a pattern that matches a parent directory
excludes everything under it).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

from abca_deploy.gates.dockerfile import Unresolved, clean_source, context_sources, copies, instructions

if TYPE_CHECKING:
    from collections.abc import Sequence

    from abca_deploy.gates.git import Git


class DockerIgnore:
    """``.dockerignore`` patterns with Docker's matching (case-sensitive, as on Linux)."""

    def __init__(self, lines: Sequence[str]) -> None:
        from docker.utils.build import Pattern

        kept = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
        patterns = [Pattern(line) for line in kept]
        self.patterns = [p for p in patterns if p.dirs]

    def excludes(self, path: str) -> bool:
        """True when the build context leaves ``path`` (relative to the context) out."""
        from docker.utils.fnmatch import fnmatchcase

        parts = path.split("/")
        candidates = [path] + ["/".join(parts[:i]) for i in range(1, len(parts))]
        excluded = False
        for pattern in self.patterns:
            if pattern.exclusion != excluded:
                continue  # an exclusion only matters once excluded, an inclusion only before
            if any(fnmatchcase(candidate, pattern.cleaned_pattern) for candidate in candidates):
                excluded = not pattern.exclusion
        return excluded


@dataclass(frozen=True)
class ImageInputs:
    """The files a build of ``dockerfile`` in ``context`` reads, as repository paths."""

    context: str
    dockerfile: str
    ignore_files: tuple[str, str]
    sources: tuple[str, ...]
    ignore: DockerIgnore
    note: str

    def reads(self, path: str) -> bool:
        """True when a change to ``path`` (repository-relative) changes what the build receives."""
        if path == self.dockerfile or path in self.ignore_files:
            return True
        if self.context:
            if not path.startswith(self.context + "/"):
                return False
            path = path[len(self.context) + 1:]
        if self.ignore.excludes(path):
            return False
        return any(copies(source, path) for source in self.sources)

    def describe(self) -> str:
        """How the filter was derived, for the summary."""
        return f"@image ({self.note})"


def load(git: Git, head: str, context: str, dockerfile: str) -> ImageInputs:
    """The build inputs of ``dockerfile`` (relative to ``context``) at commit ``head``."""
    root = "" if clean_source(context) == "." else clean_source(context)
    path = posixpath.join(root, clean_source(dockerfile)) if root else clean_source(dockerfile)
    specific = f"{path}.dockerignore"
    general = posixpath.join(root, ".dockerignore") if root else ".dockerignore"
    ignore_text = git.show(head, specific)
    if ignore_text is None:
        ignore_text = git.show(head, general)
    ignore = DockerIgnore((ignore_text or b"").decode("utf-8", "replace").splitlines())
    where = f"{path} in {root or '.'}"
    text = git.show(head, path)
    if text is None:
        return ImageInputs(root, path, (specific, general), (".",), ignore,
                           f"{where}: no such file at {head[:12]}, so the whole context counts")
    try:
        sources = context_sources(instructions(text.decode("utf-8", "replace")))
    except Unresolved as exc:
        return ImageInputs(root, path, (specific, general), (".",), ignore,
                           f"{where}: a source uses ${exc}, known only at build time, so the whole context "
                           "counts")
    cleaned = tuple(dict.fromkeys(clean_source(source) for source in sources))
    return ImageInputs(root, path, (specific, general), cleaned, ignore,
                       f"{where}: {', '.join(cleaned) or 'nothing'} from the context")
