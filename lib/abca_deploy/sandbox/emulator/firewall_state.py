"""Route 53 Resolver DNS Firewall resources as the emulator holds them, shaped like AWS's answers.

Domain lists, rule groups with their rules, and rule-group associations. Ids and ARNs follow AWS's forms
(``rslvr-fdl-…``, ``arn:aws:route53resolver:<region>:<account>:firewall-domain-list/…``); times are RFC 3339
strings, as the Route 53 Resolver model declares them.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from abca_deploy.sandbox.emulator.errors import ApiError, validation

if TYPE_CHECKING:
    from collections.abc import Callable

LIST, GROUP, ASSOCIATION = "list", "group", "association"
_KINDS = {
    LIST: ("rslvr-fdl-", "firewall-domain-list", "FirewallDomainList"),
    GROUP: ("rslvr-frg-", "firewall-rule-group", "FirewallRuleGroup"),
    ASSOCIATION: ("rslvr-frgassoc-", "firewall-rule-group-association", "FirewallRuleGroupAssociation"),
}
# AWS: an optional leading "*", then letters, digits and "-" in labels separated by "." (1-255 characters).
# AWS stores each domain with a trailing dot ("example.com" is listed as "example.com.", "*" as "*.").
_DOMAIN = re.compile(r"\*|(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_MAX_DOMAIN = 255


def timestamp() -> str:
    """The current time as Route 53 Resolver writes it (RFC 3339, UTC, microseconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalize_domain(text: str) -> str:
    """The stored form of a domain specification (trailing dot added), or a ValidationException."""
    bare = text[:-1] if text.endswith(".") and text != "." else text
    if not bare or len(bare) > _MAX_DOMAIN or not _DOMAIN.fullmatch(bare):
        msg = (f"Invalid domain '{text}': use letters, digits and '-' in labels separated by '.', optionally "
               "starting with '*' (e.g. example.com, *.example.com), 1-255 characters.")
        raise validation(msg, [("Domains", msg)])
    return f"{bare}."


def not_found(kind: str, resource_id: str) -> ApiError:
    """ResourceNotFoundException for a domain list, rule group or association."""
    resource_type = _KINDS[kind][2]
    return ApiError("ResourceNotFoundException", f"{resource_type} {resource_id} not found.",
                    ResourceType=resource_type)


def page(items: list[Any], params: dict[str, Any], key: str, default_max: int = 100) -> dict[str, Any]:
    """One page of a JSON 1.1 list answer (``MaxResults``/``NextToken``)."""
    start = 0
    if token := params.get("NextToken"):
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except ValueError:
            msg = f"The NextToken '{token}' is not valid: pass the NextToken of the previous answer."
            raise validation(msg, [("NextToken", msg)]) from None
    end = start + int(params.get("MaxResults") or default_max)
    out: dict[str, Any] = {key: items[start:end]}
    if end < len(items):
        out["NextToken"] = base64.urlsafe_b64encode(str(end).encode()).decode()
    return out


@dataclass
class DomainList:
    """A customer-managed domain list: its domains (stored form) and whether an update is settling."""

    id: str
    arn: str
    name: str
    creator_request_id: str
    created: str = field(default_factory=timestamp)
    modified: str = ""  # the creation time until the first update
    domains: dict[str, None] = field(default_factory=dict)  # an ordered set
    updating_until: float = 0.0
    deleting: bool = False

    def __post_init__(self) -> None:
        self.modified = self.modified or self.created

    def status(self, now: float) -> str:
        """UPDATING for a short while after each update (AWS applies domain changes asynchronously)."""
        if self.deleting:
            return "DELETING"
        return "UPDATING" if now < self.updating_until else "COMPLETE"

    def describe(self, now: float) -> dict[str, Any]:
        """The FirewallDomainList shape."""
        status = self.status(now)
        message = {"UPDATING": "Updating the Firewall Domain List",
                   "DELETING": "Deleting the Firewall Domain List",
                   "COMPLETE": "Created Firewall Domain List"}[status]
        return {"Id": self.id, "Arn": self.arn, "Name": self.name, "DomainCount": len(self.domains),
                "Status": status, "StatusMessage": message, "CreatorRequestId": self.creator_request_id,
                "CreationTime": self.created, "ModificationTime": self.modified}

    def metadata(self, now: float) -> dict[str, Any]:
        """The FirewallDomainListMetadata shape (ListFirewallDomainLists)."""
        return {"Id": self.id, "Arn": self.arn, "Name": self.name,
                "CreatorRequestId": self.creator_request_id, "Status": self.status(now)}


@dataclass
class RuleGroup:
    """A rule group and its rules, by priority."""

    id: str
    arn: str
    name: str
    owner: str
    creator_request_id: str
    created: str = field(default_factory=timestamp)
    modified: str = ""  # the creation time until the first rule
    rules: dict[int, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.modified = self.modified or self.created

    def describe(self) -> dict[str, Any]:
        """The FirewallRuleGroup shape."""
        return {"Id": self.id, "Arn": self.arn, "Name": self.name, "RuleCount": len(self.rules),
                "Status": "COMPLETE", "StatusMessage": "Created Firewall Rule Group", "OwnerId": self.owner,
                "CreatorRequestId": self.creator_request_id, "ShareStatus": "NOT_SHARED",
                "CreationTime": self.created, "ModificationTime": self.modified}


@dataclass
class Association:
    """A rule group associated with a VPC."""

    id: str
    arn: str
    group_id: str
    vpc_id: str
    name: str
    priority: int
    mutation_protection: str
    creator_request_id: str
    created: str = field(default_factory=timestamp)

    def describe(self) -> dict[str, Any]:
        """The FirewallRuleGroupAssociation shape."""
        return {"Id": self.id, "Arn": self.arn, "FirewallRuleGroupId": self.group_id, "VpcId": self.vpc_id,
                "Name": self.name, "Priority": self.priority, "MutationProtection": self.mutation_protection,
                "Status": "COMPLETE", "StatusMessage": "Finished rule group association update",
                "CreatorRequestId": self.creator_request_id, "CreationTime": self.created,
                "ModificationTime": self.created}


class FirewallStore:
    """Every DNS Firewall resource behind one lock, with the clock that settles updates."""

    def __init__(self, *, account: str, region: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.account, self.region, self.clock = account, region, clock
        self.lock = threading.RLock()
        self.lists: dict[str, DomainList] = {}
        self.groups: dict[str, RuleGroup] = {}
        self.associations: dict[str, Association] = {}
        self._requests: dict[tuple[str, str], str] = {}  # (kind, CreatorRequestId) -> id

    def new_identity(self, kind: str) -> tuple[str, str]:
        """A fresh (id, ARN) for a resource of ``kind``."""
        prefix, arn_type, _ = _KINDS[kind]
        resource_id = prefix + secrets.token_hex(9)[:17]
        return resource_id, f"arn:aws:route53resolver:{self.region}:{self.account}:{arn_type}/{resource_id}"

    def earlier(self, kind: str, creator_request_id: str) -> str | None:
        """The id created earlier with this CreatorRequestId (AWS's retry-safe idempotency), if any."""
        return self._requests.get((kind, creator_request_id))

    def remember(self, kind: str, creator_request_id: str, resource_id: str) -> None:
        """Record the id created for this CreatorRequestId."""
        self._requests[(kind, creator_request_id)] = resource_id

    def domain_list(self, list_id: str) -> DomainList:
        """The domain list with this id (call under the lock), or ResourceNotFoundException."""
        found = self.lists.get(list_id)
        if found is None:
            raise not_found(LIST, list_id)
        return found

    def group(self, group_id: str) -> RuleGroup:
        """The rule group with this id (call under the lock), or ResourceNotFoundException."""
        found = self.groups.get(group_id)
        if found is None:
            raise not_found(GROUP, group_id)
        return found
