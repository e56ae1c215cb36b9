"""``repos.yaml``: repositories as code, validated as a whole with errors that name the line, repo and field.

    repos:
      octo/app:
        max_turns: 50
        egress_allowlist: [pypi.org]
      octo/docs: {}

Keys are the table's attribute names; a settable attribute a repository does not list is absent from its row.
The file is read with a size cap, scanned for nesting before it is composed (a deeply nested document would
otherwise exhaust the parser's recursion), and numbers must be written in plain digits: YAML 1.1 also reads
``1_0``, ``010`` (octal) and ``1:30`` (base 60) as integers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from abca_deploy.credentials import looks_like_credential, redact_credentials
from abca_deploy.repos import files, models
from abca_deploy.repos import validate as v
from abca_deploy.repos.schema import BY_NAME, SYSTEM, Value

if TYPE_CHECKING:
    from pathlib import Path

    import yaml

MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 16  # a valid file nests 4 deep (repos, repo, field, list); far deeper is not a repos file
# Plain decimal digits without a leading zero (YAML 1.1 reads 010 as octal 8).
PLAIN = {True: re.compile(r"-?(0|[1-9][0-9]*)"),
         False: re.compile(r"-?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)")}


@dataclass(frozen=True)
class RepoFile:
    """The repositories a file declares (in file order), or the problems found in it.

    ``lines`` gives the line of each repository's key (``(repo, None)``) and of each of its fields.
    """

    repos: dict[str, dict[str, Value]]
    errors: tuple[str, ...]
    lines: dict[tuple[str, str | None], int] = field(default_factory=dict)

    def at(self, path: str | Path, repo: str, name: str | None = None) -> str:
        """``repos.yaml:12: octo/app`` for error messages."""
        line = self.lines.get((repo, name), self.lines.get((repo, None), 1))
        return f"{path}:{line}: {repo}"


def _label(key: Any) -> str:
    if not isinstance(key, str):
        return "a key that is not text"
    if looks_like_credential(key):
        return "a key that looks like a credential (not shown)"
    text = repr(key)
    return text if len(text) <= 60 else text[:56] + "...'"


def _too_deep(text: str) -> int | None:
    """The line where nesting exceeds MAX_DEPTH, walking the parser's events (no recursion)."""
    import yaml

    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                return event.start_mark.line + 1 if event.start_mark else 0
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
    return None


def _compose(text: str) -> tuple[Any, yaml.Node | None]:
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def _parse(path: Path) -> tuple[Any, yaml.Node | None, str | None]:
    import yaml

    try:
        text = files.read_text(path, MAX_BYTES)
    except ValueError as exc:
        return None, None, f"--file: {exc}; allowed: a regular UTF-8 file of at most {MAX_BYTES // 2**20} MB"
    where = files.shown_path(path)
    try:
        line = _too_deep(text)
        if line is not None:
            return None, None, f"{where}:{line}: nested deeper than {MAX_DEPTH} levels, so not a repos file"
        data, node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        return None, None, f"{where}:{line}: not valid YAML: {redact_credentials(str(exc.problem))}"
    except yaml.YAMLError as exc:  # e.g. a control character the reader refuses
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, None, f"{where}: not valid YAML: {redact_credentials(reason)}"
    return data, node, None


def load(path: Path) -> RepoFile:
    """Parse and validate ``path``; nothing is half-accepted: any error leaves ``repos`` empty."""
    import yaml

    data, root, problem = _parse(path)
    if problem:
        return RepoFile({}, (problem,))
    where = files.shown_path(path)
    errors: list[str] = []
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict) or "repos" not in data:
        return RepoFile({}, (f"{where}:1: the file must be a mapping with a `repos:` key "
                             "(repos: {OWNER/REPO: {field: value}})",))
    for key, _ in root.value:
        if key.value != "repos":
            line = key.start_mark.line + 1
            errors.append(f"{where}:{line}: unknown top-level key {key.value!r}; allowed: repos")
    repos_node = next(value for key, value in root.value if key.value == "repos")
    lines: dict[tuple[str, str | None], int] = {}
    declared = _repos(where, repos_node, data["repos"], errors, lines)
    return RepoFile({} if errors else declared, tuple(errors), lines)


def _repos(where: str, node: yaml.Node, data: Any, errors: list[str],
           lines: dict[tuple[str, str | None], int]) -> dict[str, dict[str, Value]]:
    import yaml

    line = node.start_mark.line + 1
    if data is None:
        return {}
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        errors.append(f"{where}:{line}: repos must be a mapping of OWNER/REPO to fields")
        return {}
    seen: dict[str, int] = {}
    declared: dict[str, dict[str, Value]] = {}
    for key, value_node in node.value:
        at = f"{where}:{key.start_mark.line + 1}"
        repo = key.value
        try:
            v.repo_name(repo)
        except ValueError as exc:
            errors.append(f"{at}: {_label(repo)} {exc}; allowed: {v.FORMS['repo']}")
            continue
        if repo.lower() in seen:
            errors.append(f"{at}: {repo} is listed twice (also on line {seen[repo.lower()]})")
            continue
        seen[repo.lower()] = lines[(repo, None)] = key.start_mark.line + 1
        declared[repo] = _fields(where, repo, value_node, data[repo], errors, lines)
    return declared


def _fields(where: str, repo: str, node: yaml.Node, data: Any, errors: list[str],
            lines: dict[tuple[str, str | None], int]) -> dict[str, Value]:
    import yaml

    if data is None:
        return {}
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        line = node.start_mark.line + 1
        errors.append(f"{where}:{line}: {repo}: must be a mapping of fields (or {{}} for the defaults)")
        return {}
    fields: dict[str, Value] = {}
    for key, value_node in node.value:
        at, name = f"{where}:{key.start_mark.line + 1}: {repo}", key.value
        if (repo, name) in lines:
            errors.append(f"{at}: {name} is listed twice")
            continue
        lines[(repo, name)] = key.start_mark.line + 1
        if name not in BY_NAME:
            why = "is written by abca-deploy itself" if name in SYSTEM else "is not a field"
            errors.append(f"{at}: {name!r} {why}; allowed: {', '.join(BY_NAME)}")
            continue
        raw = data[name]
        if raw is None or raw == []:
            continue  # unset: the attribute is omitted from the row
        try:
            _plain_number(name, value_node)
        except ValueError as exc:
            errors.append(f"{at}: {name}: {exc}; allowed: {v.FORMS[name]}")
            continue
        try:
            fields[name] = v.check_field(name, raw)
        except ValueError as exc:
            reason = redact_credentials(str(exc)) + (" (omit it, or write null, to remove it)"
                                                     if str(exc) == v.EMPTY else "")
            errors.append(f"{at}: {name}: {reason}{v.shown(raw)}; allowed: {v.FORMS[name]}")
    return fields


def _plain_number(name: str, node: yaml.Node) -> None:
    """A number field written as a YAML number must be plain digits (YAML 1.1 reads 1_0, 010, 1:30 too)."""
    import yaml

    attr = BY_NAME[name]
    if attr.kind != "N" or not isinstance(node, yaml.ScalarNode) or node.style:  # quoted: checked as text
        return
    if not PLAIN[attr.integer].fullmatch(node.value):
        kind = "an integer" if attr.integer else "a number"
        msg = f"must be {kind} in plain digits (got {node.value[:20]!r})"
        raise ValueError(msg)


def check_models(path: Path, parsed: RepoFile, granted: models.ModelGrant) -> list[str]:
    """One error per ``model_id`` the stack does not grant, naming its line."""
    errors = []
    for repo, fields in parsed.repos.items():
        model = fields.get("model_id")
        if isinstance(model, str):
            try:
                models.check(model, granted)
            except ValueError as exc:
                errors.append(f"{parsed.at(files.shown_path(path), repo, 'model_id')}: model_id: {exc}")
    return errors
