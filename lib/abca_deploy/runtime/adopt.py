"""``runtime adopt``, the decision: what it takes to make the CI repository and the stack's image parameter
hold the image a live runtime serves, so that deploying the integrated stack changes no image.

Pure: ``decide`` reads what ``adoption.observe`` saw (frozen values) and returns the plan, or raises the one
error that says why nothing may be written. The plan copies the live image (by digest) into the CI repository
under ``keep-adopted-<16 hex of the digest>``, a tag the lifecycle policy's ``keep-*`` rule never expires and
that can only ever name that one image (so a re-run checks one tag, and immutable tags are never reused for
another image), then writes ``<repository>@<digest>`` to the parameter. Each part is skipped when already so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from abca_deploy.abca_stack import KEEP_TAG_PATTERN, OWNER_TAG, image_stack_name
from abca_deploy.errors import OperationFailed, UserError
from abca_deploy.identifiers import digest_of, repository_of

ADOPTED_TAG_PREFIX = KEEP_TAG_PATTERN.removesuffix("*") + "adopted-"
"""Tags of adopted images: under the lifecycle policy's never-expiring ``keep-*`` rule."""


def adopted_tag(digest: str) -> str:
    """``keep-adopted-<the first 16 hex digits of the digest>``: one image per tag, whatever the version."""
    return ADOPTED_TAG_PREFIX + digest.removeprefix("sha256:")[:16]


@dataclass(frozen=True)
class LiveImage:
    """What DEFAULT serves: the version, its image as AgentCore records it, and that image's digest.

    ``digest`` is the pinned one, or for a tag-only image what the tag names in the registry now (None when
    it names nothing); ``tag_mutability`` is the source repository's (only read for a tag-only image)."""

    runtime_id: str
    version: str
    uri: str
    digest: str | None
    tag_mutability: str | None = None


@dataclass(frozen=True)
class CiRepository:
    """The CI repository (``<registry>/<name>``), where its name came from, and what it holds of the image."""

    uri: str
    source: str
    exists: bool
    tag_digest: str | None = None  # the image the adopted tag names there now
    has_image: bool = False  # the manifest is there (under any tag, or none)


@dataclass(frozen=True)
class ImageParameter:
    """The stack's image parameter: name, where the name came from, value and ownership tag (None: absent)."""

    name: str
    source: str
    value: str | None
    owner: str | None


@dataclass(frozen=True)
class Observed:
    """Everything ``decide`` needs, read before any decision."""

    stack_name: str
    live: LiveImage
    repository: CiRepository
    parameter: ImageParameter
    integrated: bool  # the stack itself has the integration's outputs: the patched stack is deployed


@dataclass(frozen=True)
class AdoptPlan:
    """What adopt does: copy (and tag) the image, write the parameter; both False/None means nothing."""

    observed: Observed
    digest: str
    tag: str
    copy: bool
    write: Literal["create", "overwrite"] | None
    notes: tuple[str, ...] = ()

    @property
    def adopted_image(self) -> str:
        """What the parameter records afterwards: the CI repository's copy, by digest."""
        return f"{self.observed.repository.uri}@{self.digest}"

    @property
    def changes(self) -> bool:
        """True when adopt has something to do."""
        return self.copy or self.write is not None

    def actions(self) -> list[str]:
        """The steps, in order, as one line each."""
        found = self.observed
        steps = []
        if self.copy:
            how = "tag the copy already there" if found.repository.has_image else "copy"
            target = f"{found.repository.uri}:{self.tag}"
            steps.append(f"{how}: {found.live.uri} -> {target} (digest {self.digest})")
        if self.write is not None:
            before = found.parameter.value or "(absent)"
            steps.append(f"{self.write} {found.parameter.name}: {before} -> {self.adopted_image}")
        return steps


def decide(found: Observed) -> AdoptPlan:
    """The plan; UserError (exit 2, nothing written) when an input must be fixed first."""
    if not found.repository.exists:
        msg = (f"The CI image repository {found.repository.uri} ({found.repository.source}) does not exist: "
               f"the image stack {image_stack_name(found.stack_name)} is not deployed (step 3).")
        hint = (f"Deploy it on its own first, in ABCA's cdk/ directory: npx cdk deploy -c abcaDeploy=true "
                f"{image_stack_name(found.stack_name)} --exclusively (or pass --image-repository).")
        raise UserError(msg, hint=hint, title="No CI image repository")
    digest, notes = _digest(found)
    _check_owner(found, digest)
    tag = adopted_tag(digest)
    repository = found.repository
    already_there = repository_of(found.live.uri) == repository.uri
    if already_there:
        notes.append(f"the runtime's image is already in the CI repository {repository.uri}: nothing to copy")
    elif repository.tag_digest not in (None, digest):
        msg = (f"{repository.uri}:{tag} names another image ({repository.tag_digest}) than the live one "
               f"({digest}): two digests share their first 16 hex digits.")
        hint = "Delete that tag, or copy the image by hand under another keep-* tag."
        raise OperationFailed(msg, hint=hint, title="Adopted tag taken")
    value = found.parameter.value
    up_to_date = (value is not None and digest_of(value) == digest
                  and repository_of(value) == repository.uri)
    write: Literal["create", "overwrite"] | None = None
    if not up_to_date:
        write = "create" if value is None else "overwrite"
    return AdoptPlan(found, digest, tag, copy=not already_there and repository.tag_digest != digest,
                     write=write, notes=tuple(notes))


def _digest(found: Observed) -> tuple[str, list[str]]:
    """The live image's digest; a tag-only image only when its repository's tags cannot move."""
    live = found.live
    pinned = digest_of(live.uri)
    if pinned:
        return pinned, []
    if live.digest is None:
        msg = f"Runtime {live.runtime_id} version {live.version} serves {live.uri}, which names no image now."
        raise UserError(msg, hint="The tag was deleted from its repository: the runtime cannot be adopted "
                                  "from it; publish an image first (`abca-deploy runtime publish`).",
                        title="Live image not found")
    if live.tag_mutability != "IMMUTABLE":
        msg = (f"Runtime {live.runtime_id} version {live.version} serves {live.uri} by tag, in a repository "
               f"whose tags can move ({live.tag_mutability or 'unknown'}): which image AgentCore pulled "
               "cannot be read from the registry.")
        hint = (f"Pin the runtime to the image it runs first: abca-deploy runtime publish --stack-name "
                f"{found.stack_name} --image {repository_of(live.uri)}@sha256:<digest>, then adopt.")
        raise UserError(msg, hint=hint, title="Live image named by a mutable tag")
    return live.digest, [f"{live.uri} is a tag in a repository with immutable tags: it names {live.digest}"]


def _check_owner(found: Observed, digest: str) -> None:
    """The parameter must be absent, this stack's (its ownership tag), or untagged and already naming the
    live image (what ``runtime publish --image-parameter`` leaves)."""
    parameter, stack = found.parameter, found.stack_name
    if parameter.value is None or parameter.owner == stack:
        return
    if parameter.owner is not None:
        msg = (f"SSM parameter {parameter.name} belongs to stack {parameter.owner} (its {OWNER_TAG} tag), "
               f"not {stack}: writing it would make {parameter.owner}'s next deploy run {stack}'s image.")
        raise UserError(msg, hint="Check --stack-name and --image-parameter: each stack reads its own "
                                  "/abca/<stack-name>/runtime-image.", title="Parameter of another stack")
    if digest_of(parameter.value) != digest:
        msg = (f"SSM parameter {parameter.name} has no {OWNER_TAG} tag and records {parameter.value}, not "
               f"the image the runtime serves ({digest}): it may not be {stack}'s.")
        hint = (f"If it is, tag it and re-run: aws ssm add-tags-to-resource --resource-type Parameter "
                f"--resource-id {parameter.name} --tags Key={OWNER_TAG},Value={stack}")
        raise UserError(msg, hint=hint, title="Parameter of unknown owner")
