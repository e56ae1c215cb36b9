"""What a Dockerfile reads from its build context, and Docker's .dockerignore matching."""

from __future__ import annotations

import pytest

from abca_deploy.gates.dockerfile import Unresolved, clean_source, context_sources, copies, instructions
from abca_deploy.gates.image import DockerIgnore


def sources(text: str) -> list[str]:
    return [clean_source(s) for s in context_sources(instructions(text))]


def test_shell_and_json_forms_flags_and_continuations() -> None:
    text = """\
FROM python:3 AS base
# a comment
COPY --chown=1:1 --link a.txt \\
     # a comment inside the continuation
     b/ /dst/
COPY ["c d.txt", "/dst/"]
copy e /dst/
"""
    parsed = instructions(text)
    assert [(i.keyword, i.flags, i.args) for i in parsed[1:]] == [
        ("COPY", ("--chown=1:1", "--link"), ("a.txt", "b/", "/dst/")),
        ("COPY", (), ("c d.txt", "/dst/")),
        ("COPY", (), ("e", "/dst/")),
    ]
    assert sources(text) == ["a.txt", "b", "c d.txt", "e"]


def test_the_escape_directive() -> None:
    text = "# escape=`\nFROM x\nCOPY a `\n  b /dst/\n"
    assert sources(text) == ["a", "b"]


def test_what_comes_from_elsewhere_does_not_count() -> None:
    text = """\
FROM golang AS build
RUN go build -o /out/tool
FROM python:3
COPY --from=build /out/tool /usr/bin/tool
COPY --from=ghcr.io/astral-sh/uv:0.11 /uv /usr/bin/uv
ADD https://example.com/archive.tgz /tmp/
ADD git@github.com:example/repo.git /src
ADD vendor.tgz /opt/
RUN --mount=type=cache,target=/root/.cache pip install x
RUN --mount=type=bind,from=build,source=/out,target=/out ls
COPY <<EOF /app/generated.txt
COPY secret.txt /app/
EOF
COPY real.txt /app/
"""
    assert sources(text) == ["vendor.tgz", "real.txt"]


def test_bind_mounts_read_the_context() -> None:
    text = "FROM x\nRUN --mount=type=bind,source=requirements.txt,target=/r pip install -r /r\n" \
           "RUN --mount=type=bind,target=/src make\n"
    assert sources(text) == ["requirements.txt", "."]


def test_arg_and_env_values_in_sources() -> None:
    text = """\
ARG APP=agent
FROM x
ARG APP
ARG DATA=contracts
ENV CONF conf/app.json
ENV EXTRA=extra
COPY ${APP}/src $DATA/ ${CONF} ${MISSING:-fallback} ${EXTRA:+plus}/x /dst/
"""
    assert sources(text) == ["agent/src", "contracts", "conf/app.json", "fallback", "plus/x"]


def test_a_global_arg_is_not_visible_in_a_stage_without_redeclaring_it() -> None:
    with pytest.raises(Unresolved, match="APP"):
        sources("ARG APP=agent\nFROM x\nCOPY ${APP}/src /dst/\n")
    with pytest.raises(Unresolved, match="SRC"):
        sources("FROM x\nARG SRC\nCOPY $SRC /dst/\n")


def test_clean_source_stays_inside_the_context() -> None:
    assert clean_source("/agent/../contracts/") == "contracts"
    assert clean_source("./") == "."
    assert clean_source("../../etc/passwd") == "etc/passwd"
    assert clean_source("agent/./src//") == "agent/src"


@pytest.mark.parametrize(("source", "path", "expected"), [
    ("agent/src", "agent/src/a/b.py", True),
    ("agent/src", "agent/srcx/b.py", False),
    ("agent/uv.lock", "agent/uv.lock", True),
    ("agent/*.toml", "agent/pyproject.toml", True),
    ("agent/*.toml", "agent/sub/pyproject.toml", False),
    ("agent/*", "agent/src/deep/x.py", True),
    ("Agent/src", "agent/src/x.py", False),
    (".", "anything/at/all", True),
])
def test_copies(source: str, path: str, expected: bool) -> None:
    assert copies(source, path) is expected


@pytest.mark.parametrize(("path", "excluded"), [
    ("README.md", True),  # *.md matches at the context root only
    ("agent/README.md", False),
    ("node_modules/x/index.js", True),
    ("cdk/node_modules/x/index.js", False),
    ("agent/a/b/__pycache__/m.pyc", True),  # a parent directory matched
    ("agent/src/fixtures/big.bin", True),
    ("agent/src/fixtures/keep.json", False),  # re-included
    ("Node_Modules/x", False),  # case-sensitive, as on Linux
    ("docs/dist/index.html", True),
])
def test_dockerignore_matching(path: str, excluded: bool) -> None:
    ignore = DockerIgnore(["# comment", "", "*.md", "/node_modules/", "agent/**/__pycache__/", "docs/dist",
                           "agent/src/fixtures/", "!agent/src/fixtures/keep.json"])
    assert ignore.excludes(path) is excluded
