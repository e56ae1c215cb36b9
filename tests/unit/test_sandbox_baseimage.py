"""The offline base image: the tar stream is consumed and every pipe closed (no ResourceWarning later)."""

from __future__ import annotations

import gc
import io
import stat
import tarfile
from typing import TYPE_CHECKING, Any

import docker.errors

from abca_deploy.sandbox import baseimage

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

FAKE_DEBOOTSTRAP = '#!/bin/sh\nroot="$4"\nmkdir -p "$root/usr/bin"\necho python > "$root/usr/bin/python3"\n'


class FakeImages:
    def get(self, ref: str) -> None:
        raise docker.errors.ImageNotFound(ref)


class FakeApi:
    def __init__(self) -> None:
        self.imported: list[tuple[str, str, list[str]]] = []

    def import_image_from_stream(self, stream: Any, repository: str, tag: str) -> None:
        with tarfile.open(fileobj=io.BytesIO(stream.read()), mode="r") as archive:
            self.imported.append((repository, tag, sorted(archive.getnames())))


class FakeEngine:
    def __init__(self) -> None:
        self.images, self.api = FakeImages(), FakeApi()


def test_the_root_filesystem_is_imported_and_the_tar_pipe_closed(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    debootstrap = tmp_path / "debootstrap"
    debootstrap.write_text(FAKE_DEBOOTSTRAP)
    debootstrap.chmod(debootstrap.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(baseimage.shutil, "which", lambda name: str(debootstrap))
    engine = FakeEngine()
    assert baseimage.ensure_offline_base(engine) == baseimage.OFFLINE_BASE
    repository, tag, names = engine.api.imported[0]
    assert (repository, tag) == ("abca-sandbox/python-base", "bookworm")
    assert "./usr/bin/python3" in names
    gc.collect()  # an unclosed pipe would be reported here (filterwarnings=error makes it fail the test)
