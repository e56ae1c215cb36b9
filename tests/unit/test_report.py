"""The reporter: what GitHub Actions and a terminal user see."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import pytest

from abca_deploy.report import Reporter

if TYPE_CHECKING:
    from pathlib import Path


def actions_reporter(tmp_path: Path, output: str = "text") -> Reporter:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "out"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }
    reporter = Reporter.from_env(output=output, env=env)
    reporter.stdout, reporter.stderr = io.StringIO(), io.StringIO()
    return reporter


def read_outputs(path: Path) -> dict[str, str]:
    """Parse $GITHUB_OUTPUT the way the runner does (name<<DELIM ... DELIM)."""
    lines = path.read_text().splitlines()
    values, i = {}, 0
    while i < len(lines):
        name, delim = lines[i].split("<<", 1)
        end = lines.index(delim, i + 1)
        values[name] = "\n".join(lines[i + 1 : end])
        i = end + 1
    return values


def test_outputs_are_multiline_safe(tmp_path: Path) -> None:
    reporter = actions_reporter(tmp_path)
    reporter.set_output("image-uri", "repo@sha256:abc")
    reporter.set_output("notes", "line one\nEOF\nline three")
    reporter.set_output("changed", True)
    assert read_outputs(tmp_path / "out") == {
        "image-uri": "repo@sha256:abc",
        "notes": "line one\nEOF\nline three",
        "changed": "true",
    }


def test_annotations_masks_and_groups_in_actions(tmp_path: Path) -> None:
    reporter = actions_reporter(tmp_path)
    reporter.mask("s3cr3t-token")
    with reporter.group("Build"):
        reporter.info("using s3cr3t-token now")
    reporter.error("failed: 50%\nsecond line", title="Smoke test: failed")
    err = reporter.stderr.getvalue().splitlines()
    assert err[0] == "::add-mask::s3cr3t-token"
    assert "::group::Build" in err
    assert "::endgroup::" in err
    assert "using *** now" in err
    assert "::error title=Smoke test%3A failed::failed: 50%25%0Asecond line" in err
    assert "s3cr3t-token" not in "\n".join(err[1:])


def test_plain_text_outside_actions() -> None:
    reporter = Reporter(stdout=io.StringIO(), stderr=io.StringIO())
    reporter.mask("hunter2")
    reporter.warning("careful with hunter2", title="ignored in plain text")
    with reporter.group("Wait"):
        pass
    err = reporter.stderr.getvalue()
    assert "warning: careful with ***" in err
    assert "::" not in err
    assert "hunter2" not in err
    assert "== Wait" in err


def test_json_mode_prints_exactly_one_document_on_stdout(tmp_path: Path) -> None:
    reporter = actions_reporter(tmp_path, output="json")
    reporter.info("progress goes to stderr")
    reporter.result({"status": "deployed", "n": 1}, "ignored text")
    assert json.loads(reporter.stdout.getvalue()) == {"status": "deployed", "n": 1}
    with pytest.raises(RuntimeError):
        reporter.result({"again": True})


def test_summary_is_appended_and_redacted(tmp_path: Path) -> None:
    reporter = actions_reporter(tmp_path)
    reporter.mask("ghp_secret")
    reporter.summary("### One ghp_secret")
    reporter.summary("### Two")
    assert (tmp_path / "summary").read_text() == "### One ***\n\n### Two\n\n"


def test_no_files_written_outside_actions(tmp_path: Path) -> None:
    env = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    reporter = Reporter.from_env(env=env)
    reporter.set_output("status", "deployed")
    reporter.summary("x")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "summary").exists()
    assert reporter.outputs == {"status": "deployed"}


def test_runner_debug_enables_debug_lines() -> None:
    reporter = Reporter.from_env(env={"RUNNER_DEBUG": "1"})
    reporter.stderr = io.StringIO()
    reporter.debug("details")
    assert "debug: details" in reporter.stderr.getvalue()
