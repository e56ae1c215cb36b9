"""Seed ABCA's DNS firewall into the emulator's Route 53 Resolver, as ABCA's ``DnsFirewall`` construct has it.

Both shapes: the platform baseline list, the Blueprint list (ABCA puts a placeholder in it when no Blueprint
adds domains), a catch-all list, one rule group (ALLOW 100, ALLOW 200, ALERT 300: ABCA deploys in observation
mode) and its association with the agent VPC. The integrated shape adds the runtime-managed domain list
(empty; onboarding owns its content) and its ALLOW rule. Idempotent: every create carries a fixed
CreatorRequestId, which Route 53 Resolver (and the emulator) answer with the existing resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from abca_deploy import abca_stack
from abca_deploy.sandbox import platform_spec as spec

BASELINE_DOMAINS = ("github.com", "api.github.com", "*.githubusercontent.com", "registry.npmjs.org",
                    "*.npmjs.org", "pypi.org", "*.pypi.org", "files.pythonhosted.org", "*.amazonaws.com")
# (list name, rule priority, action, domains written when the list is new); ABCA's names.
LISTS = (
    ("platform-baseline", 100, "ALLOW", BASELINE_DOMAINS),
    ("blueprint-additional", 200, "ALLOW", ("placeholder.invalid",)),
    ("block-all", 300, "ALERT", ("*",)),
)
RULE_GROUP_NAME = "agent-egress-policy"
ASSOCIATION_NAME = "agent-vpc-dns-firewall"
ASSOCIATION_PRIORITY = 101
_REQUEST_PREFIX = "abca-sandbox-"


@dataclass(frozen=True)
class SeededFirewall:
    """The ids of the seeded firewall; ``runtime_list_id`` only in the integrated shape."""

    rule_group_id: str
    association_id: str
    list_ids: dict[str, str]
    runtime_list_id: str | None


def seed(client: Any, *, integrated: bool) -> SeededFirewall:
    """Create what is missing (a ``route53resolver`` client on the emulator) and return the ids."""
    group = client.create_firewall_rule_group(Name=RULE_GROUP_NAME,
                                              CreatorRequestId=_request(RULE_GROUP_NAME))
    group_id = group["FirewallRuleGroup"]["Id"]
    wanted = list(LISTS)
    runtime_name = abca_stack.domain_list_name(spec.STACK_NAME)
    if integrated:
        wanted.append((runtime_name, abca_stack.DOMAIN_LIST_RULE_PRIORITY, "ALLOW", ()))
    list_ids: dict[str, str] = {}
    for name, priority, action, domains in wanted:
        list_ids[name] = _ensure_list(client, name, domains)
        client.create_firewall_rule(
            FirewallRuleGroupId=group_id, FirewallDomainListId=list_ids[name], Priority=priority,
            Action=action, Name=f"{name}-{action.lower()}", CreatorRequestId=_request(f"rule-{priority}"))
    association = client.associate_firewall_rule_group(
        FirewallRuleGroupId=group_id, VpcId=spec.VPC_ID, Priority=ASSOCIATION_PRIORITY, Name=ASSOCIATION_NAME,
        CreatorRequestId=_request(ASSOCIATION_NAME))
    return SeededFirewall(group_id, association["FirewallRuleGroupAssociation"]["Id"], list_ids,
                          list_ids.get(runtime_name))


def _ensure_list(client: Any, name: str, domains: tuple[str, ...]) -> str:
    """The list's id; its domains are written only when it is new (empty), never over later changes."""
    found = client.create_firewall_domain_list(Name=name, CreatorRequestId=_request(name))
    found = found["FirewallDomainList"]
    if domains and not found["DomainCount"]:
        client.update_firewall_domains(FirewallDomainListId=found["Id"], Operation="REPLACE",
                                       Domains=list(domains))
    return str(found["Id"])


def _request(name: str) -> str:
    return f"{_REQUEST_PREFIX}{name}"
