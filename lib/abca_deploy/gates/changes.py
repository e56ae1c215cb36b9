"""``abca-deploy changes``: which lifecycles (runtime, infra, config, …) a git range touches.

Unlike GitHub's ``on.push.paths`` it sees the complete diff (no 300-file cap), and it runs as a job step, so a
skipped deploy job is a *success* for required checks rather than a check stuck in "Pending". When the range
cannot be diffed (no base, an all-zero base, or a base missing from a shallow or rewritten history) every
filter is reported as changed: deploying too much is safe, skipping a needed deploy is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from abca_deploy.errors import AbcaError, UserError
from abca_deploy.gates.deployments import PlatformSettings, client, environment_name, last_success, repository
from abca_deploy.gates.paths import FILTER_FORM, PathFilter, chosen_filters, parse_filter, uses_image
from abca_deploy.report import markdown_table, text_table
from abca_deploy.settings import STACK_NAME_FORM, Command, Lines, StackName

if TYPE_CHECKING:
    from collections.abc import Sequence

    from abca_deploy.gates.git import Git
    from abca_deploy.report import Reporter

_REVISION = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./@^~{}-]{0,255}$")
_SHOWN_FILES = 5


class ChangesSettings(PlatformSettings):
    """Flags of ``abca-deploy changes``."""

    base: str | None = Field(None, description=(
        "The commit before the change (Actions: github.event.before, or the pull request's base SHA); "
        "empty or all zeros means everything at --head counts as changed."),
        json_schema_extra={"form": "a commit SHA", "metavar": "SHA"})
    head: str = Field("HEAD", description="The commit after the change (Actions: github.sha).",
                      json_schema_extra={"form": "a commit SHA or ref", "metavar": "SHA"})
    filters: Lines = Field(default_factory=list, description=(
        "A named path filter, NAME=GLOB,GLOB (gitignore-style globs anchored at the repository root, `!` "
        "excludes, @image = the files the image build reads); replaces the default of that name or adds one. "
        "Defaults: runtime=@image,!**/*.md infra=cdk/**,package.json,yarn.lock,.yarnrc,.yarnrc.yml,.npmrc,"
        "contracts/**,!cdk/test/**,!**/*.md config=repos.yaml."),
        json_schema_extra={"form": FILTER_FORM, "metavar": "NAME=GLOB,GLOB"})
    context: str = Field(".", description="The image build context for @image, relative to the repository "
                         "root.", json_schema_extra={"metavar": "DIR"})
    dockerfile: str = Field("agent/Dockerfile", description="The Dockerfile for @image, relative to "
                            "--context.", json_schema_extra={"metavar": "PATH"})
    stack_name: StackName | None = Field(None, description=(
        "Diff each filter from the last successful deploy of this stack (the GitHub deployments "
        "`abca-deploy record` wrote for environment abca-<filter>-<stack>); without a record, from --base."),
        json_schema_extra={"form": STACK_NAME_FORM, "metavar": "NAME"})
    repo: str = Field(".", description="The git checkout to diff (default: the current directory).",
                      json_schema_extra={"metavar": "DIR"})

    @field_validator("base", "head")
    @classmethod
    def _revision(cls, value: str | None) -> str | None:
        if value is not None and not _REVISION.match(value):
            msg = "is not a commit SHA or ref (letters, digits and ./@^~{}-_ only; no leading '-')"
            raise ValueError(msg)
        return value

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: list[str]) -> list[str]:
        for text in value:
            try:
                parse_filter(text)
            except ValueError as exc:
                msg = f"{exc} (got {text[:60]!r})"
                raise ValueError(msg) from None
        return value

    @field_validator("context", "dockerfile")
    @classmethod
    def _inside(cls, value: str) -> str:
        if value.startswith("/") or ".." in value.split("/"):
            msg = "must be a path inside the repository (relative, without '..')"
            raise ValueError(msg)
        return value



@dataclass(frozen=True)
class Base:
    """Where a filter's diff starts: a commit (None: no base), where it came from, and whether it is a
    recorded deploy (then a head that the base already contains is older than what is deployed)."""

    sha: str | None
    source: str
    deployed: bool = False


@dataclass(frozen=True)
class Range:
    """What changed from one base to head: the paths, or everything at head when it cannot be diffed."""

    files: tuple[str, ...]
    diffed: bool
    stale: bool = False


@dataclass(frozen=True)
class Gate:
    """One filter's verdict: changed or not, the files that made it so, and the base it was diffed from."""

    name: str
    patterns: tuple[str, ...]
    changed: bool
    files: tuple[str, ...]
    diffed: bool
    since: str


def decide(filters: Sequence[PathFilter], ranges: dict[str, Range], bases: dict[str, Base]) -> list[Gate]:
    """Each filter's gate over its own range (a stale range, head already deployed, changes nothing)."""
    gates = []
    for path_filter in filters:
        found = ranges[path_filter.name]
        hits = () if found.stale else tuple(path_filter.matches(found.files))
        base = bases[path_filter.name]
        since = f"{base.sha[:12]} ({base.source})" if base.sha else base.source
        gates.append(Gate(path_filter.name, path_filter.shown, bool(hits), hits, found.diffed, since))
    return gates


def undiffable_reason(git: Git, base: str | None) -> str | None:
    """Why the range cannot be diffed precisely (so everything at head counts as changed), or None."""
    if not base:
        return ("No base commit was given (--base/ABCA_BASE is empty, as on a manual or scheduled run): "
                "everything at the head commit counts as changed.")
    if set(base) == {"0"}:
        return ("The base commit is all zeros (a new branch, or the repository's first push): "
                "everything at the head commit counts as changed.")
    if git.commit(base) is not None:
        return None
    if git.is_shallow():
        return (f"The base commit {base} is not in this shallow clone's history: everything at the head "
                "commit counts as changed. Fetch it to gate precisely (actions/checkout with fetch-depth: 0, "
                f"or `git fetch --depth=1 origin {base}`).")
    return (f"The base commit {base} is not in this repository (history rewritten by a force-push, or never "
            "fetched): everything at the head commit counts as changed.")


def deployed_bases(settings: ChangesSettings, names: Sequence[str], reporter: Reporter) -> dict[str, Base]:
    """Each filter's last successfully deployed commit (GitHub deployments); {} when not asked or unknown."""
    stack = settings.stack_name
    if not stack:
        return {}
    full_name, github = repository(settings), client(settings, reporter)
    if full_name is None or github is None:
        reporter.warning(f"--stack-name {stack}: no platform repository or no token in "
                         f"{settings.platform_token_env}, so the last deploys cannot be read; diffing from "
                         "--base.", title="Deploy records not read")
        return {}
    found = {}
    for name in names:
        environment = environment_name(name, stack)
        try:
            last = last_success(github.deployments(full_name, environment))
        except AbcaError as exc:
            reporter.warning(f"{exc.one_line()} Diffing every filter from --base instead (grant the job "
                             "`deployments: read`).", title="Deploy records not read")
            return {}
        if last is None:
            reporter.info(f"{name}: no successful deploy recorded for {environment} yet; diffing from "
                          "--base.")
            continue
        found[name] = Base(last.sha, f"last deploy, {environment}", deployed=True)
    return found


def diff_ranges(git: Git, head: str, bases: dict[str, Base], reporter: Reporter) -> dict[str, Range]:
    """The range of each filter; one git diff per distinct base (a recorded deploy and a push's ``--base``
    at the same commit are distinct: only the first can be newer than head)."""
    by_base: dict[tuple[str | None, bool], Range] = {}
    ranges = {}
    for name, base in bases.items():
        key = (base.sha, base.deployed)
        if key not in by_base:
            by_base[key] = _range(git, base, head, reporter)
        ranges[name] = by_base[key]
    return ranges


def _range(git: Git, base: Base, head: str, reporter: Reporter) -> Range:
    reason = undiffable_reason(git, base.sha)
    if reason:
        reporter.warning(reason, title="Everything counts as changed")
        return Range(tuple(git.files(head)), diffed=False)
    assert base.sha is not None
    files = tuple(git.changed_files(base.sha, head))
    stale = bool(files) and base.deployed and git.is_ancestor(head, base.sha)
    if stale:
        reporter.warning(f"{base.sha[:12]} ({base.source}) already contains {head[:12]}: a newer commit is "
                         "deployed, so this older one is not deployed over it.",
                         title="Older than the last deploy")
    else:
        reporter.info(f"{len(files)} file(s) changed between {base.sha[:12]} ({base.source}) and "
                      f"{head[:12]}.")
    return Range(files, diffed=True, stale=stale)


def run(settings: ChangesSettings, reporter: Reporter) -> int:
    """Read the image build and the last deploys, diff each range, decide each gate, and report."""
    from abca_deploy.gates.git import Git
    from abca_deploy.gates.image import load

    git = Git(settings.repo)
    git.check_repository()
    head = git.commit(settings.head)
    if head is None:
        msg = f"--head {settings.head!r} is not a commit in {settings.repo!r}."
        raise UserError(msg, hint="Pass the pushed commit (Actions: github.sha) and check it out first.",
                        title="Unknown --head")
    chosen = chosen_filters(settings.filters)
    image = load(git, head, settings.context, settings.dockerfile) if uses_image(chosen) else None
    if image is not None:
        reporter.info(f"The image build reads: {image.note}.")
    filters = [PathFilter.build(name, globs, image) for name, globs in chosen.items()]
    push = Base(settings.base, "--base") if settings.base else Base(None, "no base")
    bases = {f.name: push for f in filters} | deployed_bases(settings, [f.name for f in filters], reporter)
    gates = decide(filters, diff_ranges(git, head, bases, reporter), bases)
    _report(reporter, gates)
    return 0


def _report(reporter: Reporter, gates: list[Gate]) -> None:
    for gate in gates:
        reporter.set_output(gate.name, gate.changed)
        if gate.files:
            reporter.debug(f"{gate.name}: {', '.join(gate.files)}")
    rows = [[g.name, "yes" if g.changed else "no", g.since, _files_cell(g), ", ".join(g.patterns)]
            for g in gates]
    headers = ["filter", "changed", "since", "files", "patterns"]
    reporter.summary("### Changed lifecycles\n\n" + markdown_table(headers, rows))
    reporter.result({g.name: g.changed for g in gates}, text_table(headers, rows))


def _files_cell(gate: Gate) -> str:
    shown = ", ".join(gate.files[:_SHOWN_FILES])
    more = len(gate.files) - _SHOWN_FILES
    listed = f"{len(gate.files)}: {shown}" + (f" (+{more} more)" if more > 0 else "") if gate.files else "0"
    return listed if gate.diffed else f"everything at head, {listed}"


CHANGES = Command(
    settings=ChangesSettings,
    run=run,
    help="Decide which lifecycles a git range touches. JSON: {\"runtime\": bool, \"infra\": bool, "
         "\"config\": bool, ...}; in Actions one output per filter.",
)
