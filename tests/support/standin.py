"""The AgentCore emulator in front of a stand-in agent (a local HTTP server), without Docker.

``StandIn`` records what reached the agent; the payload's ``mode`` picks the answer. ``StandInRunner``
pretends every version and session has a healthy container at the stand-in's port and records which
containers (runner keys) exist, so tests see sessions take over, release and restart containers.
"""

from __future__ import annotations

import contextlib
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import TYPE_CHECKING, Any, ClassVar

from abca_deploy.sandbox.emulator.runner import ContainerDown, Target
from abca_deploy.sandbox.emulator.server import EmulatorServer

if TYPE_CHECKING:
    from collections.abc import Iterator

    from abca_deploy.sandbox.emulator.runner import ContainerSpec, Key

URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent:v1"
ROLE = "arn:aws:iam::123456789012:role/r"
# mode -> (status, JSON body) for plain answers
ANSWERS: dict[str, tuple[int, dict[str, Any]]] = {
    "reject": (403, {"code": "NOPE", "message": "refused"}),
    "incomplete": (400, {"code": "TASK_RECORD_INCOMPLETE", "message": "input is empty"}),
    "fail": (500, {"error": "boom"}),
    "unavailable": (503, {"error": "starting"}),
}


class StandIn(BaseHTTPRequestHandler):
    """Records what reached it; the payload's ``mode`` picks the answer."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        StandIn.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        mode = json.loads(body or b"{}").get("mode")
        if mode == "stream":  # no Content-Length: chunked, each event flushed as it happens
            self._chunked(200, [f"data: {n}\n\n".encode() for n in range(3)])
        elif mode == "stream-error":  # an event-stream error answer
            self._chunked(400, [b'data: {"code": "BAD_EVENT"}\n\n'])
        elif mode == "truncate":  # promises 100 bytes, sends 10, hangs up (a crash mid-answer)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b'{"partial"')
            self.close_connection = True
        else:
            status, answer = ANSWERS.get(mode, (200, {"ok": mode}))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def _chunked(self, status: int, events: list[bytes]) -> None:
        self.protocol_version = "HTTP/1.1"
        self.send_response(status)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in events:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


class NullRunner:
    """An emulator runner with no containers, for tests and benches that never create a runtime (only the
    emulator's Route 53 Resolver is used)."""

    def count(self) -> int:
        return 0

    def close(self) -> None:
        return None

    def retain(self, keep: object) -> None:
        return None


class StandInRunner:
    """Every container is 'healthy' at ``port``; ``down`` makes the next ensure of an existing one dead."""

    def __init__(self, port: int) -> None:
        self.port, self.down = port, False
        self.containers: set[Key] = set()
        self.started: list[Key] = []

    def prepare(self, key: Key, spec: ContainerSpec) -> None:
        self.ensure(key, spec, revive=True)

    def ensure(self, key: Key, spec: ContainerSpec, *, revive: bool) -> Target:
        if key in self.containers and self.down:
            self.down = False
            self.containers.discard(key)
            if not revive:
                msg = "The container agent-1 is not running (exit code 137)."
                raise ContainerDown(msg)
        if key not in self.containers:
            self.containers.add(key)
            self.started.append(key)
        return Target(self.port, "agent-1", spec.path)

    def adopt(self, source: Key, target: Key) -> bool:
        if source not in self.containers or target in self.containers:
            return False
        self.containers.discard(source)
        self.containers.add(target)
        return True

    def failure(self, key: Key) -> str:
        return "The container agent-1 is not running (exit code 1)."

    def release(self, key: Key) -> None:
        self.containers.discard(key)

    def retain(self, keys: set[Key]) -> None:
        self.containers &= keys

    def close(self) -> None:
        self.containers.clear()

    def count(self) -> int:
        return len(self.containers)


@contextlib.contextmanager
def stand_in_agent() -> Iterator[int]:
    """A stand-in agent on a free 127.0.0.1 port (yields the port)."""
    StandIn.seen.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextlib.contextmanager
def emulator_with_runtime(runner: StandInRunner, container_errors: str = "wrapped",
                          **create: Any) -> Iterator[tuple[EmulatorServer, str]]:
    """A started emulator holding one READY runtime served by ``runner``: (server, runtime ARN)."""
    import boto3

    server = EmulatorServer(registry="127.0.0.1:1", runner=runner, container_errors=container_errors)
    server.start()
    try:
        control = boto3.client("bedrock-agentcore-control", endpoint_url=server.url)
        created = control.create_agent_runtime(
            agentRuntimeName="demo", roleArn=ROLE,
            agentRuntimeArtifact={"containerConfiguration": {"containerUri": URI}}, **create)
        deadline = time.monotonic() + 10
        while control.get_agent_runtime(agentRuntimeId=created["agentRuntimeId"])["status"] != "READY":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        yield server, created["agentRuntimeArn"]
    finally:
        server.stop()
