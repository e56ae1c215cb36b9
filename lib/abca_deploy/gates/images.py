"""Comparing container image references, and the drift verdict over the places that record an image."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from abca_deploy.identifiers import digest_of, same_image

if TYPE_CHECKING:
    from abca_deploy.gates.template import TemplateImage

__all__ = ["Source", "Verdict", "digest_of", "judge", "same_image"]


@dataclass(frozen=True)
class Source:
    """One place that records an image; ``in_sync`` None means not compared (the reference, or not fixed)."""

    source: str
    image: str | None
    detail: str
    in_sync: bool | None


@dataclass(frozen=True)
class Verdict:
    """The drift decision: every source, and for each drifted one what it means and how to fix it."""

    sources: list[Source]
    problems: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        """True when no compared source differs from the live image."""
        return not self.problems


def judge(stack: str, live: str, runtime_detail: str, template: TemplateImage,
          parameter: tuple[str, str] | None) -> Verdict:
    """Compare the template's image and the SSM parameter (name, value) with the runtime's live image."""
    verdict = Verdict([Source("runtime", live, runtime_detail, None)])
    fixed = template.image
    if fixed is None:
        verdict.sources.append(Source("template", None, template.note, None))
    elif _compare(verdict, Source("template", fixed, template.note, same_image(fixed, live))):
        verdict.problems.append(
            f"Stack {stack}'s template sets the runtime image to {fixed}, but the runtime runs "
            f"{live}: the next `cdk deploy` that updates the runtime resource would revert the CI-published "
            "image.")
        verdict.fixes.append(
            "Make the stack read its image from an SSM parameter (the CDK snippet in docs/workflows.md) "
            "and publish with --image-parameter.")
    if parameter is not None:
        name, value = parameter
        if _compare(verdict, Source("parameter", value, name, same_image(value, live))):
            verdict.problems.append(
                f"SSM parameter {name} records {value}, but the runtime runs {live}: a stack that reads its "
                f"image from {name} would deploy {value} on the next `cdk deploy`.")
            verdict.fixes.append(
                f"Publish with --image-parameter {name} (it records each published image), or set it: "
                f"aws ssm put-parameter --name {name} --type String --overwrite --value {live}")
    return verdict


def _compare(verdict: Verdict, source: Source) -> bool:
    """Add the source; True when it drifted."""
    verdict.sources.append(source)
    return source.in_sync is False
