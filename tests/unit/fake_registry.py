"""An in-memory OCI registry with the ``Registry`` adapter's interface, and a fake build that pushes to it."""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from abca_deploy.build.plan import BuildReport
from abca_deploy.build.registry import DOCKER_MANIFEST, Manifest

if TYPE_CHECKING:
    from abca_deploy.aws.ecr import RegistryAuth
    from abca_deploy.build.plan import BuildRequest


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class FakeRegistry:
    """Tags and digests of one repository's manifests, and its blobs; records tag writes."""

    manifests: dict[str, Manifest] = field(default_factory=dict)  # tag or digest -> manifest
    blobs: dict[str, bytes] = field(default_factory=dict)
    tagged: list[str] = field(default_factory=list)

    def push_image(self, tag: str, *, unpacked: tuple[int, ...] = (1000,), arch: str = "arm64",
                   media_type: str = DOCKER_MANIFEST) -> str:
        """Store an image whose gzip layers unpack to ``unpacked`` bytes each (zeros: they compress well)."""
        layers = []
        for index, size in enumerate(unpacked):
            blob = gzip.compress(index.to_bytes(4, "big") + bytes(size - 4), mtime=0)
            self.blobs[sha(blob)] = blob
            layers.append({"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                           "size": len(blob), "digest": sha(blob)})
        config = json.dumps({"os": "linux", "architecture": arch, "rootfs": {"type": "layers"}}).encode()
        self.blobs[sha(config)] = config
        body = {"schemaVersion": 2, "mediaType": media_type, "layers": layers,
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                           "size": len(config), "digest": sha(config)}}
        raw = json.dumps(body).encode()
        manifest = Manifest(media_type=media_type, digest=sha(raw), body=body, raw=raw)
        self.manifests[tag] = self.manifests[manifest.digest] = manifest
        return manifest.digest

    def digest(self, repository: str, reference: str) -> str | None:
        found = self.manifests.get(reference)
        return found.digest if found else None

    def manifest(self, repository: str, reference: str) -> Manifest:
        return self.manifests[reference]

    def blob_json(self, repository: str, digest: str) -> dict[str, object]:
        return dict(json.loads(self.blobs[digest]))

    def blob_tail(self, repository: str, digest: str, count: int) -> bytes:
        return self.blobs[digest][-count:]

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        self.tagged.append(tag)
        self.manifests[tag] = manifest
        return manifest.digest


@dataclass
class FakeBuild:
    """A build that pushes an image of the given layer sizes and architecture to a FakeRegistry."""

    registry: FakeRegistry
    unpacked: tuple[int, ...] = (1000,)
    arch: str = "arm64"
    requests: list[BuildRequest] = field(default_factory=list)

    def __call__(self, request: BuildRequest, auth: RegistryAuth) -> BuildReport:
        self.requests.append(request)
        tag = request.image.rsplit(":", 1)[1]
        digest = self.registry.push_image(tag, unpacked=self.unpacked, arch=self.arch)
        return BuildReport(backend="fake", digest=digest, steps=3, cached_steps=2, layers_pushed=1,
                           layers_present=len(self.unpacked) - 1)
