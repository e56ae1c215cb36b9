"""The emulator's HTTP server: AgentCore's two planes and Route 53 Resolver's DNS Firewall on one local port.

Point the stock clients at it with ``AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL``,
``AWS_ENDPOINT_URL_BEDROCK_AGENTCORE`` and ``AWS_ENDPOINT_URL_ROUTE53RESOLVER``. Requests with an
``X-Amz-Target`` header are JSON 1.1 calls (``jsonrpc.py``), the rest REST-JSON (``routes.py``).
``GET /_emulator/health`` reports what it holds.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from abca_deploy.sandbox.emulator import firewall, jsonrpc, routes, validate
from abca_deploy.sandbox.emulator.control import RuntimeOps, Store
from abca_deploy.sandbox.emulator.endpoints import EndpointOps
from abca_deploy.sandbox.emulator.errors import ApiError
from abca_deploy.sandbox.emulator.firewall_state import FirewallStore
from abca_deploy.sandbox.emulator.invoke import DEFAULT_ERROR_FORM, Invoker

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.sandbox.emulator.invoke import Proxied
    from abca_deploy.sandbox.emulator.runner import Runner

log = logging.getLogger("abca_deploy.sandbox.emulator")
HEALTH_PATH = "/_emulator/health"


class EmulatorServer:
    """The AgentCore emulator: ``start()`` serves on ``url`` (a free port if port=0); ``stop()`` cleans up."""

    def __init__(self, registry: str, docker: Any = None, *, account: str = "123456789012",
                 region: str = "us-east-1", ping_timeout: float = 60.0, instance: str = "default",
                 host: str = "127.0.0.1", port: int = 0, runner: Runner | None = None,
                 container_errors: str = DEFAULT_ERROR_FORM) -> None:
        if runner is None:
            runner = _docker_runner(docker, registry, instance, ping_timeout)
        self.store = Store(runner, account=account, region=region)
        runtimes, endpoints = RuntimeOps(self.store), EndpointOps(self.store)
        self.invoker = Invoker(self.store, endpoints, container_errors)
        self.operations: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "CreateAgentRuntime": runtimes.create, "GetAgentRuntime": runtimes.get,
            "UpdateAgentRuntime": runtimes.update, "ListAgentRuntimes": runtimes.list,
            "DeleteAgentRuntime": runtimes.delete, "ListAgentRuntimeVersions": runtimes.list_versions,
            "CreateAgentRuntimeEndpoint": endpoints.create, "GetAgentRuntimeEndpoint": endpoints.get,
            "UpdateAgentRuntimeEndpoint": endpoints.update, "ListAgentRuntimeEndpoints": endpoints.list,
            "DeleteAgentRuntimeEndpoint": endpoints.delete, "StopRuntimeSession": self.invoker.stop,
        }
        self.firewall = FirewallStore(account=account, region=region)
        self.json_operations = firewall.operations(self.firewall)
        self._address = (host, port)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind and serve in a background thread."""
        handler = type("Handler", (_Handler,), {"emulator": self})
        self._httpd = ThreadingHTTPServer(self._address, handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True, name="emulator-http")
        self._thread.start()
        self.store.sessions.start()
        log.info("AgentCore emulator listening on %s (container errors: %s)", self.url,
                 self.invoker.error_form)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` once started."""
        if self._httpd is None:
            msg = "The emulator is not started."
            raise RuntimeError(msg)
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        """Stop serving and remove every container the emulator started."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self.store.close()
        log.info("AgentCore emulator stopped")

    def health(self) -> dict[str, Any]:
        """What ``GET /_emulator/health`` answers."""
        with self.store.lock:
            count = len(self.store.runtimes)
        return {"status": "ok", "runtimes": count, "containers": self.store.runner.count(),
                "sessions": self.store.sessions.count(), "containerErrors": self.invoker.error_form}


def _docker_runner(docker: Any, registry: str, instance: str, ping_timeout: float) -> Runner:
    from abca_deploy.sandbox.emulator.containers import DockerRunner

    if docker is None:
        import docker as docker_sdk

        docker = docker_sdk.from_env()
    return DockerRunner(docker, registry=registry, instance=instance, ping_timeout=ping_timeout)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "abca-agentcore-emulator/1"
    emulator: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch()

    do_PUT = do_POST = do_DELETE = do_GET

    def _dispatch(self) -> None:
        body, path = self._body(), self.path
        try:
            if path.split("?", 1)[0] == HEALTH_PATH and self.command == "GET":
                self._json(200, self.emulator.health())
                return
            if (target := self.headers.get("X-Amz-Target")) is not None:
                status, document = jsonrpc.handle(self.emulator.json_operations, target, body)
                self._json(status, document, content_type=jsonrpc.CONTENT_TYPE)
                return
            route, labels = routes.find(self.command, path)
            query = path.split("?", 1)[1] if "?" in path else ""
            params = routes.parse_input(route, labels, query, self.headers, body)
            validate.check(route.model.input_shape, params)
            if route.name == "InvokeAgentRuntime":
                self._proxy(self.emulator.invoker.invoke(params, self.headers))
                return
            self._answer(route, self.emulator.operations[route.name](params))
        except ApiError as exc:
            log.debug("%s %s -> %s %s", self.command, path, exc.code, exc.message)
            self._json(exc.status, exc.body(), error=exc.code)
        except Exception:
            log.exception("%s %s failed", self.command, path)
            self._json(500, {"message": "The emulator failed; see its log."}, error="InternalServerException")

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while size := int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():
                pass
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, route: routes.Route, answer: dict[str, Any]) -> None:
        """The operation's output as the model places it: header members as headers, ``statusCode`` as
        the HTTP status, the rest as the JSON body."""
        status, headers, body = int(route.model.http.get("responseCode", 200)), {}, {}
        members = route.model.output_shape.members if route.model.output_shape else {}
        for name, value in answer.items():
            where = members[name].serialization.get("location") if name in members else None
            if where == "header":
                headers[members[name].serialization.get("name", name)] = str(value)
            elif where == "statusCode":
                status = int(value)
            else:
                body[name] = value
        self._json(status, body, headers=headers)

    def _json(self, status: int, document: dict[str, Any], error: str | None = None,
              headers: dict[str, str] | None = None, content_type: str = "application/json") -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error:
            self.send_header("x-amzn-ErrorType", error)
        self.end_headers()
        self.wfile.write(data)

    def _proxy(self, answer: Proxied) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        chunked = answer.length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(answer.length))
        self.end_headers()
        sent = 0
        try:
            for chunk in answer.chunks:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                self.wfile.flush()
                sent += len(chunk)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (OSError, http.client.HTTPException) as exc:
            log.info("invocation stream ended early: %s", exc)
            self.close_connection = True
        finally:
            answer.chunks.close()  # the container connection closes and the session is idle again
        if answer.length is not None and sent < answer.length:  # the container hung up mid-body
            log.info("invocation body ended after %d of %d bytes", sent, answer.length)
            self.close_connection = True
