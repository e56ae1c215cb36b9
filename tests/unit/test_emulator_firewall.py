"""The emulator's Route 53 Resolver DNS Firewall over the real HTTP wire, with stock boto3 (no Docker).

The domain-list calls abca-deploy's onboarding makes (Create, Get, List, ListFirewallDomains,
UpdateFirewallDomains with ADD/REMOVE/REPLACE, Delete) and the rule-group calls a seeded firewall needs, as
AWS answers them: JSON 1.1 errors botocore maps to the right exception class, requests validated against the
botocore model, domains stored with a trailing dot, and an update that settles (UPDATING, then COMPLETE)
before the next one is accepted.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from tests.support.standin import NullRunner

from abca_deploy.sandbox.emulator.firewall import SETTLE_SECONDS
from abca_deploy.sandbox.emulator.server import EmulatorServer

if TYPE_CHECKING:
    from collections.abc import Iterator

TARGET = "Route53Resolver"


class Clock:
    """The store's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def settle(self) -> None:
        self.now += SETTLE_SECONDS + 0.01


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    srv = EmulatorServer("127.0.0.1:1", runner=NullRunner())
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def clock(server: EmulatorServer) -> Clock:
    fake = Clock()
    server.firewall.clock = fake
    return fake


@pytest.fixture
def resolver(server: EmulatorServer) -> Any:
    """A stock boto3 route53resolver client pointed at the emulator (no retries: errors surface at once)."""
    return boto3.client(
        "route53resolver",
        endpoint_url=server.url,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}),
    )


def _raw(server: EmulatorServer, operation: str, body: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    request = urllib.request.Request(
        server.url + "/",
        data=body,
        method="POST",
        headers={"X-Amz-Target": f"{TARGET}.{operation}", "Content-Type": "application/x-amz-json-1.1"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def _domains(resolver: Any, list_id: str) -> list[str]:
    pages = resolver.get_paginator("list_firewall_domains").paginate(FirewallDomainListId=list_id)
    return [domain for page in pages for domain in page["Domains"]]


def test_create_answers_an_empty_complete_list_with_aws_shaped_ids(resolver: Any) -> None:
    created = resolver.create_firewall_domain_list(Name="backgroundagent-dev-runtime-egress")[
        "FirewallDomainList"
    ]
    assert re.fullmatch(r"rslvr-fdl-[0-9a-f]{17}", created["Id"])
    assert (
        created["Arn"]
        == f"arn:aws:route53resolver:us-east-1:123456789012:firewall-domain-list/{created['Id']}"
    )
    assert (created["DomainCount"], created["Status"]) == (0, "COMPLETE")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", created["CreationTime"])
    assert created["ModificationTime"] == created["CreationTime"]
    got = resolver.get_firewall_domain_list(FirewallDomainListId=created["Id"])["FirewallDomainList"]
    assert got == created
    listed = resolver.list_firewall_domain_lists()["FirewallDomainLists"]
    assert [(item["Id"], item["Name"]) for item in listed] == [(created["Id"], created["Name"])]


def test_a_repeated_creator_request_id_returns_the_first_list(resolver: Any) -> None:
    first = resolver.create_firewall_domain_list(Name="egress", CreatorRequestId="retry-1")[
        "FirewallDomainList"
    ]
    again = resolver.create_firewall_domain_list(Name="egress", CreatorRequestId="retry-1")[
        "FirewallDomainList"
    ]
    other = resolver.create_firewall_domain_list(Name="egress", CreatorRequestId="retry-2")[
        "FirewallDomainList"
    ]
    assert again["Id"] == first["Id"]
    assert other["Id"] != first["Id"]


def test_replace_add_and_remove_keep_domains_in_aws_stored_form(resolver: Any, clock: Clock) -> None:
    list_id = resolver.create_firewall_domain_list(Name="egress")["FirewallDomainList"]["Id"]
    answer = resolver.update_firewall_domains(
        FirewallDomainListId=list_id, Operation="REPLACE", Domains=["example.com", "*.pypi.org", "*"]
    )
    assert (answer["Id"], answer["Status"]) == (list_id, "UPDATING")
    assert _domains(resolver, list_id) == ["example.com.", "*.pypi.org.", "*."]
    clock.settle()
    resolver.update_firewall_domains(
        FirewallDomainListId=list_id, Operation="ADD", Domains=["example.com.", "registry.npmjs.org"]
    )
    clock.settle()
    resolver.update_firewall_domains(
        FirewallDomainListId=list_id, Operation="REMOVE", Domains=["*", "not-there.example"]
    )
    clock.settle()
    assert _domains(resolver, list_id) == ["example.com.", "*.pypi.org.", "registry.npmjs.org."]
    got = resolver.get_firewall_domain_list(FirewallDomainListId=list_id)["FirewallDomainList"]
    assert (got["DomainCount"], got["Status"]) == (3, "COMPLETE")


def test_an_update_settles_before_the_next_is_accepted(resolver: Any, clock: Clock) -> None:
    list_id = resolver.create_firewall_domain_list(Name="egress")["FirewallDomainList"]["Id"]
    resolver.update_firewall_domains(FirewallDomainListId=list_id, Operation="ADD", Domains=["a.example"])
    got = resolver.get_firewall_domain_list(FirewallDomainListId=list_id)["FirewallDomainList"]
    assert got["Status"] == "UPDATING"
    with pytest.raises(resolver.exceptions.ConflictException, match="UPDATING"):
        resolver.update_firewall_domains(FirewallDomainListId=list_id, Operation="ADD", Domains=["b.example"])
    clock.settle()
    assert (
        resolver.get_firewall_domain_list(FirewallDomainListId=list_id)["FirewallDomainList"]["Status"]
        == "COMPLETE"
    )
    resolver.update_firewall_domains(FirewallDomainListId=list_id, Operation="ADD", Domains=["b.example"])
    assert _domains(resolver, list_id) == ["a.example.", "b.example."]


@pytest.mark.parametrize(
    ("operation", "domains", "message"),
    [
        ("REPLACE", [], "to empty a list, REMOVE them"),
        ("ADD", ["under_score.example"], "Invalid domain 'under_score.example'"),
        (
            "ADD",
            ["a" * 256],
            "at 'Domains[0]' failed to satisfy constraint: Member must have length less than or equal to 255",
        ),
        ("ADD", ["exa mple.com"], "Invalid domain"),
        ("DENY", ["a.example"], "Operation DENY is not emulated"),
    ],
)
def test_bad_updates_are_validation_errors_and_change_nothing(
    resolver: Any, clock: Clock, operation: str, domains: list[str], message: str
) -> None:
    list_id = resolver.create_firewall_domain_list(Name="egress")["FirewallDomainList"]["Id"]
    resolver.update_firewall_domains(FirewallDomainListId=list_id, Operation="ADD", Domains=["keep.example"])
    clock.settle()
    with pytest.raises(resolver.exceptions.ValidationException, match=re.escape(message)):
        resolver.update_firewall_domains(FirewallDomainListId=list_id, Operation=operation, Domains=domains)
    assert _domains(resolver, list_id) == ["keep.example."]
    assert (
        resolver.get_firewall_domain_list(FirewallDomainListId=list_id)["FirewallDomainList"]["Status"]
        == "COMPLETE"
    )


def test_list_firewall_domains_pages_through_max_results(resolver: Any, clock: Clock) -> None:
    list_id = resolver.create_firewall_domain_list(Name="egress")["FirewallDomainList"]["Id"]
    wanted = [f"host{i}.example" for i in range(7)]
    resolver.update_firewall_domains(FirewallDomainListId=list_id, Operation="REPLACE", Domains=wanted)
    first = resolver.list_firewall_domains(FirewallDomainListId=list_id, MaxResults=3)
    assert len(first["Domains"]) == 3
    assert "NextToken" in first
    pages = resolver.get_paginator("list_firewall_domains").paginate(
        FirewallDomainListId=list_id, PaginationConfig={"PageSize": 3}
    )
    assert [d for page in pages for d in page["Domains"]] == [f"{d}." for d in wanted]


def test_unknown_ids_are_resource_not_found(resolver: Any) -> None:
    with pytest.raises(resolver.exceptions.ResourceNotFoundException, match="rslvr-fdl-missing"):
        resolver.get_firewall_domain_list(FirewallDomainListId="rslvr-fdl-missing")
    with pytest.raises(resolver.exceptions.ResourceNotFoundException):
        resolver.update_firewall_domains(
            FirewallDomainListId="rslvr-fdl-missing", Operation="ADD", Domains=["a.example"]
        )
    with pytest.raises(resolver.exceptions.ResourceNotFoundException):
        resolver.list_firewall_domains(FirewallDomainListId="rslvr-fdl-missing")


def test_requests_are_validated_against_the_botocore_model_on_the_wire(server: EmulatorServer) -> None:
    status, headers, body = _raw(server, "UpdateFirewallDomains", b'{"FirewallDomainListId": "rslvr-fdl-x"}')
    assert status == 400
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    assert body["__type"] == "ValidationException"
    assert "'Operation' failed to satisfy constraint: Member must not be null" in body["Message"]
    assert "'Domains' failed to satisfy constraint: Member must not be null" in body["Message"]
    status, _, body = _raw(server, "CreateFirewallDomainList", b'{"CreatorRequestId": "r", "Name": "12345"}')
    assert (status, body["__type"]) == (400, "ValidationException")
    assert "Member must satisfy regular expression pattern" in body["Message"]
    status, _, body = _raw(server, "ListFirewallDomains", b'{"FirewallDomainListId": "x", "MaxResults": 0}')
    assert "Member must have value greater than or equal to 1" in body["Message"]
    status, _, body = _raw(server, "GetFirewallDomainList", b"[1, 2]")
    assert (status, body["__type"]) == (400, "SerializationException")


def test_an_unimplemented_operation_is_unknown_and_agentcore_still_answers(
    server: EmulatorServer, resolver: Any
) -> None:
    status, _, body = _raw(server, "ListResolverEndpoints", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    with pytest.raises(resolver.exceptions.ClientError, match="UnknownOperationException"):
        resolver.list_resolver_rules()
    control = boto3.client("bedrock-agentcore-control", endpoint_url=server.url, region_name="us-east-1")
    assert control.list_agent_runtimes()["agentRuntimes"] == []


def _firewall(resolver: Any, clock: Clock) -> tuple[str, str]:
    list_id = resolver.create_firewall_domain_list(Name="allow")["FirewallDomainList"]["Id"]
    resolver.update_firewall_domains(FirewallDomainListId=list_id, Operation="ADD", Domains=["a.example"])
    clock.settle()
    group = resolver.create_firewall_rule_group(Name="agent-egress-policy")["FirewallRuleGroup"]
    assert re.fullmatch(r"rslvr-frg-[0-9a-f]{17}", group["Id"])
    return list_id, group["Id"]


def test_rules_reference_existing_lists_at_unique_priorities(resolver: Any, clock: Clock) -> None:
    list_id, group_id = _firewall(resolver, clock)
    for priority, action in ((300, "ALERT"), (100, "ALLOW")):
        resolver.create_firewall_rule(
            FirewallRuleGroupId=group_id,
            FirewallDomainListId=list_id,
            Priority=priority,
            Action=action,
            Name=f"r{priority}",
        )
    rules = resolver.list_firewall_rules(FirewallRuleGroupId=group_id)["FirewallRules"]
    assert [(r["Priority"], r["Action"], r["FirewallDomainListId"]) for r in rules] == [
        (100, "ALLOW", list_id),
        (300, "ALERT", list_id),
    ]
    assert (
        resolver.list_firewall_rules(FirewallRuleGroupId=group_id, Action="ALERT")["FirewallRules"][0][
            "Priority"
        ]
        == 300
    )
    assert (
        resolver.get_firewall_rule_group(FirewallRuleGroupId=group_id)["FirewallRuleGroup"]["RuleCount"] == 2
    )
    with pytest.raises(resolver.exceptions.ValidationException, match="priority 100"):
        resolver.create_firewall_rule(
            FirewallRuleGroupId=group_id,
            FirewallDomainListId=list_id,
            Priority=100,
            Action="ALLOW",
            Name="again",
        )
    with pytest.raises(resolver.exceptions.ValidationException, match="BlockResponse is required"):
        resolver.create_firewall_rule(
            FirewallRuleGroupId=group_id,
            FirewallDomainListId=list_id,
            Priority=200,
            Action="BLOCK",
            Name="block",
        )
    with pytest.raises(resolver.exceptions.ResourceNotFoundException):
        resolver.create_firewall_rule(
            FirewallRuleGroupId=group_id,
            FirewallDomainListId="rslvr-fdl-missing",
            Priority=200,
            Action="ALLOW",
            Name="missing",
        )


def test_a_list_in_use_cannot_be_deleted_and_an_unused_one_can(resolver: Any, clock: Clock) -> None:
    list_id, group_id = _firewall(resolver, clock)
    resolver.create_firewall_rule(
        FirewallRuleGroupId=group_id, FirewallDomainListId=list_id, Priority=100, Action="ALLOW", Name="allow"
    )
    with pytest.raises(resolver.exceptions.ConflictException, match=group_id):
        resolver.delete_firewall_domain_list(FirewallDomainListId=list_id)
    unused = resolver.create_firewall_domain_list(Name="unused")["FirewallDomainList"]["Id"]
    deleted = resolver.delete_firewall_domain_list(FirewallDomainListId=unused)["FirewallDomainList"]
    assert (deleted["Id"], deleted["Status"]) == (unused, "DELETING")
    with pytest.raises(resolver.exceptions.ResourceNotFoundException):
        resolver.get_firewall_domain_list(FirewallDomainListId=unused)


def test_associations_are_unique_per_vpc_and_within_the_priority_range(resolver: Any, clock: Clock) -> None:
    _, group_id = _firewall(resolver, clock)
    association = resolver.associate_firewall_rule_group(
        FirewallRuleGroupId=group_id, VpcId="vpc-1", Priority=101, Name="agent-vpc"
    )["FirewallRuleGroupAssociation"]
    assert re.fullmatch(r"rslvr-frgassoc-[0-9a-f]{17}", association["Id"])
    assert (association["Status"], association["MutationProtection"]) == ("COMPLETE", "DISABLED")
    got = resolver.get_firewall_rule_group_association(FirewallRuleGroupAssociationId=association["Id"])
    assert got["FirewallRuleGroupAssociation"] == association
    listed = resolver.list_firewall_rule_group_associations(VpcId="vpc-1")["FirewallRuleGroupAssociations"]
    assert [a["Id"] for a in listed] == [association["Id"]]
    assert (
        resolver.list_firewall_rule_group_associations(VpcId="vpc-2")["FirewallRuleGroupAssociations"] == []
    )
    with pytest.raises(resolver.exceptions.ConflictException, match="this rule group"):
        resolver.associate_firewall_rule_group(
            FirewallRuleGroupId=group_id, VpcId="vpc-1", Priority=200, Name="again"
        )
    with pytest.raises(resolver.exceptions.ValidationException, match="between 100 and 9900"):
        resolver.associate_firewall_rule_group(
            FirewallRuleGroupId=group_id, VpcId="vpc-2", Priority=100, Name="edge"
        )
