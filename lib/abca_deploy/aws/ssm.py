"""SSM Parameter Store adapter: String parameters, create-only writes, listings and history, with AWS's clock.

A create-only ``PutParameter`` (no ``Overwrite``) fails with ``ParameterAlreadyExists``: that is the one
compare-and-set Parameter Store offers, and what the leases build on. Every answer carries the server's
``Date`` header, so callers can compare ``LastModifiedDate`` with AWS's clock instead of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from abca_deploy.aws.errors import aws_call, error_code

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class Stored:
    """One parameter (or one version of it): name, value, version and when AWS last wrote it."""

    name: str
    value: str
    version: int
    modified: datetime


@dataclass(frozen=True)
class Listing:
    """The parameters under a path, and the server's time when it answered."""

    parameters: tuple[Stored, ...]
    server_time: datetime


def server_time(response: Any) -> datetime:
    """The ``Date`` header of an AWS answer as an aware datetime (the local clock when there is none)."""
    headers = (response or {}).get("ResponseMetadata", {}).get("HTTPHeaders", {})
    try:
        return parsedate_to_datetime(headers["date"]).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        return datetime.now(UTC)


def _stored(item: dict[str, Any]) -> Stored:
    modified = item.get("LastModifiedDate")
    when = modified.astimezone(UTC) if isinstance(modified, datetime) else datetime.now(UTC)
    return Stored(str(item["Name"]), str(item.get("Value", "")), int(item.get("Version", 0)), when)


class Parameters:
    """``ssm``: read, create, overwrite, list and delete String parameters."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def get(self, name: str) -> str | None:
        """The parameter's value, or None when it does not exist."""
        found = self.read(name)
        return found.value if found else None

    def read(self, name: str) -> Stored | None:
        """The parameter with its version and last-modified time, or None when it does not exist."""
        from botocore.exceptions import ClientError

        with aws_call("ssm:GetParameter", name):
            try:
                return _stored(self._client.get_parameter(Name=name)["Parameter"])
            except ClientError as exc:
                if error_code(exc) == "ParameterNotFound":
                    return None
                raise

    def put(self, name: str, value: str) -> None:
        """Create or overwrite the String parameter."""
        with aws_call("ssm:PutParameter", name):
            self._client.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)

    def create(self, name: str, value: str, *, tags: Mapping[str, str] | None = None) -> bool:
        """Create the String parameter (with ``tags``) only if it does not exist; False if it already did."""
        from botocore.exceptions import ClientError

        extra = {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}
        with aws_call("ssm:PutParameter", name):
            try:
                self._client.put_parameter(Name=name, Value=value, Type="String", Overwrite=False, **extra)
            except ClientError as exc:
                if error_code(exc) == "ParameterAlreadyExists":
                    return False
                raise
        return True

    def tags(self, name: str) -> dict[str, str]:
        """The tags of an existing parameter (ListTagsForResource)."""
        with aws_call("ssm:ListTagsForResource", name):
            found = self._client.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)
        return {str(tag["Key"]): str(tag.get("Value", "")) for tag in found.get("TagList", [])}

    def delete(self, name: str) -> bool:
        """Delete the parameter; False when it did not exist."""
        from botocore.exceptions import ClientError

        with aws_call("ssm:DeleteParameter", name):
            try:
                self._client.delete_parameter(Name=name)
            except ClientError as exc:
                if error_code(exc) == "ParameterNotFound":
                    return False
                raise
        return True

    def children(self, path: str) -> Listing:
        """The parameters one level under ``path`` (GetParametersByPath, all pages) and the server's time."""
        found: list[Stored] = []
        kwargs: dict[str, Any] = {"Path": path, "Recursive": False, "MaxResults": 10}
        when = datetime.now(UTC)
        while True:
            with aws_call("ssm:GetParametersByPath", path):
                page = self._client.get_parameters_by_path(**kwargs)
            when = server_time(page)
            found += [_stored(item) for item in page.get("Parameters", [])]
            if not page.get("NextToken"):
                return Listing(tuple(found), when)
            kwargs["NextToken"] = page["NextToken"]

    def history(self, name: str) -> list[Stored]:
        """Every stored version of the parameter (AWS keeps the last 100), newest first; [] when none."""
        from botocore.exceptions import ClientError

        versions: list[Stored] = []
        kwargs: dict[str, Any] = {"Name": name, "MaxResults": 50}
        while True:
            with aws_call("ssm:GetParameterHistory", name):
                try:
                    page = self._client.get_parameter_history(**kwargs)
                except ClientError as exc:
                    if error_code(exc) == "ParameterNotFound":
                        return []
                    raise
            versions += [_stored(item) for item in page.get("Parameters", [])]
            if not page.get("NextToken"):
                return sorted(versions, key=lambda v: v.version, reverse=True)
            kwargs["NextToken"] = page["NextToken"]
