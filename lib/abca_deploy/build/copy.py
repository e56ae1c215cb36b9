"""Copy an image from one repository to another at the registry level, its digest preserved.

``docker pull`` then ``push`` rewrites the manifest (and may recompress layers), so the copy can get another
digest. Here the manifest's exact bytes move instead: every blob the target lacks is mounted from the source
repository when both live on one registry (the OCI cross-repository mount; ECR mounts when the registry's blob
mounting is on, and otherwise answers with an upload), or streamed from the source into an upload; then the
manifest's bytes are PUT, an index's child manifests first (by digest), the top one under the tag. The target
registry computes the digest of what it stored, and it must be the source's.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from abca_deploy.build.registry import INDEX_TYPES
from abca_deploy.errors import OperationFailed

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.build.registry import Manifest, Registry

Moved = Literal["present", "mounted", "uploaded"]
PARALLEL_BLOBS = 4  # like Docker's concurrent uploads: enough to fill a link, few for ECR's rate limits


@dataclass(frozen=True)
class CopyReport:
    """What a copy moved: manifests put, and blobs already there, mounted, or uploaded (with their bytes)."""

    manifests: int
    present: int
    mounted: int
    uploaded: int
    uploaded_bytes: int

    def summary(self) -> str:
        """One line: ``2 manifests; blobs: 3 uploaded (41.0 MB), 1 mounted, 2 already there``."""
        size = f" ({self.uploaded_bytes / 1e6:.1f} MB)" if self.uploaded else ""
        return (f"{self.manifests} manifest{'s' * (self.manifests != 1)}; blobs: {self.uploaded} uploaded"
                f"{size}, {self.mounted} mounted, {self.present} already there")


@dataclass(frozen=True)
class Endpoint:
    """One side of a copy: a registry and a repository in it."""

    registry: Registry
    repository: str


def copy_image(source: Endpoint, digest: str, target: Endpoint, tag: str,
               log: Callable[[str], None] = lambda _line: None) -> CopyReport:
    """Copy the image ``digest`` from ``source`` to ``target`` and tag it ``tag`` there; raises
    OperationFailed when the target would store it under another digest."""
    moved: list[tuple[Moved, int]] = []
    manifests = _copy_children(source, digest, target, moved, log)
    top = _verified(source, digest)
    stored = target.registry.put_manifest(target.repository, tag, top)
    if stored != digest:
        msg = (f"{target.registry.host}/{target.repository} stored the manifest of {digest} under another "
               f"digest ({stored}).")
        hint = "The registry rewrote the manifest; copy with a tool that keeps its bytes."
        raise OperationFailed(msg, hint=hint, title="Digest not preserved")
    count = {kind: sum(1 for done, _ in moved if done == kind) for kind in ("present", "mounted", "uploaded")}
    uploaded_bytes = sum(size for done, size in moved if done == "uploaded")
    return CopyReport(manifests + 1, count["present"], count["mounted"], count["uploaded"], uploaded_bytes)


def _copy_children(source: Endpoint, digest: str, target: Endpoint, moved: list[tuple[Moved, int]],
                   log: Callable[[str], None]) -> int:
    """Copy the blobs of manifest ``digest`` (for an index: its manifests, each put by digest); returns
    the number of child manifests put."""
    manifest = _verified(source, digest)
    if manifest.media_type in INDEX_TYPES:
        children = 0
        for child in manifest.body.get("manifests", []):
            child_digest = str(child["digest"])
            if target.registry.digest(target.repository, child_digest) == child_digest:
                continue  # a manifest the registry has, it has whole (ECR refuses the same one twice)
            children += _copy_children(source, child_digest, target, moved, log)
            target.registry.put_manifest(target.repository, child_digest, _verified(source, child_digest))
            children += 1
        return children
    blobs = [manifest.body["config"], *manifest.body.get("layers", [])]
    with ThreadPoolExecutor(max_workers=PARALLEL_BLOBS, thread_name_prefix="blob-copy") as pool:
        moved += pool.map(lambda blob: _copy_blob(source, blob, target, log), blobs)
    return 0


def _copy_blob(source: Endpoint, descriptor: dict[str, Any], target: Endpoint,
               log: Callable[[str], None]) -> tuple[Moved, int]:
    digest, size = str(descriptor["digest"]), int(descriptor.get("size", 0))
    if target.registry.has_blob(target.repository, digest):
        return "present", size
    same_registry = source.registry.host == target.registry.host
    mount = (digest, source.repository) if same_registry else None
    try:
        location = target.registry.start_upload(target.repository, mount=mount)
    except OperationFailed:
        if mount is None:
            raise
        # A registry that refuses the mount parameters (rather than ignoring them) still takes an upload.
        location = target.registry.start_upload(target.repository)
    if location is None:
        log(f"mounted {digest} ({size / 1e6:.1f} MB) from {source.repository}")
        return "mounted", size
    with source.registry.open_blob(source.repository, digest) as stream:
        target.registry.upload_blob(location, digest, size, stream)
    log(f"uploaded {digest} ({size / 1e6:.1f} MB)")
    return "uploaded", size


def _verified(source: Endpoint, digest: str) -> Manifest:
    """The manifest ``digest`` as the source serves it, after checking its bytes hash to that digest."""
    manifest = source.registry.manifest(source.repository, digest)
    actual = "sha256:" + hashlib.sha256(manifest.raw).hexdigest()
    if actual != digest:
        msg = (f"{source.registry.host}/{source.repository} served manifest {digest} with bytes that hash to "
               f"{actual}.")
        raise OperationFailed(msg, title="Manifest digest mismatch")
    return manifest
