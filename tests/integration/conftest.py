"""Fixtures for the sandbox integration tests: a real Docker Engine, a real registry, the AgentCore emulator.

Session-scoped (started once): ``docker_client``, ``registry``, ``base_image``, ``agent_image`` (a builder of
example-agent variants, each built and pushed once), ``emulator_server``. Per test: ``emulator`` (sets the
endpoint variables so plain boto3 clients reach it, and deletes the test's runtimes afterwards), ``control``
and ``data`` (boto3 clients), ``wait_runtime`` / ``wait_endpoint`` (poll until settled).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tests.support.engine import running_engine
from tests.support.ports import free_port

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from abca_deploy.sandbox.emulator.server import EmulatorServer
    from abca_deploy.sandbox.registry import Registry

pytestmark = pytest.mark.docker

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ECR_HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
TEST_REPOSITORY = "abca-test/agent"
ROLE_ARN = "arn:aws:iam::123456789012:role/abca-test-runtime"
INSTANCE = "pytest"
SETTLED_TIMEOUT = 120.0  # generous: image pulls and container starts on a loaded 2-core machine
POLL = 0.2


def upload_blob(registry_host: str, repository: str, data: bytes) -> str:
    """Upload ``data`` as a blob of ``repository`` (a monolithic POST then PUT, OCI distribution spec) and
    return its digest."""
    import urllib.request

    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    start = urllib.request.Request(f"http://{registry_host}/v2/{repository}/blobs/uploads/", method="POST")
    with urllib.request.urlopen(start, timeout=30) as answer:
        location = answer.headers["Location"]
    location = location if location.startswith("http") else f"http://{registry_host}{location}"
    joiner = "&" if "?" in location else "?"
    upload = urllib.request.Request(f"{location}{joiner}digest={digest}", data=data, method="PUT",
                                    headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(upload, timeout=30):
        return digest


def ecr_uri(repository: str, reference: str) -> str:
    """The ECR form of an image in the sandbox registry (``:tag`` or ``@sha256:...``)."""
    separator = "@" if reference.startswith("sha256:") else ":"
    return f"{ECR_HOST}/{repository}{separator}{reference}"


def runtime_request(uri: str, **extra: Any) -> dict[str, Any]:
    """The keyword arguments of a minimal Create/UpdateAgentRuntime request for ``uri``."""
    return {"agentRuntimeArtifact": {"containerConfiguration": {"containerUri": uri}}, "roleArn": ROLE_ARN,
            "networkConfiguration": {"networkMode": "PUBLIC"}, **extra}


def unique_name(prefix: str) -> str:
    """A runtime/endpoint name unlikely to clash across tests (pattern [a-zA-Z][a-zA-Z0-9_]{0,47})."""
    return f"{prefix}_{os.urandom(4).hex()}"


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A ``docker.DockerClient`` for the local engine (skips without one; fails under CI)."""
    client = running_engine(timeout=120)
    yield client
    client.close()


@pytest.fixture(scope="session")
def registry(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A CNCF distribution registry on 127.0.0.1 standing in for the ECR registry host."""
    from abca_deploy.sandbox import registry as registry_mod

    state = tmp_path_factory.mktemp("registry")
    running = registry_mod.start(state, free_port(), docker=docker_client, instance=INSTANCE)
    yield running
    if running.container_id:
        with contextlib.suppress(Exception):
            docker_client.containers.get(running.container_id).remove(force=True)
    if running.pid:
        _stop_pid(running.pid, str(state))


def _stop_pid(pid: int, marker: str) -> None:
    """SIGTERM the registry we started (checked by its command line), and wait until it is gone."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    with contextlib.suppress(OSError):
        if marker not in cmdline.read_bytes().decode(errors="replace"):
            return
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        if not cmdline.exists():
            return
        time.sleep(0.1)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def base_image(docker_client: Any) -> str:
    """The base image the example agent builds from (python:3.13-slim, or the offline one)."""
    from abca_deploy.sandbox.baseimage import choose_base

    return choose_base(docker_client)


@pytest.fixture(scope="session")
def agent_image(docker_client: Any, registry: Registry, base_image: str,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    """``agent_image(message=..., env={...}, cmd=[...])`` -> ECR URI pinned by digest of that variant.

    The example agent (``examples/agent``) with its message.txt replaced, ENV lines and/or a replaced CMD;
    each variant is built and pushed to ``abca-test/agent`` once per session.
    """
    built: dict[str, str] = {}
    pushed_tags: list[str] = []

    def build(message: str = "hello from the abca-deploy example agent", env: dict[str, str] | None = None,
              cmd: list[str] | None = None) -> str:
        variant = json.dumps({"message": message, "env": env or {}, "cmd": cmd, "base": base_image},
                             sort_keys=True)
        key = hashlib.sha256(variant.encode() + _source_digest()).hexdigest()[:16]
        if key not in built:
            context = tmp_path_factory.mktemp(f"agent-{key}")
            _variant_context(context, message, env or {}, cmd)
            built[key] = _build_and_push(docker_client, registry.host, context, base_image, key, pushed_tags)
        return built[key]

    yield build
    for tag in pushed_tags:  # the local tags naming this session's registry port; the cached build stays
        with contextlib.suppress(Exception):
            docker_client.images.remove(tag, noprune=True)


def _source_digest() -> bytes:
    digest = hashlib.sha256()
    for path in sorted((EXAMPLES / "agent").rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.digest()


def _variant_context(context: Path, message: str, env: dict[str, str], cmd: list[str] | None) -> None:
    shutil.copytree(EXAMPLES / "agent", context / "agent")
    (context / "agent" / "src" / "message.txt").write_text(message + "\n", encoding="utf-8")
    dockerfile = context / "agent" / "Dockerfile"
    extra = "".join(f"ENV {name}={json.dumps(value)}\n" for name, value in env.items())
    if cmd is not None:
        extra += f"CMD {json.dumps(cmd)}\n"
    dockerfile.write_text(dockerfile.read_text(encoding="utf-8") + extra, encoding="utf-8")


def _build_and_push(docker_client: Any, registry_host: str, context: Path, base_image: str, key: str,
                    pushed_tags: list[str]) -> str:
    """Build the variant (cached locally as abca-test/agent:KEY), push it, return its ECR URI by digest."""
    local = f"{TEST_REPOSITORY}:{key}"
    image, _ = docker_client.images.build(path=str(context), dockerfile="agent/Dockerfile", tag=local,
                                          buildargs={"BASE_IMAGE": base_image}, rm=True, forcerm=True)
    remote = f"{registry_host}/{TEST_REPOSITORY}"
    image.tag(remote, tag=key)
    pushed_tags.append(f"{remote}:{key}")
    digest = None
    for event in docker_client.images.push(remote, tag=key, stream=True, decode=True):
        if "error" in event:
            msg = f"pushing {remote}:{key} failed: {event['error']}"
            raise RuntimeError(msg)
        digest = event.get("aux", {}).get("Digest", digest)
    if not digest:
        msg = f"pushing {remote}:{key} reported no digest"
        raise RuntimeError(msg)
    return ecr_uri(TEST_REPOSITORY, digest)


@pytest.fixture(scope="session")
def emulator_server(docker_client: Any, registry: Registry) -> Iterator[EmulatorServer]:
    """One AgentCore emulator for the session (ping timeout 30 s), stopped (containers removed) at the end."""
    from abca_deploy.sandbox.emulator.server import EmulatorServer

    server = EmulatorServer(registry=registry.host, docker=docker_client, ping_timeout=30.0,
                            instance=INSTANCE)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def emulator_factory(docker_client: Any, registry: Registry) -> Iterator[Callable[..., EmulatorServer]]:
    """``emulator_factory(ping_timeout=3.0, instance="pytest-x")`` -> another started emulator (its own
    state and containers), stopped at the end of the test. Reach it with ``endpoint_url=server.url``."""
    from abca_deploy.sandbox.emulator.server import EmulatorServer

    started: list[EmulatorServer] = []

    def make(**options: Any) -> EmulatorServer:
        server = EmulatorServer(registry=registry.host, docker=docker_client,
                                **{"ping_timeout": 30.0, "instance": INSTANCE, **options})
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def emulator(emulator_server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """The session's emulator with both endpoint variables set; the test's runtimes are deleted afterwards."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL", emulator_server.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", emulator_server.url)
    with emulator_server.store.lock:
        before = set(emulator_server.store.runtimes)
    yield emulator_server
    import boto3

    control = boto3.client("bedrock-agentcore-control")
    for runtime in control.list_agent_runtimes()["agentRuntimes"]:
        if runtime["agentRuntimeId"] not in before:
            control.delete_agent_runtime(agentRuntimeId=runtime["agentRuntimeId"])
    emulator_server.store.reconcile()


@pytest.fixture
def control(emulator: EmulatorServer) -> Any:
    """A plain ``bedrock-agentcore-control`` client talking to the emulator."""
    import boto3

    return boto3.client("bedrock-agentcore-control")


@pytest.fixture
def data(emulator: EmulatorServer) -> Any:
    """A plain ``bedrock-agentcore`` (data plane) client talking to the emulator."""
    import boto3

    return boto3.client("bedrock-agentcore")


def _poll(read: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool], what: str,
          timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        current = read()
        if done(current):
            return current
        if time.monotonic() > deadline:
            msg = f"{what} did not settle within {timeout:.0f}s: {current.get('status')}"
            raise AssertionError(msg)
        time.sleep(POLL)


@pytest.fixture
def wait_runtime(control: Any) -> Callable[..., dict[str, Any]]:
    """``wait_runtime(runtime_id, version=None)`` -> GetAgentRuntime once no longer in progress."""

    def wait(runtime_id: str, version: str | None = None, timeout: float = SETTLED_TIMEOUT) -> dict[str, Any]:
        extra = {"agentRuntimeVersion": version} if version else {}
        return _poll(lambda: control.get_agent_runtime(agentRuntimeId=runtime_id, **extra),
                     lambda got: got["status"] not in ("CREATING", "UPDATING"), f"runtime {runtime_id}",
                     timeout)

    return wait


@pytest.fixture
def wait_endpoint(control: Any) -> Callable[..., dict[str, Any]]:
    """``wait_endpoint(runtime_id, name)`` -> GetAgentRuntimeEndpoint once it is no longer in progress."""

    def wait(runtime_id: str, name: str, timeout: float = SETTLED_TIMEOUT) -> dict[str, Any]:
        return _poll(lambda: control.get_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName=name),
                     lambda got: got["status"] not in ("CREATING", "UPDATING"), f"endpoint {name}", timeout)

    return wait


def list_agent_containers(docker_client: Any, runtime_id: str | None = None,
                          instance: str = INSTANCE) -> list[Any]:
    """The agent containers an emulator started (optionally of one runtime), found by their labels."""
    labels = ["abca-deploy.sandbox=true", f"abca-deploy.sandbox.instance={instance}",
              "abca-deploy.sandbox.role=agent"]
    if runtime_id:
        labels.append(f"abca-deploy.sandbox.runtime={runtime_id}")
    return list(docker_client.containers.list(all=True, filters={"label": labels}, ignore_removed=True))


@pytest.fixture
def agent_containers(docker_client: Any) -> Callable[..., list[Any]]:
    """``agent_containers(runtime_id=None, instance="pytest")`` -> the emulator's containers, by label."""
    def find(runtime_id: str | None = None, instance: str = INSTANCE) -> list[Any]:
        return list_agent_containers(docker_client, runtime_id, instance)

    return find


@pytest.fixture
def wait_containers(docker_client: Any) -> Callable[..., list[str]]:
    """``wait_containers(runtime_id, ["2"])`` -> the versions that have containers (sessions' included),
    once they are exactly those (the emulator removes unserved containers in the background)."""

    def wait(runtime_id: str, versions: list[str], timeout: float = 30.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            found = sorted({c.labels["abca-deploy.sandbox.version"]
                            for c in list_agent_containers(docker_client, runtime_id)})
            if found == sorted(versions) or time.monotonic() > deadline:
                return found
            time.sleep(POLL)

    return wait


@pytest.fixture
def request_for() -> Callable[..., dict[str, Any]]:
    """``request_for(uri, **extra)`` -> keyword arguments of a minimal Create/UpdateAgentRuntime request."""
    return runtime_request


@pytest.fixture
def new_runtime(control: Any) -> Callable[..., dict[str, Any]]:
    """``new_runtime(uri, **extra)`` -> CreateAgentRuntime's answer for a uniquely named runtime."""
    return lambda uri, **extra: control.create_agent_runtime(agentRuntimeName=unique_name("rt"),
                                                             **runtime_request(uri, **extra))


def push_foreign_arch_image(registry_host: str, repository: str, tag: str, arch: str = "arm64") -> str:
    """Push a one-layer linux/``arch`` image straight through the registry API (the classic builder cannot
    build for another platform); returns its ECR URI by digest. Its CMD is a shell script and it has no
    shell, so it cannot start on any machine: what matters is the image's declared architecture."""
    import gzip
    import io
    import tarfile
    import urllib.request

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        script = b"#!/bin/sh\necho hello\n"
        info = tarfile.TarInfo("hello")
        info.size, info.mode = len(script), 0o755
        tar.addfile(info, io.BytesIO(script))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    diff_id = f"sha256:{hashlib.sha256(raw.getvalue()).hexdigest()}"
    config = json.dumps({"architecture": arch, "os": "linux", "config": {"Cmd": ["/hello"]},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    base = f"http://{registry_host}/v2/{repository}"

    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                   "digest": upload_blob(registry_host, repository, config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer),
                    "digest": upload_blob(registry_host, repository, layer)}],
    }).encode()
    media_type = "application/vnd.docker.distribution.manifest.v2+json"
    put = urllib.request.Request(f"{base}/manifests/{tag}", data=manifest, method="PUT",
                                 headers={"Content-Type": media_type})
    with urllib.request.urlopen(put, timeout=30) as answer:
        return ecr_uri(repository, answer.headers["Docker-Content-Digest"])


@pytest.fixture(scope="session")
def arm64_image(registry: Registry, docker_client: Any) -> Iterator[str]:
    """ECR URI (by digest) of a linux/arm64 image in the sandbox registry."""
    uri = push_foreign_arch_image(registry.host, "abca-test/arm64", "only")
    yield uri
    with contextlib.suppress(Exception):  # the copy the emulator pulled
        docker_client.images.remove(f"{registry.host}/abca-test/arm64@{uri.split('@')[1]}", force=True)
