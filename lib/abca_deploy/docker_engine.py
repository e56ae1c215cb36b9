"""Docker Engine adapter (docker SDK): the classic builder, push, and the build context's content hash.

The classic build goes through the Engine API as the docker SDK sends it: the SDK first writes the context
(honouring .dockerignore) to a temporary tar file, then uploads it. BuildKit builds go through
``build/buildx.py`` instead. It translates engine errors into the project's errors and makes no decisions.
"""

from __future__ import annotations

import hashlib
import re
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from abca_deploy.errors import OperationFailed, UserError
from abca_deploy.identifiers import DIGEST

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from pathlib import Path

DOCKER_HINT = (
    "Start a Docker Engine and make it reachable (DOCKER_HOST or /var/run/docker.sock). On Debian: "
    "`apt-get install -y docker.io docker-registry` then `dockerd &` as root, or run `scripts/bootstrap`."
)


@dataclass(frozen=True)
class BuiltImage:
    """A locally built image: its id, its platform, and how many steps the engine's local cache served."""

    image_id: str
    os: str
    architecture: str
    steps: int = 0
    cached_steps: int = 0

    @property
    def platform(self) -> str:
        """``os/architecture``, e.g. ``linux/arm64``."""
        return f"{self.os}/{self.architecture}"


@dataclass(frozen=True)
class Pushed:
    """A push: the manifest digest, and how many layers were sent or already in the registry."""

    digest: str
    layers_pushed: int
    layers_present: int


def connect() -> Any:
    """A docker SDK client for the local engine, or an OperationFailed saying how to get one."""
    import docker
    import docker.errors

    try:
        client = docker.from_env(timeout=300)
        client.ping()
    except (docker.errors.DockerException, OSError) as exc:
        msg = f"No Docker Engine is reachable ({str(exc).splitlines()[0][:160]})."
        raise OperationFailed(msg, hint=DOCKER_HINT, title="No Docker Engine") from None
    return client


def dockerignore_patterns(context: Path) -> list[str] | None:
    """The .dockerignore patterns exactly as the docker SDK reads them."""
    path = context / ".dockerignore"
    if not path.exists():
        return None
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def context_files(context: Path, dockerfile: str) -> list[str]:
    """The relative paths of the files the engine would receive, sorted (honours .dockerignore)."""
    from docker.utils.build import exclude_paths

    included = exclude_paths(str(context), dockerignore_patterns(context) or [], dockerfile=dockerfile)
    files = [p for p in included if not (context / p).is_dir() or (context / p).is_symlink()]
    return sorted(files)


def context_digest(context: Path, dockerfile: str, build_args: Mapping[str, str], platform: str) -> str:
    """A sha256 over what makes the image: context files (path, mode, content), Dockerfile, args, platform."""
    digest = hashlib.sha256()

    def feed(*parts: str | bytes) -> None:
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "big") + data)

    feed("abca-deploy/context/v1", platform, dockerfile)
    for key in sorted(build_args):
        feed("arg", key, build_args[key])
    for rel in context_files(context, dockerfile):
        path = context / rel
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            feed("link", rel, str(path.readlink()))
            continue
        feed("file", rel, "x" if info.st_mode & 0o111 else "-")
        file_hash = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                file_hash.update(block)
        feed(file_hash.digest())
    dockerfile_path = context / dockerfile
    feed("dockerfile", dockerfile_path.read_bytes() if dockerfile_path.exists() else b"")
    return digest.hexdigest()


class DockerEngine:
    """Build and push through the local Docker Engine. ``log`` receives progress lines."""

    def __init__(self, client: Any, log: Callable[[str], None] = lambda _line: None) -> None:
        self._client = client
        self._log = log

    def build(
        self, context: Path, dockerfile: str, tag: str, build_args: Mapping[str, str], platform: str | None
    ) -> BuiltImage:
        """Build ``context`` with the classic builder, streaming the engine's output to the log."""
        import docker.errors

        image_id, counts = "", {"steps": 0, "cached": 0}
        try:
            stream = self._client.api.build(
                path=str(context),
                dockerfile=dockerfile,
                tag=tag,
                buildargs=dict(build_args),
                platform=platform,
                rm=True,
                forcerm=True,
                pull=False,
                decode=True,
            )
            for chunk in stream:
                image_id = self._consume(chunk, image_id, "build")
                text = str(chunk.get("stream", ""))
                counts["steps"] += bool(re.match(r"Step \d+/\d+ : (RUN|COPY|ADD) ", text))
                counts["cached"] += "---> Using cache" in text
        except docker.errors.APIError as exc:
            msg = f"docker build failed: {exc.explanation or exc}"
            raise OperationFailed(msg, title="Build failed") from None
        if not image_id:
            msg = "docker build finished without an image id."
            raise OperationFailed(msg, title="Build failed")
        attrs = self._client.api.inspect_image(image_id)
        return BuiltImage(
            image_id=image_id, os=attrs.get("Os", "linux"), architecture=attrs.get("Architecture", ""),
            steps=counts["steps"], cached_steps=counts["cached"],
        )

    def _consume(self, chunk: Mapping[str, Any], image_id: str, what: str) -> str:
        if "error" in chunk:
            detail = chunk.get("errorDetail", {}).get("message") or chunk["error"]
            msg = f"docker {what} failed: {str(detail).strip()}"
            raise OperationFailed(msg, title=f"{what.title()} failed")
        text = str(chunk.get("stream", "")).rstrip()
        if text:
            self._log(text)
        aux = chunk.get("aux")
        if isinstance(aux, dict) and aux.get("ID"):
            return str(aux["ID"])
        match = re.match(r"Successfully built ([0-9a-f]+)", text)
        return match.group(1) if match and not image_id else image_id

    def push(self, repository: str, tag: str, auth: Mapping[str, str] | None) -> str:
        """Push ``repository:tag``; returns the manifest digest the registry reported."""
        return self.push_counted(repository, tag, auth).digest

    def push_counted(self, repository: str, tag: str, auth: Mapping[str, str] | None) -> Pushed:
        """Push ``repository:tag``; the digest, and the layers sent versus already present."""
        import docker.errors

        digest, layers = "", {}
        try:
            stream = self._client.api.push(
                repository, tag=tag, auth_config=dict(auth) if auth else None, stream=True, decode=True
            )
            for chunk in stream:
                if "error" in chunk:
                    self._raise_push_error(repository, tag, chunk)
                aux = chunk.get("aux")
                if isinstance(aux, dict) and aux.get("Digest"):
                    digest = str(aux["Digest"])
                status = str(chunk.get("status", ""))
                if chunk.get("id") and status in ("Pushed", "Layer already exists", "Mounted from"):
                    layers[str(chunk["id"])] = status == "Pushed"
                if status and "progressDetail" not in chunk and chunk.get("id") is None:
                    self._log(status)
        except docker.errors.APIError as exc:
            msg = f"docker push of {repository}:{tag} failed: {exc.explanation or exc}"
            raise OperationFailed(msg, title="Push failed") from None
        if not DIGEST.fullmatch(digest):
            msg = f"docker push of {repository}:{tag} did not report a digest."
            raise OperationFailed(msg, title="Push failed")
        pushed = sum(layers.values())
        return Pushed(digest=digest, layers_pushed=pushed, layers_present=len(layers) - pushed)

    @staticmethod
    def _raise_push_error(repository: str, tag: str, chunk: Mapping[str, Any]) -> None:
        detail = str(chunk.get("errorDetail", {}).get("message") or chunk["error"]).strip()
        if "already exists" in detail and "immutable" in detail.lower():
            msg = (
                f"The tag {tag!r} already exists in {repository} with a different image, and the "
                "repository's tags are immutable."
            )
            raise UserError(
                msg,
                hint="Use another --tag (e.g. the commit SHA), or omit --tag.",
                title="Immutable tag taken",
            )
        hint = None
        if (
            "denied" in detail.lower()
            or "unauthorized" in detail.lower()
            or "no basic auth" in detail.lower()
        ):
            hint = (
                "Grant the role ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, "
                "ecr:BatchCheckLayerAvailability and ecr:PutImage on the repository."
            )
        msg_0 = f"docker push of {repository}:{tag} failed: {detail}"
        raise OperationFailed(msg_0, hint=hint, title="Push failed")


def parse_build_args(items: Iterable[str]) -> dict[str, str]:
    """``["K=V", ...]`` to a dict; later items win."""
    args: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            msg = f"--build-args: {item!r} is not KEY=VALUE."
            raise UserError(msg, title="Invalid --build-args")
        args[key.strip()] = value
    return args
