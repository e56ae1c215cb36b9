"""An integrated stack's runtime DNS Firewall domain list follows the active rows' egress_allowlist.

The real ``main()`` in an Actions step, against moto (stack, table) and the emulator's Route 53 Resolver
seeded as ``sandbox up --shape integrated`` seeds it; the list is read back with a stock boto3 client.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from abca_deploy.repos.target import EGRESS_NOTE

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from tests.support.repo_stack import ActionsEnv, IntegratedStack, RepoStack

NOTE_START = EGRESS_NOTE[:60]


def test_onboarding_adds_its_domains_and_a_rerun_changes_nothing(integrated_stack: IntegratedStack,
                                                                 repo_actions: ActionsEnv) -> None:
    done = repo_actions.run("repo", "onboard", "octo/app", "--egress-allowlist", "pypi.org,*.example.com")
    assert done.code == 0, done.err
    assert integrated_stack.domains() == ["*.example.com.", "pypi.org."]
    assert (f"egress domain list {integrated_stack.list_id}: added *.example.com, pypi.org (2 domains)"
            in done.out.splitlines())
    assert f"DNS Firewall domain list `{integrated_stack.list_id}` (egress): added" in done.summary
    assert NOTE_START not in done.err
    assert done.output("changed") == "true"
    modified = integrated_stack.modified()

    again = repo_actions.run("repo", "onboard", "octo/app", "--egress-allowlist", "pypi.org,*.example.com",
                             "--output", "json")
    assert again.code == 0, again.err
    doc = json.loads(again.out)
    assert (doc["changed"], doc["egress"]["changed"], doc["egress"]["added"]) == (False, False, [])
    assert doc["egress"]["domains"] == ["*.example.com", "pypi.org"]
    assert again.output("changed") == "false"
    assert integrated_stack.modified() == modified  # no UpdateFirewallDomains was sent


def test_offboarding_removes_only_what_no_active_repo_still_needs(integrated_stack: IntegratedStack,
                                                                  repo_actions: ActionsEnv) -> None:
    for repo in ("a", "b"):
        done = repo_actions.run("repo", "onboard", f"octo/{repo}", "--egress-allowlist",
                                f"pypi.org,{repo}.example.com")
        assert done.code == 0, done.err
    assert integrated_stack.domains() == ["a.example.com.", "b.example.com.", "pypi.org."]

    first = repo_actions.run("repo", "offboard", "octo/a", "--output", "json")
    assert first.code == 0, first.err
    assert json.loads(first.out)["egress"]["removed"] == ["a.example.com"]
    assert integrated_stack.domains() == ["b.example.com.", "pypi.org."]  # pypi.org: octo/b still needs it

    last = repo_actions.run("repo", "offboard", "octo/b")
    assert last.code == 0, last.err
    assert integrated_stack.domains() == []  # emptied with REMOVE (Route 53 refuses an empty REPLACE)
    assert "removed b.example.com, pypi.org (0 domains)" in last.out

    back = repo_actions.run("repo", "onboard", "octo/a")  # re-activated with its stored egress_allowlist
    assert back.code == 0, back.err
    assert integrated_stack.domains() == ["a.example.com.", "pypi.org."]


def test_update_replaces_and_unset_removes(integrated_stack: IntegratedStack,
                                           repo_actions: ActionsEnv) -> None:
    assert repo_actions.run("repo", "onboard", "octo/app", "--egress-allowlist", "pypi.org").code == 0
    changed = repo_actions.run("repo", "update", "octo/app", "--egress-allowlist", "registry.npmjs.org")
    assert changed.code == 0, changed.err
    assert "added registry.npmjs.org; removed pypi.org (1 domain)" in changed.out
    assert integrated_stack.domains() == ["registry.npmjs.org."]
    unset = repo_actions.run("repo", "update", "octo/app", "--unset", "egress_allowlist")
    assert unset.code == 0, unset.err
    assert integrated_stack.domains() == []


def test_dry_run_shows_the_planned_domain_change_and_writes_nothing(integrated_stack: IntegratedStack,
                                                                    repo_actions: ActionsEnv) -> None:
    assert repo_actions.run("repo", "onboard", "octo/a", "--egress-allowlist", "a.example.com").code == 0
    modified = integrated_stack.modified()
    planned = repo_actions.run("repo", "onboard", "octo/b", "--egress-allowlist", "b.example.com",
                               "--dry-run", "--output", "json")
    assert planned.code == 0, planned.err
    egress = json.loads(planned.out)["egress"]
    assert (egress["dry_run"], egress["added"], egress["removed"]) == (True, ["b.example.com"], [])
    gone = repo_actions.run("repo", "offboard", "octo/a", "--dry-run")
    assert gone.code == 0, gone.err
    line = f"egress domain list {integrated_stack.list_id}: would remove a.example.com (0 domains)"
    assert line in gone.out.splitlines()
    assert integrated_stack.stack.item("octo/b") is None
    assert integrated_stack.domains() == ["a.example.com."]
    assert integrated_stack.modified() == modified


def test_the_list_is_repaired_by_any_later_command(integrated_stack: IntegratedStack,
                                                   repo_actions: ActionsEnv) -> None:
    assert repo_actions.run("repo", "onboard", "octo/app", "--egress-allowlist", "pypi.org").code == 0
    integrated_stack.resolver.update_firewall_domains(
        FirewallDomainListId=integrated_stack.list_id, Operation="ADD", Domains=["stray.example.org"])
    integrated_stack.stack.ddb.put_item(TableName=integrated_stack.stack.table, Item={
        "repo": {"S": "octo/by-hand"}, "status": {"S": "active"},
        "egress_allowlist": {"SS": ["Files.Example.net.", "not a domain", "*"]}})
    repaired = repo_actions.run("repo", "onboard", "octo/app", "--output", "json")  # the row is unchanged
    assert repaired.code == 0, repaired.err
    egress = json.loads(repaired.out)["egress"]
    assert (egress["added"], egress["removed"]) == (["files.example.net"], ["stray.example.org"])
    skipped = sorted(item["domain"] for item in egress["skipped"] if item["repo"] == "octo/by-hand")
    assert skipped == ["*", "not a domain"]  # sorted: a string set has no order
    assert len(egress["skipped"]) == 2
    assert integrated_stack.domains() == ["files.example.net.", "pypi.org."]
    assert "octo/by-hand: egress_allowlist entry 'not a domain' is not a domain the Blueprint allows" in \
        repaired.err


def test_a_failed_list_update_exits_1_after_the_row_and_a_rerun_completes_it(
        integrated_stack: IntegratedStack, repo_actions: ActionsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.client import BaseClient
    from botocore.exceptions import ClientError

    original = BaseClient._make_api_call

    def deny_updates(client: BaseClient, operation: str, params: dict[str, object]) -> object:
        if operation == "UpdateFirewallDomains":  # as AWS answers a role without the permission
            error = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
            raise ClientError(error, operation)  # type: ignore[arg-type]
        return original(client, operation, params)

    with monkeypatch.context() as patched:
        patched.setattr(BaseClient, "_make_api_call", deny_updates)
        failed = repo_actions.run("repo", "onboard", "octo/app", "--egress-allowlist", "pypi.org",
                                  "--output", "json")
    assert failed.code == 1
    assert integrated_stack.stack.item("octo/app") is not None  # the row was written first
    assert integrated_stack.domains() == []
    (error,) = [line for line in failed.err.splitlines() if line.startswith("::error")]
    assert "The repo table was written, but DNS Firewall domain list" in error
    where = f"firewall-domain-list/{integrated_stack.list_id}"
    assert f"Grant the role `route53resolver:UpdateFirewallDomains` on `{where}`" in error
    doc = json.loads(failed.out)  # one document: the result, with the list's error
    assert doc["action"] == "create"
    assert "Access denied" in doc["egress"]["error"]

    rerun = repo_actions.run("repo", "onboard", "octo/app", "--egress-allowlist", "pypi.org")
    assert rerun.code == 0, rerun.err
    assert rerun.out.startswith("octo/app: unchanged\n")
    assert integrated_stack.domains() == ["pypi.org."]


def test_a_missing_domain_list_stops_before_anything_is_written(moto_env: str, firewall_emulator: object,
                                                                repo_actions: ActionsEnv) -> None:
    from tests.support.repo_stack import create_stack

    from abca_deploy import abca_stack

    stack = create_stack(extra_outputs={abca_stack.DOMAIN_LIST_OUTPUT: "rslvr-fdl-0000000000000000a"})
    refused = repo_actions.run("repo", "onboard", "octo/app", "--egress-allowlist", "pypi.org")
    assert refused.code == 2
    assert "DNS Firewall domain list rslvr-fdl-0000000000000000a does not exist" in refused.err
    assert stack.items() == []


REPOS = """\
repos:
  octo/a:
    egress_allowlist: [pypi.org, a.example.com]
  octo/b:
    egress_allowlist: [pypi.org, b.example.com]
"""


def test_sync_and_prune_keep_the_list_equal_to_the_union(integrated_stack: IntegratedStack,
                                                         repo_actions: ActionsEnv, tmp_path: Path) -> None:
    file = tmp_path / "repos.yaml"
    file.write_text(REPOS)
    synced = repo_actions.run("repo", "sync", "--file", str(file))
    assert synced.code == 0, synced.err
    assert integrated_stack.domains() == ["a.example.com.", "b.example.com.", "pypi.org."]
    assert NOTE_START not in synced.err

    file.write_text("repos:\n  octo/a:\n    egress_allowlist: [pypi.org, a.example.com]\n")
    planned = repo_actions.run("repo", "sync", "--file", str(file), "--prune", "--dry-run",
                               "--output", "json")
    assert planned.code == 0, planned.err
    assert json.loads(planned.out)["egress"]["removed"] == ["b.example.com"]
    assert integrated_stack.domains() == ["a.example.com.", "b.example.com.", "pypi.org."]

    pruned = repo_actions.run("repo", "sync", "--file", str(file), "--prune")
    assert pruned.code == 0, pruned.err
    assert integrated_stack.domains() == ["a.example.com.", "pypi.org."]
    assert f"egress domain list {integrated_stack.list_id}: removed b.example.com (2 domains)" in pruned.out
    assert f"DNS Firewall domain list `{integrated_stack.list_id}` (egress): removed" in pruned.summary

    again = repo_actions.run("repo", "sync", "--file", str(file), "--prune")
    assert (again.code, again.output("changed")) == (0, "false")


def test_cdk_owned_rows_count_towards_the_list(moto_env: str, firewall_emulator: object,
                                              repo_actions: ActionsEnv, tmp_path: Path) -> None:
    from tests.support.repo_stack import blueprint, create_integrated_stack

    owned = {"egress_allowlist": {"L": [{"S": "cdk.example.com"}]}}
    logical, resource = blueprint("awslabs/agent-plugins", owned)
    stack = create_integrated_stack({logical: resource})
    stack.stack.ddb.put_item(TableName=stack.stack.table, Item={
        "repo": {"S": "awslabs/agent-plugins"}, "status": {"S": "active"}, **owned})
    file = tmp_path / "repos.yaml"
    file.write_text("repos:\n  octo/a:\n    egress_allowlist: [a.example.com]\n")
    synced = repo_actions.run("repo", "sync", "--file", str(file), "--prune")
    assert synced.code == 0, synced.err
    assert "awslabs/agent-plugins: owned by CDK" in synced.out
    assert stack.domains() == ["a.example.com.", "cdk.example.com."]


def test_an_unpatched_stack_keeps_the_warning_and_makes_no_route53_call(
        repo_stack: RepoStack, repo_actions: ActionsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_ROUTE53RESOLVER", "http://127.0.0.1:1")  # any call would fail
    done = repo_actions.run("repo", "onboard", "octo/app", "--egress-allowlist", "pypi.org",
                            "--output", "json")
    assert done.code == 0, done.err
    assert any(NOTE_START in line and "integrations/abca" in line for line in done.err.splitlines())
    assert json.loads(done.out)["egress"] is None
    gone = repo_actions.run("repo", "offboard", "octo/app")
    assert gone.code == 0, gone.err


def test_repo_table_on_an_integrated_stack_says_the_list_is_not_updated(integrated_stack: IntegratedStack,
                                                                        repo_actions: ActionsEnv) -> None:
    done = repo_actions.run("repo", "onboard", "octo/app", "--egress-allowlist", "pypi.org", "--repo-table",
                            integrated_stack.stack.table)
    assert done.code == 0, done.err
    warnings = [line for line in done.err.splitlines() if NOTE_START in line]
    assert len(warnings) == 1
    assert "name the stack with --stack-name" in warnings[0]
    assert integrated_stack.domains() == []
    synced = repo_actions.run("repo", "update", "octo/app", "--max-turns", "20")  # with the stack: repaired
    assert synced.code == 0, synced.err
    assert integrated_stack.domains() == ["pypi.org."]
    gone = repo_actions.run("repo", "offboard", "octo/app", "--repo-table", integrated_stack.stack.table)
    assert gone.code == 0, gone.err
    assert "with --repo-table no stack is read, so the runtime domain list" in gone.err
    assert integrated_stack.domains() == ["pypi.org."]


def test_a_union_over_1000_domains_is_written_in_requests_route53_accepts(
        integrated_stack: IntegratedStack, repo_actions: ActionsEnv, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.client import BaseClient

    original, sent = BaseClient._make_api_call, []

    def record(client: BaseClient, operation: str, params: dict[str, object]) -> object:
        if operation == "UpdateFirewallDomains":
            sent.append((params["Operation"], len(params["Domains"])))  # type: ignore[arg-type]
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    file = tmp_path / "repos.yaml"
    file.write_text(_hundred_domains_each(11))
    synced = repo_actions.run("repo", "sync", "--file", str(file))
    assert synced.code == 0, synced.err
    assert sent == [("ADD", 1000), ("ADD", 100)]  # Route 53 takes at most 1000 domains a request
    assert len(integrated_stack.domains()) == 1100

    file.write_text(_hundred_domains_each(10) + "  octo/r10: {}\n")
    sent.clear()
    trimmed = repo_actions.run("repo", "sync", "--file", str(file))
    assert trimmed.code == 0, trimmed.err
    assert sent == [("REPLACE", 1000)]
    assert len(integrated_stack.domains()) == 1000


def _hundred_domains_each(repos: int) -> str:
    lines = ["repos:"]
    for repo in range(repos):
        lines += [f"  octo/r{repo}:", "    egress_allowlist:"]
        lines += [f"      - h{repo}-{i}.example.com" for i in range(100)]
    return "\n".join(lines) + "\n"


def test_an_update_without_fields_fills_a_new_list_from_the_rows_already_there(
        integrated_stack: IntegratedStack, repo_actions: ActionsEnv) -> None:
    stack = integrated_stack.stack  # rows onboarded before the stack was integrated
    for repo, domain in (("octo/old", "old.example.com"), ("octo/older", "older.example.com")):
        stack.ddb.put_item(TableName=stack.table, Item={
            "repo": {"S": repo}, "status": {"S": "active"}, "egress_allowlist": {"L": [{"S": domain}]}})
    before = stack.item("octo/old")
    planned = repo_actions.run("repo", "update", "octo/old", "--dry-run")
    assert planned.code == 0, planned.err
    assert "would add old.example.com, older.example.com (2 domains)" in planned.out
    assert integrated_stack.domains() == []
    done = repo_actions.run("repo", "update", "octo/old")
    assert done.code == 0, done.err
    assert done.out.startswith("octo/old: unchanged\n")
    assert stack.item("octo/old") == before
    assert integrated_stack.domains() == ["old.example.com.", "older.example.com."]
