"""The sandbox on a real Docker Engine: up, status, boto3 through `env`, up again, a restart, down.

One sandbox serves the whole lifecycle: seeding it (a build, a push, a runtime) is the slow part.
"""

from __future__ import annotations

import json
import socket
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from tests.support.engine import running_engine
from tests.support.ports import free_port, free_ports, sandbox_flags

from abca_deploy.cli import main
from abca_deploy.sandbox import process
from abca_deploy.sandbox.platform_spec import SEED_MESSAGE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.docker

LABEL = "abca-deploy.sandbox.instance"


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    code = main([*argv, "--output", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    client = running_engine()
    yield client
    client.close()


@pytest.fixture
def sandbox_args(engine: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[list[str]]:
    args = sandbox_flags(tmp_path / "state")
    yield args
    main(["sandbox", "down", *args])  # cleans up even when the test failed half-way
    capsys.readouterr()


def _state_dir(args: list[str]) -> Path:
    from pathlib import Path

    return Path(args[args.index("--state-dir") + 1])


def _use_env(values: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def test_up_seeds_a_platform_boto3_can_use_restarts_what_died_and_down_leaves_nothing(
        sandbox_args: list[str], engine: Any, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # passthrough: the emulator hands the agent's 400 back as is (_assert_invocable reads its body)
    code, up, err = _cli(["sandbox", "up", *sandbox_args, "--container-errors", "passthrough"], capsys)
    assert code == 0, err
    assert up["started"] == ["moto", "registry", "emulator", "api"]
    pids = {s["name"]: s["pid"] for s in up["services"]}
    instance = up["instance"]

    code, status, _ = _cli(["sandbox", "status", *sandbox_args], capsys)
    assert code == 0
    assert status["status"] == "up"
    assert all(s["up"] for s in status["services"])

    _, env, _ = _cli(["sandbox", "env", *sandbox_args], capsys)
    _use_env(env, monkeypatch)
    _assert_platform_seeded(up["seed"])
    _assert_repo_api(sandbox_args, up["seed"], env, capsys)

    code, again, err = _cli(["sandbox", "up", *sandbox_args, "--container-errors", "wrapped"], capsys)
    assert code == 0, err
    assert ("warning: The sandbox's emulator already runs with --container-errors passthrough; "
            "--container-errors wrapped applies only after `abca-deploy sandbox down`.") in err
    assert again["started"] == []
    assert again["seed"]["created"] == []
    assert {s["name"]: s["pid"] for s in again["services"]} == pids
    assert again["seed"]["runtime_arn"] == up["seed"]["runtime_arn"]
    assert again["seed"]["runtime_version"] == "1"
    assert "moto: already running" in err

    _assert_restarts_only_moto(sandbox_args, up, capsys)
    pids = {s["name"]: s["pid"] for s in _cli(["sandbox", "status", *sandbox_args], capsys)[1]["services"]}

    assert engine.containers.list(filters={"label": f"{LABEL}={instance}"})  # the runtime's container
    code, down, _ = _cli(["sandbox", "down", *sandbox_args], capsys)
    assert code == 0
    assert sorted(down["stopped"]) == ["api", "emulator", "moto", "registry"]
    assert not any(process.is_running(pid, "") for pid in pids.values())
    assert engine.containers.list(all=True, filters={"label": f"{LABEL}={instance}"}) == []
    assert not _state_dir(sandbox_args).exists()


def _assert_platform_seeded(seed: dict[str, Any]) -> None:
    cfn = boto3.client("cloudformation")
    stack = cfn.describe_stacks(StackName="backgroundagent-dev")["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs == {"RepoTableName": seed["repo_table"], "RuntimeArn": seed["runtime_arn"],
                       "GitHubTokenSecretArn": seed["secret_arn"], "ApiUrl": seed["api_url"],
                       "UserPoolId": seed["user_pool_id"], "AppClientId": seed["app_client_id"],
                       "ApiKeyTableName": seed["api_key_table"]}
    template = cfn.get_template(StackName="backgroundagent-dev")["TemplateBody"]
    runtime_props = template["Resources"]["Runtime"]["Properties"]
    artifact = runtime_props["AgentRuntimeArtifact"]
    assert artifact["ContainerConfiguration"]["ContainerUri"] == seed["image_uri"]

    ddb = boto3.client("dynamodb")
    table = ddb.describe_table(TableName=outputs["RepoTableName"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "repo", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = ddb.describe_time_to_live(TableName=outputs["RepoTableName"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=outputs["GitHubTokenSecretArn"])
    assert json.loads(secret["SecretString"])["token"]
    assert boto3.client("ecr").describe_repositories(repositoryNames=["abca/agent"])["repositories"]

    runtime_id = outputs["RuntimeArn"].rsplit("/", 1)[1]
    runtime = boto3.client("bedrock-agentcore-control").get_agent_runtime(agentRuntimeId=runtime_id)
    assert runtime["status"] == "READY"
    assert runtime["agentRuntimeArtifact"]["containerConfiguration"]["containerUri"] == seed["image_uri"]
    assert seed["image_uri"].startswith("123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent@sha256:")
    assert runtime["lifecycleConfiguration"] == {"idleRuntimeSessionTimeout": 28800, "maxLifetime": 28800}
    assert runtime["filesystemConfigurations"] == [{"sessionStorage": {"mountPath": "/mnt/workspace"}}]
    assert runtime["networkConfiguration"]["networkMode"] == "VPC"
    assert runtime["environmentVariables"]["GITHUB_TOKEN_SECRET_ARN"] == outputs["GitHubTokenSecretArn"]
    _assert_invocable(outputs["RuntimeArn"])


def _assert_repo_api(args: list[str], seed: dict[str, Any], env: dict[str, str],
                     capsys: pytest.CaptureFixture[str]) -> None:
    """`sandbox env` exports the API URL; `sandbox token` signs in; the admin writes, others may not."""
    import urllib.error
    import urllib.request

    assert env["ABCA_SANDBOX_API_URL"] == seed["api_url"]
    assert env["ABCA_APP_CLIENT_ID"] == seed["app_client_id"]
    tokens = {}
    for user in ("admin", "participant"):
        assert main(["sandbox", "token", *args, "--user", user]) == 0
        tokens[user] = capsys.readouterr().out.strip()
    for user, expected in (("participant", 403), ("admin", 201)):
        headers = {"Authorization": tokens[user], "Content-Type": "application/json"}
        request = urllib.request.Request(f"{seed['api_url']}repos", data=b'{"repo": "octo/sandbox"}',
                                         method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status == expected, user
    row = boto3.client("dynamodb").get_item(TableName=seed["repo_table"], Key={"repo": {"S": "octo/sandbox"}})
    assert row["Item"]["status"] == {"S": "active"}


def _assert_invocable(runtime_arn: str) -> None:
    data = boto3.client("bedrock-agentcore")
    with pytest.raises(ClientError) as probe:
        data.invoke_agent_runtime(agentRuntimeArn=runtime_arn, payload=b'{"input":{}}')
    assert probe.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "TASK_RECORD_INCOMPLETE" in json.dumps(probe.value.response["Error"])
    answer = data.invoke_agent_runtime(agentRuntimeArn=runtime_arn, payload=b'{"input":{"prompt":"hi"}}')
    body = json.loads(answer["response"].read())
    assert body["message"] == SEED_MESSAGE
    assert body["environment"] == {"AGENT_STAGE": "sandbox"}


def _assert_restarts_only_moto(args: list[str], first: dict[str, Any],
                               capsys: pytest.CaptureFixture[str]) -> None:
    moto = next(s for s in first["services"] if s["name"] == "moto")
    assert process.stop(moto["pid"], "moto.server")  # moto's state (stack, table, secret) is gone with it

    code, status, _ = _cli(["sandbox", "status", *args], capsys)
    assert code == 1
    assert status["status"] == "degraded"

    code, second, err = _cli(["sandbox", "up", *args], capsys)
    assert code == 0, err
    assert second["started"] == ["moto"]
    assert "registry: already running" in err
    assert "emulator: already running" in err
    assert sorted(second["seed"]["created"]) == ["secret", "stack", "table TTL", "user pool"]
    # The runtime outlived moto: kept, not re-created (same ARN, no new version), with a warning.
    assert second["seed"]["runtime_arn"] == first["seed"]["runtime_arn"]
    assert second["seed"]["runtime_version"] == "1"
    assert "GITHUB_TOKEN_SECRET_ARN names a secret moto no longer holds" in err


def test_a_port_taken_by_another_process_fails_clearly(
        engine: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        others = [p for p in free_ports(3) if p != port][:2]
        code = main(["sandbox", "up", "--state-dir", str(tmp_path / "s"), "--moto-port", str(port),
                     "--registry-port", str(others[0]), "--emulator-port", str(others[1])])
    err = capsys.readouterr().err
    assert code == 1
    assert f"Port {port} on 127.0.0.1, which the sandbox's moto needs, is in use by another process." in err
    assert "--moto-port (env ABCA_MOTO_PORT)" in err
    main(["sandbox", "down", "--state-dir", str(tmp_path / "s")])
    capsys.readouterr()


def test_without_registry_binary_or_image_the_error_says_what_to_install(
        engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import docker.errors

    from abca_deploy.errors import OperationFailed
    from abca_deploy.sandbox import registry

    try:
        engine.images.get(registry.REGISTRY_IMAGE)
        pytest.skip(f"{registry.REGISTRY_IMAGE} is available here: the container fallback would start")
    except docker.errors.ImageNotFound:
        pass
    monkeypatch.setattr(registry, "registry_binary", lambda: None)
    with pytest.raises(OperationFailed) as failure:
        registry.start(tmp_path, free_port(), docker=engine, instance="no-binary-test")
    assert "apt-get install -y docker-registry" in failure.value.one_line()
    assert engine.containers.list(all=True, filters={"label": f"{LABEL}=no-binary-test"}) == []
