"""Fault injection on the sandbox: real ``abca-deploy`` processes, real signals, what AWS holds afterwards.

``Sandbox`` is one moto server, registry and AgentCore emulator; ``Runtime`` a runtime created like ABCA's
CDK does, with helpers to look at its versions, DEFAULT's image and its SSM records; ``Run`` a real process
whose stderr is watched for a phase's group line before it is signalled; ``agent_context`` a copy of the
example agent that builds, pushes, starts or answers slowly.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from tests.integration.conftest import EXAMPLES, ROLE_ARN, TEST_REPOSITORY, unique_name

from abca_deploy.runtime.config import container_uri

if TYPE_CHECKING:
    from pathlib import Path

REGION = "us-east-1"
SETTINGS: dict[str, Any] = {
    "environmentVariables": {
        "AGENT_STAGE": "faults",
        "GITHUB_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:gh",
    },
    "lifecycleConfiguration": {"idleRuntimeSessionTimeout": 28800, "maxLifetime": 28800},
    "protocolConfiguration": {"serverProtocol": "HTTP"},
    "networkConfiguration": {"networkMode": "PUBLIC"},
}


@dataclass
class Sandbox:
    """Endpoints and settings every process of one sandbox shares."""

    moto_url: str
    emulator_url: str
    registry_host: str
    base_image: str
    platform: str
    work: Path

    def client(self, service: str) -> Any:
        """A boto3 client for the sandbox (explicit endpoints: independent of this process's environment)."""
        url = self.emulator_url if service.startswith("bedrock-agentcore") else self.moto_url
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            aws_session_token="testing",
        )

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a CLI process pointed at this sandbox (no GitHub run: no same-job takeover)."""
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "DOCKER_HOST", "TMPDIR")}
        return {
            **keep,
            "PYTHONUNBUFFERED": "1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL": self.emulator_url,
            "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE": self.emulator_url,
            "ABCA_ECR_REGISTRY_ENDPOINT": self.registry_host,
            "ABCA_PLATFORM": self.platform,
            "ABCA_DEFAULT_BUILD_ARGS": f"BASE_IMAGE={self.base_image}",
            **extra,
        }

    def reset_moto(self) -> None:
        """Empty moto, then create the ECR repository the runtimes' images live in."""
        import urllib.request

        with urllib.request.urlopen(
            urllib.request.Request(f"{self.moto_url}/moto-api/reset", method="POST"), timeout=10
        ):
            pass
        self.client("ecr").create_repository(repositoryName=TEST_REPOSITORY)

    def create_runtime(self, seed: str, name: str = "faults") -> Runtime:
        """A runtime whose version 1 runs ``seed``, once READY."""
        created = self.client("bedrock-agentcore-control").create_agent_runtime(
            agentRuntimeName=unique_name(name),
            roleArn=ROLE_ARN,
            agentRuntimeArtifact={"containerConfiguration": {"containerUri": seed}},
            **SETTINGS,
        )
        runtime = Runtime(self, created["agentRuntimeId"], created["agentRuntimeArn"], seed)
        assert runtime.settle(180)["status"] == "READY"
        return runtime


@dataclass
class Runtime:
    """One runtime of the sandbox, and what AWS holds about it."""

    sandbox: Sandbox
    runtime_id: str
    arn: str
    seed: str

    @property
    def control(self) -> Any:
        return self.sandbox.client("bedrock-agentcore-control")

    def versions(self) -> dict[str, str]:
        """Version number -> status."""
        found = self.control.list_agent_runtime_versions(agentRuntimeId=self.runtime_id)["agentRuntimes"]
        return {v["agentRuntimeVersion"]: v["status"] for v in found}

    def settle(self, timeout: float = 120) -> dict[str, Any]:
        """GetAgentRuntime once nothing is CREATING/UPDATING."""
        deadline = time.monotonic() + timeout
        while True:
            current: dict[str, Any] = self.control.get_agent_runtime(agentRuntimeId=self.runtime_id)
            if current["status"] not in ("CREATING", "UPDATING") or time.monotonic() > deadline:
                return current
            time.sleep(0.3)

    def default_image(self) -> str:
        """The image DEFAULT serves (its live version's)."""
        endpoint = self.control.get_agent_runtime_endpoint(
            agentRuntimeId=self.runtime_id, endpointName="DEFAULT"
        )
        version = self.control.get_agent_runtime(
            agentRuntimeId=self.runtime_id, agentRuntimeVersion=endpoint["liveVersion"]
        )
        return container_uri(version) or ""

    def records(self) -> list[dict[str, Any]]:
        """The last-tested records, newest first."""
        ssm = self.sandbox.client("ssm")
        name = f"/abca-deploy/runtime/{self.runtime_id}/last-tested"
        try:
            history = ssm.get_parameter_history(Name=name, MaxResults=50)["Parameters"]
        except ssm.exceptions.ParameterNotFound:
            return []
        return [json.loads(p["Value"]) for p in sorted(history, key=lambda p: -p["Version"])]

    def lease(self) -> list[tuple[int, bool]]:
        """(generation, released) of the publish lease."""
        found = self.sandbox.client("ssm").get_parameters_by_path(
            Path=f"/abca-deploy/runtime/{self.runtime_id}/lease"
        )["Parameters"]
        return sorted((int(p["Name"].rsplit("/", 1)[1]), json.loads(p["Value"])["released"]) for p in found)

    def delete(self) -> None:
        """Delete the runtime (its containers go with it)."""
        self.control.delete_agent_runtime(agentRuntimeId=self.runtime_id)


@dataclass
class Result:
    """What a finished process showed."""

    code: int
    doc: dict[str, Any]
    err: str
    outputs: dict[str, str]
    summary: str
    seconds: float
    signals: list[str] = field(default_factory=list)


class Run:
    """A real ``abca-deploy`` process with GitHub Actions' outputs and summary files, watched line by line."""

    def __init__(self, sandbox: Sandbox, argv: list[str], *, env: dict[str, str] | None = None) -> None:
        self.work = sandbox.work / f"run-{uuid.uuid4().hex[:8]}"
        self.work.mkdir(parents=True)
        self.output_file, self.summary_file = self.work / "outputs", self.work / "summary.md"
        actions = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(self.output_file),
            "GITHUB_STEP_SUMMARY": str(self.summary_file),
        }
        self.started = time.monotonic()
        self.signals: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "abca_deploy", *argv, "--output", "json"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**sandbox.env(**actions), **(env or {})},
            text=True,
        )
        self.lines: list[str] = []
        self.out: list[str] = []
        self._seen = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read_err, daemon=True),
            threading.Thread(target=self._read_out, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._seen:
                self.lines.append(line.rstrip("\n"))
                self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        self.out.append(self.proc.stdout.read())

    def wait_for(self, text: str, timeout: float = 180) -> None:
        """Block until a stderr line contains ``text``; fail (with the log) if the process ends first."""
        deadline = time.monotonic() + timeout
        with self._seen:
            while not any(text in line for line in self.lines):
                if self.proc.poll() is not None and not self._readers[0].is_alive():
                    msg = f"process ended ({self.proc.returncode}) before {text!r}:\n" + "\n".join(self.lines)
                    raise AssertionError(msg)
                if time.monotonic() > deadline:
                    msg = f"no {text!r} within {timeout}s:\n" + "\n".join(self.lines[-30:])
                    raise AssertionError(msg)
                self._seen.wait(0.2)

    def cancel_like_github(self, first: signal.Signals = signal.SIGINT) -> None:
        """GitHub's sequence: ``first``; SIGTERM 7.5 s later if still running; a kill 2.5 s after that."""
        steps = [(first, 7.5), (signal.SIGTERM, 2.5)] if first == signal.SIGINT else [(first, 2.5)]
        for sig, grace in steps:
            if self.proc.poll() is not None:
                return
            self.proc.send_signal(sig)
            self.signals.append(sig.name)
            try:
                self.proc.wait(grace)
                return
            except subprocess.TimeoutExpired:
                continue
        self.proc.kill()
        self.signals.append("SIGKILL")

    def finish(self, timeout: float = 300) -> Result:
        """Wait for the exit; the result (stdout parsed as the one JSON document)."""
        try:
            self.proc.wait(timeout)
        finally:
            self.close()
        outputs = _parse_outputs(self.output_file.read_text() if self.output_file.exists() else "")
        summary = self.summary_file.read_text() if self.summary_file.exists() else ""
        out = "".join(self.out)
        doc = json.loads(out) if out.strip() else {}
        return Result(
            self.proc.returncode,
            doc,
            "\n".join(self.lines),
            outputs,
            summary,
            time.monotonic() - self.started,
            self.signals,
        )

    def close(self) -> None:
        """Kill it if still running, let the readers drain, and close its pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        for reader in self._readers:
            reader.join(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def _parse_outputs(text: str) -> dict[str, str]:
    outputs, lines, index = {}, text.splitlines(), 0
    while index < len(lines):
        name, _, delimiter = lines[index].partition("<<")
        end = lines.index(delimiter, index + 1)
        outputs[name] = "\n".join(lines[index + 1 : end])
        index = end + 1
    return outputs


def agent_context(
    root: Path,
    message: str,
    *,
    build_sleep: int = 0,
    start_sleep: int = 0,
    smoke_sleep: int = 0,
    big_layer_mb: int = 0,
) -> Path:
    """A copy of the example agent (build context ``.``, ``agent/Dockerfile``) made slow where asked."""
    context = root / f"ctx-{uuid.uuid4().hex[:8]}"
    shutil.copytree(EXAMPLES, context)
    (context / "agent/src/message.txt").write_text(message + "\n", encoding="utf-8")
    dockerfile = context / "agent/Dockerfile"
    # Each slow step names its context, so no build cache (the engine's, or the live image's inline cache) can
    # skip it: a run after an earlier one is as slow as the first.
    extra = ""
    if build_sleep:
        extra += f"RUN sleep {build_sleep} && echo {context.name}\n"
    if big_layer_mb:
        size = big_layer_mb * 1_000_000
        extra += f"RUN head -c {size} /dev/urandom > /payload.bin && echo {context.name}\n"
    text = dockerfile.read_text(encoding="utf-8")
    dockerfile.write_text(text.replace("ENV PYTHONUNBUFFERED=1\n", f"ENV PYTHONUNBUFFERED=1\n{extra}"))
    server = context / "agent/src/server.py"
    code = server.read_text(encoding="utf-8")
    if start_sleep:
        code = code.replace("def main() -> None:\n", f"def main() -> None:\n    time.sleep({start_sleep})\n")
    if smoke_sleep:
        code = code.replace(
            "    def do_POST(self) -> None:\n",
            f"    def do_POST(self) -> None:\n        time.sleep({smoke_sleep})\n",
        )
    server.write_text(code, encoding="utf-8")
    return context
