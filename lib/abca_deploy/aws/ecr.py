"""ECR adapter: repositories and registry credentials."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from abca_deploy.aws.errors import aws_call, error_code
from abca_deploy.errors import UserError


@dataclass(frozen=True)
class RegistryAuth:
    """Credentials for ``docker push``/inspect; ``password`` is a secret to mask."""

    username: str
    password: str
    registry: str

    def auth_config(self, server: str | None = None) -> dict[str, str]:
        """The docker SDK ``auth_config`` for ``server`` (default the ECR registry)."""
        return {
            "username": self.username,
            "password": self.password,
            "serveraddress": server or self.registry,
        }


@dataclass(frozen=True)
class Repository:
    """An ECR repository: its URI (``<registry>/<name>``) and tag mutability."""

    name: str
    uri: str
    immutable: bool
    mutability: str = ""  # ECR's imageTagMutability as given (IMMUTABLE_WITH_EXCLUSION lets some tags move)


class Ecr:
    """``ecr``: describe repositories and get authorization tokens."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def repository(self, name: str) -> Repository:
        """DescribeRepositories for one name; an unknown repository is a UserError."""
        found = self.find_repository(name)
        if found is None:
            msg = f"ECR repository {name!r} does not exist in this account and region."
            raise UserError(msg, hint="Create it, or pass the right --ecr-repository.",
                            title="Unknown ECR repository")
        return found

    def find_repository(self, name: str) -> Repository | None:
        """DescribeRepositories for one name; None when it does not exist."""
        from botocore.exceptions import ClientError

        with aws_call("ecr:DescribeRepositories", name):
            try:
                repo = self._client.describe_repositories(repositoryNames=[name])["repositories"][0]
            except ClientError as exc:
                if error_code(exc) == "RepositoryNotFoundException":
                    return None
                raise
        mutability = str(repo.get("imageTagMutability", "MUTABLE"))
        return Repository(name=name, uri=str(repo["repositoryUri"]),
                          immutable=mutability.startswith("IMMUTABLE"), mutability=mutability)

    def authorization(self) -> RegistryAuth:
        """GetAuthorizationToken, decoded to a username and password."""
        with aws_call("ecr:GetAuthorizationToken"):
            data = self._client.get_authorization_token()["authorizationData"][0]
        user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        registry = str(data.get("proxyEndpoint", "")).removeprefix("https://")
        return RegistryAuth(username=user, password=password, registry=registry)
