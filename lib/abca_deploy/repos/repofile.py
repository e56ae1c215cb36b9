"""``repos.yaml``: repositories as code, validated as a whole with errors that name the line, repo and field.

    repos:
      octo/app:
        max_turns: 50
        egress_allowlist: [pypi.org]
      octo/docs: {}

Keys are the table's attribute names; a settable attribute a repository does not list is absent from its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from abca_deploy.repos import validate as v
from abca_deploy.repos.schema import BY_NAME, SYSTEM, Value

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import yaml


@dataclass(frozen=True)
class RepoFile:
    """The repositories a file declares (in file order), or the problems found in it."""

    repos: dict[str, dict[str, Value]]
    errors: tuple[str, ...]


def _got(value: Any) -> str:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = repr(value) if isinstance(value, str) else str(value)
        return f" (got {text[:57] + '...' if len(text) > 60 else text})"
    return ""


def _parse(path: Path) -> tuple[Any, yaml.Node | None, str | None]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        return None, None, f"--file: cannot read {path} ({reason})"
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        return None, None, f"{path}:{line}: not valid YAML: {exc.problem}"
    finally:
        loader.dispose()
    return data, node, None


def load(path: Path, allowed_models: Sequence[str]) -> RepoFile:
    """Parse and validate ``path``; nothing is half-accepted: any error leaves ``repos`` empty."""
    import yaml

    data, root, problem = _parse(path)
    if problem:
        return RepoFile({}, (problem,))
    errors: list[str] = []
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict) or "repos" not in data:
        return RepoFile({}, (f"{path}:1: the file must be a mapping with a `repos:` key "
                             "(repos: {OWNER/REPO: {field: value}})",))
    for key, _ in root.value:
        if key.value != "repos":
            line = key.start_mark.line + 1
            errors.append(f"{path}:{line}: unknown top-level key {key.value!r}; allowed: repos")
    repos_node = next(value for key, value in root.value if key.value == "repos")
    declared = _repos(path, repos_node, data["repos"], allowed_models, errors)
    return RepoFile({} if errors else declared, tuple(errors))


def _repos(path: Path, node: yaml.Node, data: Any, allowed_models: Sequence[str],
           errors: list[str]) -> dict[str, dict[str, Value]]:
    import yaml

    line = node.start_mark.line + 1
    if data is None:
        return {}
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        errors.append(f"{path}:{line}: repos must be a mapping of OWNER/REPO to fields")
        return {}
    seen: dict[str, int] = {}
    declared: dict[str, dict[str, Value]] = {}
    for key, value_node in node.value:
        at = f"{path}:{key.start_mark.line + 1}"
        repo = key.value
        try:
            v.repo_name(repo)
        except ValueError:
            errors.append(f"{at}: {repo!r} is not OWNER/REPO{_got(repo)}; allowed: {v.FORMS['repo']}")
            continue
        if repo.lower() in seen:
            errors.append(f"{at}: {repo} is listed twice (also on line {seen[repo.lower()]})")
            continue
        seen[repo.lower()] = key.start_mark.line + 1
        declared[repo] = _fields(path, repo, value_node, data[repo], allowed_models, errors)
    return declared


def _fields(path: Path, repo: str, node: yaml.Node, data: Any, allowed_models: Sequence[str],
            errors: list[str]) -> dict[str, Value]:
    import yaml

    if data is None:
        return {}
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        line = node.start_mark.line + 1
        errors.append(f"{path}:{line}: {repo}: must be a mapping of fields (or {{}} for the defaults)")
        return {}
    fields: dict[str, Value] = {}
    seen: set[str] = set()
    for key, _ in node.value:
        where, name = f"{path}:{key.start_mark.line + 1}: {repo}", key.value
        if name in seen:
            errors.append(f"{where}: {name} is listed twice")
            continue
        seen.add(name)
        if name not in BY_NAME:
            why = "is written by abca-deploy itself" if name in SYSTEM else "is not a field"
            errors.append(f"{where}: {name!r} {why}; allowed: {', '.join(BY_NAME)}")
            continue
        raw = data[name]
        if raw is None or raw == []:
            continue  # unset: the attribute is omitted from the row
        try:
            fields[name] = v.check_field(name, raw, allowed_models=allowed_models)
        except ValueError as exc:
            errors.append(f"{where}: {name}: {exc}{_got(raw)}; allowed: {v.FORMS[name]}")
    return fields
