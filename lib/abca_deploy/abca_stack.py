"""What abca-deploy's ABCA integration (``integrations/abca``) adds to an ABCA stack: its names and outputs.

The TypeScript module (``integrations/abca/src/abca-deploy.ts``) defines the same values for CDK;
``tests/integration/test_cdk_synth.py`` synthesizes it and checks every value here against the template, so
the two cannot drift apart. Commands read these outputs from a stack that has them, so no flag is needed
there.
"""

from __future__ import annotations

import re

CONTEXT_KEY = "abcaDeploy"
"""The CDK context key that turns the integration on for one stack (``cdk deploy -c abcaDeploy=true``)."""

IMAGE_PARAMETER_OUTPUT = "RuntimeImageParameterName"
"""Stack output: the SSM parameter the runtime's image is read from at each deploy."""

IMAGE_REPOSITORY_OUTPUT = "RuntimeImageRepositoryUri"
"""Stack output: the ECR repository CI publishes runtime images to."""

DOMAIN_LIST_OUTPUT = "RuntimeDomainListId"
"""Stack output: the DNS Firewall domain list onboarding keeps equal to the active repos' egress lists."""

OUTPUTS = (IMAGE_PARAMETER_OUTPUT, IMAGE_REPOSITORY_OUTPUT, DOMAIN_LIST_OUTPUT)

KEEP_TAG_PATTERN = "keep-*"
"""ECR lifecycle rule 1: images with such a tag never expire (an operator's pin)."""

BUILD_TAG_PATTERN = "ctx-*"
"""ECR lifecycle rule 2: content tags ``runtime publish`` pushes; beyond ``BUILDS_KEPT`` the oldest expire."""

BUILDS_KEPT = 30
"""How many of the newest published builds the lifecycle policy keeps."""

KEPT_FOREVER_COUNT = 10000
"""Rule 1's count: "never" in practice, since an image a higher-priority rule matches cannot be expired by a
later one (ECR's lifecycle evaluation)."""

DOMAIN_LIST_RULE_PRIORITY = 250
"""The priority of the rule allowing the runtime domain list in ABCA's rule group (after its allow rules, 100
and 200, before its catch-all, 300)."""

IMAGE_STACK_SUFFIX = "-runtime-image"
"""The stack holding the CI repository and seeding the image parameter; deployed before the main stack."""

OWNER_TAG = "abca-deploy:stack-name"
"""The tag the image stack puts on the image parameter it creates: the stack the parameter belongs to."""

API_CODE_CONTEXT = "abcaDeploy:apiCode"
"""CDK context key naming the directory ``scripts/build-api-function`` built; with it, the integration adds
the repository API (``/v1/repos``) to the stack's REST API."""

GATEWAY_RESPONSES_CONTEXT = "abcaDeploy:gatewayResponses"
"""CDK context key: ``false`` leaves API Gateway's own 401/403/429 answers out of ABCA's error envelope."""

API_SETTINGS = ("admin_group", "allowed_owners", "max_repos", "allowed_models", "require_token",
                "github_api_url")
"""The repository API's settings (``ApiSettings`` fields) the integration takes from CDK context: the field
``max_repos`` is the context key ``abcaDeploy:maxRepos`` and the function's variable ``ABCA_MAX_REPOS``."""

API_LOG_GROUP_OUTPUT = "RepoApiLogGroupName"
"""Stack output: the log group of the repository API's function (one JSON line per request)."""

API_FUNCTION_ACTIONS = {
    "table": ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Scan"),
    "token secrets": ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
                      "secretsmanager:CreateSecret", "secretsmanager:PutSecretValue",
                      "secretsmanager:RestoreSecret", "secretsmanager:TagResource"),
    "domain list": ("route53resolver:GetFirewallDomainList", "route53resolver:ListFirewallDomains",
                    "route53resolver:UpdateFirewallDomains"),
    "stack": ("cloudformation:DescribeStacks",),
}
"""What the repository API's function may call, by resource: the repo table, the ``abca/github-token/*``
secrets (TagResource because CreateSecret sends tags), the runtime DNS Firewall domain list (each write keeps
it equal to the active repositories' egress), and DescribeStacks on its stack (the outputs the guardrails
read)."""


def api_setting_context(field: str) -> str:
    """The CDK context key of a repository API setting: ``max_repos`` -> ``abcaDeploy:maxRepos``."""
    head, *rest = field.split("_")
    return f"{CONTEXT_KEY}:{head}{''.join(part.title() for part in rest)}"


def image_parameter_name(stack_name: str) -> str:
    """The SSM parameter holding a stack's runtime image: ``/abca/<stack-name>/runtime-image``."""
    return f"/abca/{stack_name}/runtime-image"


def image_repository_name(stack_name: str) -> str:
    """The CI image repository of a stack: ``backgroundagent-runtime/<stack name, lower case>``.

    The ``backgroundagent-`` prefix is the one ABCA's least-privilege bootstrap lets CloudFormation create ECR
    repositories under; ECR names take single separators only, so runs of ``-`` collapse.
    """
    name = re.sub(r"-+", "-", stack_name.lower()).strip("-")
    return f"backgroundagent-runtime/{name}"


def domain_list_name(stack_name: str) -> str:
    """The name of a stack's runtime-managed DNS Firewall domain list."""
    return f"{stack_name}-runtime-egress"


def image_stack_name(stack_name: str) -> str:
    """The stack holding a stack's CI repository and seeding its image parameter."""
    return f"{stack_name}{IMAGE_STACK_SUFFIX}"


def lifecycle_rules() -> list[dict[str, object]]:
    """The CI repository's lifecycle rules, as ECR's lifecycle policy document lists them."""
    keep = {"tagStatus": "tagged", "tagPatternList": [KEEP_TAG_PATTERN], "countType": "imageCountMoreThan",
            "countNumber": KEPT_FOREVER_COUNT}
    builds = {"tagStatus": "tagged", "tagPatternList": [BUILD_TAG_PATTERN], "countType": "imageCountMoreThan",
              "countNumber": BUILDS_KEPT}
    return [
        {"rulePriority": 1, "description": f"Never expire images tagged {KEEP_TAG_PATTERN}",
         "selection": keep, "action": {"type": "expire"}},
        {"rulePriority": 2,
         "description": f"Keep the newest {BUILDS_KEPT} published builds ({BUILD_TAG_PATTERN})",
         "selection": builds, "action": {"type": "expire"}},
    ]
