"""A small local stand-in for API Gateway in front of the repository API: ``http://127.0.0.1:PORT/v1/repos``.

Like ABCA's REST API it routes ``/repos`` and ``/repos/{repo_id}`` of the ``v1`` stage to the Lambda handler
with the authorizer's verdict (``authorizer.py``), throttles like a stage (token bucket; ABCA's stage allows
60 requests/s with bursts of 100; 0 turns it off), and hands the handler the REST proxy event API Gateway
would. The platform (pool, app client, tables) is read from the stack's outputs, re-read every few seconds so
a re-seeded sandbox is picked up.

Run by ``sandbox up``: ``python -m abca_deploy.sandbox.gateway --host 127.0.0.1 --port N --moto URL``.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from abca_deploy.api.auth import READ_SCOPE
from abca_deploy.api.responses import ApiError, error
from abca_deploy.sandbox.authorizer import Authorizer, Directory

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.api.app import App

HEALTH_PATH = "/_sandbox/health"
LOG = logging.getLogger("abca_deploy.sandbox.gateway")
OUTPUTS_TTL = 5.0


class TokenBucket:
    """``rate`` requests a second on average, ``burst`` at once; ``rate`` 0 lets everything through."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, max(1, burst)
        self._tokens, self._at = float(self.burst), time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Whether one more request may pass now."""
        if self.rate <= 0:
            return True
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


class Gateway:
    """The API on ``host:port``; ``make_app`` builds the handler's app (again when the platform changes)."""

    def __init__(self, *, moto: str, make_app: Callable[[], App], stack_name: str = "backgroundagent-dev",
                 region: str = "us-east-1", host: str = "127.0.0.1", port: int = 0, stage: str = "v1",
                 rate: float = 60.0, burst: int = 100) -> None:
        import boto3

        clients = {"endpoint_url": moto, "region_name": region, "aws_access_key_id": "testing",
                   "aws_secret_access_key": "testing", "aws_session_token": "testing"}
        self._cfn = boto3.session.Session().client("cloudformation", **clients)
        self.authorizer = Authorizer(boto3.session.Session().client("dynamodb", **clients), READ_SCOPE)
        self.moto, self.stack_name, self.region, self.stage = moto, stack_name, region, stage
        self.bucket = TokenBucket(rate, burst)
        self._make_app = make_app
        self._lock = threading.Lock()
        self._outputs: tuple[float, dict[str, str]] = (0.0, {})
        self._app: tuple[str, App] | None = None
        if LOG.level == logging.NOTSET:
            LOG.setLevel(logging.INFO)
        self.server = ThreadingHTTPServer((host, port), _handler(self))
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The stage's base URL, ending in ``/v1/`` like ABCA's ``ApiUrl`` output."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/{self.stage}/"

    def start(self) -> None:
        """Serve on a background thread."""
        self._thread = threading.Thread(target=self.server.serve_forever, name="gateway", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def outputs(self) -> dict[str, str]:
        """The stack's outputs (cached for a few seconds); 503 until the sandbox is seeded."""
        with self._lock:
            fetched, outputs = self._outputs
            if time.monotonic() - fetched < OUTPUTS_TTL and outputs:
                return outputs
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            stack = self._cfn.describe_stacks(StackName=self.stack_name)["Stacks"][0]
        except (ClientError, BotoCoreError):
            stack = {}
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if "UserPoolId" not in outputs or "RepoTableName" not in outputs:
            msg = (f"The sandbox has no seeded stack {self.stack_name} with a user pool yet: run "
                   "`abca-deploy sandbox up`.")
            raise ApiError(503, "SERVICE_UNAVAILABLE", msg)
        with self._lock:
            self._outputs = (time.monotonic(), outputs)
        return outputs

    def app(self, outputs: dict[str, str]) -> App:
        """The handler's app for the platform the outputs describe."""
        with self._lock:
            if self._app is None or self._app[0] != outputs["RepoTableName"]:
                self._app = (outputs["RepoTableName"], self._make_app())
            return self._app[1]

    def directory(self, outputs: dict[str, str]) -> Directory:
        """Where the authorizer checks credentials."""
        return Directory(self.moto, self.region, outputs["UserPoolId"], outputs.get("AppClientId", ""),
                         outputs.get("ApiKeyTableName"))


def route(path: str, stage: str) -> tuple[str, dict[str, str]] | None:
    """The API Gateway resource for a request path, and its path parameters (still percent-encoded)."""
    prefix = f"/{stage}/repos"
    if path in (prefix, prefix + "/"):
        return "/repos", {}
    rest = path[len(prefix) + 1:] if path.startswith(prefix + "/") else None
    if rest and "/" not in rest:
        return "/repos/{repo_id}", {"repo_id": rest}
    return None


def event_for(gateway: Gateway, method: str, target: str, headers: dict[str, str], body: bytes,
              resource: str, parameters: dict[str, str], authorizer: dict[str, str],
              source_ip: str) -> dict[str, Any]:
    """The REST API proxy event (payload format 1.0) API Gateway would send the Lambda."""
    split = urlsplit(target)
    query = parse_qs(split.query, keep_blank_values=True)
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    stage_path = split.path[len(gateway.stage) + 1:]  # API Gateway's ``path`` has no stage
    return {
        "resource": resource, "path": stage_path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": parameters or None, "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012", "apiId": "sandbox", "stage": gateway.stage, "resourcePath": resource,
            "httpMethod": method, "path": split.path, "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000), "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "authorizer": authorizer,
        },
        "body": text if body else None, "isBase64Encoded": encoded,
    }


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway
        disable_nagle_algorithm = True  # headers, then body: two writes; with Nagle, delayed ACKs add 40 ms
        server_version = "abca-sandbox-gateway"

        def log_message(self, format: str, *args: Any) -> None:
            """The handler logs each request itself (one JSON line); no second line here."""

        def _send(self, response: dict[str, Any]) -> None:
            payload = str(response.get("body") or "").encode()
            self.send_response(int(response["statusCode"]))
            for key, value in (response.get("headers") or {}).items():
                self.send_header(key, str(value))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            if path == HEALTH_PATH and self.command == "GET":
                return self._send({"statusCode": 200, "headers": {"Content-Type": "application/json"},
                                   "body": json.dumps({"status": "ok"})})
            request_id = str(uuid.uuid4())
            try:
                self._send(self._invoke(path, body))
            except ApiError as err:  # answered here, as API Gateway answers for its authorizer and throttle
                self._send(error(err, request_id))
                LOG.info(json.dumps({"request_id": request_id, "method": self.command, "path": path,
                                     "status": err.status, "code": err.code}, separators=(",", ":")))
            return None

        def _invoke(self, path: str, body: bytes) -> dict[str, Any]:
            found = route(path, gateway.stage)
            if found is None:
                msg = (f"No route for {self.command} {path}: the API serves /{gateway.stage}/repos and "
                       f"/{gateway.stage}/repos/{{repo_id}} (owner%2Frepo).")
                raise ApiError(404, "NOT_FOUND", msg)
            if not gateway.bucket.take():
                raise ApiError(429, "RATE_LIMIT_EXCEEDED", "Too many requests; slow down and retry.",
                               {"Retry-After": "1"})
            outputs = gateway.outputs()
            headers = {key: value for key, value in self.headers.items()}
            lowered = {key.lower(): value for key, value in headers.items()}
            context = gateway.authorizer.context(lowered, gateway.directory(outputs))
            event = event_for(gateway, self.command, self.path, headers, body, *found, context,
                              self.client_address[0])
            return gateway.app(outputs).handle(event)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    return Handler


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT. The handler is configured by ``ABCA_*`` variables (``ApiSettings``)."""
    import argparse
    import os
    import signal
    import sys

    parser = argparse.ArgumentParser(prog="python -m abca_deploy.sandbox.gateway",
                                     description="Local API Gateway for the repository API (sandbox).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--moto", required=True, help="moto's URL (Cognito, DynamoDB, CloudFormation, ...)")
    parser.add_argument("--stack-name", default="backgroundagent-dev")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--rate", type=float, default=60.0, help="requests/s (0: no throttling)")
    parser.add_argument("--burst", type=int, default=100)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # The handler's AWS clients reach moto exactly as a Lambda's reach AWS: through the environment.
    os.environ.update({"AWS_ENDPOINT_URL": args.moto, "AWS_REGION": args.region,
                       "AWS_DEFAULT_REGION": args.region, "ABCA_STACK_NAME": args.stack_name})
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.setdefault(name, "testing")
    from abca_deploy.api.app import App

    gateway = Gateway(moto=args.moto, make_app=App.from_environment, stack_name=args.stack_name,
                      region=args.region, host=args.host, port=args.port, rate=args.rate, burst=args.burst)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    gateway.start()
    logging.getLogger("abca_deploy.api").info(json.dumps({"event": "listening", "url": gateway.url},
                                                         separators=(",", ":")))
    stop.wait()
    gateway.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
