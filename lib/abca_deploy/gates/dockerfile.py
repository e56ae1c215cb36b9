"""The context paths an image build reads: the sources of COPY, ADD and RUN bind mounts in a Dockerfile.

The runtime gate follows what the Dockerfile really copies, so it cannot go stale when the Dockerfile changes.
This is a small reader of Dockerfile syntax, not a builder: parser directives (``# escape=``), comments, line
continuations, heredocs, the JSON and shell forms and flags, and ``ARG``/``ENV`` values substituted into
source paths. (The one Python binding of BuildKit's own parser ships x86-64 Linux wheels only; the publish
job runs on arm64.) Sources that come from elsewhere do not count: ``COPY --from=…``, ``ADD`` of a URL or git
repository, heredoc bodies, ``RUN --mount`` with ``from=``. When a source cannot be resolved (a variable whose
value is only known at build time), the whole context counts: deploying too much is safe.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass

_DIRECTIVE = re.compile(r"^#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")
_EXPRESSION = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<operator>:[-+])(?P<word>.*))?$")
_REMOTE = ("http://", "https://", "git@", "git://", "ssh://")
_WILDCARD = re.compile(r"[*?\[]")


class Unresolved(ValueError):
    """A source path uses a value only known at build time."""


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: keyword (upper case), flags, arguments."""

    keyword: str
    flags: tuple[str, ...]
    args: tuple[str, ...]


def instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile, continuations joined, comments and heredoc bodies dropped."""
    lines = text.splitlines()
    escape = "\\"
    start = 0
    for start, raw in enumerate(lines):  # noqa: B007 - parser directives only at the very top
        directive = _DIRECTIVE.match(raw.strip())
        if directive is None:
            break
        if directive[1].lower() == "escape" and directive[2] in {"\\", "`"}:
            escape = directive[2]
    found: list[Instruction] = []
    index, logical = start, ""
    while index < len(lines):
        raw = lines[index]
        index += 1
        stripped = raw.strip()
        if not logical and (not stripped or stripped.startswith("#")):
            continue
        if logical and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith(escape) and not stripped.endswith(escape * 2):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        instruction = _split(logical)
        logical = ""
        if instruction.keyword in {"RUN", "COPY", "ADD"}:
            index = _skip_heredocs(lines, index, " ".join(instruction.args))
        found.append(instruction)
    return found


def _split(text: str) -> Instruction:
    keyword, _, rest = text.strip().partition(" ")
    tokens = rest.split()
    flags = []
    while tokens and tokens[0].startswith("--"):
        flags.append(tokens.pop(0))
    remainder = rest.strip()
    for flag in flags:
        remainder = remainder[remainder.index(flag) + len(flag):].lstrip()
    if remainder.startswith("["):
        try:
            parsed = json.loads(remainder)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
            return Instruction(keyword.upper(), tuple(flags), tuple(parsed))
    return Instruction(keyword.upper(), tuple(flags), tuple(tokens))


def _skip_heredocs(lines: list[str], index: int, args: str) -> int:
    """Skip the bodies of the heredocs an instruction opened; returns the next line to read."""
    for strip_tabs, _, word in _HEREDOC.findall(args):
        while index < len(lines):
            body = lines[index].lstrip("\t") if strip_tabs else lines[index]
            index += 1
            if body == word:
                break
    return index


def substitute(value: str, variables: dict[str, str | None]) -> str:
    """``$NAME``, ``${NAME}``, ``${NAME:-word}``, ``${NAME:+word}`` replaced; Unresolved when unknown."""
    def replace(match: re.Match[str]) -> str:
        expression = match["braced"] if match["braced"] is not None else match["plain"]
        parsed = _EXPRESSION.match(expression)
        if parsed is None:
            raise Unresolved(expression)
        known = variables.get(parsed["name"])
        if parsed["operator"] == ":-":
            return known or parsed["word"]
        if parsed["operator"] == ":+":
            return parsed["word"] if known else ""
        if known is None:
            raise Unresolved(parsed["name"])
        return known

    return _VARIABLE.sub(replace, value)


def context_sources(parsed: list[Instruction]) -> list[str]:
    """Every source path or pattern read from the context ('.' = all of it); Unresolved if one is unknown."""
    global_args: dict[str, str | None] = {}
    scope: dict[str, str | None] | None = None  # None before the first FROM
    sources: list[str] = []
    for instruction in parsed:
        keyword = instruction.keyword
        if keyword == "FROM":
            scope = {}
        elif keyword in {"ARG", "ENV"}:
            _assign(instruction, global_args if scope is None else scope, global_args)
        elif scope is not None and keyword in {"COPY", "ADD"} and not _flag(instruction, "from"):
            sources += [substitute(arg, scope) for arg in _copy_sources(instruction)]
        elif scope is not None and keyword == "RUN":
            sources += [substitute(source, scope) for source in _bind_mounts(instruction)]
    return sources


def _assign(instruction: Instruction, target: dict[str, str | None], global_args: dict[str, str | None],
            ) -> None:
    args = instruction.args
    if instruction.keyword == "ENV" and len(args) >= 2 and "=" not in args[0]:
        target[args[0]] = " ".join(args[1:])  # the legacy `ENV NAME value` form
        return
    for arg in args:
        name, equals, value = arg.partition("=")
        if equals:
            target[name] = value.strip("\"'")
        elif instruction.keyword == "ARG":
            target[name] = global_args.get(name)  # a bare ARG re-declares the global default, if any


def _flag(instruction: Instruction, name: str) -> str | None:
    for flag in instruction.flags:
        key, _, value = flag[2:].partition("=")
        if key == name:
            return value
    return None


def _copy_sources(instruction: Instruction) -> list[str]:
    sources = [arg for arg in instruction.args[:-1] if not arg.startswith("<<")]
    if instruction.keyword == "ADD":
        sources = [s for s in sources if not s.startswith(_REMOTE) and not s.endswith(".git")]
    return sources


def _bind_mounts(instruction: Instruction) -> list[str]:
    """Context paths a ``RUN --mount=type=bind`` reads (its ``source``, default the whole context)."""
    sources = []
    for flag in instruction.flags:
        if not flag.startswith("--mount="):
            continue
        options = dict(part.partition("=")[::2] for part in flag[len("--mount="):].split(","))
        if options.get("type", "bind") == "bind" and "from" not in options:
            sources.append(options.get("source") or options.get("src") or ".")
    return sources


def clean_source(source: str) -> str:
    """A source relative to the context root, as the builder resolves it ('.' = the whole context)."""
    parts: list[str] = []
    for part in posixpath.normpath("/" + source.strip()).split("/"):
        if part and part != ".":
            parts.append(part)
    return "/".join(parts) or "."


def copies(source: str, path: str) -> bool:
    """True when ``source`` (cleaned) copies ``path`` (context-relative): itself, inside it, or a match."""
    if source == ".":
        return True
    if not _WILDCARD.search(source):
        return path == source or path.startswith(source + "/")
    from docker.utils.fnmatch import fnmatchcase

    depth = source.count("/") + 1
    parts = path.split("/")
    return len(parts) >= depth and bool(fnmatchcase("/".join(parts[:depth]), source))
