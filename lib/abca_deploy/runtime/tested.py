"""The last-tested record: which version and image of a runtime passed a smoke test, kept in AWS.

One String parameter per runtime, ``/abca-deploy/runtime/<runtime-id>/last-tested``, overwritten by every
publish whose smoke test passes; Parameter Store keeps its last 100 versions, which are the history that
rollback reads (newest first). A version is *tested* when its image (by digest) is in that history. The first
publish on a runtime that has no record yet (a stack deployed by CDK) records the version it found serving and
READY as a ``baseline``: the best rollback target there is, and marked as not smoke-tested by abca-deploy.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from abca_deploy.identifiers import digest_of, same_image

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from abca_deploy.aws.ssm import Parameters

PREFIX = "/abca-deploy/runtime"
Source = Literal["smoke-test", "baseline"]


def record_name(runtime_id: str) -> str:
    """The parameter holding the runtime's last-tested record."""
    return f"{PREFIX}/{runtime_id}/last-tested"


def lease_path(runtime_id: str) -> str:
    """Where the runtime's publish lease generations live."""
    return f"{PREFIX}/{runtime_id}/lease"


@dataclass(frozen=True)
class Tested:
    """One record: the version, its digest-pinned image, when, by whom, and how it was established."""

    __test__ = False  # not a pytest test class, whatever its name

    version: str
    image: str
    at: str
    by: str
    source: Source = "smoke-test"
    smoke: str = ""

    @property
    def digest(self) -> str:
        """The image digest (empty when the image is not pinned by digest)."""
        return digest_of(self.image) or ""

    def to_json(self) -> str:
        """The stored form (one small JSON document; well under the 4 KB of a standard parameter)."""
        return json.dumps({**asdict(self), "digest": self.digest}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Tested | None:
        """A record, or None when ``text`` is not one."""
        try:
            data = json.loads(text)
            source = data.get("source", "smoke-test")
            return cls(str(data["version"]), str(data["image"]), str(data.get("at", "")),
                       str(data.get("by", "")), "baseline" if source == "baseline" else "smoke-test",
                       str(data.get("smoke", "")))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def describe(self) -> str:
        """``version 3 (sha256:…, smoke-tested 2026-…Z by …)``."""
        how = "smoke-tested" if self.source == "smoke-test" else "baseline, serving before the first publish"
        return f"version {self.version} ({self.digest or self.image}, {how} {self.at} by {self.by})"


def now() -> str:
    """The current UTC time as ISO 8601 with a Z."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def tested_record(image: str | None, history: Sequence[Tested]) -> Tested | None:
    """The newest record whose image is ``image`` (by digest): the proof that it was tested, or None."""
    return next((record for record in history if same_image(record.image, image)), None)


def rollback_choice(history: Sequence[Tested], versions: Collection[str], replacing: str | None
                    ) -> Tested | None:
    """The newest tested version that still exists and does not run ``replacing`` (the image rolled back)."""
    for record in history:
        if record.version in versions and not same_image(record.image, replacing):
            return record
    return None


class TestedStore:
    """Reads and writes the records of one account and region (an ``ssm`` Parameters adapter)."""

    __test__ = False

    def __init__(self, parameters: Parameters) -> None:
        self.parameters = parameters

    def history(self, runtime_id: str) -> list[Tested]:
        """Every record still kept, newest first (unreadable versions skipped)."""
        versions = self.parameters.history(record_name(runtime_id))
        return [record for v in versions if (record := Tested.from_json(v.value))]

    def record(self, runtime_id: str, tested: Tested) -> None:
        """Store ``tested`` as the newest record."""
        self.parameters.put(record_name(runtime_id), tested.to_json())
