"""Copying an image between repositories of a real distribution registry: digest preserved, blobs mounted
when the registry is the same, streamed into an upload otherwise, nothing moved twice, indexes whole."""

from __future__ import annotations

import hashlib
import io
import json
import os
import urllib.request
from typing import TYPE_CHECKING

import pytest

from abca_deploy.build.copy import CopyReport, Endpoint, copy_image
from abca_deploy.build.registry import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, Manifest, Registry
from abca_deploy.errors import OperationFailed

if TYPE_CHECKING:
    from abca_deploy.sandbox.registry import Registry as RunningRegistry

pytestmark = pytest.mark.docker
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _blob(client: Registry, repository: str, data: bytes) -> dict[str, object]:
    location = client.start_upload(repository)
    assert location is not None
    client.upload_blob(location, _sha(data), len(data), io.BytesIO(data))
    return {"mediaType": LAYER_TYPE, "size": len(data), "digest": _sha(data)}


def _image(client: Registry, repository: str, tag: str, layers: list[bytes], arch: str = "arm64") -> str:
    """Push a small image (a config and ``layers``); its manifest is serialized with odd spacing, so only a
    byte-exact copy keeps its digest."""
    config = json.dumps({"os": "linux", "architecture": arch, "rootfs": {"type": "layers"}}).encode()
    body = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
            "config": {**_blob(client, repository, config), "mediaType": CONFIG_TYPE},
            "layers": [_blob(client, repository, layer) for layer in layers]}
    raw = json.dumps(body, indent=3).encode()
    return client.put_manifest(repository, tag, Manifest(DOCKER_MANIFEST, _sha(raw), body, raw))


def _read(client: Registry, repository: str, digest: str) -> bytes:
    with client.open_blob(repository, digest) as stream:
        return stream.read()


@pytest.fixture
def names() -> tuple[str, str]:
    """A fresh source and target repository for each test (the registry is shared by the session)."""
    run = os.urandom(4).hex()
    return f"copy-{run}/source", f"copy-{run}/target"


@pytest.fixture
def client(registry: RunningRegistry) -> Registry:
    return Registry(registry.host)


def test_a_copy_within_one_registry_mounts_every_blob_and_keeps_the_digest(
    client: Registry, names: tuple[str, str],
) -> None:
    source, target = names
    layers = [os.urandom(300_000), os.urandom(5_000)]
    digest = _image(client, source, "live", layers)

    report = copy_image(Endpoint(client, source), digest, Endpoint(client, target), "keep-adopted-x")

    assert report == CopyReport(manifests=1, present=0, mounted=3, uploaded=0, uploaded_bytes=0)
    assert client.digest(target, "keep-adopted-x") == digest
    assert client.manifest(target, digest).raw == client.manifest(source, digest).raw
    assert [_read(client, target, _sha(layer)) for layer in layers] == layers


def test_a_copy_between_registries_streams_each_blob_into_an_upload(
    registry: RunningRegistry, client: Registry, names: tuple[str, str],
) -> None:
    source, target = names
    layers = [os.urandom(2_000_000), os.urandom(10)]
    digest = _image(client, source, "live", layers)
    # The same registry under another name: the adapter cannot know it is the same, so it cannot mount.
    elsewhere = Registry(registry.host.replace("127.0.0.1", "localhost"))
    lines: list[str] = []

    report = copy_image(Endpoint(client, source), digest, Endpoint(elsewhere, target), "copied", lines.append)

    config_size = client.manifest(source, digest).body["config"]["size"]
    assert report == CopyReport(manifests=1, present=0, mounted=0, uploaded=3,
                                uploaded_bytes=2_000_010 + config_size)
    assert elsewhere.digest(target, "copied") == digest
    assert [_read(elsewhere, target, _sha(layer)) for layer in layers] == layers
    assert sum(line.startswith("uploaded sha256:") for line in lines) == 3


def test_a_second_copy_moves_nothing_and_a_partial_target_gets_only_what_it_lacks(
    client: Registry, names: tuple[str, str],
) -> None:
    source, target = names
    shared, own = os.urandom(1000), os.urandom(2000)
    _image(client, target, "older", [shared], arch="amd64")  # another config: only the layer is shared
    digest = _image(client, source, "live", [shared, own])

    first = copy_image(Endpoint(client, source), digest, Endpoint(client, target), "keep-1")
    again = copy_image(Endpoint(client, source), digest, Endpoint(client, target), "keep-1")

    assert (first.present, first.mounted, first.uploaded) == (1, 2, 0)  # the shared layer was there already
    assert again == CopyReport(manifests=1, present=3, mounted=0, uploaded=0, uploaded_bytes=0)


def test_an_index_is_copied_whole_children_first(
    registry: RunningRegistry, client: Registry, names: tuple[str, str],
) -> None:
    source, target = names
    arm = _image(client, source, "arm", [os.urandom(100)])
    amd = _image(client, source, "amd", [os.urandom(100)], arch="amd64")
    children = [client.manifest(source, arm), client.manifest(source, amd)]
    body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": DOCKER_MANIFEST, "size": len(child.raw), "digest": child.digest,
         "platform": {"os": "linux", "architecture": arch}}
        for child, arch in zip(children, ("arm64", "amd64"), strict=True)]}
    raw = json.dumps(body).encode()
    index = client.put_manifest(source, "multi", Manifest(OCI_INDEX, _sha(raw), body, raw))
    elsewhere = Registry(registry.host.replace("127.0.0.1", "localhost"))

    report = copy_image(Endpoint(client, source), index, Endpoint(elsewhere, target), "multi")

    assert (report.manifests, report.uploaded) == (3, 4)
    assert elsewhere.digest(target, "multi") == index
    assert elsewhere.digest(target, arm) == arm
    assert elsewhere.digest(target, amd) == amd
    again = copy_image(Endpoint(client, source), index, Endpoint(elsewhere, target), "multi-again")
    assert again == CopyReport(manifests=1, present=0, mounted=0, uploaded=0, uploaded_bytes=0)


def test_a_mount_the_registry_cannot_do_opens_an_upload_instead(
    client: Registry, names: tuple[str, str],
) -> None:
    source, target = names
    data = os.urandom(64)
    location = client.start_upload(target, mount=(_sha(data), source))  # the source has no such blob
    assert location is not None
    client.upload_blob(location, _sha(data), len(data), io.BytesIO(data))
    assert client.has_blob(target, _sha(data))
    assert not client.has_blob(source, _sha(data))


def test_an_upload_whose_bytes_do_not_match_its_digest_is_refused(
    client: Registry, names: tuple[str, str],
) -> None:
    _, target = names
    location = client.start_upload(target)
    assert location is not None
    with pytest.raises(OperationFailed, match=r"DIGEST_INVALID"):
        client.upload_blob(location, _sha(b"promised"), 9, io.BytesIO(b"delivered"))
    assert not client.has_blob(target, _sha(b"delivered"))


def test_a_missing_source_image_fails_naming_it(client: Registry, names: tuple[str, str]) -> None:
    source, target = names
    missing = _sha(b"nothing")
    with pytest.raises(OperationFailed, match=rf"answered 404 to GET /{source}/manifests/{missing}"):
        copy_image(Endpoint(client, source), missing, Endpoint(client, target), "x")


def test_an_oci_manifest_keeps_its_media_type(client: Registry, names: tuple[str, str]) -> None:
    source, target = names
    config = b'{"os":"linux","architecture":"arm64","rootfs":{"type":"layers"}}'
    body = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {**_blob(client, source, config),
                       "mediaType": "application/vnd.oci.image.config.v1+json"},
            "layers": [{**_blob(client, source, os.urandom(50)),
                        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip"}]}
    raw = json.dumps(body).encode()
    digest = client.put_manifest(source, "oci", Manifest(OCI_MANIFEST, _sha(raw), body, raw))

    copy_image(Endpoint(client, source), digest, Endpoint(client, target), "oci")

    request = urllib.request.Request(f"http://{client.host}/v2/{target}/manifests/oci",
                                     headers={"Accept": OCI_MANIFEST}, method="HEAD")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.headers["Content-Type"] == OCI_MANIFEST
        assert answer.headers["Docker-Content-Digest"] == digest
