"""repos.yaml: parsed and validated as a whole; errors name the line, repo and field."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from abca_deploy.repos.repofile import load
from abca_deploy.repos.validate import DEFAULT_MODELS

if TYPE_CHECKING:
    from pathlib import Path


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "repos.yaml"
    path.write_text(text)
    return path


def test_a_valid_file(tmp_path: Path) -> None:
    path = write(tmp_path, """\
repos:
  octo/app:
    max_turns: 50
    max_budget_usd: 2.5
    egress_allowlist: [pypi.org, "*.example.com"]
    cedar_policies:
      - |
        permit(principal, action, resource);
    skills: [registry://skill/acme/review@^1.0.0]
  octo/docs: {}
  octo/empty:
  octo/cleared:
    build_command:
    mcp_servers: []
""")
    parsed = load(path, DEFAULT_MODELS)
    assert parsed.errors == ()
    assert parsed.repos == {
        "octo/app": {"max_turns": 50, "max_budget_usd": Decimal("2.5"),
                     "egress_allowlist": ("pypi.org", "*.example.com"),
                     "cedar_policies": ("permit(principal, action, resource);\n",),
                     "skills": ("registry://skill/acme/review@^1.0.0",)},
        "octo/docs": {}, "octo/empty": {}, "octo/cleared": {}}


@pytest.mark.parametrize(("text", "error"), [
    ("repos:\n  octo/app:\n    max_turns: 0\n",
     "repos.yaml:3: octo/app: max_turns: is out of range (got 0); allowed: integer 1-500"),
    ("repos:\n  octo/app:\n    max_turn: 5\n",
     "repos.yaml:3: octo/app: 'max_turn' is not a field; allowed: compute_type,"),
    ("repos:\n  octo/app:\n    status: removed\n",
     "repos.yaml:3: octo/app: 'status' is written by abca-deploy itself"),
    ("repos:\n  octo:\n    max_turns: 5\n", "repos.yaml:2: 'octo' is not OWNER/REPO"),
    ("repos:\n  octo/app: {}\n  Octo/App: {}\n", "repos.yaml:3: Octo/App is listed twice (also on line 2)"),
    ("repos:\n  octo/app:\n    egress_allowlist: [Bad.Domain]\n",
     "repos.yaml:3: octo/app: egress_allowlist: has an invalid domain 'Bad.Domain'"),
    ("repos:\n  octo/app:\n    mcp_servers: [registry://skill/a/b@1.0.0]\n",
     "repos.yaml:3: octo/app: mcp_servers: has a 'skill' ref"),
    ("repos:\n  octo/app:\n    cedar_policies: ['permit(principal']\n",
     "repos.yaml:3: octo/app: cedar_policies: policy 1 is not valid Cedar"),
    ("repos:\n  octo/app:\n    model_id: us.acme.unknown\n",
     "repos.yaml:3: octo/app: model_id: 'acme.unknown' is not granted"),
    ("repos:\n  octo/app: [1]\n", "repos.yaml:2: octo/app: must be a mapping of fields"),
    ("repos:\n  octo/app:\n    max_turns: [5\n", "repos.yaml:4: not valid YAML"),
    ("repo:\n  octo/app: {}\n", "repos.yaml:1: the file must be a mapping with a `repos:` key"),
    ("repos: {}\nextra: 1\n", "repos.yaml:2: unknown top-level key 'extra'"),
])
def test_each_error_names_the_line_repo_and_field(tmp_path: Path, text: str, error: str) -> None:
    parsed = load(write(tmp_path, text), DEFAULT_MODELS)
    assert parsed.repos == {}
    assert len(parsed.errors) == 1
    assert parsed.errors[0].startswith(str(tmp_path / error.split(":", 1)[0]) + ":" + error.split(":", 1)[1])


def test_every_error_is_reported_and_nothing_is_half_accepted(tmp_path: Path) -> None:
    text = "repos:\n  octo/a:\n    max_turns: 0\n  octo/b: {}\n  octo/c:\n    skills: x\n"
    parsed = load(write(tmp_path, text), DEFAULT_MODELS)
    assert parsed.repos == {}
    assert [e.split(": ", 1)[0].rsplit(":", 1)[1] for e in parsed.errors] == ["3", "6"]


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    parsed = load(tmp_path / "missing.yaml", DEFAULT_MODELS)
    assert parsed.errors == (f"--file: cannot read {tmp_path / 'missing.yaml'} (No such file or directory)",)


def test_the_example_file_is_valid() -> None:
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "repos.yaml"
    parsed = load(example, DEFAULT_MODELS)
    assert parsed.errors == ()
    assert len(parsed.repos["acme/payments-api"]) == 14
