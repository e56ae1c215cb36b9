"""The Route 53 Resolver adapter against the emulator, through a stock boto3 client; AWS errors via Stubber.

The emulator validates every request against the botocore model and keeps a list UPDATING for 0.5 s after each
update, so these tests also show that the adapter sends well-formed requests and really waits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.stub import Stubber

from abca_deploy.aws.route53resolver import DomainListBusy, DomainLists
from abca_deploy.errors import OperationFailed, UserError

if TYPE_CHECKING:
    from collections.abc import Iterator

LIST_ID = "rslvr-fdl-0123456789abcdef0"


@pytest.fixture
def resolver(firewall_emulator: Any) -> Any:
    """A stock client on the emulator, without retries (errors surface at once)."""
    from botocore.config import Config

    return boto3.client("route53resolver", endpoint_url=firewall_emulator.url, region_name="us-east-1",
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture
def list_id(resolver: Any) -> str:
    return str(resolver.create_firewall_domain_list(Name="runtime-egress")["FirewallDomainList"]["Id"])


def test_updates_wait_for_complete_and_every_page_is_listed(resolver: Any, list_id: str) -> None:
    lists = DomainLists(resolver)
    domains = [f"host{i:04d}.example.com" for i in range(2345)]
    assert lists.update(list_id, "REPLACE", domains[:1000]) == "UPDATING"  # 1000 a request at most
    assert lists.get(list_id).status == "UPDATING"
    with pytest.raises(DomainListBusy):  # ConflictException while the update is applied
        lists.update(list_id, "ADD", domains[1000:2000])
    for start in (1000, 2000):
        assert lists.wait(list_id).status == "COMPLETE"
        lists.update(list_id, "ADD", domains[start:start + 1000])
    settled = lists.wait(list_id)
    assert (settled.status, settled.domain_count) == ("COMPLETE", 2345)
    assert lists.domains(list_id) == tuple(f"{d}." for d in domains)  # three pages of 1000


def test_remove_empties_the_list(resolver: Any, list_id: str) -> None:
    lists = DomainLists(resolver)
    lists.update(list_id, "REPLACE", ["pypi.org", "a.example.com"])
    lists.wait(list_id)
    lists.update(list_id, "REMOVE", list(lists.domains(list_id)))
    assert lists.wait(list_id).domain_count == 0
    assert lists.domains(list_id) == ()


def test_an_unknown_list_is_a_user_error_naming_it(resolver: Any) -> None:
    with pytest.raises(UserError, match=f"DNS Firewall domain list {LIST_ID} does not exist"):
        DomainLists(resolver).domains(LIST_ID)


class FrozenClock:
    """The emulator's clock, stopped: a list being updated stays UPDATING."""

    def __call__(self) -> float:
        return 1000.0


def test_waiting_is_bounded(resolver: Any, list_id: str, firewall_emulator: Any) -> None:
    firewall_emulator.firewall.clock = FrozenClock()
    lists = DomainLists(resolver, wait_seconds=0.6, first_poll=0.1)
    lists.update(list_id, "ADD", ["pypi.org"])
    with pytest.raises(OperationFailed, match=r"was still UPDATING after 1 s") as raised:
        lists.wait(list_id)
    assert raised.value.hint is not None
    assert "Re-run the command" in raised.value.hint


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("route53resolver", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber


def test_access_denied_names_the_action_and_the_list(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error("update_firewall_domains", "AccessDeniedException", "not authorized",
                             expected_params={"FirewallDomainListId": LIST_ID, "Operation": "REPLACE",
                                              "Domains": ["pypi.org"]})
    with pytest.raises(OperationFailed) as raised:
        DomainLists(client).update(LIST_ID, "REPLACE", ["pypi.org"])
    assert raised.value.title == "Access denied"
    assert raised.value.hint is not None
    assert f"`route53resolver:UpdateFirewallDomains` on `firewall-domain-list/{LIST_ID}`" in raised.value.hint


def test_a_list_being_deleted_is_not_waited_for(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response("get_firewall_domain_list", {"FirewallDomainList": {
        "Id": LIST_ID, "Name": "runtime-egress", "Status": "DELETING", "StatusMessage": "Deleting",
        "DomainCount": 1}}, {"FirewallDomainListId": LIST_ID})
    with pytest.raises(OperationFailed, match=f"domain list {LIST_ID} is DELETING"):
        DomainLists(client).wait(LIST_ID)
