"""What a pushed image really is, read from the registry: manifest media type, platform, layer sizes.

Compressed sizes are in the manifest. Uncompressed sizes come from each gzip layer's trailer (ISIZE, the
last 4 bytes: the unpacked length modulo 2^32), one ranged request per layer, so nothing is pulled. That is
exact below 4 GiB unpacked per layer; a layer whose compressed size proves it wrapped gets the lost 4 GiB
back. The one case a trailer cannot show is a layer of 4 GiB or more that also compresses very well (a
sparse file, say): it reads low by a multiple of 4 GiB.
"""

from __future__ import annotations

import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from abca_deploy.build.registry import INDEX_TYPES

if TYPE_CHECKING:
    from abca_deploy.build.registry import Manifest, Registry

_GZIP_TYPES = (
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.oci.image.layer.v1.tar+gzip",
)
_TAR_TYPES = ("application/vnd.oci.image.layer.v1.tar", "application/vnd.docker.image.rootfs.diff.tar")
_WRAP = 1 << 32


@dataclass(frozen=True)
class Layer:
    """One layer: digest, media type, compressed size and (when known) uncompressed size."""

    digest: str
    media_type: str
    size: int
    uncompressed: int | None


@dataclass(frozen=True)
class ImageFacts:
    """A pushed image as AgentCore will pull it."""

    digest: str
    media_type: str
    os: str
    architecture: str
    variant: str
    layers: tuple[Layer, ...]
    config_size: int

    @property
    def platform(self) -> str:
        """``os/architecture[/variant]`` from the image config."""
        return "/".join(filter(None, (self.os, self.architecture, self.variant)))

    @property
    def is_index(self) -> bool:
        """True for an image index / manifest list (several platforms, or attestations)."""
        return self.media_type in INDEX_TYPES

    @property
    def compressed_size(self) -> int:
        """Bytes AgentCore downloads: the layers as stored plus the config."""
        return sum(layer.size for layer in self.layers) + self.config_size

    @property
    def uncompressed_size(self) -> int | None:
        """Bytes of the unpacked layers, or None when a layer's size cannot be read without pulling it."""
        sizes = [layer.uncompressed for layer in self.layers]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)


def read_image(registry: Registry, repository: str, digest: str) -> ImageFacts:
    """The facts of ``repository@digest``: one manifest, one config and one ranged read per layer."""
    manifest = registry.manifest(repository, digest)
    if manifest.media_type in INDEX_TYPES:
        return _index_facts(manifest)
    config_ref = manifest.body.get("config", {})
    config = registry.blob_json(repository, str(config_ref.get("digest")))
    descriptors = list(manifest.body.get("layers", []))
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="layer-size") as pool:
        layers = tuple(pool.map(lambda d: _layer(registry, repository, d), descriptors))
    return ImageFacts(
        digest=manifest.digest,
        media_type=manifest.media_type,
        os=str(config.get("os", "")),
        architecture=str(config.get("architecture", "")),
        variant=str(config.get("variant", "")),
        layers=layers,
        config_size=int(config_ref.get("size", 0)),
    )


def unwrap(isize: int, compressed: int) -> int:
    """The unpacked size from a gzip ISIZE, adding 4 GiB while it is below what ``compressed`` proves.

    gzip grows incompressible data by well under 1%, so the unpacked size is at least 99% of the compressed.
    """
    floor = compressed - compressed // 100
    while isize < floor:
        isize += _WRAP
    return isize


def _index_facts(manifest: Manifest) -> ImageFacts:
    platforms = [m.get("platform", {}) for m in manifest.body.get("manifests", [])]
    real = [p for p in platforms if p.get("os") not in (None, "unknown")]
    first = real[0] if len(real) == 1 else {}
    return ImageFacts(
        digest=manifest.digest, media_type=manifest.media_type, os=str(first.get("os", "")),
        architecture=str(first.get("architecture", "")), variant=str(first.get("variant", "")),
        layers=(), config_size=0,
    )


def _layer(registry: Registry, repository: str, descriptor: dict[str, Any]) -> Layer:
    digest, media_type = str(descriptor["digest"]), str(descriptor.get("mediaType", ""))
    size = int(descriptor.get("size", 0))
    uncompressed: int | None = None
    if media_type in _TAR_TYPES:
        uncompressed = size
    elif media_type in _GZIP_TYPES and size >= 18:  # the smallest gzip member
        (isize,) = struct.unpack("<I", registry.blob_tail(repository, digest, 4))
        uncompressed = unwrap(isize, size)
    return Layer(digest=digest, media_type=media_type, size=size, uncompressed=uncompressed)
