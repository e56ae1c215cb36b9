"""``runtime adopt``, the AWS side: read what ``adopt.decide`` needs, then copy the image and write the
parameter. The adapters are injected (``Clients``); nothing here decides.

Where the names come from: ``--image-repository`` and ``--image-parameter`` when given; else the stack's own
integration outputs (the integrated stack is deployed), else its image stack's (``<stack>-runtime-image``,
deployed on its own before the stack is patched), else the integration's conventional names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from abca_deploy import abca_stack
from abca_deploy.errors import OperationFailed, UserError
from abca_deploy.identifiers import ECR_URI, digest_of
from abca_deploy.runtime import config as cfg
from abca_deploy.runtime.adopt import CiRepository, ImageParameter, LiveImage, Observed, adopted_tag
from abca_deploy.runtime.image import push_target
from abca_deploy.runtime.inspect import live_version
from abca_deploy.runtime.wait import Poller, wait_idle

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.aws.agentcore import AgentCoreControl
    from abca_deploy.aws.cloudformation import CloudFormation
    from abca_deploy.aws.ecr import Ecr
    from abca_deploy.aws.ssm import Parameters
    from abca_deploy.build.copy import CopyReport
    from abca_deploy.build.registry import Registry
    from abca_deploy.lease import Lease
    from abca_deploy.runtime.adopt import AdoptPlan
    from abca_deploy.runtime.settings import AdoptSettings


@dataclass
class Clients:
    """What adopt talks to: CloudFormation, AgentCore's control plane, SSM, ECR, and registries by host."""

    stacks: CloudFormation
    control: AgentCoreControl
    parameters: Parameters
    ecr: Ecr
    registry: Callable[[str], Registry]


@dataclass(frozen=True)
class Names:
    """The CI repository (a name or URI) and the image parameter, each with where it came from."""

    repository: str
    repository_source: str
    parameter: str
    parameter_source: str
    integrated: bool


def names(settings: AdoptSettings, stacks: CloudFormation, outputs: dict[str, str]) -> Names:
    """The flags, else the stack's integration outputs, else its image stack's (deployed alone before the
    stack is patched: adopt runs between the two), else the default names."""
    stack = settings.stack_name
    found, source = outputs, stack
    if not outputs.get(abca_stack.IMAGE_PARAMETER_OUTPUT):
        source = abca_stack.image_stack_name(stack)
        found = stacks.find_outputs(source) or {}

    def pick(flag: str | None, flag_name: str, output: str, default: str) -> tuple[str, str]:
        if flag:
            return flag, flag_name
        if value := found.get(output, "").strip():
            return value, f"stack {source} output {output}"
        return default, "the integration's default name"

    repository = pick(settings.image_repository, "--image-repository", abca_stack.IMAGE_REPOSITORY_OUTPUT,
                      abca_stack.image_repository_name(stack))
    parameter = pick(settings.image_parameter, "--image-parameter", abca_stack.IMAGE_PARAMETER_OUTPUT,
                     abca_stack.image_parameter_name(stack))
    return Names(*repository, *parameter, integrated=source == stack)


def read_live(settings: AdoptSettings, control: AgentCoreControl, runtime_id: str,
              log: Callable[[str], None]) -> tuple[str, str]:
    """(version, image) DEFAULT serves, once no update is in flight."""
    current = wait_idle(control, runtime_id, Poller(settings.wait_timeout), log)
    versions = {str(v.get("agentRuntimeVersion")): str(v.get("status"))
                for v in control.list_versions(runtime_id)}
    version = live_version(current, control.list_endpoints(runtime_id), versions)
    if not version:
        msg = f"Runtime {runtime_id} has no version serving (none is READY)."
        raise OperationFailed(msg, hint="See `abca-deploy runtime status`.", title="Nothing serving")
    config = current if version == str(current.get("agentRuntimeVersion")) else control.get_runtime(
        runtime_id, version)
    uri = cfg.container_uri(config)
    if uri is None or not ECR_URI.fullmatch(uri):
        msg = f"Runtime {runtime_id} version {version} does not run an ECR container image ({uri or 'none'})."
        raise UserError(msg, hint="adopt copies an ECR image; this runtime has none to adopt.",
                        title="No ECR image to adopt")
    return version, uri


class Reader:
    """Reads the state ``decide`` needs: the live image, the CI repository, the parameter."""

    def __init__(self, settings: AdoptSettings, clients: Clients) -> None:
        self.settings, self.clients = settings, clients

    def registry_of(self, uri: str) -> tuple[Registry, str]:
        """The registry adapter and repository name of an ECR ``uri`` (ECR hosts mapped for the sandbox)."""
        match = ECR_URI.fullmatch(uri)
        assert match is not None  # read_live and DescribeRepositories give ECR URIs only
        host = push_target(f"{match['registry']}/{match['repository']}", self.settings.ecr_registry_endpoint)
        return self.clients.registry(host.partition("/")[0]), match["repository"]

    def observe(self, runtime_id: str, version: str, uri: str, found: Names) -> Observed:
        """Everything about the live image, the CI repository and the parameter."""
        repository = self._repository(found)
        live = self._live(runtime_id, version, uri, repository)
        if repository.exists and live.digest:
            target, name = self.registry_of(repository.uri)
            tag_digest = target.digest(name, adopted_tag(live.digest))
            has_image = tag_digest == live.digest or target.digest(name, live.digest) is not None
            repository = CiRepository(repository.uri, repository.source, True, tag_digest, has_image)
        return Observed(self.settings.stack_name, live, repository, self._parameter(found), found.integrated)

    def _repository(self, found: Names) -> CiRepository:
        match = ECR_URI.fullmatch(found.repository)
        name = match["repository"] if match else found.repository
        described = self.clients.ecr.find_repository(name)
        uri = described.uri if described else (match["registry"] + "/" + name if match else name)
        return CiRepository(uri, found.repository_source, described is not None)

    def _live(self, runtime_id: str, version: str, uri: str, repository: CiRepository) -> LiveImage:
        pinned = digest_of(uri)
        if pinned or not repository.exists:
            return LiveImage(runtime_id, version, uri, pinned)
        source, name = self.registry_of(uri)
        digest = source.digest(name, uri.rsplit(":", 1)[1])
        live, ci = ECR_URI.fullmatch(uri), ECR_URI.fullmatch(repository.uri)
        # Tag mutability is read in this account only (another account's repository: unknown, refused).
        same_account = live is not None and ci is not None and live["account"] == ci["account"]
        described = self.clients.ecr.find_repository(name) if same_account else None
        return LiveImage(runtime_id, version, uri, digest, described.mutability if described else None)

    def _parameter(self, found: Names) -> ImageParameter:
        parameters = self.clients.parameters
        value = parameters.get(found.parameter)
        owner = parameters.tags(found.parameter).get(abca_stack.OWNER_TAG) if value is not None else None
        return ImageParameter(found.parameter, found.parameter_source, value, owner)


def act(plan: AdoptPlan, reader: Reader, parameters: Parameters, lease: Lease,
        log: Callable[[str], None]) -> CopyReport | None:
    """Copy (and tag) the image, then write the parameter; checks the lease before each change."""
    from abca_deploy.build.copy import Endpoint, copy_image

    found, report = plan.observed, None
    if plan.copy:
        lease.check()
        source = Endpoint(*reader.registry_of(found.live.uri))
        target = Endpoint(*reader.registry_of(found.repository.uri))
        report = copy_image(source, plan.digest, target, plan.tag, log)
        log(f"{found.repository.uri}:{plan.tag} = {plan.digest} ({report.summary()})")
    name = found.parameter.name
    if plan.write == "create":
        lease.check()
        if not parameters.create(name, plan.adopted_image, tags={abca_stack.OWNER_TAG: found.stack_name}):
            msg = f"SSM parameter {name} was created while adopt ran (by the image stack's seed?)."
            raise OperationFailed(msg, hint="Run `abca-deploy runtime adopt` again: it reads it anew.",
                                  title="Parameter appeared meanwhile")
    elif plan.write == "overwrite":
        lease.check()
        parameters.put(name, plan.adopted_image)
    if plan.write:
        log(f"{name} = {plan.adopted_image}")
    return report
