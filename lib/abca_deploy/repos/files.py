"""Files the user names (Cedar policy files, repos.yaml): regular files only, size-capped, read with a bound.

A FIFO would block ``open`` until a writer appears and ``/dev/zero`` never ends, so the file is opened
non-blocking, checked with ``fstat`` before a byte is read, and read at most ``limit + 1`` bytes.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from abca_deploy.credentials import looks_like_credential

if TYPE_CHECKING:
    from pathlib import Path

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def shown_path(path: str | Path) -> str:
    """The path as an error may print it (a value that looks like a credential is never echoed)."""
    text = str(path)
    if looks_like_credential(text):
        return "(a value that looks like a credential, not shown)"
    return text if text.isprintable() else repr(text)  # a newline must not split a one-line error


def read_text(path: str | Path, limit: int) -> str:
    """The UTF-8 text of regular file ``path`` of at most ``limit`` bytes; ``ValueError`` says why not."""
    where = shown_path(path)
    try:
        fd = os.open(path, _FLAGS)
    except (OSError, ValueError) as exc:  # ValueError: an embedded NUL
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a valid path"
        msg = f"cannot read {where} ({reason})"
        raise ValueError(msg) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            msg = f"cannot read {where} (not a regular file)"
            raise ValueError(msg)
        if info.st_size > limit:
            msg = f"cannot read {where} (larger than {limit} bytes)"
            raise ValueError(msg)
        data = _read_at_most(fd, limit + 1)
    except OSError as exc:
        msg = f"cannot read {where} ({exc.strerror or 'read failed'})"
        raise ValueError(msg) from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew since fstat, or the size was not reported (procfs)
        msg = f"cannot read {where} (larger than {limit} bytes)"
        raise ValueError(msg)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        msg = f"cannot read {where} (not UTF-8 text)"
        raise ValueError(msg) from None


def _read_at_most(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
