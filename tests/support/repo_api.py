"""The repository API served for real: moto (Cognito, DynamoDB, Secrets Manager, CloudFormation) and the
sandbox's local gateway on 127.0.0.1, with an ABCA-shaped stack (repo table, API-key table, user pool).

``api_server(**settings)`` starts a gateway whose handler has those ``ApiSettings``; ``repo_api`` is one
with the defaults. Every answer a test receives through ``RepoApi.call`` is checked against the OpenAPI
document, and every line the handler logs is kept in ``logs``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
import pytest

from tests.support.openapi_contract import Contract
from tests.support.repo_stack import STACK, RepoStack

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from abca_deploy.sandbox.cognito import Pool
    from abca_deploy.sandbox.gateway import Gateway

CONTRACT = Contract()


@dataclass
class Answer:
    """One HTTP answer: status, headers (any case), the JSON body."""

    status: int
    headers: dict[str, str]
    body: Any
    text: str

    def header(self, name: str) -> str | None:
        """A header, looked up case-insensitively."""
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    @property
    def data(self) -> Any:
        """``body["data"]``."""
        return self.body["data"]

    @property
    def error(self) -> dict[str, str]:
        """``body["error"]``."""
        error: dict[str, str] = self.body["error"]
        return error


def template_of(path: str) -> str | None:
    """The OpenAPI path template a request path (below ``/v1``) falls under."""
    parts = urlsplit(path).path.strip("/").split("/")
    if parts == ["repos"]:
        return "/repos"
    if len(parts) == 2 and parts[0] == "repos":
        return "/repos/{repo_id}"
    return None


class LogLines(logging.Handler):
    """Every line logged under ``abca_deploy``."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the formatted line."""
        self.lines.append(record.getMessage())


@dataclass
class RepoApi:
    """A running API and what a test needs to call it."""

    gateway: Gateway
    stack: RepoStack
    pool: Pool
    key_table: str
    logs: LogLines
    answers: list[Answer] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The stage URL, ending in ``/v1/`` like ABCA's ApiUrl."""
        return self.gateway.url

    def token(self, user: str = "admin") -> str:
        """A real ID token from moto's Cognito for a seeded user (signed in once per test)."""
        if user not in self.tokens:
            from abca_deploy.aws.cognito import unsigned
            from abca_deploy.sandbox.cognito import BY_NAME

            seeded = BY_NAME[user]
            self.tokens[user] = (
                unsigned("us-east-1")
                .sign_in(self.pool.app_client_id, seeded.username, seeded.password)
                .id_token
            )
        return self.tokens[user]

    def key(self, *scopes: str, expires_at: str | None = None) -> tuple[str, str]:
        """A new platform API key with ``scopes``: (key_id, the X-API-Key value)."""
        from abca_deploy.sandbox.cognito import mint_api_key

        return mint_api_key(
            boto3.client("dynamodb"),
            self.key_table,
            user_id="automation",
            scopes=scopes,
            expires_at=expires_at,
        )

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        user: str | None = "admin",
        key: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        check: bool = True,
    ) -> Answer:
        """One request (``path`` below ``/v1/``), as ``user`` (an ID token) or with an API ``key``."""
        sent = {"Content-Type": "application/json", **(headers or {})}
        if key is not None:
            sent["X-API-Key"] = key
        elif user is not None:
            sent["Authorization"] = self.token(user)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, got, text = response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as exc:
            status, got, text = exc.code, dict(exc.headers), exc.read().decode()
        answer = Answer(status, got, json.loads(text) if text else None, text)
        self.answers.append(answer)
        template = template_of(path)
        if check and template is not None and method.lower() in CONTRACT.doc["paths"][template]:
            CONTRACT.check(method, template, status, got, answer.body)
        return answer

    def onboard(self, repo: str, **fields: Any) -> Answer:
        """POST a repository as the admin; asserts it was created."""
        answer = self.call("POST", "repos", {"repo": repo, **fields})
        assert answer.status == 201, answer.text
        return answer


def ensure_platform(extra_outputs: dict[str, str] | None = None) -> tuple[RepoStack, Pool, str]:
    """The ABCA-shaped stack on the current moto endpoint: tables, user pool, outputs (plus ``extra_outputs``,
    e.g. an integrated stack's)."""
    from abca_deploy.sandbox import cognito
    from abca_deploy.sandbox.platform_spec import repo_table_resource

    pool, _ = cognito.ensure_pool(boto3.client("cognito-idp"))
    template = {
        "Resources": {"RepoTable": repo_table_resource()},
        "Outputs": {"RepoTableName": {"Value": {"Ref": "RepoTable"}}},
    }
    template = cognito.with_api(template, pool, "http://127.0.0.1/v1/")
    template["Outputs"].update({key: {"Value": value} for key, value in (extra_outputs or {}).items()})
    cfn = boto3.client("cloudformation")
    cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(template))
    outputs = {
        o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
    }
    return RepoStack(STACK, outputs["RepoTableName"], outputs), pool, outputs["ApiKeyTableName"]


@pytest.fixture
def api_server(moto_env: str) -> Iterator[Callable[..., RepoApi]]:
    """``api_server(rate=0, burst=100, **api_settings)`` -> a started API over a fresh platform."""
    with _serving(moto_env, None) as start:
        yield start


@pytest.fixture
def integrated_api_server(moto_env: str, firewall_emulator: Any) -> Iterator[Callable[..., RepoApi]]:
    """``api_server`` over an integrated stack: ``sandbox up --shape integrated``'s DNS firewall on the
    emulator, and the stack's ``RuntimeDomainListId`` output naming the runtime domain list."""
    from abca_deploy import abca_stack
    from abca_deploy.sandbox import firewall_seed

    seeded = firewall_seed.seed(boto3.client("route53resolver"), integrated=True)
    assert seeded.runtime_list_id is not None
    with _serving(moto_env, {abca_stack.DOMAIN_LIST_OUTPUT: seeded.runtime_list_id}) as start:
        yield start


@pytest.fixture
def integrated_api(integrated_api_server: Callable[..., RepoApi]) -> tuple[RepoApi, str]:
    """(the API with default settings, the runtime domain list id) over an integrated stack."""
    from abca_deploy import abca_stack

    api = integrated_api_server()
    return api, api.stack.outputs[abca_stack.DOMAIN_LIST_OUTPUT]


@contextlib.contextmanager
def _serving(moto_env: str, extra_outputs: dict[str, str] | None) -> Iterator[Callable[..., RepoApi]]:
    from abca_deploy.api.app import App
    from abca_deploy.api.settings import ApiSettings
    from abca_deploy.sandbox.gateway import Gateway

    stack, pool, key_table = ensure_platform(extra_outputs)
    started: list[Gateway] = []
    lines = LogLines()
    logger = logging.getLogger("abca_deploy")
    logger.addHandler(lines)

    def start(*, rate: float = 0, burst: int = 100, **settings: Any) -> RepoApi:
        values = {"stack_name": STACK, **settings}
        gateway = Gateway(moto=moto_env, make_app=lambda: App(ApiSettings(**values)), rate=rate, burst=burst)
        gateway.start()
        started.append(gateway)
        return RepoApi(gateway, stack, pool, key_table, lines)

    yield start
    logger.removeHandler(lines)
    for gateway in started:
        gateway.stop()


@pytest.fixture
def repo_api(api_server: Callable[..., RepoApi]) -> RepoApi:
    """The API with default settings (admin group RepoAdmin, no guardrails beyond ABCA's model list)."""
    return api_server()
