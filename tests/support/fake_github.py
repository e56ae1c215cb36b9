"""A fake GitHub REST API on 127.0.0.1 (stdlib ThreadingHTTPServer), enough for the calls PyGithub makes here.

Serves ``GET /repos/{owner}/{repo}`` (with ``permissions`` and, for classic tokens, ``X-OAuth-Scopes``) and
``GET /repos/{owner}/{repo}/collaborators/{user}/permission``, optionally under a path prefix such as
``/api/v3`` (GitHub Enterprise Server). It records every request so tests can see what was sent.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

LEGACY = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}
REPO_PERMISSIONS = {
    "admin": {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True},
    "write": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
    "read": {"admin": False, "maintain": False, "push": False, "triage": False, "pull": True},
}


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


@dataclass
class FakeGitHub:
    """The fake's state; ``url`` is the REST root to pass as ``--github-api-url``."""

    prefix: str = ""
    tokens: dict[str, FakeToken] = field(default_factory=dict)
    private: dict[str, bool] = field(default_factory=dict)
    roles: dict[tuple[str, str], str] = field(default_factory=dict)  # (full_name, user) -> role
    requests: list[Request] = field(default_factory=list)
    url: str = ""

    def add_repo(self, full_name: str, *, private: bool = True) -> None:
        """A repository that exists."""
        self.private[full_name] = private

    def add_token(self, token: str, login: str, *, scopes: tuple[str, ...] | None = ("repo",),
                  access: dict[str, str] | None = None) -> None:
        """A token and what it can do."""
        self.tokens[token] = FakeToken(login, scopes, dict(access or {}))


def _handler(state: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            auth = self.headers.get("Authorization", "")
            state.requests.append(Request("GET", self.path, auth))
            path = self.path.split("?", 1)[0]
            if not path.startswith(state.prefix + "/repos/"):
                return self._send(404, {"message": "Not Found"})
            parts = path[len(state.prefix + "/repos/"):].split("/")
            token = state.tokens.get(auth.split(" ", 1)[-1])
            if token is None:
                return self._send(401, {"message": "Bad credentials"})
            full_name = "/".join(parts[:2])
            level = token.access.get(full_name)
            if full_name not in state.private or level is None:
                return self._send(404, {"message": "Not Found"})
            headers = {"X-OAuth-Scopes": ", ".join(token.scopes)} if token.scopes is not None else {}
            if len(parts) == 2:
                return self._send(200, self._repo(full_name, level), headers)
            if len(parts) == 5 and parts[2] == "collaborators" and parts[4] == "permission":
                role = state.roles.get((full_name, parts[3]))
                if role is None:
                    return self._send(404, {"message": "Not Found"})
                return self._send(200, {"permission": LEGACY[role], "role_name": role,
                                        "user": {"login": parts[3]}}, headers)
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
