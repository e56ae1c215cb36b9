"""The registry adapter against a real distribution registry: digests, manifests, sizes, retags, errors."""

from __future__ import annotations

import gzip
import json
from typing import TYPE_CHECKING

import pytest
from tests.integration.conftest import upload_blob

from abca_deploy.build.facts import read_image
from abca_deploy.build.registry import DOCKER_MANIFEST, Registry
from abca_deploy.errors import OperationFailed

if TYPE_CHECKING:
    from abca_deploy.sandbox.registry import Registry as RunningRegistry

pytestmark = pytest.mark.docker


@pytest.fixture
def image(registry: RunningRegistry) -> tuple[Registry, str]:
    """A one-layer linux/arm64 image tagged ``one`` in ``build-test/app``: 3 MB of zeros, gzip'd."""
    from abca_deploy.build.registry import Manifest

    client = Registry(registry.host, "AWS", "ignored-by-this-registry")
    layer = gzip.compress(bytes(3_000_000), mtime=0)
    config = json.dumps({"os": "linux", "architecture": "arm64", "rootfs": {"type": "layers"}}).encode()
    body = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                       "digest": upload_blob(client.host, "build-test/app", config)},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer),
                        "digest": upload_blob(client.host, "build-test/app", layer)}]}
    raw = json.dumps(body).encode()
    digest = client.put_manifest("build-test/app", "one",
                                 Manifest(media_type=DOCKER_MANIFEST, digest="", body=body, raw=raw))
    return client, digest


def test_digest_of_a_tag_and_of_a_missing_tag(image: tuple[Registry, str]) -> None:
    client, digest = image
    assert client.digest("build-test/app", "one") == digest
    assert client.digest("build-test/app", "missing") is None


def test_facts_come_from_the_manifest_config_and_gzip_trailers_without_pulling(
    image: tuple[Registry, str],
) -> None:
    client, digest = image
    facts = read_image(client, "build-test/app", digest)
    assert facts.media_type == DOCKER_MANIFEST
    assert facts.platform == "linux/arm64"
    assert facts.uncompressed_size == 3_000_000
    assert facts.compressed_size < 10_000  # zeros compress well: the two figures differ by 300x


def test_a_retag_copies_the_manifest(image: tuple[Registry, str]) -> None:
    client, digest = image
    assert client.put_manifest("build-test/app", "two", client.manifest("build-test/app", digest)) == digest
    assert client.digest("build-test/app", "two") == digest


def test_an_unknown_manifest_is_an_error_naming_the_registry(image: tuple[Registry, str]) -> None:
    client, _ = image
    expected = r"answered 404 to GET /build-test/app/manifests/nope: MANIFEST_UNKNOWN"
    with pytest.raises(OperationFailed, match=expected):
        client.manifest("build-test/app", "nope")


def test_an_unreachable_registry_is_an_operation_failure() -> None:
    with pytest.raises(OperationFailed, match=r"The registry 127.0.0.1:9 is not reachable"):
        Registry("127.0.0.1:9").digest("a/b", "c")
