"""OCI distribution API adapter: manifests, configs and blob tails of one registry host, no Docker Engine.

A content-addressed skip, the digest, the image's media type, platform and sizes, and an extra tag (a
manifest copy) all come from the registry itself, so a no-op publish needs no engine and pulls nothing.
Loopback hosts (the sandbox registry) are spoken to over plain HTTP, like Docker's default for 127.0.0.0/8;
every other host over HTTPS. ECR accepts Basic credentials; a Bearer challenge is answered too.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from abca_deploy.errors import OperationFailed

if TYPE_CHECKING:
    from collections.abc import Mapping

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
SINGLE_IMAGE_TYPES = (DOCKER_MANIFEST, OCI_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
_ACCEPT = ", ".join((*SINGLE_IMAGE_TYPES, *INDEX_TYPES))
_LOOPBACK = re.compile(r"^(localhost|127\.[0-9.]+|\[::1\])(:[0-9]+)?$")
_TIMEOUT = 60


@dataclass(frozen=True)
class Manifest:
    """A manifest as the registry serves it: media type, digest, parsed body and raw bytes."""

    media_type: str
    digest: str
    body: Mapping[str, Any]
    raw: bytes


class _Response:
    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class Registry:
    """One registry host. ``username``/``password`` are sent as Basic credentials (or traded for a token)."""

    def __init__(self, host: str, username: str | None = None, password: str | None = None) -> None:
        self.host = host
        scheme = "http" if _LOOPBACK.match(host) else "https"
        self._base = f"{scheme}://{host}/v2"
        self._basic = (
            "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode() if username else None
        )
        self._bearer: str | None = None

    def digest(self, repository: str, reference: str) -> str | None:
        """The manifest digest ``repository:reference`` names, or None when the registry has no such tag."""
        path = f"/{repository}/manifests/{reference}"
        answer = self._call("HEAD", path, {"Accept": _ACCEPT}, missing_ok=True)
        return answer.headers.get("Docker-Content-Digest") if answer else None

    def manifest(self, repository: str, reference: str) -> Manifest:
        """The manifest ``repository:reference`` (tag or digest)."""
        answer = self._call("GET", f"/{repository}/manifests/{reference}", {"Accept": _ACCEPT})
        assert answer is not None
        media_type = answer.headers.get("Content-Type", "").split(";")[0].strip()
        body = json.loads(answer.body)
        media_type = str(body.get("mediaType") or media_type)
        digest = answer.headers.get("Docker-Content-Digest") or reference
        return Manifest(media_type=media_type, digest=digest, body=body, raw=answer.body)

    def blob_json(self, repository: str, digest: str) -> dict[str, Any]:
        """A JSON blob (an image config)."""
        answer = self._call("GET", f"/{repository}/blobs/{digest}", {})
        assert answer is not None
        return dict(json.loads(answer.body))

    def blob_tail(self, repository: str, digest: str, count: int) -> bytes:
        """The last ``count`` bytes of a blob (one ranged request; the whole blob if ranges are refused)."""
        answer = self._call("GET", f"/{repository}/blobs/{digest}", {"Range": f"bytes=-{count}"})
        assert answer is not None
        return answer.body[-count:]

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        """Store ``manifest`` under ``tag`` (a retag: no layer moves); the digest the registry reports."""
        headers = {"Content-Type": manifest.media_type}
        answer = self._call("PUT", f"/{repository}/manifests/{tag}", headers, data=manifest.raw)
        assert answer is not None
        return answer.headers.get("Docker-Content-Digest") or manifest.digest

    def _call(
        self, method: str, path: str, headers: dict[str, str], *, data: bytes | None = None,
        missing_ok: bool = False,
    ) -> _Response | None:
        answer = self._send(method, path, headers, data)
        if answer.status == 401 and self._bearer is None:
            self._bearer = self._token(answer.headers.get("WWW-Authenticate", ""))
            if self._bearer:
                answer = self._send(method, path, headers, data)
        if answer.status == 404 and missing_ok:
            return None
        if answer.status >= 400:
            self._fail(method, path, answer)
        return answer

    def _send(self, method: str, path: str, headers: dict[str, str], data: bytes | None) -> _Response:
        request = urllib.request.Request(self._base + path, data=data, method=method, headers=headers)
        authorization = self._bearer or self._basic
        if authorization:
            # Unredirected: ECR answers blob GETs with a redirect to S3, which refuses a second credential.
            request.add_unredirected_header("Authorization", authorization)
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT) as answer:
                return _Response(answer.status, dict(answer.headers.items()), answer.read())
        except urllib.error.HTTPError as exc:
            return _Response(exc.code, dict(exc.headers.items()), exc.read())
        except (urllib.error.URLError, OSError) as exc:
            msg = f"The registry {self.host} is not reachable ({getattr(exc, 'reason', exc)})."
            raise OperationFailed(msg, title="Registry unreachable") from None

    def _token(self, challenge: str) -> str | None:
        """Answer a ``Bearer realm=…,service=…,scope=…`` challenge with the Basic credentials."""
        if not challenge.lower().startswith("bearer "):
            return None
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        if "realm" not in params:
            return None
        query = urllib.parse.urlencode({k: v for k, v in params.items() if k in ("service", "scope")})
        request = urllib.request.Request(f"{params['realm']}?{query}")
        if self._basic:
            request.add_unredirected_header("Authorization", self._basic)
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT) as answer:
                token = json.loads(answer.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None
        value = token.get("token") or token.get("access_token")
        return f"Bearer {value}" if value else None

    def _fail(self, method: str, path: str, answer: _Response) -> None:
        try:
            errors = json.loads(answer.body).get("errors") or []
            detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
        except (ValueError, AttributeError):
            detail = ""
        detail = detail or answer.body[:200].decode(errors="replace") or "(no body)"
        msg = f"The registry {self.host} answered {answer.status} to {method} {path}: {detail}"
        hint = None
        if answer.status in (401, 403):
            hint = (
                "Grant the role ecr:GetAuthorizationToken, and on the repository ecr:BatchGetImage, "
                "ecr:GetDownloadUrlForLayer and ecr:PutImage."
            )
        raise OperationFailed(msg, hint=hint, title="Registry error")
