"""AgentCore's image limits, checked on the pushed image before any UpdateAgentRuntime (pure decisions).

The limit: "Maximum size for a Docker image in an AgentCore Runtime: 2 GB, not adjustable" (the current
AgentCore quotas page; its preview revision said 1 GB; ABCA's docs say 2 GB and its agent/run.sh compares
against 2048 MB). We read GB as 10^9 bytes, the stricter reading, and hold both the compressed and the
unpacked size to it, since the page does not say which one AgentCore measures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from abca_deploy.errors import OperationFailed

if TYPE_CHECKING:
    from abca_deploy.build.facts import ImageFacts

AGENTCORE_IMAGE_LIMIT = 2_000_000_000
WARN_RATIO = 0.9


def human(size: int) -> str:
    """Bytes as MB with one decimal (10^6 bytes, the unit the limit is stated in)."""
    return f"{size / 1e6:,.1f} MB"


@dataclass(frozen=True)
class Verdict:
    """What the check found: warnings to annotate (the failure, if any, is raised instead)."""

    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def sizes_text(facts: ImageFacts) -> str:
    """``compressed X, unpacked Y`` (``unknown`` when a layer's unpacked size could not be read)."""
    unpacked = facts.uncompressed_size
    return f"compressed {human(facts.compressed_size)}, unpacked " + (
        human(unpacked) if unpacked is not None else "unknown")


def check_image(facts: ImageFacts, *, limit: int, platform: str, sandbox: bool) -> Verdict:
    """Raise OperationFailed for an image AgentCore would refuse; return the warnings for one near a limit."""
    _check_format(facts)
    _check_platform(facts, platform, sandbox=sandbox)
    figures = [facts.compressed_size]
    if facts.uncompressed_size is not None:
        figures.append(facts.uncompressed_size)
    where = f"The image {facts.digest[:19]}… ({sizes_text(facts)})"
    if max(figures) > limit:
        msg = f"{where} is over AgentCore's image limit of {human(limit)}; the runtime was not updated."
        raise OperationFailed(
            msg,
            hint="Make the image smaller (multi-stage builds, fewer dependencies, a slimmer base image).",
            title="Image over AgentCore's limit",
        )
    warnings, notes = [], []
    if max(figures) >= WARN_RATIO * limit:
        share = 100 * max(figures) / limit
        warnings.append(f"{where} is at {share:.0f}% of AgentCore's image limit of {human(limit)}.")
    if facts.uncompressed_size is None:
        notes.append("unpacked size unknown (a layer is neither gzip nor tar): compressed size checked")
    return Verdict(warnings=tuple(warnings), notes=tuple(notes))


def _check_format(facts: ImageFacts) -> None:
    if facts.is_index:
        msg = (
            f"The image {facts.digest} is an image index ({facts.media_type}), not a single-platform image; "
            "the runtime was not updated."
        )
        raise OperationFailed(
            msg,
            hint="Build one platform without attestations (buildx: --provenance=false --sbom=false).",
            title="Image is an index",
        )


def _check_platform(facts: ImageFacts, platform: str, *, sandbox: bool) -> None:
    wanted = platform.split("/")
    got = [facts.os, facts.architecture]
    if wanted[:2] == got and (len(wanted) < 3 or wanted[2] == facts.variant):
        return
    msg = (f"The image {facts.digest[:19]}… is {facts.platform or 'of no platform'}, but {platform} was "
           "requested; the runtime was not updated.")
    hint = (
        "The sandbox runs host-architecture images: pass the host's --platform (`sandbox env` sets it)."
        if sandbox
        else "AgentCore runs linux/arm64: build on an arm64 runner, or with QEMU (docker/setup-qemu-action)."
    )
    raise OperationFailed(msg, hint=hint, title="Wrong image platform")
