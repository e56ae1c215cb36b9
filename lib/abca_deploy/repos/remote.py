"""HTTP adapter for ABCA's repository API (``/v1/repos``), the other way to reach the repo table.

Thin: one method per operation, answers unwrapped from ABCA's envelope, errors translated at the boundary
(4xx: the input or the credential must be fixed, exit 2; throttling and 5xx: retried, then exit 1).
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from abca_deploy import __version__
from abca_deploy.errors import OperationFailed, UserError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

RETRIED = (429, 500, 502, 503, 504)
ATTEMPTS = 4
TITLES = {"VALIDATION_ERROR": "Invalid input", "REPO_NOT_FOUND": "Repository not onboarded",
          "REPO_ALREADY_ONBOARDED": "Repository already onboarded",
          "REPO_OFFBOARDED": "Repository offboarded", "GUARDRAIL_REFUSED": "Refused by a guardrail",
          "PRECONDITION_FAILED": "Repository changed", "FORBIDDEN": "Not allowed",
          "UNAUTHORIZED": "Not signed in"}


class RepoApi:
    """The API at ``api_url`` (ABCA's ``ApiUrl``, ending in ``/v1/``); ``credentials()``: auth headers."""

    def __init__(self, api_url: str, credentials: Callable[[], dict[str, str]], *,
                 timeout: float = 30) -> None:
        self.base = api_url.rstrip("/") + "/repos"
        self._credentials = credentials
        self._timeout = timeout

    def get(self, repo: str) -> dict[str, Any]:
        """One row."""
        return dict(self._call("GET", f"/{quote(repo, safe='')}")[0])

    def list(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every row (all pages)."""
        rows: list[dict[str, Any]] = []
        query: dict[str, str] = {"limit": "100", **({"status": status} if status else {})}
        while True:
            data, document = self._call("GET", "", query=query)
            rows += data
            token = document.get("pagination", {}).get("next_token")
            if not token:
                return rows
            query["next_token"] = token

    def onboard(self, body: Mapping[str, Any], dry_run: bool) -> dict[str, Any]:
        """POST: the write result."""
        return dict(self._call("POST", "", body=body, query=_dry(dry_run))[0])

    def update(self, repo: str, body: Mapping[str, Any], dry_run: bool) -> dict[str, Any]:
        """PATCH: the write result."""
        return dict(self._call("PATCH", f"/{quote(repo, safe='')}", body=body, query=_dry(dry_run))[0])

    def offboard(self, repo: str, dry_run: bool) -> dict[str, Any]:
        """DELETE: the write result."""
        return dict(self._call("DELETE", f"/{quote(repo, safe='')}", query=_dry(dry_run))[0])

    def _call(self, method: str, path: str, *, body: Mapping[str, Any] | None = None,
              query: Mapping[str, str] | None = None) -> tuple[Any, dict[str, Any]]:
        url = self.base + path + (f"?{urlencode(query)}" if query else "")
        payload = json.dumps(body).encode() if body is not None else None
        for attempt in range(ATTEMPTS):
            headers = {"Content-Type": "application/json", "Accept": "application/json",
                       "User-Agent": f"abca-deploy/{__version__}", **self._credentials()}
            request = urllib.request.Request(url, data=payload, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as answer:
                    document = _json(answer.read())
                    return document.get("data"), document
            except urllib.error.HTTPError as exc:
                document = _json(exc.read())
                if exc.code in RETRIED and attempt + 1 < ATTEMPTS:
                    _pause(attempt, exc.headers.get("Retry-After"))
                    continue
                raise _error(method, url, exc.code, document) from None
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                msg = f"Could not reach the repository API at {self.base}: {reason}."
                raise OperationFailed(msg, hint="Check --api-url (ABCA's ApiUrl output) and the network.",
                                      title="API unreachable") from None
        raise AssertionError  # the loop returns or raises


def _dry(dry_run: bool) -> dict[str, str]:
    return {"dry_run": "true"} if dry_run else {}


def _json(raw: bytes) -> dict[str, Any]:
    try:
        document = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _pause(attempt: int, retry_after: str | None) -> None:
    wait = float(retry_after) if retry_after and retry_after.isdigit() else min(4.0, 0.25 * 2**attempt)
    time.sleep(wait + random.uniform(0, 0.25))


def _error(method: str, url: str, status: int, document: dict[str, Any]) -> UserError | OperationFailed:
    found = document.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    code = str(error.get("code") or f"HTTP {status}")
    message = str(error.get("message") or document.get("message") or f"{method} {url} answered {status}.")
    request_id = error.get("request_id")
    where = f" (request {request_id})" if request_id else ""
    if status == 401:
        hint = "Sign in again with `abca-deploy repo login`, or check the API key (--api-key-env)."
        return UserError(f"The repository API refused the credentials: {message}{where}", hint=hint,
                         title=TITLES["UNAUTHORIZED"])
    if 400 <= status < 500 and status != 429:
        return UserError(f"{message}{where}", title=TITLES.get(code, f"Refused ({code})"))
    return OperationFailed(f"The repository API answered {status} {code}: {message}{where}",
                           hint="Retry later; if it persists, the operator finds the request id in the log.",
                           title="Repository API error")
