"""Seed an ABCA-shaped platform into a running sandbox. Idempotent: what exists is kept, not recreated.

Order matters: the secret first (the runtime's environment names it), then the example agent's image and the
runtime (the stack's ``RuntimeArn`` output names it), the DNS firewall, in the integrated shape the image
parameter and the image stack (the main template reads the parameter), then the stack and the table's TTL.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from abca_deploy.errors import OperationFailed
from abca_deploy.sandbox import cognito, firewall_seed, integrated, stacks
from abca_deploy.sandbox import platform_spec as spec

if TYPE_CHECKING:
    from collections.abc import Callable

_FAILED = ("CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED")
# The example agent: package data in an installed abca-deploy (the wheel ships examples/agent there), else the
# examples/ folder of the checkout this module runs from.
_PACKAGED = Path(__file__).resolve().parent / "examples"
EXAMPLES = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).resolve().parents[3] / "examples"
DOCKERFILE = "agent/Dockerfile"
SEED_MESSAGE_FILE = "agent/src/message.txt"


@dataclass(frozen=True)
class Endpoints:
    """Where the sandbox's services listen."""

    moto: str
    emulator: str
    registry: str  # host:port
    api: str  # the repository API's local gateway


@dataclass(frozen=True)
class Seeded:
    """The seeded platform, as ``status``/``up`` report it and ``state.json`` records it."""

    stack_name: str
    repo_table: str
    secret_arn: str
    ecr_repository: str
    runtime_arn: str
    runtime_id: str
    runtime_version: str
    runtime_status: str
    image_uri: str
    created: tuple[str, ...]
    user_pool_id: str
    app_client_id: str
    api_url: str
    api_key_table: str
    shape: str = integrated.UNPATCHED
    firewall_rule_group_id: str | None = None
    image_parameter: str | None = None  # the integrated shape's, with the next two
    image_repository: str | None = None
    domain_list_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["created"] = list(self.created)
        return data


def client(service: str, endpoint: str) -> Any:
    """A boto3 client for one sandbox endpoint, with the dummy credentials."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name=spec.REGION, aws_access_key_id="testing",
        aws_secret_access_key="testing", aws_session_token="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 3}),
    )


class Seeder:
    """Creates what is missing; ``log`` receives one line per step."""

    def __init__(self, endpoints: Endpoints, engine: Any, *, base_image: str, wait_timeout: float,
                 log: Callable[[str], None], warn: Callable[[str], None] | None = None,
                 detail: Callable[[str], None] = lambda _line: None,
                 shape: str = integrated.UNPATCHED) -> None:
        self.endpoints = endpoints
        self.shape = shape
        self.engine = engine
        self.base_image = base_image
        self.wait_timeout = wait_timeout
        self.log = log
        self.detail = detail
        self.warn = warn or log
        self.created: list[str] = []

    def run(self) -> Seeded:
        """Seed everything; returns what exists afterwards."""
        # moto's first CloudFormation call imports every resource model (~4 s): overlap it with the build.
        warm_up = threading.Thread(target=self._warm_up_cloudformation, daemon=True)
        warm_up.start()
        secret_arn = self.ensure_secret()
        pool = self.ensure_user_pool()
        runtime = self.ensure_runtime(secret_arn)
        warm_up.join()
        firewall = firewall_seed.seed(client("route53resolver", self.endpoints.emulator),
                                      integrated=self.shape == integrated.INTEGRATED)
        if firewall.runtime_list_id is not None:
            self.ensure_image_stack(runtime["agentRuntimeArtifact"]["containerConfiguration"]["containerUri"])
        outputs = self.ensure_stack(runtime, secret_arn, pool, firewall.runtime_list_id)
        self.ensure_repository()
        self.ensure_ttl(outputs["RepoTableName"])
        extra = {} if firewall.runtime_list_id is None else {
            "image_parameter": integrated.IMAGE_PARAMETER, "image_repository": integrated.CI_REPOSITORY_URI,
            "domain_list_id": firewall.runtime_list_id}
        return Seeded(
            stack_name=spec.STACK_NAME, repo_table=outputs["RepoTableName"], secret_arn=secret_arn,
            ecr_repository=f"{spec.ECR_HOST}/{spec.ECR_REPOSITORY}", runtime_arn=runtime["agentRuntimeArn"],
            runtime_id=runtime["agentRuntimeId"], runtime_version=str(runtime.get("agentRuntimeVersion", "")),
            runtime_status=runtime["status"],
            image_uri=runtime["agentRuntimeArtifact"]["containerConfiguration"]["containerUri"],
            created=tuple(self.created), user_pool_id=outputs["UserPoolId"],
            app_client_id=outputs["AppClientId"], api_url=outputs["ApiUrl"],
            api_key_table=outputs["ApiKeyTableName"], shape=self.shape,
            firewall_rule_group_id=firewall.rule_group_id, **extra,
        )

    def _warm_up_cloudformation(self) -> None:
        with contextlib.suppress(Exception):  # only a warm-up: ensure_stack reports real errors
            client("cloudformation", self.endpoints.moto).list_stacks()

    # -- Secrets Manager ------------------------------------------------------------------------------
    def ensure_secret(self) -> str:
        """The platform GitHub-token secret's ARN (created with CDK's placeholder value when missing)."""
        sm = client("secretsmanager", self.endpoints.moto)
        try:
            arn: str = sm.describe_secret(SecretId=spec.SECRET_NAME)["ARN"]
            return arn
        except sm.exceptions.ResourceNotFoundException:
            pass
        arn = sm.create_secret(Name=spec.SECRET_NAME, SecretString=spec.SECRET_PLACEHOLDER,
                               Description="GitHub token for ABCA (placeholder)")["ARN"]
        self._created("secret", arn)
        return arn

    # -- Cognito --------------------------------------------------------------------------------------
    def ensure_user_pool(self) -> cognito.Pool:
        """ABCA's user pool and app client, the repository API's admin group and the two seeded users."""
        pool, created = cognito.ensure_pool(client("cognito-idp", self.endpoints.moto))
        if created:
            self._created("user pool", pool.user_pool_id)
        return pool

    # -- AgentCore runtime ----------------------------------------------------------------------------
    def ensure_runtime(self, secret_arn: str) -> dict[str, Any]:
        """The seeded runtime, READY: reused when it exists, re-created when it failed, else created."""
        ctl = client("bedrock-agentcore-control", self.endpoints.emulator)
        existing = self._find_runtime(ctl)
        if existing is not None and existing["status"] not in _FAILED:
            runtime = self._wait_ready(ctl, existing["agentRuntimeId"])
            if runtime.get("environmentVariables", {}).get("GITHUB_TOKEN_SECRET_ARN") != secret_arn:
                self.warn("The runtime's GITHUB_TOKEN_SECRET_ARN names a secret moto no longer holds (moto "
                          "was restarted); the runtime is kept as it is. For a consistent platform run "
                          "`abca-deploy sandbox down` and `up`.")
            return runtime
        if existing is not None:
            self.log(f"runtime {spec.RUNTIME_NAME} is {existing['status']}: deleting and creating it again")
            ctl.delete_agent_runtime(agentRuntimeId=existing["agentRuntimeId"])
        container_uri = spec.image_uri(self.push_example_image())
        created = ctl.create_agent_runtime(**spec.create_runtime_request(secret_arn, container_uri))
        self._created("runtime", created["agentRuntimeArn"])
        return self._wait_ready(ctl, created["agentRuntimeId"])

    @staticmethod
    def _find_runtime(ctl: Any) -> dict[str, Any] | None:
        kwargs: dict[str, Any] = {}
        while True:
            page = ctl.list_agent_runtimes(**kwargs)
            for item in page.get("agentRuntimes", []):
                if item.get("agentRuntimeName") == spec.RUNTIME_NAME:
                    found: dict[str, Any] = item
                    return found
            if not page.get("nextToken"):
                return None
            kwargs["nextToken"] = page["nextToken"]

    def _wait_ready(self, ctl: Any, runtime_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.wait_timeout
        while True:
            runtime: dict[str, Any] = ctl.get_agent_runtime(agentRuntimeId=runtime_id)
            status = runtime["status"]
            if status == "READY":
                return runtime
            if status in _FAILED:
                reason = runtime.get("failureReason", "no reason given")
                msg = f"The seeded runtime {runtime_id} is {status}: {reason}"
                raise OperationFailed(msg, hint="See emulator.log in the state dir.", title="Seeding failed")
            if time.monotonic() > deadline:
                msg = f"The seeded runtime {runtime_id} was still {status} after {self.wait_timeout:.0f}s."
                raise OperationFailed(msg, hint="Raise --wait-timeout, or see emulator.log in the state dir.",
                                      title="Seeding timed out")
            time.sleep(0.5)

    def push_example_image(self) -> str:
        """Build the example agent and push it to the local registry; returns the manifest digest.

        The seeded image says it was seeded (its message.txt differs from the checkout's), so publishing
        ``examples/`` afterwards is a real change: a new version, like an agent change after ``cdk deploy``.
        """
        import shutil
        import tempfile

        from abca_deploy.docker_engine import DockerEngine

        if not (EXAMPLES / DOCKERFILE).is_file():
            msg = f"The example agent is missing ({EXAMPLES / DOCKERFILE})."
            raise OperationFailed(msg, hint="Reinstall abca-deploy (the wheel ships it as package data), or "
                                            "pass --no-seed.", title="Seeding failed")
        docker = DockerEngine(self.engine, log=self.detail)
        repository = f"{self.endpoints.registry}/{spec.ECR_REPOSITORY}"
        self.log(f"building the example agent ({EXAMPLES.name}/{DOCKERFILE}, BASE_IMAGE={self.base_image})")
        with tempfile.TemporaryDirectory(prefix="abca-seed-") as tmp:
            context = Path(tmp) / "examples"
            shutil.copytree(EXAMPLES, context)
            (context / SEED_MESSAGE_FILE).write_text(spec.SEED_MESSAGE + "\n", encoding="utf-8")
            args = {"BASE_IMAGE": self.base_image}
            docker.build(context, DOCKERFILE, f"{repository}:{spec.IMAGE_TAG}", args, platform=None)
        digest = docker.push(repository, spec.IMAGE_TAG, auth=None)
        self.log(f"pushed {repository}:{spec.IMAGE_TAG} ({digest})")
        return digest

    # -- CloudFormation, ECR, DynamoDB ----------------------------------------------------------------
    def ensure_stack(self, runtime: dict[str, Any], secret_arn: str, pool: cognito.Pool,
                     domain_list_id: str | None) -> dict[str, str]:
        """Create the stack, or update it when its outputs differ from the shape's; returns the outputs."""
        api_url = f"{self.endpoints.api}/v1/"
        template = cognito.with_api(spec.stack_template(runtime, secret_arn), pool, api_url)
        if domain_list_id is not None:
            template = integrated.integrate(template, domain_list_id)
        return self._ensure_template(spec.STACK_NAME, template, "stack")

    def ensure_image_stack(self, image: str) -> None:
        """The integrated shape's image parameter (written once), image stack and repository lifecycle."""
        if integrated.ensure_parameter(client("ssm", self.endpoints.moto), image):
            self._created("image parameter", integrated.IMAGE_PARAMETER)
        self._ensure_template(integrated.IMAGE_STACK, integrated.image_stack_template(), "image stack")
        for setting in integrated.ensure_repository_settings(client("ecr", self.endpoints.moto)):
            self.log(f"applied the {setting} of {integrated.CI_REPOSITORY}")

    def _ensure_template(self, name: str, template: dict[str, Any], what: str) -> dict[str, str]:
        outputs, action = stacks.ensure(client("cloudformation", self.endpoints.moto), name, template)
        if action == "created":
            self._created(what, name)
        elif action == "updated":
            self.log(f"updated {what} {name}: its outputs were not the {self.shape} shape's")
        return outputs

    def ensure_repository(self) -> None:
        """The ECR repository (the stack creates it; this restores it if it was deleted)."""
        ecr = client("ecr", self.endpoints.moto)
        try:
            ecr.describe_repositories(repositoryNames=[spec.ECR_REPOSITORY])
        except ecr.exceptions.RepositoryNotFoundException:
            ecr.create_repository(repositoryName=spec.ECR_REPOSITORY, imageTagMutability="IMMUTABLE")
            self._created("ECR repository", spec.ECR_REPOSITORY)

    def ensure_ttl(self, table: str) -> None:
        """TTL on attribute ``ttl`` (moto's CloudFormation ignores TimeToLiveSpecification)."""
        ddb = client("dynamodb", self.endpoints.moto)
        current = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") == "ENABLED" and current.get("AttributeName") == "ttl":
            return
        ddb.update_time_to_live(TableName=table,
                                TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
        self._created("table TTL", f"{table}.ttl")

    def _created(self, what: str, name: str) -> None:
        self.created.append(what)
        self.log(f"created {what}: {name}")
