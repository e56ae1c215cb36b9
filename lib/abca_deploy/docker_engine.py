"""Docker Engine adapter (docker SDK): build, tag, push, and ask a registry what it holds.

It translates engine errors into the project's errors and makes no decisions.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import stat
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from abca_deploy.errors import OperationFailed, UserError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from pathlib import Path

DOCKER_HINT = (
    "Start a Docker Engine and make it reachable (DOCKER_HOST or /var/run/docker.sock). On Debian: "
    "`apt-get install -y docker.io docker-registry` then `dockerd &` as root, or run `scripts/bootstrap`."
)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class BuiltImage:
    """A locally built image: its id and the platform the engine reports for it."""

    image_id: str
    os: str
    architecture: str

    @property
    def platform(self) -> str:
        """``os/architecture``, e.g. ``linux/arm64``."""
        return f"{self.os}/{self.architecture}"


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


class _PipeWriter(io.RawIOBase):
    """A pipe's write end that tarfile can use (it asks for tell(); the archive seeks to 0 at the end)."""

    def __init__(self, fd: int) -> None:
        self._out = os.fdopen(fd, "wb", buffering=1 << 20)
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._out.write(data)
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._written

    def close(self) -> None:
        if not self.closed:
            self._out.close()
        super().close()


@contextlib.contextmanager
def streamed_context(context: Path, dockerfile: str) -> Iterator[Iterator[bytes]]:
    """The build context as a tar stream, written by a thread while the engine reads it (no temporary file).

    The archive is the docker SDK's own (same files, same .dockerignore rules, same headers); only the
    temporary file the SDK would write first, and read back, is gone.
    """
    from docker.utils.build import create_archive, exclude_paths

    files = sorted(exclude_paths(str(context), dockerignore_patterns(context) or [], dockerfile=dockerfile))
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def write() -> None:
        writer = _PipeWriter(write_fd)
        try:
            create_archive(str(context), files=files, fileobj=writer)
        except BrokenPipeError:
            pass  # the engine stopped reading (the build failed early); its error is the one to report
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)
        finally:
            with contextlib.suppress(OSError):
                writer.close()

    thread = threading.Thread(target=write, name="build-context", daemon=True)
    reader = os.fdopen(read_fd, "rb", buffering=0)
    thread.start()
    try:
        yield iter(lambda: reader.read(1 << 20), b"")
    finally:
        reader.close()
        thread.join(timeout=10)
    if failure:
        raise failure[0]


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

        image_id = ""
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
        except docker.errors.APIError as exc:
            msg = f"docker build failed: {exc.explanation or exc}"
            raise OperationFailed(msg, title="Build failed") from None
        if not image_id:
            msg = "docker build finished without an image id."
            raise OperationFailed(msg, title="Build failed")
        attrs = self._client.api.inspect_image(image_id)
        return BuiltImage(
            image_id=image_id, os=attrs.get("Os", "linux"), architecture=attrs.get("Architecture", "")
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

    def tag(self, image: str, repository: str, tag: str) -> None:
        """Tag a local image (id or reference) as ``repository:tag``."""
        self._client.api.tag(image, repository, tag=tag)

    def has_local(self, ref: str) -> bool:
        """True when the engine has the image ``ref`` locally."""
        import docker.errors

        try:
            self._client.api.inspect_image(ref)
        except docker.errors.ImageNotFound:
            return False
        return True

    def push(self, repository: str, tag: str, auth: Mapping[str, str] | None) -> str:
        """Push ``repository:tag``; returns the manifest digest the registry reported."""
        import docker.errors

        digest = ""
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
                if status and "progressDetail" not in chunk and chunk.get("id") is None:
                    self._log(status)
        except docker.errors.APIError as exc:
            msg = f"docker push of {repository}:{tag} failed: {exc.explanation or exc}"
            raise OperationFailed(msg, title="Push failed") from None
        if not _DIGEST.fullmatch(digest):
            msg = f"docker push of {repository}:{tag} did not report a digest."
            raise OperationFailed(msg, title="Push failed")
        return digest

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

    def remote_digest(self, ref: str, auth: Mapping[str, str] | None) -> str | None:
        """The manifest digest the registry holds for ``ref`` (``repo:tag`` or ``repo@digest``), or None."""
        import docker.errors

        try:
            info = self._client.api.inspect_distribution(ref, auth_config=dict(auth) if auth else None)
        except docker.errors.APIError as exc:
            text = str(exc.explanation or exc).lower()
            if exc.status_code in (404, 401, 403) or "manifest unknown" in text or "not found" in text:
                return None
            msg = f"Could not ask the registry about {ref}: {exc.explanation or exc}"
            raise OperationFailed(msg, title="Registry error") from None
        digest = str(info.get("Descriptor", {}).get("digest", ""))
        return digest if _DIGEST.fullmatch(digest) else None

    def pull(self, repository: str, ref: str, auth: Mapping[str, str] | None) -> None:
        """Pull ``repository`` at tag or digest ``ref``."""
        import docker.errors

        try:
            self._client.api.pull(repository, tag=ref, auth_config=dict(auth) if auth else None)
        except docker.errors.APIError as exc:
            msg = f"docker pull {repository}@{ref} failed: {exc.explanation or exc}"
            raise OperationFailed(msg, title="Pull failed") from None


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
