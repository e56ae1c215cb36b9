"""The package on its own: build the sdist and the wheel, install the wheel in a fresh virtual environment
outside the checkout, and run what an operator runs there: `--version`, `sandbox up` (first without the
sandbox extra, which must say what to install, then with it), a `runtime publish` of the example agent the
wheel ships, and `sandbox down`. Nothing here imports the checkout: every command runs the venv's own
`abca-deploy` from a scratch directory, and the test checks where `abca_deploy` was imported from.

Dependencies install offline from uv's cache when it holds them (pinned to uv.lock's versions through an
exported pylock.toml), else from PyPI. The release workflow runs this test on the artifacts it is about to
publish: RELEASE_DIST_DIR names the directory holding the built sdist and wheel, and the test builds nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.support.engine import running_engine
from tests.support.ports import sandbox_flags

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
VERSION = re.search(r'^__version__ = "([^"]+)"$', (ROOT / "lib/abca_deploy/__init__.py").read_text(),
                    re.MULTILINE)[1]  # type: ignore[index]
STACK = "backgroundagent-dev"


def _uv() -> str:
    found = shutil.which("uv")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("uv is not on PATH (scripts/bootstrap installs it)")
        pytest.skip("uv is not installed")
    return found


def _docker_up() -> None:
    running_engine().close()


class Venv:
    """A throwaway virtual environment and the commands run in it, from a directory outside the checkout."""

    def __init__(self, root: Path, uv: str) -> None:
        self.root, self.uv = root, uv
        self.bin = root / "venv" / "bin"
        self.work = root / "work"
        self.work.mkdir()
        self.env = {k: v for k, v in os.environ.items()
                    if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}}
        self.env["PATH"] = f"{self.bin}{os.pathsep}{self.env.get('PATH', '')}"
        self.run(uv, "venv", "--quiet", "--python", sys.executable, str(root / "venv"))

    def run(self, *argv: str, env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(argv, cwd=self.work, env={**self.env, **(env or {})}, capture_output=True,
                              text=True, check=False, timeout=600)
        if check and done.returncode != 0:
            pytest.fail(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def install(self, requirement: str, extras: tuple[str, ...] = ()) -> None:
        """Install `requirement` with its dependencies at uv.lock's versions (offline when uv's cache can)."""
        lock = self.root / f"pylock.{'-'.join(extras) or 'base'}.toml"
        export = [self.uv, "export", "--frozen", "--quiet", "--no-dev", "--no-emit-project", "--format",
                  "pylock.toml", "--output-file", str(lock), *[f"--extra={e}" for e in extras]]
        subprocess.run(export, cwd=ROOT, check=True, capture_output=True, text=True)
        python = str(self.bin / "python")
        for offline in (["--offline"], []):  # the cache first; PyPI only for what it does not hold
            pinned = self.run(self.uv, "pip", "install", "--quiet", "--python", python, *offline, "-r",
                              str(lock), check=not offline)
            if pinned.returncode == 0:
                break
        # The wheel's own metadata must resolve against what is installed: no index needed.
        self.run(self.uv, "pip", "install", "--quiet", "--offline", "--python", python, "--reinstall-package",
                 "abca-deploy", requirement)

    def cli(self, *argv: str, env: dict[str, str] | None = None) -> tuple[int, Any, str]:
        """`abca-deploy ARGV --output json` as the venv installed it: exit code, JSON result, stderr."""
        done = self.run(str(self.bin / "abca-deploy"), *argv, "--output", "json", env=env, check=False)
        return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None, done.stderr


def _dist(tmp_path: Path, uv: str) -> tuple[Path, Path]:
    """(sdist, wheel): the release's artifacts when RELEASE_DIST_DIR names them, else built here."""
    given = os.environ.get("RELEASE_DIST_DIR")
    dist = Path(given) if given else tmp_path / "dist"
    if not given:  # `uv build` builds the sdist, then the wheel from the sdist: both are exercised
        subprocess.run([uv, "build", "--quiet", "--out-dir", str(dist)], cwd=ROOT, check=True,
                       capture_output=True, text=True)
    (sdist,) = dist.glob("abca_deploy-*.tar.gz")
    (wheel,) = dist.glob("abca_deploy-*-py3-none-any.whl")
    return sdist, wheel


def test_the_wheel_runs_the_sandbox_and_a_publish_from_a_fresh_venv(tmp_path: Path) -> None:
    uv = _uv()
    _docker_up()
    sdist, wheel = _dist(tmp_path, uv)
    assert sdist.name == f"abca_deploy-{VERSION}.tar.gz"
    assert wheel.name == f"abca_deploy-{VERSION}-py3-none-any.whl"

    venv = Venv(tmp_path, uv)
    venv.install(str(wheel))
    assert venv.run(str(venv.bin / "abca-deploy"), "--version").stdout == f"abca-deploy {VERSION}\n"
    where = "import abca_deploy; print(abca_deploy.__file__)"
    imported = venv.run(str(venv.bin / "python"), "-c", where).stdout.strip()
    assert Path(imported).is_relative_to(tmp_path / "venv"), imported
    assert not Path(imported).is_relative_to(ROOT)

    state = tmp_path / "state"
    sandbox = sandbox_flags(state)

    # Without the extra: one line naming exactly what to install, and nothing started.
    code, _, err = venv.cli("sandbox", "up", *sandbox)
    assert code == 1, err
    (error,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert "moto's server, which the sandbox runs, is not installed" in error
    assert f"`uv tool install 'abca-deploy[sandbox]=={VERSION}'`" in error
    assert "Traceback" not in err
    assert not (state / "state.json").exists()

    venv.install(f"{wheel}[sandbox]", extras=("sandbox",))
    try:
        code, up, err = venv.cli("sandbox", "up", *sandbox)
        assert code == 0, err
        assert up["started"] == ["moto", "registry", "emulator", "api"]
        assert up["seed"]["runtime_status"] == "READY"
        assert up["seed"]["runtime_version"] == "1"
        emulator_pid = next(s["pid"] for s in up["services"] if s["name"] == "emulator")
        command = Path(f"/proc/{emulator_pid}/cmdline").read_bytes().split(b"\0")
        assert command[0].decode().startswith(str(tmp_path / "venv")), command  # the venv runs the emulator

        code, env, err = venv.cli("sandbox", "env", *sandbox)
        assert code == 0, err
        # The example agent as the wheel ships it, with a new message: a real change to publish.
        packaged = Path(imported).parent / "sandbox" / "examples"
        context = tmp_path / "agent-context"
        shutil.copytree(packaged, context)
        (context / "agent" / "src" / "message.txt").write_text("published from the wheel\n", encoding="utf-8")
        publish = ("runtime", "publish", "--stack-name", STACK, "--context", str(context))
        code, published, err = venv.cli(*publish, env=env)
        assert code == 0, err
        assert published["status"] == "deployed"
        assert published["runtime_version"] == "2"
        assert published["previous_version"] == "1"
        assert published["smoke_result"].startswith("passed")
        assert published["image_uri"].endswith(published["image_digest"])
    finally:
        code, _, err = venv.cli("sandbox", "down", *sandbox)
    assert code == 0, err
    assert not (state / "state.json").exists()
