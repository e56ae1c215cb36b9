"""The one module of ARN, digest and SSM-name rules, checked against the rules restated independently here and
against the botocore models' own patterns (ours must never accept what AWS's pattern rejects)."""

from __future__ import annotations

import re
import string

import botocore.session
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from abca_deploy.errors import UserError
from abca_deploy.identifiers import (
    ECR_URI,
    OWN_PREFIX,
    RUNTIME_ARN,
    SSM_MAX_LEVELS,
    SSM_MAX_NAME,
    digest_of,
    runtime_id_of,
    same_image,
    ssm_name_problem,
)
from abca_deploy.runtime.commands import PUBLISH
from abca_deploy.settings import parse

_MODEL = botocore.session.get_session().get_service_model("bedrock-agentcore-control")
MODEL_ARN = re.compile(_MODEL.shape_for("AgentRuntimeArn").metadata["pattern"])
MODEL_URI = re.compile(_MODEL.shape_for("RuntimeContainerUri").metadata["pattern"])

ALNUM = string.ascii_letters + string.digits
SSM_CHARS = ALNUM + "_.-"
names = st.builds(lambda first, rest: first + rest, st.sampled_from(string.ascii_letters),
                  st.text(ALNUM + "_", max_size=47))
runtime_ids = st.builds(lambda name, suffix: f"{name}-{suffix}", names,
                        st.text(ALNUM, min_size=10, max_size=10))
arns = st.builds(lambda partition, region, account, rid:
                 f"arn:{partition}:bedrock-agentcore:{region}:{account}:runtime/{rid}",
                 st.sampled_from(["aws", "aws-cn", "aws-us-gov"]),
                 st.sampled_from(["us-east-1", "eu-west-3", "ap-southeast-2"]),
                 st.text(string.digits, min_size=12, max_size=12), runtime_ids)
hexes = st.text("0123456789abcdef", min_size=64, max_size=64)


@given(arns)
def test_a_runtime_arn_gives_back_its_id_and_matches_the_botocore_pattern(arn: str) -> None:
    runtime_id = runtime_id_of(arn)
    assert runtime_id is not None
    assert arn.endswith(f":runtime/{runtime_id}")
    assert MODEL_ARN.fullmatch(arn)


@given(arns, st.sampled_from(["/../x", "/..", "/x/y", ".", "/", "%2F..", " "]), st.booleans())
def test_anything_appended_or_inserted_after_runtime_is_refused(arn: str, junk: str, prefix: bool) -> None:
    head, _, rid = arn.partition("runtime/")
    bad = f"{head}runtime/{junk}{rid}" if prefix else arn + junk
    assert runtime_id_of(bad) is None


@given(st.text(max_size=200))
def test_whatever_runtime_id_of_accepts_is_an_arn_botocore_accepts(text: str) -> None:
    if runtime_id_of(text) is not None:
        assert MODEL_ARN.fullmatch(text)


def test_a_runtime_arn_with_dot_dot_is_refused() -> None:
    assert runtime_id_of("arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/../x") is None
    assert RUNTIME_ARN.fullmatch("arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/../x") is None


@given(st.sampled_from(["123456789012.dkr.ecr.us-east-1.amazonaws.com", "public.ecr.aws"]),
       st.lists(st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8), min_size=1,
                max_size=3),
       st.one_of(st.none(), st.text(ALNUM + "_.-", min_size=1, max_size=20)), st.one_of(st.none(), hexes))
def test_ecr_uris_we_accept_are_uris_agentcore_accepts(registry: str, parts: list[str], tag: str | None,
                                                       hexdigest: str | None) -> None:
    uri = f"{registry}/{'/'.join(parts)}" + (f":{tag}" if tag else "") + (f"@sha256:{hexdigest}" if hexdigest
                                                                          else "")
    assert ECR_URI.fullmatch(uri)
    assert MODEL_URI.fullmatch(uri)
    assert digest_of(uri) == (f"sha256:{hexdigest}" if hexdigest else None)


@given(hexes, hexes, st.text(ALNUM, min_size=1, max_size=8))
def test_images_are_the_same_by_digest_whatever_their_tags(a: str, b: str, tag: str) -> None:
    repo = "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent"
    assert same_image(f"{repo}@sha256:{a}", f"{repo}:{tag}@sha256:{a}")
    assert same_image(f"{repo}@sha256:{a}", f"{repo}@sha256:{b}") == (a == b)
    assert not same_image(f"{repo}:{tag}", f"{repo}@sha256:{a}")  # a tag proves nothing
    assert digest_of(f"{repo}@sha256:{a[:63]}") is None


# -- SSM parameter names (PutParameter's Name rules, botocore model documentation) ---------------------------
segments = st.text(SSM_CHARS, min_size=1, max_size=30)


def _aws_valid(name: str) -> bool:
    """The rules restated: characters, leading / for hierarchies, levels, reserved prefixes, length."""
    levels = name.lstrip("/").split("/")
    return (bool(re.fullmatch(r"[A-Za-z0-9_.\-/]+", name)) and ("/" not in name or name.startswith("/"))
            and all(levels) and len(levels) <= SSM_MAX_LEVELS and len(name) <= SSM_MAX_NAME
            and not levels[0].lower().startswith(("aws", "ssm")))


@given(st.lists(segments, min_size=1, max_size=SSM_MAX_LEVELS), st.booleans())
def test_names_within_the_rules_are_accepted(levels: list[str], slash: bool) -> None:
    name = ("/" if slash or len(levels) > 1 else "") + "/".join(levels)
    assume(len(name) <= SSM_MAX_NAME and not levels[0].lower().startswith(("aws", "ssm")))
    assume(not ("/" + name.lstrip("/")).startswith(OWN_PREFIX))
    assert ssm_name_problem(name) is None


@given(st.text(max_size=60))
def test_any_name_accepted_obeys_every_rule(name: str) -> None:
    if ssm_name_problem(name) is None:
        assert _aws_valid(name)


@given(st.sampled_from(["aws", "AWS", "Aws", "ssm", "SSM", "sSm"]), segments, st.booleans())
def test_reserved_prefixes_are_refused_in_any_case(prefix: str, rest: str, slash: bool) -> None:
    assert "'aws' or 'ssm'" in (ssm_name_problem(("/" if slash else "") + prefix + rest) or "")


@pytest.mark.parametrize(("name", "why"), [
    ("a/b", "must start with '/'"),
    ("/a//b", "empty level"),
    ("/a/b/", "empty level"),
    ("/" + "/".join(["a"] * 16), "16 levels"),
    ("/" + "a" * SSM_MAX_NAME, "characters long"),
    ("/has space", "may contain only"),
    ("/abca-deploy/runtime/x/last-tested", "abca-deploy keeps its own state"),
])
def test_names_outside_the_rules_say_why(name: str, why: str) -> None:
    assert why in (ssm_name_problem(name) or "")


@pytest.mark.parametrize("name", ["/aws/service/x", "ssm-image", "/a b", "a/b", "/abca-deploy/x"])
def test_image_parameter_is_checked_when_parsed(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABCA_RUNTIME_ID", "abca_runtime-AbCdEfGh12")
    with pytest.raises(UserError) as caught:
        parse(PUBLISH, "p", ["--image-parameter", name])
    assert caught.value.exit_code == 2
    assert caught.value.message.startswith("--image-parameter: is not an SSM parameter name: ")
