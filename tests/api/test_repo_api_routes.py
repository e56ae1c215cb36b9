"""Every route of /v1/repos over real HTTP with real Cognito ID tokens, each answer checked against the
OpenAPI document: what a participant or an operator sees, and what the repo table holds afterwards."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.repo_api import RepoApi

MODEL = "us.anthropic.claude-opus-4-8"
LEAKED = "ghp_" + "Zq7Y" * 9  # a token pasted into the wrong field: never echoed in the 400


def test_onboard_show_update_offboard_and_onboard_again(repo_api: RepoApi) -> None:
    created = repo_api.onboard("octo/app", max_turns=50, model_id=MODEL, egress_allowlist=["pypi.org"])
    assert created.header("Location") == "/v1/repos/octo%2Fapp"
    assert created.data["action"] == "create"
    assert created.data["repo"]["max_turns"] == 50
    assert created.header("X-Request-Id")
    item = repo_api.stack.item("octo/app")
    assert item is not None
    assert (item["max_turns"], item["egress_allowlist"]) == ({"N": "50"}, {"L": [{"S": "pypi.org"}]})

    shown = repo_api.call("GET", "repos/octo%2Fapp", user="participant")
    assert shown.status == 200
    assert shown.data == created.data["repo"]
    assert shown.header("ETag") == created.header("ETag")

    same = repo_api.call("POST", "repos", {"repo": "octo/app", "max_turns": 50})
    assert (same.status, same.data["action"], same.data["changed"]) == (200, "unchanged", False)
    assert same.header("ETag") == created.header("ETag")

    patched = repo_api.call(
        "PATCH", "repos/octo%2Fapp", {"max_turns": 60, "egress_allowlist": None, "build_command": "make"}
    )
    assert patched.status == 200
    assert {c["field"]: (c["old"], c["new"]) for c in patched.data["changes"]} == {
        "max_turns": (50, 60),
        "build_command": (None, "make"),
        "egress_allowlist": (["pypi.org"], None),
    }
    item = repo_api.stack.item("octo/app")
    assert item is not None
    assert "egress_allowlist" not in item
    assert (item["max_turns"], item["build_command"], item["model_id"]) == (
        {"N": "60"},
        {"S": "make"},
        {"S": MODEL},
    )
    assert patched.header("ETag") != shown.header("ETag")

    gone = repo_api.call("DELETE", "repos/octo%2Fapp")
    assert (gone.status, gone.data["action"], gone.data["repo"]["status"]) == (200, "offboard", "removed")
    removed = repo_api.stack.item("octo/app")
    assert removed is not None
    assert removed["status"] == {"S": "removed"}
    assert int(removed["ttl"]["N"]) - int(gone.data["repo"]["ttl"]) == 0
    again = repo_api.call("DELETE", "repos/octo%2Fapp")
    assert (again.status, again.data["action"], again.data["changed"]) == (200, "unchanged", False)

    back = repo_api.call("POST", "repos", {"repo": "octo/app"})
    assert (back.status, back.data["action"]) == (201, "reactivate")
    item = repo_api.stack.item("octo/app")
    assert item is not None
    assert "ttl" not in item
    assert item["onboarded_at"] == removed["onboarded_at"]


def test_list_pages_and_filters_by_status(repo_api: RepoApi) -> None:
    for name in ("a", "b", "c"):
        repo_api.onboard(f"octo/{name}")
    assert repo_api.call("DELETE", "repos/octo%2Fb").status == 200
    everything = repo_api.call("GET", "repos", user="participant")
    assert everything.status == 200
    assert sorted(r["repo"] for r in everything.data) == ["octo/a", "octo/b", "octo/c"]
    assert everything.body["pagination"] == {"next_token": None, "has_more": False}
    active = repo_api.call("GET", "repos?status=active")
    assert sorted(r["repo"] for r in active.data) == ["octo/a", "octo/c"]
    first = repo_api.call("GET", "repos?limit=2")
    assert len(first.data) == 2
    assert first.body["pagination"]["has_more"] is True
    rest = repo_api.call("GET", f"repos?limit=2&next_token={first.body['pagination']['next_token']}")
    assert {r["repo"] for r in first.data + rest.data} == {"octo/a", "octo/b", "octo/c"}


def test_not_found(repo_api: RepoApi) -> None:
    for method, body in (("GET", None), ("PATCH", {"max_turns": 5}), ("DELETE", None)):
        answer = repo_api.call(method, "repos/octo%2Fnowhere", body)
        assert answer.status == 404
        assert answer.error["code"] == "REPO_NOT_FOUND"
        assert "octo/nowhere" in answer.error["message"]
        assert answer.error["request_id"] == answer.header("X-Request-Id")


def test_conflicts(repo_api: RepoApi) -> None:
    repo_api.onboard("octo/app", max_turns=50)
    differs = repo_api.call("POST", "repos", {"repo": "octo/app", "max_turns": 60})
    assert differs.status == 409
    assert differs.error["code"] == "REPO_ALREADY_ONBOARDED"
    assert "differs in: max_turns" in differs.error["message"]
    assert "PATCH" in differs.error["message"]
    repo_api.call("DELETE", "repos/octo%2Fapp")
    offboarded = repo_api.call("PATCH", "repos/octo%2Fapp", {"max_turns": 70})
    assert offboarded.status == 409
    assert offboarded.error["code"] == "REPO_OFFBOARDED"
    assert repo_api.stack.item("octo/app")["max_turns"] == {"N": "50"}  # type: ignore[index]


def test_validation_names_the_field_and_the_allowed_form(repo_api: RepoApi) -> None:
    bad = repo_api.call(
        "POST",
        "repos",
        {"repo": "octo/app", "max_turns": 900, "compute_type": "gpu", "colour": "blue", "status": "removed"},
    )
    assert bad.status == 400
    message = bad.error["message"]
    assert bad.error["code"] == "VALIDATION_ERROR"
    assert "max_turns: is out of range (got 900); allowed: integer 1-500" in message
    assert (
        'compute_type: is not a compute type (got "gpu"); allowed: agentcore | ecs | lambda-microvm'
        in message
    )
    assert "'colour' is not a field; allowed: compute_type," in message
    assert "'status' is written by the service itself" in message
    for body, expected in (
        ({"max_turns": 5}, "repo: is required; allowed: OWNER/REPO"),
        ({"repo": "no-slash"}, 'repo: is not OWNER/REPO (got "no-slash")'),
        (
            {"repo": "octo/app", "build_command": "  "},
            "build_command: must not be empty (send null to remove it)",
        ),
        ({"repo": "octo/app", "github_token": "has space"}, "github_token: is not a GitHub token"),
        ({"repo": "octo/app", "runtime_arn": LEAKED}, "runtime_arn: is not an AgentCore runtime ARN;"),
    ):
        answer = repo_api.call("POST", "repos", body)
        assert (answer.status, answer.error["code"]) == (400, "VALIDATION_ERROR"), answer.text
        assert expected in answer.error["message"]
        assert LEAKED not in answer.text
    assert repo_api.stack.items() == []


def test_bad_requests_outside_the_body(repo_api: RepoApi) -> None:
    repo_api.onboard("octo/app")
    cases = {
        ("GET", "repos/not-a-repo"): "repo_id: is not OWNER/REPO",
        ("GET", "repos?limit=0"): "limit: must be an integer (got '0'); allowed: 1-100",
        ("GET", "repos?status=gone"): "status: is not a status",
        ("GET", "repos?next_token=bm9wZQ"): "next_token: is not a token this API gave out",
        ("DELETE", "repos/octo%2Fapp?dry_run=maybe"): "dry_run: is not a boolean",
    }
    for (method, path), expected in cases.items():
        answer = repo_api.call(method, path)
        assert answer.status == 400, (path, answer.text)
        assert expected in answer.error["message"]
    not_json = repo_api.call("POST", "repos", raw=b"{not json")
    assert (not_json.status, not_json.error["message"]) == (400, "The request body must be a JSON object.")
    in_body = repo_api.call("PATCH", "repos/octo%2Fapp", {"repo": "octo/other"})
    assert "repo: is named by the path" in in_body.error["message"]


def test_dry_run_plans_and_writes_nothing(repo_api: RepoApi) -> None:
    planned = repo_api.call("POST", "repos?dry_run=true", {"repo": "octo/app", "max_turns": 5})
    assert (planned.status, planned.data["action"], planned.data["dry_run"]) == (200, "create", True)
    assert planned.header("ETag") is None
    assert repo_api.stack.item("octo/app") is None
    repo_api.onboard("octo/app", max_turns=5)
    change = repo_api.call("PATCH", "repos/octo%2Fapp?dry_run=1", {"max_turns": 6})
    assert change.data["changes"] == [{"field": "max_turns", "old": 5, "new": 6}]
    assert repo_api.stack.item("octo/app")["max_turns"] == {"N": "5"}  # type: ignore[index]


def test_unknown_route_is_a_404_in_the_envelope(repo_api: RepoApi) -> None:
    answer = repo_api.call("GET", "repos/octo/app")
    assert answer.status == 404
    assert answer.error["code"] == "NOT_FOUND"
    assert "owner%2Frepo" in answer.error["message"]
    put = repo_api.call("PUT", "repos", {"repo": "octo/app"})
    assert (put.status, put.error["code"]) == (404, "NOT_FOUND")
