"""Running integrations/abca's synthesis test app with the real CDK CLI, and reading what it wrote.

``compile_app`` runs ``install-deps`` and ``tsc`` once; each ``synthesize`` is then one ``cdk synth``
(cdk-nag on every stack: a finding fails it) with no AWS credentials. ``api_function`` builds the repository
API's function code with ``scripts/build-api-function``, once per change of what goes into it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "integrations" / "abca"
BUILD_SCRIPT = ROOT / "scripts" / "build-api-function"
API_FUNCTION = INTEGRATION / ".api-function"
"""The cached build of the repository API's function (gitignored); its input digest sits beside it."""
_DIGEST = INTEGRATION / ".api-function.sha256"
_TIMEOUT = 900


@dataclass(frozen=True)
class Assembly:
    """One ``cdk synth`` output directory."""

    path: Path

    def template(self, stack_name: str) -> dict[str, Any]:
        """The template of the stack called ``stack_name`` (not its construct id)."""
        for artifact in self.stacks().values():
            name = artifact.get("properties", {}).get("stackName") or artifact["displayName"]
            if name == stack_name:
                return self.read(artifact["properties"]["templateFile"])
        msg = f"no stack {stack_name} in {self.path}"
        raise AssertionError(msg)

    def nested(self, template: dict[str, Any], logical_id: str) -> dict[str, Any]:
        """The template of the nested stack ``logical_id`` of ``template``."""
        resource = template["Resources"][logical_id]
        assert resource["Type"] == "AWS::CloudFormation::Stack", resource
        return self.read(resource["Metadata"]["aws:asset:path"])

    def read(self, name: str) -> dict[str, Any]:
        """A JSON file of the assembly."""
        document: dict[str, Any] = json.loads((self.path / name).read_text(encoding="utf-8"))
        return document

    def stacks(self) -> dict[str, dict[str, Any]]:
        """Stack artifact id -> its manifest entry."""
        manifest = self.read("manifest.json")
        return {k: v for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack"}


def cdk_env() -> dict[str, str]:
    """The environment of a synth: no credentials, no profile, no metadata service, no telemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null", CDK_DISABLE_CLI_TELEMETRY="true")
    return env


def run(argv: list[str], *, cwd: Path = INTEGRATION) -> None:
    """Run ``argv``; fail the test with its output if it fails."""
    done = subprocess.run(argv, cwd=cwd, env=cdk_env(), capture_output=True, text=True, check=False,
                          timeout=_TIMEOUT)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed ({done.returncode}):\n{_tail(done)}")


def _tail(done: subprocess.CompletedProcess[str]) -> str:
    return f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def compile_app() -> None:
    """Install the node packages, compile the module and the test app (skipped without node, but in CI)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI"):
            pytest.fail("node and npm are missing; scripts/bootstrap installs them")
        pytest.skip("node and npm are needed (Debian: apt-get install nodejs npm)")
    run([str(INTEGRATION / "install-deps")])
    run([str(INTEGRATION / "node_modules" / ".bin" / "tsc"), "-p", "tsconfig.json"])


def synthesize(out: Path, context: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``cdk synth`` of the test app into ``out`` with ``context``; returns the finished process."""
    flags = [arg for key, value in context.items() for arg in ("-c", f"{key}={value}")]
    argv = [str(INTEGRATION / "node_modules" / ".bin" / "cdk"), "synth", "--quiet", "--no-notices",
            "-o", str(out), *flags]
    return subprocess.run(argv, cwd=INTEGRATION, env=cdk_env(), capture_output=True, text=True, check=False,
                          timeout=_TIMEOUT)


def synthesized(out: Path, context: dict[str, str]) -> Assembly:
    """The assembly of a synth that must succeed."""
    done = synthesize(out, context)
    if done.returncode != 0:
        pytest.fail(f"cdk synth {context} failed ({done.returncode}):\n{_tail(done)}")
    return Assembly(out)


def _inputs_digest() -> str:
    """A digest of everything ``build-api-function`` puts into the function: the distribution and the pins."""
    digest = hashlib.sha256()
    files = [ROOT / "uv.lock", ROOT / "pyproject.toml", ROOT / "README.md", BUILD_SCRIPT]
    files += sorted(p for p in (ROOT / "lib").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_function(out: Path, *options: str) -> Path:
    """``scripts/build-api-function OUT [options]``; returns ``out``."""
    run([str(BUILD_SCRIPT), str(out), *options], cwd=ROOT)
    return out


def api_function() -> Path:
    """The API's function code for Lambda (the script's defaults), rebuilt only when an input changed."""
    wanted = _inputs_digest()
    if not (_DIGEST.is_file() and _DIGEST.read_text(encoding="utf-8") == wanted and API_FUNCTION.is_dir()):
        build_function(API_FUNCTION)
        _DIGEST.write_text(wanted, encoding="utf-8")
    return API_FUNCTION


def tree_digest(directory: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``directory``."""
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}
