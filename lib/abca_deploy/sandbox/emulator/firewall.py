"""Route 53 Resolver DNS Firewall domain lists: the calls abca-deploy's onboarding makes (moto has none).

Create, Get, List, ListFirewallDomains, UpdateFirewallDomains (ADD, REMOVE, REPLACE) and Delete, as AWS
documents them: domains are stored with a trailing dot, an update is applied at once but the list reports
UPDATING for ``settle_seconds`` (AWS applies domain changes asynchronously), and a second update or a delete
during that time is a ConflictException, so a client must wait for COMPLETE as it must on AWS.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from abca_deploy.sandbox.emulator.errors import conflict, validation
from abca_deploy.sandbox.emulator.firewall_rules import RuleOps
from abca_deploy.sandbox.emulator.firewall_state import (
    DomainList,
    FirewallStore,
    normalize_domain,
    page,
    timestamp,
)

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger("abca_deploy.sandbox.emulator")

SETTLE_SECONDS = 0.5
"""How long a domain list reports UPDATING after an update (AWS: seconds; tunable for tests)."""

_MAX_DOMAINS_PAGE = 100  # ListFirewallDomains answers up to 100 domains when MaxResults is not given


class DomainListOps:
    """The domain-list operations over a FirewallStore."""

    def __init__(self, store: FirewallStore, settle_seconds: float = SETTLE_SECONDS) -> None:
        self.store = store
        self.settle_seconds = settle_seconds

    def create(self, params: dict[str, Any]) -> dict[str, Any]:
        """CreateFirewallDomainList: an empty list, COMPLETE; a repeated CreatorRequestId gets the first."""
        store, request_id = self.store, params["CreatorRequestId"]
        with store.lock:
            earlier = store.earlier("list", request_id)
            if earlier is not None and earlier in store.lists:
                return {"FirewallDomainList": store.lists[earlier].describe(store.clock())}
            list_id, arn = store.new_identity("list")
            created = DomainList(list_id, arn, params["Name"], request_id)
            store.lists[list_id] = created
            store.remember("list", request_id, list_id)
            log.info("firewall domain list %s (%s) created", list_id, created.name)
            return {"FirewallDomainList": created.describe(store.clock())}

    def get(self, params: dict[str, Any]) -> dict[str, Any]:
        """GetFirewallDomainList."""
        with self.store.lock:
            found = self.store.domain_list(params["FirewallDomainListId"])
            return {"FirewallDomainList": found.describe(self.store.clock())}

    def list_lists(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListFirewallDomainLists: metadata of every list, oldest first."""
        with self.store.lock:
            now = self.store.clock()
            items = [found.metadata(now) for found in self.store.lists.values()]
        return page(items, params, "FirewallDomainLists")

    def list_domains(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListFirewallDomains: the stored domains (trailing dot), up to 100 a page unless MaxResults says."""
        with self.store.lock:
            domains = list(self.store.domain_list(params["FirewallDomainListId"]).domains)
        return page(domains, params, "Domains", _MAX_DOMAINS_PAGE)

    def update(self, params: dict[str, Any]) -> dict[str, Any]:
        """UpdateFirewallDomains: ADD, REMOVE or REPLACE; UPDATING until it settles."""
        operation, given = params["Operation"], params["Domains"]
        if operation not in ("ADD", "REMOVE", "REPLACE"):
            msg = f"Operation {operation} is not emulated; use ADD, REMOVE or REPLACE."
            raise validation(msg, [("Operation", msg)])
        if not given:
            # AWS refuses an empty update: to empty a list, REMOVE what it holds (as Terraform does).
            msg = f"Domains must name at least one domain for {operation}; to empty a list, REMOVE them"
            raise validation(msg, [("Domains", msg)])
        domains = dict.fromkeys(normalize_domain(text) for text in given)
        store = self.store
        with store.lock:
            found = store.domain_list(params["FirewallDomainListId"])
            now = store.clock()
            if found.status(now) != "COMPLETE":
                msg = f"Firewall domain list {found.id} is {found.status(now)}; wait until it is COMPLETE."
                raise conflict(msg)
            if operation == "REPLACE":
                found.domains = domains
            elif operation == "ADD":
                found.domains.update(domains)
            else:
                for domain in domains:
                    found.domains.pop(domain, None)
            found.updating_until, found.modified = now + self.settle_seconds, timestamp()
            log.info("firewall domain list %s: %s %d domain(s), now %d", found.id, operation, len(domains),
                     len(found.domains))
            described = found.describe(now)
        return {key: described[key] for key in ("Id", "Name", "Status", "StatusMessage")}

    def delete(self, params: dict[str, Any]) -> dict[str, Any]:
        """DeleteFirewallDomainList: refused while a rule uses it or an update settles."""
        store = self.store
        with store.lock:
            found = store.domain_list(params["FirewallDomainListId"])
            users = [group.id for group in store.groups.values()
                     if any(rule.get("FirewallDomainListId") == found.id for rule in group.rules.values())]
            if users:
                msg = f"Firewall domain list {found.id} is used by rule group(s) {', '.join(users)}."
                raise conflict(msg)
            if found.status(store.clock()) != "COMPLETE":
                msg = f"Firewall domain list {found.id} is {found.status(store.clock())}; wait for COMPLETE."
                raise conflict(msg)
            del store.lists[found.id]
            found.deleting = True
            return {"FirewallDomainList": found.describe(store.clock())}


def operations(store: FirewallStore, settle_seconds: float = SETTLE_SECONDS) -> dict[
        str, Callable[[dict[str, Any]], dict[str, Any]]]:
    """Operation name -> handler, for every Route 53 Resolver operation the emulator implements."""
    lists, rules = DomainListOps(store, settle_seconds), RuleOps(store)
    return {
        "CreateFirewallDomainList": lists.create, "GetFirewallDomainList": lists.get,
        "ListFirewallDomainLists": lists.list_lists, "ListFirewallDomains": lists.list_domains,
        "UpdateFirewallDomains": lists.update, "DeleteFirewallDomainList": lists.delete,
        "CreateFirewallRuleGroup": rules.create_group, "GetFirewallRuleGroup": rules.get_group,
        "CreateFirewallRule": rules.create_rule, "ListFirewallRules": rules.list_rules,
        "AssociateFirewallRuleGroup": rules.associate,
        "GetFirewallRuleGroupAssociation": rules.get_association,
        "ListFirewallRuleGroupAssociations": rules.list_associations,
    }
