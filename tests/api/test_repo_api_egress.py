"""On an integrated stack the repository API keeps the runtime DNS Firewall domain list equal to the union of
the active repositories' egress_allowlist, exactly as the CLI does (the same write path)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from tests.support.repo_api import RepoApi


def listed(list_id: str) -> list[str]:
    """The domain list as Route 53 lists it (trailing dots), sorted."""
    resolver = boto3.client("route53resolver")
    answer = resolver.list_firewall_domains(FirewallDomainListId=list_id, MaxResults=100)
    return sorted(answer["Domains"])


def test_writes_through_the_api_keep_the_domain_list_equal_to_the_active_egress(
        integrated_api: tuple[RepoApi, str]) -> None:
    api, list_id = integrated_api
    created = api.onboard("octo/a", egress_allowlist=["pypi.org", "a.example.com"])
    assert created.status == 201, created.body
    assert created.data["egress"]["added"] == ["a.example.com", "pypi.org"]
    assert listed(list_id) == ["a.example.com.", "pypi.org."]
    assert api.onboard("octo/b", egress_allowlist=["pypi.org"]).status == 201

    patched = api.call("PATCH", "repos/octo%2Fa", {"egress_allowlist": ["registry.npmjs.org"]})
    assert patched.status == 200, patched.body
    assert (patched.data["egress"]["added"], patched.data["egress"]["removed"]) == (
        ["registry.npmjs.org"], ["a.example.com"])
    assert listed(list_id) == ["pypi.org.", "registry.npmjs.org."]

    preview = api.call("DELETE", "repos/octo%2Fb?dry_run=true")
    assert preview.status == 200, preview.body
    assert preview.data["egress"]["dry_run"] is True
    assert preview.data["egress"]["removed"] == ["pypi.org"]  # only octo/b still needs it
    assert listed(list_id) == ["pypi.org.", "registry.npmjs.org."]  # a dry run changes nothing

    removed = api.call("DELETE", "repos/octo%2Fb")
    assert removed.status == 200, removed.body
    assert removed.data["egress"]["removed"] == ["pypi.org"]
    assert listed(list_id) == ["registry.npmjs.org."]

    again = api.call("PATCH", "repos/octo%2Fa", {"egress_allowlist": ["registry.npmjs.org"]})
    assert again.status == 200, again.body
    assert (again.data["changed"], again.data["egress"]["changed"]) == (False, False)
