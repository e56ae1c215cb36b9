"""What a publish plans and what it did: the frozen plan, the status, and the outcome (the output)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from abca_deploy.runtime.image import ImagePlan
    from abca_deploy.runtime.smoke import SmokeResult
    from abca_deploy.runtime.tested import Tested


class PublishStatus(StrEnum):
    """The ``status`` output of a publish."""

    DEPLOYED = "deployed"  # the new version passed its smoke test and DEFAULT (or the endpoint) serves it
    UNCHANGED = "unchanged"  # the runtime already ran that image, tested
    PLANNED = "planned"  # --dry-run
    ROLLED_BACK = "rolled-back"  # the new version failed; the runtime is back on the last tested version
    FAILED = "failed"  # failed, and not rolled back (see the error and what was left behind)
    CANCELLED = "cancelled"  # SIGINT/SIGTERM (a cancelled job); see what was left behind
    SUPERSEDED = "superseded"  # another writer replaced our version; left as it is

    @property
    def succeeded(self) -> bool:
        """True for the statuses that exit 0."""
        return self in (PublishStatus.DEPLOYED, PublishStatus.UNCHANGED, PublishStatus.PLANNED)


@dataclass(frozen=True)
class PublishPlan:
    """Everything decided before anything changes; ``--dry-run`` prints it."""

    runtime_id: str
    current_version: str
    current_image: str
    serving_version: str
    serving_tested: bool
    image: ImagePlan
    update_request: Mapping[str, Any]
    rollback_target: Tested | None
    rollback: bool
    promote_endpoint: str | None
    image_parameter: str | None

    def rollback_text(self) -> str:
        """What a failure would do."""
        if not self.rollback:
            return "none (--no-rollback)"
        if self.promote_endpoint:
            return f"endpoint {self.promote_endpoint} stays where it is"
        if self.rollback_target is None:
            return "none possible: no tested version to go back to"
        return f"UpdateAgentRuntime with the configuration of tested {self.rollback_target.describe()}"

    def document(self) -> dict[str, Any]:
        """The plan as JSON (the update request with environment values redacted)."""
        image = self.image
        return {
            "runtime_id": self.runtime_id,
            "current_version": self.current_version,
            "current_image": self.current_image,
            "serving_version": self.serving_version,
            "serving_tested": self.serving_tested,
            "image": {
                "repository": image.repository,
                "push_repository": image.push_repository,
                "existing_ref": image.existing_ref,
                "content_tag": image.content_tag,
                "extra_tags": list(image.extra_tags),
                "platform": image.platform or None,
                "context": str(image.context) if image.context else None,
                "dockerfile": image.dockerfile or None,
                "build_args": sorted(image.build_args),
                "builder": image.builder,
                "cache_from": image.live_image,
                "cache_repository": image.cache_repository,
                "size_limit_bytes": image.size_limit,
            },
            "update_request": dict(self.update_request),
            "rollback": self.rollback_text(),
            "rollback_target": self.rollback_target.version if self.rollback_target else None,
            "promote_endpoint": self.promote_endpoint,
            "image_parameter": self.image_parameter,
        }


@dataclass
class Outcome:
    """What a publish did, filled in as it goes; becomes the outputs, the JSON document and the summary."""

    status: PublishStatus = PublishStatus.FAILED
    runtime_id: str = ""
    runtime_arn: str = ""
    previous_version: str = ""
    runtime_version: str = ""
    previous_image: str = ""
    image_uri: str = ""
    image_digest: str = ""
    built: bool = False
    build: str = ""  # what the image step did: builder, cache used, layers reused and pushed, sizes
    smoke: SmokeResult | None = None
    rolled_back_to: str = ""
    config_diff: list[tuple[str, str, str]] = field(default_factory=list)
    plan: PublishPlan | None = None
    error: str = ""
    left_behind: list[str] = field(default_factory=list)
    agentcore_calls: int = 0
    started: float = field(default_factory=time.monotonic)
