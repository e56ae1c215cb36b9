"""OCI distribution API adapter: manifests, configs and blobs of one registry host, no Docker Engine.

A content-addressed skip, the digest, the image's media type, platform and sizes, and an extra tag (a
manifest copy) all come from the registry itself, so a no-op publish needs no engine and pulls nothing.
Blobs can be checked, mounted from another repository of the same registry, and streamed from one registry
into an upload on another (``build/copy.py`` copies whole images with these, digests preserved).
Loopback hosts (the sandbox registry) are spoken to over plain HTTP, like Docker's default for 127.0.0.0/8;
every other host over HTTPS. ECR accepts Basic credentials; a Bearer challenge is answered too.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from abca_deploy.errors import OperationFailed

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import BinaryIO

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

    def has_blob(self, repository: str, digest: str) -> bool:
        """Whether ``repository`` already has the blob (HEAD; a 404 is False)."""
        return self._call("HEAD", f"/{repository}/blobs/{digest}", {}, missing_ok=True) is not None

    def start_upload(self, repository: str, *, mount: tuple[str, str] | None = None) -> str | None:
        """Open a blob upload in ``repository``; its location, or None when ``mount`` (digest, from
        repository) was mounted instead. A registry that does not mount answers with an upload (202)."""
        path = f"/{repository}/blobs/uploads/"
        if mount is not None:
            path += "?" + urllib.parse.urlencode({"mount": mount[0], "from": mount[1]})
        answer = self._call("POST", path, {"Content-Length": "0"}, data=b"")
        assert answer is not None
        if answer.status == 201:
            return None
        location = answer.headers.get("Location", "")
        if not location:
            msg = f"The registry {self.host} opened an upload in {repository} without a Location."
            raise OperationFailed(msg, title="Registry error")
        return location if "://" in location else f"{self._base.removesuffix('/v2')}{location}"

    def upload_blob(self, location: str, digest: str, size: int, body: BinaryIO) -> None:
        """Stream ``size`` bytes from ``body`` into the upload at ``location`` (one PATCH), then commit it
        under ``digest`` (the registry checks the content against it)."""
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        answer = self._send_url("PATCH", location, headers, body)
        if answer.status >= 400:
            self._fail("PATCH", "/blobs/uploads/…", answer)
        location = answer.headers.get("Location") or location
        if "://" not in location:
            location = f"{self._base.removesuffix('/v2')}{location}"
        commit = location + ("&" if "?" in location else "?") + urllib.parse.urlencode({"digest": digest})
        answer = self._send_url("PUT", commit, {"Content-Length": "0"}, b"")
        if answer.status >= 400:
            self._fail("PUT", f"/blobs/uploads/…?digest={digest}", answer)

    @contextlib.contextmanager
    def open_blob(self, repository: str, digest: str) -> Iterator[BinaryIO]:
        """The blob as a stream, read as it is consumed (ECR's redirect to S3 is followed)."""
        path = f"/{repository}/blobs/{digest}"
        opened = self._open(path)
        if isinstance(opened, _Response) and opened.status == 401 and self._bearer is None:
            self._bearer = self._token(opened.headers.get("WWW-Authenticate", ""))
            if self._bearer:
                opened = self._open(path)
        if isinstance(opened, _Response):
            self._fail("GET", path, opened)
        with opened:
            yield opened

    def _open(self, path: str) -> Any:
        """A GET left open for streaming; an HTTP error comes back as a read ``_Response``."""
        try:
            return urllib.request.urlopen(self._request("GET", self._base + path, {}, None), timeout=_TIMEOUT)
        except urllib.error.HTTPError as exc:
            return _Response(exc.code, dict(exc.headers.items()), exc.read())
        except (urllib.error.URLError, OSError) as exc:
            raise self._unreachable(exc) from None

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
        return self._send_url(method, self._base + path, headers, data)

    def _request(self, method: str, url: str, headers: dict[str, str], data: bytes | BinaryIO | None
                 ) -> urllib.request.Request:
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        authorization = self._bearer or self._basic
        if authorization:
            # Unredirected: ECR answers blob GETs with a redirect to S3, which refuses a second credential.
            request.add_unredirected_header("Authorization", authorization)
        return request

    def _send_url(self, method: str, url: str, headers: dict[str, str], data: bytes | BinaryIO | None
                  ) -> _Response:
        request = self._request(method, url, headers, data)
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT) as answer:
                return _Response(answer.status, dict(answer.headers.items()), answer.read())
        except urllib.error.HTTPError as exc:
            return _Response(exc.code, dict(exc.headers.items()), exc.read())
        except (urllib.error.URLError, OSError) as exc:
            raise self._unreachable(exc) from None

    def _unreachable(self, exc: BaseException) -> OperationFailed:
        msg = f"The registry {self.host} is not reachable ({getattr(exc, 'reason', exc)})."
        return OperationFailed(msg, title="Registry unreachable")

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

    def _fail(self, method: str, path: str, answer: _Response) -> NoReturn:
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
                "ecr:GetDownloadUrlForLayer and ecr:PutImage"
                + (", ecr:BatchCheckLayerAvailability, ecr:InitiateLayerUpload, ecr:UploadLayerPart and "
                   "ecr:CompleteLayerUpload." if "/blobs" in path and method != "GET" else ".")
            )
        raise OperationFailed(msg, hint=hint, title="Registry error")
