"""A fake GitHub REST API on 127.0.0.1 (stdlib ThreadingHTTPServer), enough for the calls PyGithub makes here.

Serves, optionally under a path prefix such as ``/api/v3`` (GitHub Enterprise Server):

- ``GET /repos/{owner}/{repo}`` (with ``permissions`` and, for classic tokens, ``X-OAuth-Scopes``) and
  ``GET /repos/{owner}/{repo}/collaborators/{user}/permission``;
- deployments: ``GET``/``POST /repos/{o}/{r}/deployments`` (``?environment=`` filter, newest first) and
  ``GET``/``POST /repos/{o}/{r}/deployments/{id}/statuses`` (newest first);
- comments: ``GET``/``POST /repos/{o}/{r}/issues/{n}/comments`` and
  ``PATCH /repos/{o}/{r}/issues/comments/{id}``.

Writes need a token with ``write`` (or ``admin``) on the repository, as ``deployments: write`` and
``pull-requests: write`` do; a ``read`` token gets 403 "Resource not accessible by integration", like a fork
pull request's ``GITHUB_TOKEN``. Every request is recorded so tests can see what was sent.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

LEGACY = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}
REPO_PERMISSIONS = {
    "admin": {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True},
    "write": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
    "read": {"admin": False, "maintain": False, "push": False, "triage": False, "pull": True},
}
NOT_ACCESSIBLE = {"message": "Resource not accessible by integration"}


@dataclass
class FakeToken:
    """A token: its user, classic OAuth scopes (``None`` = fine-grained), and its access per repository."""

    login: str
    scopes: tuple[str, ...] | None = ("repo",)
    access: dict[str, str] = field(default_factory=dict)  # full_name -> admin | write | read


@dataclass
class Request:
    """One request the fake received."""

    method: str
    path: str
    authorization: str
    body: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeGitHub:
    """The fake's state; ``url`` is the REST root to pass as ``--github-api-url``."""

    prefix: str = ""
    tokens: dict[str, FakeToken] = field(default_factory=dict)
    private: dict[str, bool] = field(default_factory=dict)
    roles: dict[tuple[str, str], str] = field(default_factory=dict)  # (full_name, user) -> role
    deployments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # full_name -> oldest first
    statuses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # deployment id -> oldest first
    comments: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    url: str = ""
    _next_id: int = 100

    def add_repo(self, full_name: str, *, private: bool = True) -> None:
        """A repository that exists."""
        self.private[full_name] = private

    def add_token(self, token: str, login: str, *, scopes: tuple[str, ...] | None = ("repo",),
                  access: dict[str, str] | None = None) -> None:
        """A token and what it can do."""
        self.tokens[token] = FakeToken(login, scopes, dict(access or {}))

    def new_id(self) -> int:
        """A fresh object id."""
        self._next_id += 1
        return self._next_id

    def add_deployment(self, full_name: str, environment: str, sha: str, *states: str) -> int:
        """A deployment with the given statuses (oldest first); returns its id."""
        deployment = self._deployment(full_name, {"ref": sha, "environment": environment, "payload": {}})
        for state in states:
            self.statuses[deployment["id"]].append({"id": self.new_id(), "state": state})
        return int(deployment["id"])

    def _deployment(self, full_name: str, body: dict[str, Any]) -> dict[str, Any]:
        number = self.new_id()
        deployment = {"id": number, "sha": body["ref"], "ref": body["ref"],
                      "task": body.get("task", "deploy"),
                      "environment": body.get("environment", "production"),
                      "description": body.get("description"), "payload": body.get("payload") or {},
                      "created_at": f"2026-01-01T00:00:{number % 60:02}Z",
                      "url": f"{self.url}/repos/{full_name}/deployments/{number}",
                      "statuses_url": f"{self.url}/repos/{full_name}/deployments/{number}/statuses"}
        self.deployments.setdefault(full_name, []).append(deployment)
        self.statuses[number] = []
        return deployment

    def environments(self, full_name: str) -> dict[str, list[tuple[str, list[str]]]]:
        """Per environment, each deployment's sha and its statuses, oldest first (what a test inspects)."""
        found: dict[str, list[tuple[str, list[str]]]] = {}
        for item in self.deployments.get(full_name, []):
            states = [s["state"] for s in self.statuses[item["id"]]]
            found.setdefault(item["environment"], []).append((item["sha"], states))
        return found


def _handler(state: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            parsed = json.loads(self.rfile.read(length) or b"{}") if length else {}
            return parsed if isinstance(parsed, dict) else {}

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PATCH(self) -> None:
            self._route("PATCH")

        def _route(self, method: str) -> None:
            auth = self.headers.get("Authorization", "")
            body = self._body() if method != "GET" else {}
            state.requests.append(Request(method, self.path, auth, body))
            split = urlsplit(self.path)
            if not split.path.startswith(state.prefix + "/repos/"):
                return self._send(404, {"message": "Not Found"})
            parts = split.path[len(state.prefix + "/repos/"):].split("/")
            token = state.tokens.get(auth.split(" ", 1)[-1])
            if token is None:
                return self._send(401, {"message": "Bad credentials"})
            full_name = "/".join(parts[:2])
            level = token.access.get(full_name)
            if full_name not in state.private or level is None:
                return self._send(404, {"message": "Not Found"})
            if method != "GET" and level not in {"write", "admin"}:
                return self._send(403, NOT_ACCESSIBLE)
            headers = {"X-OAuth-Scopes": ", ".join(token.scopes)} if token.scopes is not None else {}
            rest, query = parts[2:], parse_qs(split.query)
            if not rest:
                return self._send(200, self._repo(full_name, level), headers)
            if len(rest) == 3 and rest[0] == "collaborators" and rest[2] == "permission":
                role = state.roles.get((full_name, rest[1]))
                if role is None:
                    return self._send(404, {"message": "Not Found"})
                return self._send(200, {"permission": LEGACY[role], "role_name": role,
                                        "user": {"login": rest[1]}}, headers)
            if rest[0] == "deployments":
                return self._deployments(method, full_name, rest[1:], query, body)
            if rest[0] == "issues":
                return self._comments(method, full_name, rest[1:], body, token)
            return self._send(404, {"message": "Not Found"})

        def _deployments(self, method: str, full_name: str, rest: list[str], query: dict[str, list[str]],
                         body: dict[str, Any]) -> None:
            if not rest and method == "GET":
                wanted = query.get("environment", [None])[0]
                items = [d for d in state.deployments.get(full_name, [])
                         if wanted is None or d["environment"] == wanted]
                return self._send(200, list(reversed(items)))
            if not rest and method == "POST":
                if "ref" not in body or body.get("required_contexts") != []:
                    return self._send(409, {"message": "Conflict: Commit status checks failed for main."})
                return self._send(201, state._deployment(full_name, body))
            if len(rest) == 2 and rest[1] == "statuses" and int(rest[0]) in state.statuses:
                statuses = state.statuses[int(rest[0])]
                if method == "GET":
                    return self._send(200, list(reversed(statuses)))
                status = {"id": state.new_id(), **body}
                statuses.append(status)
                return self._send(201, status)
            return self._send(404, {"message": "Not Found"})

        def _comments(self, method: str, full_name: str, rest: list[str], body: dict[str, Any],
                      token: FakeToken) -> None:
            if len(rest) == 2 and rest[1] == "comments":
                comments = state.comments.setdefault((full_name, int(rest[0])), [])
                if method == "GET":
                    return self._send(200, comments)
                bot = "Bot" if token.login.endswith("[bot]") else "User"
                number = state.new_id()
                user = {"login": token.login, "type": bot}
                comment = {"id": number, "body": body.get("body", ""), "user": user,
                           "url": f"{state.url}/repos/{full_name}/issues/comments/{number}"}
                comments.append(comment)
                return self._send(201, comment)
            if len(rest) == 2 and rest[0] == "comments" and method == "PATCH":
                for comments in state.comments.values():
                    for comment in comments:
                        if comment["id"] == int(rest[1]):
                            comment["body"] = body.get("body", "")
                            return self._send(200, comment)
            return self._send(404, {"message": "Not Found"})

        def _repo(self, full_name: str, level: str) -> dict[str, Any]:
            owner, name = full_name.split("/")
            return {"id": abs(hash(full_name)) % 10**8, "name": name, "full_name": full_name,
                    "private": state.private[full_name], "owner": {"login": owner},
                    "url": f"{state.url}/repos/{full_name}", "permissions": REPO_PERMISSIONS[level]}

    return Handler


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A fresh fake GitHub API; its ``url`` is the REST root."""
    yield from serve(FakeGitHub())


@pytest.fixture
def fake_ghes() -> Iterator[FakeGitHub]:
    """A fake GitHub Enterprise Server: the REST root is under ``/api/v3``."""
    yield from serve(FakeGitHub(prefix="/api/v3"))


def serve(state: FakeGitHub) -> Iterator[FakeGitHub]:
    """Serve ``state`` on 127.0.0.1 until the generator is closed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}{state.prefix}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
