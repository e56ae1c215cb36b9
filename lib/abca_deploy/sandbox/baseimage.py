"""An offline Python base image for the sandbox, made with debootstrap when no base image can be pulled."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from abca_deploy.errors import OperationFailed

log = logging.getLogger(__name__)

OFFLINE_BASE = "abca-sandbox/python-base:bookworm"
DEFAULT_BASE = "python:3.13-slim"


def has_image(engine: Any, ref: str) -> bool:
    """True when the local Docker Engine has ``ref``."""
    import docker.errors

    try:
        engine.images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


def choose_base(engine: Any) -> str:
    """The example agent's base image: the default when present or pullable, else the offline one."""
    import docker.errors

    if has_image(engine, DEFAULT_BASE):
        return DEFAULT_BASE
    try:
        engine.images.pull(DEFAULT_BASE)
    except docker.errors.APIError:
        ensure_offline_base(engine)
        return OFFLINE_BASE
    return DEFAULT_BASE


def ensure_offline_base(engine: Any) -> str:
    """Make ``abca-sandbox/python-base:bookworm`` (Debian bookworm minbase + python3) unless it exists."""
    if has_image(engine, OFFLINE_BASE):
        return OFFLINE_BASE
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not Path(debootstrap).exists():
        msg = "No Python base image is available and debootstrap is missing."
        raise OperationFailed(msg, hint="Install it with `apt-get install -y debootstrap` (needs root), "
                                        f"or make {DEFAULT_BASE} available to the Docker Engine.",
                              title="No base image")
    with tempfile.TemporaryDirectory(prefix="abca-base-") as tmp:
        root = Path(tmp) / "root"
        log.debug("debootstrap into %s", root)
        done = subprocess.run(
            [debootstrap, "--variant=minbase", "--include=python3", "bookworm", str(root)],
            capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            msg = f"debootstrap failed: {' / '.join(tail)}"
            raise OperationFailed(msg, hint="It needs root and access to the Debian package mirror.",
                                  title="No base image")
        repository, _, tag = OFFLINE_BASE.partition(":")
        # `with` closes the pipe and reaps tar: an unclosed pipe is reported later, at garbage collection,
        # as a ResourceWarning that pytest (filterwarnings=error) pins on whichever test happens to run then.
        with subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE) as tar:
            assert tar.stdout is not None
            engine.api.import_image_from_stream(tar.stdout, repository=repository, tag=tag)
        if tar.returncode != 0:
            msg = f"tar of the debootstrap root failed (exit {tar.returncode})."
            raise OperationFailed(msg, title="No base image")
    return OFFLINE_BASE
