"""Settings of the ``sandbox`` commands: the state dir and the ports (flags, or ABCA_* variables)."""

from __future__ import annotations

from pathlib import Path  # noqa: TC003 - pydantic resolves the annotation at runtime
from typing import TYPE_CHECKING, Literal

from pydantic import Field, JsonValue, ValidationInfo, field_validator

from abca_deploy.sandbox.state import default_state_dir
from abca_deploy.settings import CommandSettings

if TYPE_CHECKING:
    from abca_deploy.sandbox.stack import Ports

_PORT: dict[str, JsonValue] = {"form": "integer 1-65535", "metavar": "PORT"}


class SandboxSettings(CommandSettings):
    """Where the sandbox keeps its state and which ports it listens on (127.0.0.1)."""

    state_dir: Path = Field(default_factory=default_state_dir,
                            description="State directory (pids, ports, logs); default ~/.abca-sandbox.",
                            json_schema_extra={"form": "a directory path", "metavar": "DIR"})
    moto_port: int = Field(5050, ge=1, le=65535, description="moto server port (default 5050).",
                           json_schema_extra=_PORT)
    registry_port: int = Field(5051, ge=1, le=65535, description="OCI registry port (default 5051).",
                               json_schema_extra=_PORT)
    emulator_port: int = Field(5052, ge=1, le=65535, description="AgentCore emulator port (default 5052).",
                               json_schema_extra=_PORT)
    api_port: int = Field(5053, ge=1, le=65535, json_schema_extra=_PORT,
                          description="Repository API (local API Gateway) port (default 5053).")

    @field_validator("state_dir")
    @classmethod
    def _state_dir(cls, value: Path) -> Path:
        path = value.expanduser()
        if path.exists() and not path.is_dir():
            msg = "exists and is not a directory"
            raise ValueError(msg)
        return path.absolute()

    @field_validator("registry_port")
    @classmethod
    def _registry_port(cls, value: int, info: ValidationInfo) -> int:
        if value == info.data.get("moto_port"):
            msg = "must differ from --moto-port"
            raise ValueError(msg)
        return value

    @field_validator("emulator_port")
    @classmethod
    def _emulator_port(cls, value: int, info: ValidationInfo) -> int:
        for other in ("moto_port", "registry_port"):
            if value == info.data.get(other):
                msg = f"must differ from --{other.replace('_', '-')}"
                raise ValueError(msg)
        return value

    @field_validator("api_port")
    @classmethod
    def _api_port(cls, value: int, info: ValidationInfo) -> int:
        for other in ("moto_port", "registry_port", "emulator_port"):
            if value == info.data.get(other):
                msg = f"must differ from --{other.replace('_', '-')}"
                raise ValueError(msg)
        return value

    def ports(self) -> Ports:
        """The configured ports."""
        from abca_deploy.sandbox.stack import Ports

        return Ports(moto=self.moto_port, registry=self.registry_port, emulator=self.emulator_port,
                     api=self.api_port)


class UpSettings(SandboxSettings):
    """``abca-deploy sandbox up``."""

    no_seed: bool = Field(False, description="Start the services only; do not seed the ABCA-shaped platform.")
    shape: Literal["unpatched", "integrated"] | None = Field(None, description=(
        "The ABCA to seed: unpatched (as upstream ships it) or integrated (with abca-deploy's "
        "integrations/abca: image parameter, CI image repository, runtime domain list, their outputs). "
        "Default: the shape already seeded, else unpatched."))
    wait_timeout: int = Field(300, ge=10, le=3600,
                              description="Seconds to wait for the seeded runtime to be READY (default 300).",
                              json_schema_extra={"form": "seconds, 10-3600"})
    container_errors: Literal["wrapped", "passthrough"] = Field(
        "wrapped", description="How the emulator reports an agent container's non-2xx answer: 'wrapped' (424 "
        "RuntimeClientError 'Received error (NNN) from runtime', as AWS does) or 'passthrough' (its status "
        "and body). Applies when the emulator starts.")
