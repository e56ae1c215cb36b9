"""repos.yaml: parsed and validated as a whole; errors name the line, repo and field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from abca_deploy.repos import models
from abca_deploy.repos.repofile import check_models, load


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
    parsed = load(path)
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
    ("repos:\n  octo/app:\n    model_id: anthropic.claude-opus-4-8\n",
     "repos.yaml:3: octo/app: model_id: is not an inference-profile id: Bedrock does not invoke a bare"),
    ("repos:\n  octo/app:\n    build_command: ' '\n",
     "repos.yaml:3: octo/app: build_command: must not be empty (omit it, or write null, to remove it)"),
    ("repos:\n  octo/app: [1]\n", "repos.yaml:2: octo/app: must be a mapping of fields"),
    ("repos:\n  octo/app:\n    max_turns: [5\n", "repos.yaml:4: not valid YAML"),
    ("repo:\n  octo/app: {}\n", "repos.yaml:1: the file must be a mapping with a `repos:` key"),
    ("repos: {}\nextra: 1\n", "repos.yaml:2: unknown top-level key 'extra'"),
])
def test_each_error_names_the_line_repo_and_field(tmp_path: Path, text: str, error: str) -> None:
    parsed = load(write(tmp_path, text))
    assert parsed.repos == {}
    assert len(parsed.errors) == 1
    expected = str(tmp_path / error.split(":", 1)[0]) + ":" + error.split(":", 1)[1]
    assert parsed.errors[0].startswith(expected), parsed.errors[0]


def test_every_error_is_reported_and_nothing_is_half_accepted(tmp_path: Path) -> None:
    text = "repos:\n  octo/a:\n    max_turns: 0\n  octo/b: {}\n  octo/c:\n    skills: x\n"
    parsed = load(write(tmp_path, text))
    assert parsed.repos == {}
    assert [e.split(": ", 1)[0].rsplit(":", 1)[1] for e in parsed.errors] == ["3", "6"]


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    parsed = load(tmp_path / "missing.yaml")
    assert parsed.errors == (f"--file: cannot read {tmp_path / 'missing.yaml'} (No such file or directory); "
                             "allowed: a regular UTF-8 file of at most 8 MB",)


def test_the_example_file_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "repos.yaml"
    parsed = load(example)
    assert parsed.errors == ()
    assert len(parsed.repos["acme/payments-api"]) == 14
    assert check_models(example, parsed, models.grant({}, "backgroundagent-dev")) == []


def test_model_ids_are_checked_against_the_grant_with_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, "repos:\n  octo/a:\n    max_turns: 5\n    model_id: us.acme.x\n"
                           "  octo/b:\n    model_id: global.anthropic.claude-opus-5\n")
    parsed = load(path)
    assert parsed.errors == ()
    granted = models.grant({"BedrockModelIds": "anthropic.claude-opus-5", "BedrockGeoRegion": "global"}, "s")
    assert check_models(path, parsed, granted) == [
        f"{path}:4: octo/a: model_id: 'us.acme.x' is not granted (rule: stack s's BedrockModelIds output, "
        "with BedrockGeoRegion=global); allowed: global.anthropic.claude-opus-5"]


HOSTILE = [
    ("a 5,000-deep list", "repos:\n  octo/app:\n    skills: " + "[" * 5000 + "]" * 5000 + "\n",
     "repos.yaml:3: nested deeper than 16 levels, so not a repos file"),
    ("underscores in a number", "repos:\n  octo/app:\n    max_turns: 1_0\n",
     "repos.yaml:3: octo/app: max_turns: must be an integer in plain digits (got '1_0')"),
    ("a YAML 1.1 octal", "repos:\n  octo/app:\n    poll_interval_ms: 010000\n",
     "repos.yaml:3: octo/app: poll_interval_ms: must be an integer in plain digits (got '010000')"),
    ("a YAML 1.1 base-60 number", "repos:\n  octo/app:\n    max_turns: 1:30\n",
     "repos.yaml:3: octo/app: max_turns: must be an integer in plain digits (got '1:30')"),
    ("an exponent", "repos:\n  octo/app:\n    max_budget_usd: 1.0e+1\n",
     "repos.yaml:3: octo/app: max_budget_usd: must be a number in plain digits (got '1.0e+1')"),
    ("a 300-character owner", "repos:\n  " + "o" * 300 + "/app: {}\n",
     "repos.yaml:2: '" + "o" * 55 + "...' has an owner of 300 characters, longer than GitHub allows (39)"),
    ("a 101-character name", "repos:\n  octo/" + "n" * 101 + ": {}\n",
     "repos.yaml:2: 'octo/" + "n" * 50 + "...' has a repository name of 101 characters"),
    ("a NUL byte", "repos:\n  octo/app: {}\x00\n",
     "repos.yaml: not valid YAML: unacceptable character #x0000"),
    ("a token where a secret ARN belongs", "repos:\n  octo/app:\n    github_token_secret_arn: ghp_"
     + "a1" * 20 + "\n",
     "repos.yaml:3: octo/app: github_token_secret_arn: is not a Secrets Manager secret ARN;"),
]


@pytest.mark.parametrize(("case", "text", "error"), HOSTILE, ids=[case for case, _, _ in HOSTILE])
def test_hostile_files_give_one_error_and_no_repositories(tmp_path: Path, case: str, text: str,
                                                          error: str) -> None:
    parsed = load(write(tmp_path, text))
    assert parsed.repos == {}
    assert len(parsed.errors) == 1, parsed.errors
    assert parsed.errors[0].startswith(f"{tmp_path}/{error}"), parsed.errors[0]
    assert "ghp_" not in parsed.errors[0]
    assert "\n" not in parsed.errors[0]


def test_a_device_or_a_fifo_is_refused_without_reading(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it for reading would block forever without O_NONBLOCK
    allowed = "; allowed: a regular UTF-8 file of at most 8 MB"
    assert load(fifo).errors == (f"--file: cannot read {fifo} (not a regular file){allowed}",)
    assert load(Path("/dev/zero")).errors == (f"--file: cannot read /dev/zero (not a regular file){allowed}",)
    assert load(tmp_path).errors == (f"--file: cannot read {tmp_path} (not a regular file){allowed}",)


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    from abca_deploy.repos.repofile import MAX_BYTES

    path = write(tmp_path, "repos: {}\n" + "#" * MAX_BYTES)
    assert load(path).errors[0].startswith(
        f"--file: cannot read {path} (larger than {MAX_BYTES} bytes); allowed")
