"""DynamoDB adapter for ABCA's repo table: consistent reads and conditional writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from abca_deploy.aws.errors import error_code, translate
from abca_deploy.errors import UserError
from abca_deploy.repos.schema import ACTIVE, RepoRow, row_from_item

if TYPE_CHECKING:
    from abca_deploy.repos.writes import WriteRequest


class WriteConflict(Exception):
    """The row changed since it was read (a write's condition failed)."""

    def __init__(self, repo: str) -> None:
        super().__init__(repo)
        self.repo = repo


class RepoTable:
    """The repo table. ``client`` is a boto3 ``dynamodb`` client; ``name`` the table name."""

    def __init__(self, client: Any, name: str) -> None:
        self._client = client
        self.name = name

    def _call(self, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        action = "dynamodb:" + "".join(part.title() for part in operation.split("_"))
        try:
            return getattr(self._client, operation)(**kwargs)
        except ClientError as exc:
            code = error_code(exc)
            if code == "ConditionalCheckFailedException":
                raise WriteConflict(_request_repo(kwargs)) from None
            if code == "ResourceNotFoundException":
                msg = f"DynamoDB table {self.name!r} does not exist in this account and region."
                raise UserError(msg, hint="Check --repo-table, or --stack-name and --region.",
                                title="Unknown repo table") from None
            raise translate(exc, action=action, resource=f"table/{self.name}") from exc
        except BotoCoreError as exc:
            raise translate(exc, action=action, resource=f"table/{self.name}") from exc

    def get(self, repo: str) -> RepoRow | None:
        """The row of ``repo``, read consistently; ``None`` if there is none."""
        key = {"repo": {"S": repo}}
        item = self._call("get_item", TableName=self.name, Key=key, ConsistentRead=True).get("Item")
        return row_from_item(item) if item else None

    def scan(self) -> list[RepoRow]:
        """Every row (all pages), read consistently."""
        return self._scan_all({"TableName": self.name, "ConsistentRead": True})

    def page(self, limit: int, after: str | None = None,
             status: str | None = None) -> tuple[list[RepoRow], str | None]:
        """At most ``limit`` rows (counted before the ``status`` filter, as DynamoDB does), read
        consistently, and the repository to continue after (``None`` on the last page)."""
        kwargs: dict[str, Any] = {"TableName": self.name, "ConsistentRead": True, "Limit": limit}
        if after is not None:
            kwargs["ExclusiveStartKey"] = {"repo": {"S": after}}
        if status is not None:
            kwargs.update(FilterExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
                          ExpressionAttributeValues={":s": {"S": status}})
        page = self._call("scan", **kwargs)
        last = page.get("LastEvaluatedKey")
        return [row_from_item(item) for item in page.get("Items", [])], last["repo"]["S"] if last else None

    def active_egress(self) -> list[RepoRow]:
        """The active rows, read consistently, holding only ``repo``, ``status`` and ``egress_allowlist``."""
        return self._scan_all({
            "TableName": self.name, "ConsistentRead": True, "FilterExpression": "#s = :a",
            "ProjectionExpression": "#r, #s, #e",
            "ExpressionAttributeNames": {"#r": "repo", "#s": "status", "#e": "egress_allowlist"},
            "ExpressionAttributeValues": {":a": {"S": ACTIVE}}})

    def _scan_all(self, kwargs: dict[str, Any]) -> list[RepoRow]:
        """Every row a Scan with ``kwargs`` returns, following ``LastEvaluatedKey`` over all pages."""
        rows: list[RepoRow] = []
        while True:
            page = self._call("scan", **kwargs)
            rows += [row_from_item(item) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return rows
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def count_active(self) -> int:
        """How many rows have status active."""
        count, kwargs = 0, {"TableName": self.name, "Select": "COUNT", "ConsistentRead": True,
                            "FilterExpression": "#s = :a", "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": {":a": {"S": ACTIVE}}}
        while True:
            page = self._call("scan", **kwargs)
            count += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return count
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def write(self, request: WriteRequest) -> RepoRow | None:
        """Send one conditional write; returns the new row of an update. ``WriteConflict`` if it changed."""
        response = self._call(request.operation, TableName=self.name, **request.kwargs)
        attributes = response.get("Attributes")
        return row_from_item(attributes) if attributes else None


def _request_repo(request: dict[str, Any]) -> str:
    return str(request.get("Key", request.get("Item", {})).get("repo", {}).get("S", ""))
