"""The steps of the migration to the ABCA integration that follow ``runtime adopt``, as it prints them.

``integrations/abca/README.md`` ("From unpatched ABCA to integrated") lists the same steps with the same
numbers, titles and commands (rendered with ``$STACK`` and ``$REPOSITORY``); a unit test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass

from abca_deploy.abca_stack import CONTEXT_KEY


@dataclass(frozen=True)
class Step:
    """One step: its number in the README, a short title, what it does, and the commands to run."""

    number: int
    title: str
    detail: str
    commands: tuple[str, ...] = ()

    def text(self) -> str:
        """The step as printed: a numbered line, then its commands indented."""
        lines = [f"{self.number}. {self.title}: {self.detail}", *(f"     {c}" for c in self.commands)]
        return "\n".join(lines)


def remaining_steps(stack: str, repository: str, parameter: str, *, integrated: bool) -> list[Step]:
    """The steps after adopt for ``stack`` (its CI repository name and image parameter); the deploy of the
    integrated stack is left out when the stack already has the integration's outputs (it is deployed)."""
    deploy = Step(
        5, "Deploy the integrated stack",
        "in ABCA's cdk/ directory. The diff shows the runtime's ContainerUri becoming the parameter, the "
        "domain list, its rule and the grants; the image does not change: the parameter holds the live "
        "image.",
        (f"npx cdk diff -c {CONTEXT_KEY}=true {stack}", f"npx cdk deploy -c {CONTEXT_KEY}=true --all"))
    steps = [] if integrated else [deploy]
    steps += [
        Step(6, "Check", "exits 0, the template reading its image from the parameter at each deploy.",
             (f"abca-deploy drift --stack-name {stack}",)),
        Step(7, "Keep the key on",
             f'add "{CONTEXT_KEY}": true to the stack\'s CDK context (for example in the cdk.context.json '
             "ABCA's build.yml writes, next to stackName), so no later deploy goes back to the asset image."),
        Step(8, "Publish to the CI repository",
             f"in CI, set the repository variable ABCA_ECR_REPOSITORY to {repository} (the example workflow "
             f"passes it to deploy-runtime.yml with image-parameter {parameter}); by hand:",
             (f"abca-deploy runtime publish --stack-name {stack} --ecr-repository {repository} "
              f"--image-parameter {parameter}",)),
    ]
    return steps
