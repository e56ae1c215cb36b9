"""Images: ECR URIs rewritten to the sandbox registry, pulled like AgentCore pulls from ECR, arch checks."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from abca_deploy.sandbox.emulator.runner import StartFailed

log = logging.getLogger("abca_deploy.sandbox.emulator")

# The RuntimeContainerUri pattern of the botocore model, with named groups.
_URI = re.compile(
    r"(?P<host>[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?|public\.ecr\.aws)/"
    r"(?P<repo>(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)"
    r"(?::(?P<tag>[^:@]{1,300}))?(?:@(?P<digest>.+))?"
)
_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64", "amd64": "amd64"}
AWS_ARCH = "arm64"


def local_ref(uri: str, registry: str) -> tuple[str, str]:
    """(repository, tag or digest) in the sandbox registry for an ECR / public.ecr.aws image URI."""
    found = _URI.fullmatch(uri)
    if found is None:
        msg = f"{uri} is not an ECR or public.ecr.aws image URI."
        raise StartFailed(msg)
    return f"{registry}/{found['repo']}", found["digest"] or found["tag"] or "latest"


def reference(repository: str, tag: str) -> str:
    """``repo@sha256:...`` or ``repo:tag``."""
    return f"{repository}@{tag}" if tag.startswith("sha256:") else f"{repository}:{tag}"


class Images:
    """Pulls images from the sandbox registry and warns (once per image) about non-arm64 images."""

    def __init__(self, docker: Any, registry: str) -> None:
        self._docker, self._registry = docker, registry
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        self._host: str | None = None

    @property
    def host_arch(self) -> str:
        """The Docker Engine's architecture, as an image platform name (amd64, arm64)."""
        if self._host is None:
            machine = str(self._docker.info().get("Architecture", ""))
            self._host = _ARCH.get(machine, machine)
        return self._host

    def pull(self, uri: str) -> tuple[str, Any]:
        """Pull the image of ``uri`` from the registry: (local reference, image); StartFailed if missing."""
        import docker.errors

        repository, tag = local_ref(uri, self._registry)
        ref = reference(repository, tag)
        try:
            for event in self._docker.api.pull(repository, tag=tag, stream=True, decode=True):
                if "error" in event:
                    raise StartFailed(_missing(uri, ref, str(event["error"])))
            image = self._docker.images.get(ref)
        except docker.errors.APIError as exc:
            raise StartFailed(_missing(uri, ref, str(exc.explanation or exc))) from None
        self._warn_arch(uri, image)
        return ref, image

    def arch_note(self, image: Any) -> str:
        """Why a container may have failed when the image is for another architecture ("" if not)."""
        arch = image.attrs.get("Architecture", "")
        if not arch or arch == self.host_arch:
            return ""
        return (f" The image is linux/{arch} and this machine is linux/{self.host_arch}, which cannot run "
                "it. AWS needs linux/arm64, but the sandbox runs images of the host architecture: build "
                f"one for linux/{self.host_arch} to test locally.")

    def _warn_arch(self, uri: str, image: Any) -> None:
        arch = image.attrs.get("Architecture", "")
        with self._lock:
            if arch == AWS_ARCH or image.id in self._warned:
                return
            self._warned.add(image.id)
        log.warning("%s is a linux/%s image: AWS AgentCore runs linux/arm64 images only, so AWS would "
                    "reject it; the emulator accepts it because this machine runs linux/%s.",
                    uri, arch, self.host_arch)


def _missing(uri: str, ref: str, detail: str) -> str:
    return f"Image {uri} could not be pulled (from {ref} in the sandbox registry): {detail.strip()}"
