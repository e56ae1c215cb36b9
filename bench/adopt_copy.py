"""Time the copy `runtime adopt` makes: an image of N MB (default 600, ABCA's agent image is of that order)
between two repositories of one distribution registry, digest preserved.

Prints the time of a copy that mounts every blob (one registry: what ECR does with blob mounting on), of a
copy that streams every blob through this process (another registry, or ECR without blob mounting), and of a
re-run that finds everything there (what a second `runtime adopt` costs the registry). The registry is the
`docker-registry` binary (Debian package docker-registry) on 127.0.0.1, in a temporary directory.

Run: uv run python bench/adopt_copy.py [MB]
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

from abca_deploy.build.copy import Endpoint, copy_image
from abca_deploy.build.registry import DOCKER_MANIFEST, Manifest, Registry
from abca_deploy.sandbox import process
from abca_deploy.sandbox import registry as sandbox_registry

LAYERS = 6


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _push(client: Registry, repository: str, megabytes: int) -> str:
    """An image of LAYERS random layers (random bytes: nothing compresses, as in a real image's layers)."""
    descriptors = []
    for index in range(LAYERS):
        data = os.urandom(megabytes * 1_000_000 // (LAYERS - 1)) if index else json.dumps(
            {"os": "linux", "architecture": "arm64", "rootfs": {"type": "layers"}}).encode()
        location = client.start_upload(repository)
        assert location is not None
        client.upload_blob(location, _sha(data), len(data), io.BytesIO(data))
        descriptors.append({"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                            "size": len(data), "digest": _sha(data)})
    body = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
            "config": {**descriptors[0], "mediaType": "application/vnd.docker.container.image.v1+json"},
            "layers": descriptors[1:]}
    raw = json.dumps(body).encode()
    return client.put_manifest(repository, "live", Manifest(DOCKER_MANIFEST, _sha(raw), body, raw))


def _timed(label: str, source: Endpoint, digest: str, target: Endpoint) -> None:
    start = time.monotonic()
    report = copy_image(source, digest, target, "keep-adopted-bench")
    print(f"{label:<34} {time.monotonic() - start:6.2f} s   {report.summary()}")


def main() -> None:
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    if sandbox_registry.registry_binary() is None:
        sys.exit("needs the docker-registry binary (apt-get install -y docker-registry)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="abca-bench-") as tmp:
        running = sandbox_registry.start(Path(tmp), port)
        try:
            client = Registry(running.host)
            elsewhere = Registry(running.host.replace("127.0.0.1", "localhost"))  # cannot know it is the same
            digest = _push(client, "bench/live", megabytes)
            print(f"image {digest[:19]}…: {megabytes} MB in {LAYERS - 1} layers and a config")
            _timed("one registry (blobs mounted)", Endpoint(client, "bench/live"), digest,
                   Endpoint(client, "bench/mounted"))
            _timed("across registries (blobs streamed)", Endpoint(client, "bench/live"), digest,
                   Endpoint(elsewhere, "bench/streamed"))
            _timed("again (everything there)", Endpoint(client, "bench/live"), digest,
                   Endpoint(elsewhere, "bench/streamed"))
        finally:
            if running.pid:
                process.stop(running.pid, tmp, timeout=5)


if __name__ == "__main__":
    main()
