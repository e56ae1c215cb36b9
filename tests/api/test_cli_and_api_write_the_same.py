"""One input, three front doors, one row: the CLI on DynamoDB, the API over HTTP, and the CLI through the API
store byte-identical items (every attribute and DynamoDB type), apart from the key and the timestamps."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from abca_deploy.cli import main

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import pytest
    from tests.support.repo_api import RepoApi

POLICY = 'forbid(principal, action == Action::"push", resource);\n'
RUNTIME = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/other_rt-AbCdEfGh12"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shared-token-AbCdEf"
FLAGS = [
    "--compute-type",
    "agentcore",
    "--runtime-arn",
    RUNTIME,
    "--model",
    "us.anthropic.claude-opus-4-8",
    "--max-turns",
    "50",
    "--max-budget-usd",
    "12.50",
    "--poll-interval-ms",
    "15000",
    "--approval-gate-cap",
    "7",
    "--build-command",
    "make build",
    "--lint-command",
    "make lint",
    "--system-prompt-overrides",
    "Answer in French.\nBe brief.",
    "--egress-allowlist",
    "pypi.org,*.npmjs.org",
    "--mcp-servers",
    "registry://mcp_server/acme/search@^1.2.0",
    "--cedar-policy-modules",
    "registry://cedar_policy_module/acme/base@~2.0.1",
    "--skills",
    "registry://skill/acme/review@1.0.0",
    "--token-secret-arn",
    SECRET,
]
BODY: dict[str, Any] = {
    "compute_type": "agentcore",
    "runtime_arn": RUNTIME,
    "model_id": "us.anthropic.claude-opus-4-8",
    "max_turns": 50,
    "max_budget_usd": 12.5,
    "poll_interval_ms": 15000,
    "approval_gate_cap": 7,
    "build_command": "make build",
    "lint_command": "make lint",
    "system_prompt_overrides": "Answer in French.\nBe brief.",
    "egress_allowlist": ["pypi.org", "*.npmjs.org"],
    "mcp_servers": ["registry://mcp_server/acme/search@^1.2.0"],
    "cedar_policy_modules": ["registry://cedar_policy_module/acme/base@~2.0.1"],
    "skills": ["registry://skill/acme/review@1.0.0"],
    "github_token_secret_arn": SECRET,
    "cedar_policies": [POLICY],
}


def _comparable(item: dict[str, Any] | None) -> dict[str, Any]:
    assert item is not None
    return {k: v for k, v in item.items() if k not in ("repo", "onboarded_at", "updated_at")}


def test_cli_api_and_cli_through_the_api_store_identical_items(
    repo_api: RepoApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "deny-push.cedar"
    policy.write_text(POLICY, encoding="utf-8")
    flags = [*FLAGS, "--cedar-policy-files", str(policy)]
    assert main(["repo", "onboard", "octo/direct", *flags]) == 0
    assert capsys.readouterr().out.startswith("octo/direct: created")

    assert repo_api.call("POST", "repos", {"repo": "octo/api", **BODY}).status == 201

    _, key = repo_api.key("repos:read", "repos:manage")
    monkeypatch.setenv("PLATFORM_KEY", key)
    code = main(
        [
            "repo",
            "onboard",
            "octo/remote",
            *flags,
            "--api-url",
            repo_api.url,
            "--api-key-env",
            "PLATFORM_KEY",
            "--output",
            "json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["action"] == "create"

    direct = _comparable(repo_api.stack.item("octo/direct"))
    assert direct["cedar_policies"] == {"L": [{"S": POLICY}]}
    assert direct["max_budget_usd"] == {"N": "12.5"}
    assert _comparable(repo_api.stack.item("octo/api")) == direct
    assert _comparable(repo_api.stack.item("octo/remote")) == direct

    for repo in ("octo/direct", "octo/api", "octo/remote"):  # and the same update, the same way
        assert main(["repo", "update", repo, "--unset", "build_command", "--max-turns", "9"]) == 0
    assert (
        len(
            {
                json.dumps(_comparable(repo_api.stack.item(r)), sort_keys=True)
                for r in ("octo/direct", "octo/api", "octo/remote")
            }
        )
        == 1
    )


def test_cli_and_api_answer_a_write_with_the_same_document(
    api_server: Callable[..., RepoApi], capsys: pytest.CaptureFixture[str]
) -> None:
    """Table only (no stack outputs): offboarding a repository whose domains nothing else allows says, through
    either door, that no domain list was brought up to date."""
    api = api_server(repo_table=api_server().stack.table)
    body = {"egress_allowlist": ["pypi.org"]}
    for repo in ("octo/cli", "octo/api"):
        assert api.call("POST", "repos", {"repo": repo, **body}).status == 201
    assert main(["repo", "offboard", "octo/cli", "--repo-table", api.stack.table, "--output", "json"]) == 0
    by_cli = json.loads(capsys.readouterr().out)
    by_api = api.call("DELETE", "repos/octo%2Fapi").data

    def shared(doc: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in doc.items() if k != "repo"}

    assert shared(by_cli) == shared(by_api)
    assert by_cli["action"] == "offboard"
    assert len(by_cli["notes"]) == 1
    assert "no stack is read" in by_cli["notes"][0]
