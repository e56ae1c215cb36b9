"""Route 53 Resolver DNS Firewall rule groups, their rules and VPC associations: what a seeded firewall needs.

Enough to build ABCA's DNS firewall (allow lists, a catch-all, one association per VPC) and read it back, with
the checks AWS documents: a rule names an existing domain list and a priority unique in its group, BLOCK rules
say how to block, an association's priority is unique per VPC and between 100 and 9900.
"""

from __future__ import annotations

from typing import Any

from abca_deploy.sandbox.emulator.errors import conflict, validation
from abca_deploy.sandbox.emulator.firewall_state import (
    ASSOCIATION,
    Association,
    FirewallStore,
    RuleGroup,
    not_found,
    page,
    timestamp,
)

_ASSOCIATION_PRIORITY = (100, 9900)  # exclusive bounds ("between 100 and 9900")
# CreateFirewallRule members a rule keeps and answers back (the FirewallRule shape).
_RULE_MEMBERS = ("FirewallDomainListId", "Name", "Priority", "Action", "BlockResponse", "BlockOverrideDomain",
                 "BlockOverrideDnsType", "BlockOverrideTtl", "FirewallDomainRedirectionAction", "Qtype")


class RuleOps:
    """Rule-group, rule and association operations over a FirewallStore."""

    def __init__(self, store: FirewallStore) -> None:
        self.store = store

    def create_group(self, params: dict[str, Any]) -> dict[str, Any]:
        """CreateFirewallRuleGroup: an empty group; a repeated CreatorRequestId returns the first."""
        store, request_id = self.store, params["CreatorRequestId"]
        with store.lock:
            earlier = store.earlier("group", request_id)
            if earlier is not None and earlier in store.groups:
                return {"FirewallRuleGroup": store.groups[earlier].describe()}
            group_id, arn = store.new_identity("group")
            group = RuleGroup(group_id, arn, params["Name"], store.account, request_id)
            store.groups[group_id] = group
            store.remember("group", request_id, group_id)
            return {"FirewallRuleGroup": group.describe()}

    def get_group(self, params: dict[str, Any]) -> dict[str, Any]:
        """GetFirewallRuleGroup."""
        with self.store.lock:
            return {"FirewallRuleGroup": self.store.group(params["FirewallRuleGroupId"]).describe()}

    def create_rule(self, params: dict[str, Any]) -> dict[str, Any]:
        """CreateFirewallRule: a domain-list rule at a priority not yet used in its group."""
        _check_block(params)
        store = self.store
        with store.lock:
            group = store.group(params["FirewallRuleGroupId"])
            list_id = params.get("FirewallDomainListId")
            if list_id is None:
                msg = "FirewallDomainListId is required (DNS Firewall Advanced rules are not emulated)."
                raise validation(msg, [("FirewallDomainListId", msg)])
            store.domain_list(list_id)
            priority = params["Priority"]
            existing = group.rules.get(priority)
            if existing is not None:
                if existing["CreatorRequestId"] == params["CreatorRequestId"]:
                    return {"FirewallRule": dict(existing)}
                msg = f"Rule group {group.id} already has a rule with priority {priority}."
                raise validation(msg, [("Priority", msg)])
            now = timestamp()
            rule = {key: params[key] for key in _RULE_MEMBERS if key in params}
            rule.update(FirewallRuleGroupId=group.id, CreatorRequestId=params["CreatorRequestId"],
                        CreationTime=now, ModificationTime=now)
            group.rules[priority] = rule
            group.modified = now
            return {"FirewallRule": dict(rule)}

    def list_rules(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListFirewallRules: by priority, optionally only one Priority or Action."""
        with self.store.lock:
            group = self.store.group(params["FirewallRuleGroupId"])
            rules = [dict(group.rules[p]) for p in sorted(group.rules)]
        for key in ("Priority", "Action"):
            if key in params:
                rules = [rule for rule in rules if rule.get(key) == params[key]]
        return page(rules, params, "FirewallRules")

    def associate(self, params: dict[str, Any]) -> dict[str, Any]:
        """AssociateFirewallRuleGroup: one association per group and VPC, a priority unique in the VPC."""
        store, request_id = self.store, params["CreatorRequestId"]
        low, high = _ASSOCIATION_PRIORITY
        if not low < params["Priority"] < high:
            msg = f"Priority {params['Priority']} is not between {low} and {high}."
            raise validation(msg, [("Priority", msg)])
        with store.lock:
            earlier = store.earlier("association", request_id)
            if earlier is not None and earlier in store.associations:
                return {"FirewallRuleGroupAssociation": store.associations[earlier].describe()}
            group, vpc = store.group(params["FirewallRuleGroupId"]), params["VpcId"]
            for other in store.associations.values():
                same_slot = other.group_id == group.id or other.priority == params["Priority"]
                if other.vpc_id == vpc and same_slot:
                    what = "this rule group" if other.group_id == group.id else f"priority {other.priority}"
                    msg = f"VPC {vpc} already has an association with {what} ({other.id})."
                    raise conflict(msg)
            association_id, arn = store.new_identity("association")
            created = Association(association_id, arn, group.id, vpc, params["Name"], params["Priority"],
                                  params.get("MutationProtection", "DISABLED"), request_id)
            store.associations[association_id] = created
            store.remember("association", request_id, association_id)
            return {"FirewallRuleGroupAssociation": created.describe()}

    def get_association(self, params: dict[str, Any]) -> dict[str, Any]:
        """GetFirewallRuleGroupAssociation."""
        association_id = params["FirewallRuleGroupAssociationId"]
        with self.store.lock:
            found = self.store.associations.get(association_id)
            if found is None:
                raise not_found(ASSOCIATION, association_id)
            return {"FirewallRuleGroupAssociation": found.describe()}

    def list_associations(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListFirewallRuleGroupAssociations, filtered like AWS by rule group, VPC, priority and status."""
        with self.store.lock:
            items = [a.describe() for a in self.store.associations.values()]
        filters = {"FirewallRuleGroupId": params.get("FirewallRuleGroupId"), "VpcId": params.get("VpcId"),
                   "Priority": params.get("Priority"), "Status": params.get("Status")}
        for key, wanted in filters.items():
            if wanted is not None:
                items = [item for item in items if item[key] == wanted]
        return page(items, params, "FirewallRuleGroupAssociations")


def _check_block(params: dict[str, Any]) -> None:
    """BLOCK rules need a BlockResponse, and OVERRIDE needs the override domain, type and TTL."""
    if params["Action"] != "BLOCK":
        return
    response = params.get("BlockResponse")
    if response is None:
        msg = "BlockResponse is required when Action is BLOCK."
        raise validation(msg, [("BlockResponse", msg)])
    missing = [key for key in ("BlockOverrideDomain", "BlockOverrideDnsType", "BlockOverrideTtl")
               if response == "OVERRIDE" and key not in params]
    if missing:
        msg = f"{', '.join(missing)} required when BlockResponse is OVERRIDE."
        raise validation(msg, [(missing[0], msg)])
