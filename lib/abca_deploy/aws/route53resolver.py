"""Route 53 Resolver DNS Firewall adapter: one domain list's domains, updated and waited on. No decisions.

``UpdateFirewallDomains`` is asynchronous: the list reports ``UPDATING`` until the change is applied, and a
second update meanwhile is a ``ConflictException``. ``wait`` polls ``GetFirewallDomainList`` until the list
is settled (``COMPLETE``, or ``COMPLETE_IMPORT_FAILED`` after an import), within a bound (Terraform's AWS
provider waits the same way, for at most 5 minutes, after every update of a domain list).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from abca_deploy.aws.errors import error_code, translate
from abca_deploy.errors import OperationFailed, UserError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

SETTLED = frozenset({"COMPLETE", "COMPLETE_IMPORT_FAILED"})
PENDING = frozenset({"UPDATING", "IMPORTING"})
PAGE_SIZE = 1000  # ListFirewallDomains allows up to 5000 a page; 100 when MaxResults is not given
WAIT_SECONDS = 300.0


class DomainListBusy(Exception):
    """The list is still applying an earlier update (``ConflictException``): wait for it, then retry."""


@dataclass(frozen=True)
class DomainListState:
    """What ``GetFirewallDomainList`` says about a list."""

    id: str
    name: str
    status: str
    status_message: str
    domain_count: int


class DomainLists:
    """``route53resolver`` domain lists. ``client`` is a boto3 ``route53resolver`` client."""

    def __init__(self, client: Any, *, wait_seconds: float = WAIT_SECONDS, first_poll: float = 0.25,
                 max_poll: float = 5.0, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._wait_seconds, self._first_poll, self._max_poll = wait_seconds, first_poll, max_poll
        self._sleep, self._clock = sleep, clock

    def _call(self, operation: str, list_id: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        action = "route53resolver:" + "".join(part.title() for part in operation.split("_"))
        try:
            return getattr(self._client, operation)(FirewallDomainListId=list_id, **kwargs)
        except ClientError as exc:
            code = error_code(exc)
            if code == "ConflictException" and operation == "update_firewall_domains":
                raise DomainListBusy(list_id) from None
            if code == "ResourceNotFoundException":
                msg = f"DNS Firewall domain list {list_id} does not exist in this account and region."
                raise UserError(msg, hint="Check the stack's RuntimeDomainListId output, the account and "
                                          "--aws-region.", title="Unknown domain list") from None
            raise translate(exc, action=action, resource=f"firewall-domain-list/{list_id}") from exc
        except BotoCoreError as exc:
            raise translate(exc, action=action, resource=f"firewall-domain-list/{list_id}") from exc

    def get(self, list_id: str) -> DomainListState:
        """The list's name, status and domain count."""
        found = self._call("get_firewall_domain_list", list_id)["FirewallDomainList"]
        return DomainListState(str(found["Id"]), str(found.get("Name", "")), str(found.get("Status", "")),
                               str(found.get("StatusMessage", "")), int(found.get("DomainCount", 0)))

    def domains(self, list_id: str) -> tuple[str, ...]:
        """Every domain in the list, as Route 53 stores it (with a trailing dot), all pages."""
        found: list[str] = []
        kwargs: dict[str, Any] = {"MaxResults": PAGE_SIZE}
        while True:
            page = self._call("list_firewall_domains", list_id, **kwargs)
            found += [str(domain) for domain in page.get("Domains", [])]
            token = page.get("NextToken")
            if not token:
                return tuple(found)
            kwargs["NextToken"] = token

    def update(self, list_id: str, operation: str, domains: Sequence[str]) -> str:
        """Send one ``UpdateFirewallDomains`` (ADD, REMOVE or REPLACE); the status it answers.

        ``DomainListBusy`` when an earlier update is still being applied.
        """
        answer = self._call("update_firewall_domains", list_id, Operation=operation, Domains=list(domains))
        return str(answer.get("Status", ""))

    def wait(self, list_id: str) -> DomainListState:
        """Poll until the list is settled; ``OperationFailed`` if it is not within the bound."""
        deadline, delay = self._clock() + self._wait_seconds, self._first_poll
        while True:
            state = self.get(list_id)
            if state.status in SETTLED:
                return state
            if state.status not in PENDING:
                msg = f"DNS Firewall domain list {list_id} is {state.status} ({state.status_message})."
                raise OperationFailed(msg, hint="Check the stack: its RuntimeDomainListId names this list.",
                                      title="Domain list unavailable")
            left = deadline - self._clock()
            if left <= 0:
                msg = (f"DNS Firewall domain list {list_id} was still {state.status} after "
                       f"{self._wait_seconds:.0f} s.")
                raise OperationFailed(msg, hint="Re-run the command: it only changes what still differs.",
                                      title="Domain list update timed out")
            self._sleep(min(delay, left))
            delay = min(delay * 2, self._max_poll)
