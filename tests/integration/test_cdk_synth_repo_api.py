"""The repository API as integrations/abca adds it to ABCA's stack, synthesized by the real CDK CLI.

One session builds the function's code with ``scripts/build-api-function`` (cached until the distribution or
a pin changes) and synthesizes the test app (cdk-nag on: a finding fails the synth) with the integration on,
with the API, and with the API and every setting. The assertions read the parent and nested templates as
CloudFormation receives them, with the nested stack's parameters replaced by what the parent passes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest
from tests.support.cdk_app import (
    Assembly,
    api_function,
    build_function,
    compile_app,
    synthesize,
    synthesized,
    tree_digest,
)
from tests.support.repo_api import ensure_platform

from abca_deploy import abca_stack
from abca_deploy.api.auth import READ_SCOPE
from abca_deploy.api.responses import ApiError, error
from abca_deploy.api.settings import DEFAULT_ADMIN_GROUP, ApiSettings
from abca_deploy.repos.tokens import SECRET_PREFIX
from abca_deploy.settings import env_name

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.node

STACK = "backgroundagent-dev"
SETTINGS = {
    "admin_group": "WorkshopAdmins",
    "allowed_owners": "workshop-2026, acme",
    "max_repos": "40",
    "allowed_models": "anthropic.claude-opus-4-8",
    "require_token": "true",
    "github_api_url": "https://ghe.example.com/api/v3",
}
HANDLER = "abca_deploy.api.handler.handler"
ROUTES = {("GET", "repos"), ("POST", "repos"), ("GET", "repo"), ("PATCH", "repo"), ("DELETE", "repo")}


def _variants(code: Path) -> dict[str, dict[str, str]]:
    api = {"abcaDeploy": "true", abca_stack.API_CODE_CONTEXT: str(code)}
    settings = {abca_stack.api_setting_context(field): value for field, value in SETTINGS.items()}
    return {
        "on": {"abcaDeploy": "true"},
        "api": api,
        "api-settings": {**api, **settings, abca_stack.GATEWAY_RESPONSES_CONTEXT: "false"},
    }


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Assembly]:
    """Each variant synthesized once, with the function's code built (or reused) first."""
    compile_app()
    variants = _variants(api_function())
    out = tmp_path_factory.mktemp("cdk-synth-api")
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(variants, pool.map(lambda name: synthesized(out / name, variants[name]), variants),
                        strict=True))


class Api:
    """The parent template, the repository API's nested template, and the parameters linking them."""

    def __init__(self, assembly: Assembly) -> None:
        self.parent = assembly.template(STACK)
        (self.stack_id,) = self.of(self.parent, "AWS::CloudFormation::Stack")
        self.nested = assembly.nested(self.parent, self.stack_id)
        self.params: dict[str, Any] = self.parent["Resources"][self.stack_id]["Properties"]["Parameters"]

    @staticmethod
    def of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
        """Logical id -> resource, for the resources of type ``kind``."""
        return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}

    def resolved(self, value: Any) -> Any:
        """``value`` with each nested-stack parameter replaced by the parent's expression for it."""
        if isinstance(value, dict):
            if set(value) == {"Ref"} and value["Ref"] in self.params:
                return self.params[value["Ref"]]
            return {k: self.resolved(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolved(v) for v in value]
        return value

    def nested_of(self, kind: str) -> dict[str, dict[str, Any]]:
        """Nested resources of type ``kind``, their properties resolved."""
        return {lid: self.resolved(r) for lid, r in self.of(self.nested, kind).items()}

    def parent_id(self, kind: str, **properties: Any) -> str:
        """The logical id of the one parent resource of type ``kind`` with these properties."""
        return _parent_id(self.parent, kind, **properties)


def _parent_id(template: dict[str, Any], kind: str, **properties: Any) -> str:
    (found,) = [lid for lid, r in Api.of(template, kind).items()
                if all(r["Properties"].get(k) == v for k, v in properties.items())]
    return found


def render(value: Any) -> str:
    """An ARN expression as text: ``Fn::Join`` concatenated, pseudo parameters as ``${AWS::Region}``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(render(part) for part in parts)
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    return json.dumps(value, sort_keys=True)


def _resources_of_abca(template: dict[str, Any]) -> dict[str, str]:
    """The logical ids of ABCA's REST API and its ``repos`` and ``repos/{repo_id}`` resources."""
    rest_api = _parent_id(template, "AWS::ApiGateway::RestApi", Name="TaskApi")
    repos = _parent_id(template, "AWS::ApiGateway::Resource", PathPart="repos")
    repo = _parent_id(template, "AWS::ApiGateway::Resource", PathPart="{repo_id}", ParentId={"Ref": repos})
    return {"api": rest_api, "repos": repos, "repo": repo}


def _function(api: Api, handler: str) -> tuple[str, dict[str, Any]]:
    ((lid, function),) = [(lid, f) for lid, f in api.nested_of("AWS::Lambda::Function").items()
                          if f["Properties"]["Handler"] == handler]
    return lid, function["Properties"]


def _key(attribute: str) -> dict[str, str]:
    return {"AttributeName": attribute, "KeyType": "HASH"}


def _actions(statement: dict[str, Any]) -> tuple[str, ...]:
    action = statement["Action"]
    return (action,) if isinstance(action, str) else tuple(action)


def _statements(api: Api, function: dict[str, Any]) -> list[dict[str, Any]]:
    role = function["Role"]["Fn::GetAtt"][0]
    assert "ManagedPolicyArns" not in api.nested["Resources"][role]["Properties"]
    policies = [p for p in api.nested_of("AWS::IAM::Policy").values()
                if p["Properties"]["Roles"] == [{"Ref": role}]]
    return [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_the_routes_hang_on_abcas_existing_resources(synth: dict[str, Assembly]) -> None:
    api = Api(synth["api"])
    ids = _resources_of_abca(api.parent)
    before = synth["on"].template(STACK)["Resources"]
    assert ids == _resources_of_abca(synth["on"].template(STACK))
    assert all(api.parent["Resources"][lid] == before[lid] for lid in ids.values())
    assert not api.of(api.nested, "AWS::ApiGateway::Resource")
    function_id, _ = _function(api, HANDLER)
    (authorizer_id,) = api.of(api.nested, "AWS::ApiGateway::Authorizer")
    methods = api.nested_of("AWS::ApiGateway::Method").values()
    routes = set()
    for method in methods:
        props = method["Properties"]
        where = "repos" if props["ResourceId"] == {"Ref": ids["repos"]} else "repo"
        assert props["ResourceId"] == {"Ref": ids[where]}
        routes.add((props["HttpMethod"], where))
        assert props["RestApiId"] == {"Ref": ids["api"]}
        assert (props["AuthorizationType"], props["AuthorizerId"]) == ("CUSTOM", {"Ref": authorizer_id})
        integration = props["Integration"]
        assert (integration["Type"], integration["IntegrationHttpMethod"]) == ("AWS_PROXY", "POST")
        assert render(integration["Uri"]) == (
            "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
            f"${{{function_id}.Arn}}/invocations")
    assert routes == ROUTES
    permissions = api.nested_of("AWS::Lambda::Permission").values()
    invokes = {render(p["Properties"]["SourceArn"]) for p in permissions
               if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}}
    prefix = f"arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{ids['api']}}}/*/"
    assert invokes == {prefix + m + ("/repos" if where == "repos" else "/repos/*") for m, where in ROUTES}


def test_nothing_else_in_abcas_stack_moves(synth: dict[str, Assembly]) -> None:
    before, after = synth["on"].template(STACK), synth["api"].template(STACK)
    api = Api(synth["api"])
    old, new = before["Resources"], after["Resources"]
    added, removed = set(new) - set(old), set(old) - set(new)
    deployment = {lid for lid in added if new[lid]["Type"] == "AWS::ApiGateway::Deployment"}
    assert added == {api.stack_id, *deployment}
    assert {old[lid]["Type"] for lid in removed} == {"AWS::ApiGateway::Deployment"}
    (new_deployment,) = deployment
    assert api.stack_id in new[new_deployment]["DependsOn"]  # the stage serves the new routes once they exist
    changed = {lid for lid in set(old) & set(new) if old[lid] != new[lid]}
    (stage,) = api.of(after, "AWS::ApiGateway::Stage")
    assert changed == {stage, "CDKMetadata"}
    stage_before = {**old[stage]["Properties"], "DeploymentId": None}
    assert stage_before == {**new[stage]["Properties"], "DeploymentId": None}
    assert set(after["Outputs"]) - set(before["Outputs"]) == {abca_stack.API_LOG_GROUP_OUTPUT}
    log_group = after["Outputs"][abca_stack.API_LOG_GROUP_OUTPUT]["Value"]["Fn::GetAtt"]
    assert log_group[0] == api.stack_id


def test_the_function_may_call_exactly_what_the_handler_calls(synth: dict[str, Assembly]) -> None:
    api = Api(synth["api"])
    _, function = _function(api, HANDLER)
    log_group = function["LoggingConfig"]["LogGroup"]["Ref"]
    repo_table = api.parent_id("AWS::DynamoDB::Table", KeySchema=[_key("repo")])
    domain_list = api.parent_id("AWS::Route53Resolver::FirewallDomainList",
                                Name=abca_stack.domain_list_name(STACK))
    account = "arn:${AWS::Partition}:{service}:${AWS::Region}:${AWS::AccountId}"
    expected = [
        (("logs:CreateLogStream", "logs:PutLogEvents"), f"${{{log_group}.Arn}}"),
        (abca_stack.API_FUNCTION_ACTIONS["table"], f"${{{repo_table}.Arn}}"),
        (abca_stack.API_FUNCTION_ACTIONS["token secrets"],
         account.replace("{service}", "secretsmanager") + f":secret:{SECRET_PREFIX}*"),
        (abca_stack.API_FUNCTION_ACTIONS["domain list"], f"${{{domain_list}.Arn}}"),
        (abca_stack.API_FUNCTION_ACTIONS["stack"],
         account.replace("{service}", "cloudformation") + f":stack/{STACK}/*"),
    ]
    found = [(s["Effect"], _actions(s), render(s["Resource"])) for s in _statements(api, function)]
    assert found == [("Allow", actions, resource) for actions, resource in expected]


def test_the_routes_authorizer_is_abcas_requiring_repos_read(synth: dict[str, Assembly]) -> None:
    api = Api(synth["api"])
    originals = [r["Properties"] for lid, r in api.of(api.parent, "AWS::Lambda::Function").items()
                 if lid.startswith("TaskApiApiKeyAuthorizerFn")]
    (original,) = originals
    clone_id, clone = _function(api, original["Handler"])
    for key in ("Code", "Handler", "Runtime", "Architectures"):
        assert clone[key] == original[key], key
    theirs, ours = original["Environment"]["Variables"], clone["Environment"]["Variables"]
    assert theirs.pop("API_KEY_REQUIRED_SCOPE") == "webhooks:manage"
    assert ours.pop("API_KEY_REQUIRED_SCOPE") == READ_SCOPE
    assert ours == theirs
    (authorizer,) = api.nested_of("AWS::ApiGateway::Authorizer").values()
    props = authorizer["Properties"]
    assert props["Type"] == "REQUEST"
    assert (props["AuthorizerResultTtlInSeconds"], props["IdentitySource"]) == (0, "")
    assert f"${{{clone_id}.Arn}}/invocations" in render(props["AuthorizerUri"])
    key_table = api.parent_id("AWS::DynamoDB::Table", KeySchema=[_key("key_id")])
    log_group = clone["LoggingConfig"]["LogGroup"]["Ref"]
    assert [(s["Effect"], _actions(s), render(s["Resource"])) for s in _statements(api, clone)] == [
        ("Allow", ("logs:CreateLogStream", "logs:PutLogEvents"), f"${{{log_group}.Arn}}"),
        ("Allow", ("dynamodb:GetItem",), f"${{{key_table}.Arn}}"),
    ]


@pytest.mark.parametrize("variant", ["api", "api-settings"])
def test_the_functions_environment_is_the_handlers_settings(
    synth: dict[str, Assembly], variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, function = _function(Api(synth[variant]), HANDLER)
    environment = function["Environment"]["Variables"]
    given = SETTINGS if variant == "api-settings" else {}
    fields = {"stack_name", "admin_group", *given}
    assert set(environment) == {env_name(field) for field in fields}
    assert fields <= set(ApiSettings.model_fields)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = ApiSettings()
    assert (settings.stack_name, settings.repo_table) == (STACK, None)
    if given:
        assert settings.admin_group == "WorkshopAdmins"
        assert (settings.allowed_owners, settings.max_repos) == (["workshop-2026", "acme"], 40)
        assert (settings.require_token, settings.github_api_url) == (True, "https://ghe.example.com/api/v3")
        assert settings.allowed_models == ["anthropic.claude-opus-4-8"]
    else:
        assert settings.admin_group == DEFAULT_ADMIN_GROUP


def test_the_function_runs_the_built_code_on_python_for_arm64(synth: dict[str, Assembly]) -> None:
    _, function = _function(Api(synth["api"]), HANDLER)
    assert (function["Runtime"], function["Architectures"]) == ("python3.13", ["arm64"])
    assert (function["MemorySize"], function["Timeout"]) == (512, 29)
    staged = synth["api"].path / f"asset.{function['Code']['S3Key'].removesuffix('.zip')}"
    assert tree_digest(staged) == tree_digest(api_function())
    manifest = json.loads((staged / "abca-deploy-function.json").read_text(encoding="utf-8"))
    assert manifest == {"handler": HANDLER, "python": "3.13", "platform": "aarch64-manylinux_2_34",
                        "abca_deploy": manifest["abca_deploy"]}
    assert (staged / "pydantic_core" / "_pydantic_core.cpython-313-aarch64-linux-gnu.so").is_file()
    assert (staged / "cedarpy" / "_internal.cpython-313-aarch64-linux-gnu.so").is_file()


def test_the_admin_group_and_gateway_responses(synth: dict[str, Assembly]) -> None:
    for variant, group in (("api", DEFAULT_ADMIN_GROUP), ("api-settings", "WorkshopAdmins")):
        api = Api(synth[variant])
        pool = api.parent_id("AWS::Cognito::UserPool")
        (found,) = api.nested_of("AWS::Cognito::UserPoolGroup").values()
        assert (found["Properties"]["GroupName"], found["Properties"]["UserPoolId"]) == (group, {"Ref": pool})
    assert not Api(synth["api-settings"]).nested_of("AWS::ApiGateway::GatewayResponse")
    api = Api(synth["api"])
    answers = {}
    for response in api.nested_of("AWS::ApiGateway::GatewayResponse").values():
        props = response["Properties"]
        assert props["RestApiId"] == {"Ref": _resources_of_abca(api.parent)["api"]}
        assert props["ResponseParameters"] == {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}
        body = props["ResponseTemplates"]["application/json"]
        code, message = json.loads(body)["error"]["code"], json.loads(body)["error"]["message"]
        # The handler's (and ABCA's response.ts) envelope, byte for byte, with API Gateway's request id.
        expected = error(ApiError(int(props["StatusCode"]), code, message), "$context.requestId")["body"]
        assert body == expected
        answers[props["ResponseType"]] = (props["StatusCode"], code)
    assert answers == {"UNAUTHORIZED": ("401", "UNAUTHORIZED"), "ACCESS_DENIED": ("403", "FORBIDDEN"),
                       "THROTTLED": ("429", "RATE_LIMIT_EXCEEDED")}


def test_the_build_is_reproducible(synth: dict[str, Assembly], tmp_path: Path) -> None:
    again = build_function(tmp_path / "again")
    assert tree_digest(again) == tree_digest(api_function())


def _manifest_dir(directory: Path, platform: str) -> str:
    directory.mkdir()
    manifest = {"handler": HANDLER, "python": "3.13", "platform": platform}
    (directory / "abca-deploy-function.json").write_text(json.dumps(manifest), encoding="utf-8")
    return str(directory)


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"code": "empty"}, "has no abca-deploy-function.json; build it with abca-deploy's "
                            "scripts/build-api-function"),
        ({"code": "x86"}, "was built for Python 3.13 on x86_64-manylinux_2_34; the function runs Python 3.13 "
                          "on aarch64-linux"),
        ({"code": "built", "abcaDeploy:maxRepos": "0"}, "Context abcaDeploy:maxRepos must be an integer of "
                                                         "at least 1, not \"0\"."),
        ({"abcaDeploy:maxRepos": "40"}, "Context abcaDeploy:maxRepos configures the repository API, which "
                                        "needs abcaDeploy:apiCode"),
        ({"off": "", "code": "built"}, "Context abcaDeploy:apiCode is set but abcaDeploy is not true"),
        ({"code": "garbled"}, "abca-deploy-function.json is not readable JSON"),
        ({"code": "built", "abcaDeploy:adminGroup": "Repo Admins"}, "Context abcaDeploy:adminGroup must be a "
                                                                     "Cognito group name"),
    ],
)
def test_a_misconfigured_api_fails_the_synth_saying_why(
    synth: dict[str, Assembly], tmp_path: Path, context: dict[str, str], message: str
) -> None:
    codes = {"empty": str(tmp_path), "built": str(api_function()),
             "x86": _manifest_dir(tmp_path / "x86", "x86_64-manylinux_2_34"),
             "garbled": str(tmp_path / "garbled")}
    (tmp_path / "garbled").mkdir()
    (tmp_path / "garbled" / "abca-deploy-function.json").write_text("{python: 3.13", encoding="utf-8")
    given = {"abcaDeploy": "true"} if "off" not in context else {}
    given.update({k: v for k, v in context.items() if k not in ("code", "off")})
    if "code" in context:
        given[abca_stack.API_CODE_CONTEXT] = codes[context["code"]]
    done = synthesize(tmp_path / "out", given)
    assert done.returncode != 0
    assert message in done.stdout + done.stderr


def test_the_built_code_serves_requests_on_its_own(
    synth: dict[str, Assembly], tmp_path: Path, moto_env: str
) -> None:
    """The build recipe, for this machine's Python, run with only the standard library and the build
    (``-S -E``: no site-packages, no PYTHON* variables), in the environment the template gives it."""
    ensure_platform()
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    here = ("--python", python, "--platform", "x86_64-manylinux_2_28")
    code = build_function(tmp_path / "function", *here)
    _, function = _function(Api(synth["api"]), HANDLER)
    script = _SERVE.replace("CODE", repr(str(code)))
    lambda_env = {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",  # as Lambda sets them
                  "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                  "AWS_SESSION_TOKEN": "testing"}
    env = {**function["Environment"]["Variables"], **lambda_env, "AWS_ENDPOINT_URL": moto_env,
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-S", "-E", "-c", script], env=env, capture_output=True, text=True,
                          check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    created, shown = (json.loads(line) for line in done.stdout.splitlines())
    assert created["statusCode"] == 201, (created, done.stderr[-3000:])
    assert shown["statusCode"] == 200, shown
    assert json.loads(shown["body"])["data"]["max_turns"] == 7


_SERVE = """
import json, sys
sys.path.insert(0, CODE)
from abca_deploy.api.handler import handler
admin = {"userId": "u-1", "principalId": "u-1", "groups": "RepoAdmin"}
def event(method, resource, body=None, repo_id=None):
    return {"httpMethod": method, "resource": resource, "headers": {"Content-Type": "application/json"},
            "pathParameters": {"repo_id": repo_id} if repo_id else None, "queryStringParameters": None,
            "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False,
            "requestContext": {"requestId": "r-1", "stage": "v1", "authorizer": admin}}
print(json.dumps(handler(event("POST", "/repos", {"repo": "octo/app", "max_turns": 7}))))
print(json.dumps(handler(event("GET", "/repos/{repo_id}", repo_id="octo%2Fapp"))))
"""
