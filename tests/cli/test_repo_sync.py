"""``abca-deploy repo sync``: config as code, planned then applied; a second run changes nothing."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
import yaml

from abca_deploy.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.repo_stack import ActionsEnv, RepoStack

FILE = """\
repos:
  octo/app:
    max_turns: 50
    max_budget_usd: 2.5
    egress_allowlist: [pypi.org]
    cedar_policies:
      - permit(principal, action, resource);
  octo/docs:
    compute_type: ecs
    skills: [registry://skill/acme/review@^1.0.0]
  octo/plain: {}
"""


@pytest.fixture
def repos_file(tmp_path: Path) -> Path:
    path = tmp_path / "repos.yaml"
    path.write_text(FILE)
    return path


def test_sync_creates_then_changes_nothing(repo_stack: RepoStack, repo_actions: ActionsEnv,
                                           repos_file: Path) -> None:
    first = repo_actions.run("repo", "sync", "--file", str(repos_file))
    assert first.code == 0, first.err
    assert first.output("changed") == "true"
    assert first.output("status") == "synced"
    assert first.output("repo").splitlines() == ["octo/app", "octo/docs", "octo/plain"]
    assert first.out.splitlines()[-1] == f"{repos_file}: 3 created."
    assert "| `octo/docs` | created |" in first.summary
    assert any("octo/app: egress_allowlist is stored, but ABCA does not read it from the table" in line
               for line in first.err.splitlines())
    app = repo_stack.item("octo/app")
    assert app is not None
    assert {k: v for k, v in app.items() if k not in ("onboarded_at", "updated_at")} == {
        "repo": {"S": "octo/app"}, "status": {"S": "active"}, "max_turns": {"N": "50"},
        "max_budget_usd": {"N": "2.5"}, "egress_allowlist": {"L": [{"S": "pypi.org"}]},
        "cedar_policies": {"L": [{"S": "permit(principal, action, resource);"}]}}
    before = repo_stack.items()

    second = repo_actions.run("repo", "sync", "--file", str(repos_file))
    assert (second.code, second.output("changed"), second.output("repo")) == (0, "false", "")
    assert second.out.strip() == f"{repos_file}: 3 unchanged."
    assert repo_stack.items() == before


def test_sync_updates_with_a_field_diff_and_prunes(repo_stack: RepoStack, repo_actions: ActionsEnv,
                                                   repos_file: Path) -> None:
    assert repo_actions.run("repo", "sync", "--file", str(repos_file)).code == 0
    repo_stack.ddb.update_item(TableName=repo_stack.table, Key={"repo": {"S": "octo/app"}},
                               UpdateExpression="SET owner_team = :t", ExpressionAttributeValues={
                                   ":t": {"S": "platform"}})
    repos_file.write_text("repos:\n  octo/app:\n    max_turns: 60\n  octo/docs:\n    compute_type: ecs\n"
                          "    skills: [registry://skill/acme/review@^1.0.0]\n")
    planned = repo_actions.run("repo", "sync", "--file", str(repos_file), "--prune", "--dry-run",
                               "--output", "json")
    assert planned.code == 0
    doc = json.loads(planned.out)
    assert doc["counts"] == {"update": 1, "unchanged": 1, "offboard": 1}
    app = next(c for c in doc["changes"] if c["repo"] == "octo/app")
    assert app["changes"] == [
        {"field": "max_turns", "old": 50, "new": 60}, {"field": "max_budget_usd", "old": 2.5, "new": None},
        {"field": "egress_allowlist", "old": ["pypi.org"], "new": None},
        {"field": "cedar_policies", "old": ["permit(principal, action, resource);"], "new": None}]
    assert planned.output("status") == "planned"
    assert repo_stack.item("octo/plain")["status"] == {"S": "active"}  # type: ignore[index]

    applied = repo_actions.run("repo", "sync", "--file", str(repos_file), "--prune")
    assert applied.code == 0
    assert "octo/app: updated\n  max_turns: 50 -> 60\n" in applied.out
    assert "octo/plain: offboarded" in applied.out
    app_item = repo_stack.item("octo/app")
    assert app_item is not None
    assert app_item["owner_team"] == {"S": "platform"}
    assert "egress_allowlist" not in app_item
    plain = repo_stack.item("octo/plain")
    assert plain is not None
    assert plain["status"] == {"S": "removed"}
    assert "ttl" in plain


def test_sync_reactivates_a_removed_repo(repo_stack: RepoStack, repo_actions: ActionsEnv,
                                         repos_file: Path) -> None:
    assert repo_actions.run("repo", "sync", "--file", str(repos_file)).code == 0
    onboarded = repo_stack.item("octo/plain")["onboarded_at"]  # type: ignore[index]
    assert repo_actions.run("repo", "offboard", "octo/plain").code == 0
    again = repo_actions.run("repo", "sync", "--file", str(repos_file))
    assert "octo/plain: re-activated" in again.out
    item = repo_stack.item("octo/plain")
    assert item is not None
    assert (item["status"], item["onboarded_at"], "ttl" in item) == ({"S": "active"}, onboarded, False)


def test_an_invalid_file_writes_nothing_and_names_every_problem(
        repo_stack: RepoStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "repos.yaml"
    path.write_text("repos:\n  octo/app:\n    max_turns: 900\n  octo/ok: {}\n  bad name: {}\n")
    assert main(["repo", "sync", "--file", str(path)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {path}:3: octo/app: max_turns: is out of range (got 900); allowed: integer 1-500",
        f"error: {path}:5: 'bad name' is not OWNER/REPO; allowed: OWNER/REPO of letters, digits, '.', '_' or "
        "'-' (owner at most 39, name at most 100 characters)"]
    assert repo_stack.items() == []


def test_one_bad_field_is_one_line(repo_stack: RepoStack, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "repos.yaml"
    path.write_text("repos:\n  octo/app:\n    mcp_servers: [registry://skill/a/b@1.0.0]\n")
    assert main(["repo", "sync", "--file", str(path)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith(("==", "   "))]
    assert err == [f"error: {path}:3: octo/app: mcp_servers: has a 'skill' ref 'registry://skill/a/b@1.0.0' "
                   "where a 'mcp_server' ref belongs; allowed: "
                   "registry://mcp_server/<namespace>/<name>@<X.Y.Z, ^X.Y.Z or ~X.Y.Z>"]


def test_sync_guardrails(repo_stack: RepoStack, repo_actions: ActionsEnv, repos_file: Path) -> None:
    owners = repo_actions.run("repo", "sync", "--file", str(repos_file), "--allowed-owners", "acme")
    assert owners.code == 2
    assert "octo/app belongs to 'octo'" in owners.err
    capacity = repo_actions.run("repo", "sync", "--file", str(repos_file), "--max-repos", "2")
    assert capacity.code == 2
    assert "0 repositories are active and this would make 3, over the limit of 2" in capacity.err
    assert repo_stack.items() == []


def test_a_row_over_dynamodbs_item_limit_is_refused_before_any_write(
        repo_stack: RepoStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "repos.yaml"
    prompt = "be careful. " * 40_000  # 480 KB: fits the file cap, not a DynamoDB item
    path.write_text(yaml.safe_dump({"repos": {"octo/a": {"max_turns": 5},
                                              "octo/b": {"system_prompt_overrides": prompt}}}))
    assert main(["repo", "sync", "--file", str(path)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1
    assert "octo/b: the row would be 480" in err[0]
    assert "over DynamoDB's item limit of 409600 bytes" in err[0]
    assert repo_stack.items() == []
