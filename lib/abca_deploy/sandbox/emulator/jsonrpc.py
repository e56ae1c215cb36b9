"""The JSON 1.1 protocol (``X-Amz-Target`` routing), for the services the emulator serves that use it.

AgentCore is REST-JSON (routed by method and URI, see ``routes.py``); Route 53 Resolver is JSON 1.1: every
call is ``POST /`` with ``X-Amz-Target: Route53Resolver.<Operation>`` and the input as a JSON object. Routes
come from the botocore model of each service, requests are validated against it (``validate.py``), and errors
are answered as JSON 1.1 does: status 400 (500 for server faults) and ``{"__type": code, "Message": text}``,
which botocore turns into a ``ClientError`` with that ``Code``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from abca_deploy.sandbox.emulator import validate
from abca_deploy.sandbox.emulator.errors import UNKNOWN_OPERATION, ApiError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

log = logging.getLogger("abca_deploy.sandbox.emulator")

CONTENT_TYPE = "application/x-amz-json-1.1"
SERVER_FAULTS = ("InternalServiceErrorException",)
SERIALIZATION = "SerializationException"
ROUTE53RESOLVER = "route53resolver"

OPERATIONS = { ROUTE53RESOLVER: ( "CreateFirewallDomainList", "GetFirewallDomainList",
"ListFirewallDomainLists", "ListFirewallDomains", "UpdateFirewallDomains", "DeleteFirewallDomainList",
"CreateFirewallRuleGroup", "GetFirewallRuleGroup", "CreateFirewallRule", "ListFirewallRules",
"AssociateFirewallRuleGroup", "GetFirewallRuleGroupAssociation", "ListFirewallRuleGroupAssociations", ), }


@dataclass(frozen=True)
class Target:
    """One implemented operation: its service, name and botocore operation model."""

    service: str
    name: str
    model: Any


@cache
def targets() -> dict[str, Target]:
    """``<targetPrefix>.<Operation>`` -> Target, for every implemented JSON 1.1 operation."""
    import botocore.session

    session = botocore.session.get_session()
    found = {}
    for service, names in OPERATIONS.items():
        model = session.get_service_model(service)
        prefix = model.metadata["targetPrefix"]
        for name in names:
            found[f"{prefix}.{name}"] = Target(service, name, model.operation_model(name))
    return found


def parse(target: Target, body: bytes) -> dict[str, Any]:
    """The operation's input: the members of the JSON object body (an empty body is ``{}``)."""
    if not body.strip():
        return {}
    try:
        document = json.loads(body)
    except ValueError:
        msg = "The request body is not valid JSON."
        raise ApiError(SERIALIZATION, msg) from None
    if not isinstance(document, dict):
        msg = "The request body must be a JSON object."
        raise ApiError(SERIALIZATION, msg)
    members = target.model.input_shape.members
    return {key: value for key, value in document.items() if key in members}


def error_document(exc: ApiError) -> tuple[int, dict[str, Any]]:
    """The status and body of an error in the JSON 1.1 form (modelled extra members kept)."""
    status = 500 if exc.code in SERVER_FAULTS else 400
    extra = {key: value for key, value in exc.extra.items() if key not in ("reason", "fieldList")}
    return status, {"__type": exc.code, "Message": exc.message, **extra}


def handle(operations: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]], target_header: str,
           body: bytes) -> tuple[int, dict[str, Any]]:
    """Route, parse, validate and run one JSON 1.1 request; returns (status, document), errors included."""
    try:
        target = targets().get(target_header)
        if target is None or target.name not in operations:
            msg = f"The emulator does not implement {target_header}."
            raise ApiError(UNKNOWN_OPERATION, msg)
        params = parse(target, body)
        validate.check(target.model.input_shape, params)
        return 200, operations[target.name](params)
    except ApiError as exc:
        log.debug("%s -> %s %s", target_header, exc.code, exc.message)
        return error_document(exc)
    except Exception:
        log.exception("%s failed", target_header)
        return error_document(ApiError(SERVER_FAULTS[0], "The emulator failed; see its log."))
