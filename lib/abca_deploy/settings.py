"""Input parsing. One pydantic-settings model per command is the only place input is parsed.

Every field is reachable three ways, all derived from its name: the flag ``--kebab-name``, the environment
variable ``ABCA_SNAKE_NAME`` (what the composite actions set from their inputs), and the action input
``kebab-name``. Flags win over the environment; empty strings count as unset (GitHub sends ``""`` for unset
inputs). Lists accept repeated flags, or one value split on newlines (and on commas for ``CommaList``).
"""

from __future__ import annotations

import argparse
import re
import types
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from abca_deploy.credentials import looks_like_credential, redact_credentials
from abca_deploy.errors import UserError
from abca_deploy.identifiers import REGION, STACK_NAME, STACK_REF, ssm_name_problem

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from abca_deploy.report import Reporter

ENV_PREFIX = "ABCA_"


def _split(separators: str) -> Callable[[Any], Any]:
    pattern = re.compile(f"[{re.escape(separators)}]")

    def split(value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, (list, tuple)):
            items: list[str] = []
            for item in value:
                parts = pattern.split(item) if isinstance(item, str) else [item]
                items += [p.strip() for p in parts if isinstance(p, str) and p.strip()]
            return items
        return value

    return split


split_lines = _split("\n")
"""Repeated flags or newline-separated text to a list of non-empty stripped items."""

Lines = Annotated[list[str], NoDecode, BeforeValidator(split_lines)]
"""A list from repeated flags, or newline-separated text (an action's multi-line input)."""

CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split("\n,"))]
"""A list from repeated flags, or text separated by commas or newlines."""


class CommandSettings(BaseSettings):
    """Base for every command's settings: env prefix, empty-is-unset, frozen, no unknown keys."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    output: Literal["text", "json"] = Field("text", description="Result format on stdout: text or json.")


@dataclass(frozen=True)
class Command:
    """A CLI command: its settings model, what it does, and its one-line help."""

    settings: type[CommandSettings]
    run: Callable[[Any, Reporter], int | None]
    help: str
    positional: tuple[str, ...] = ()


def flag_name(field: str) -> str:
    """``max_turns`` -> ``--max-turns``."""
    return "--" + field.replace("_", "-")


def env_name(field: str) -> str:
    """``max_turns`` -> ``ABCA_MAX_TURNS``."""
    return ENV_PREFIX + field.upper()


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _is_list(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation) if a is not type(None))
    return origin in (list, tuple)


def _is_bool(annotation: Any) -> bool:
    if annotation is bool:
        return True
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return any(a is bool for a in typing.get_args(annotation))
    return False


def _choices(annotation: Any) -> list[str] | None:
    if typing.get_origin(annotation) is Literal:
        return [str(a) for a in typing.get_args(annotation)]
    return None


def build_parser(prog: str, command: Command) -> argparse.ArgumentParser:
    """An argparse parser whose flags are exactly the settings model's fields."""
    parser = _Parser(prog=prog, description=command.help, argument_default=argparse.SUPPRESS)
    for name in command.positional:
        info = command.settings.model_fields[name]
        parser.add_argument(name, nargs="?", help=f"{info.description} (env {env_name(name)})")
    for name, info in command.settings.model_fields.items():
        if name in command.positional:
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        help_text = f"{info.description or ''} (env {env_name(name)})"
        if _is_bool(info.annotation) and info.default is True:
            parser.add_argument(flag_name(name), dest=name, action=argparse.BooleanOptionalAction,
                                help=help_text)
        elif _is_bool(info.annotation):
            parser.add_argument(flag_name(name), dest=name, action="store_const", const=True, help=help_text)
        elif _is_list(info.annotation):
            parser.add_argument(
                flag_name(name),
                dest=name,
                action="append",
                metavar=str(extra.get("metavar", "VALUE")),
                help=help_text + "; repeatable",
            )
        else:
            parser.add_argument(
                flag_name(name),
                dest=name,
                metavar=str(extra.get("metavar", "VALUE")),
                choices=_choices(info.annotation),
                help=help_text,
            )
    return parser


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        msg = f"{self.prog}: {message}."
        raise UserError(msg, hint=f"See '{self.prog} --help'.", title="Invalid arguments")


def parse(command: Command, prog: str, argv: Sequence[str]) -> Any:
    """Parse flags plus the environment into the command's settings, or raise a one-line UserError."""
    namespace = build_parser(prog, command).parse_args(list(argv))
    values = {k: v for k, v in vars(namespace).items() if v is not None}
    try:
        return command.settings(**values)
    except ValidationError as exc:
        raise settings_error(exc, command.settings, command.positional) from None


def settings_error(
    exc: ValidationError, model: type[CommandSettings], positional: Sequence[str] = ()
) -> UserError:
    """The first validation error as a one-line message naming the flag and the allowed form."""
    err = exc.errors()[0]
    loc = [str(part) for part in err["loc"]]
    field = loc[0] if loc else ""
    info = model.model_fields.get(field)
    where = (field if field in positional else flag_name(field)) if info else field or "input"
    if info and len(loc) > 1 and loc[1].isdigit():
        where += f" (item {int(loc[1]) + 1})"
    message = str(err.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    message = redact_credentials(message)
    value = err.get("input")
    shown = ""
    if (isinstance(value, (str, int, float)) and err["type"] != "missing" and not _secret(field)
            and not looks_like_credential(str(value))):
        text = str(value)
        shown = f" (got {text[:60]!r})" if len(text) <= 60 else f" (got {text[:57]!r}...)"
    form = ""
    if info and isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("form"):
        form = f"; allowed: {info.json_schema_extra['form']}"
    text = f"{where}: {message}{shown}{form}." if field else f"{message[:1].upper()}{message[1:]}."
    return UserError(text.replace("..", "."), title=f"Invalid {where}")


def _secret(field: str) -> bool:
    return any(word in field for word in ("token", "password", "secret_value"))


ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
ENV_FORM = "the NAME of an environment variable that holds the token (letters, digits, '_')"


def env_var_name(value: str) -> str:
    """The name of an environment variable; a value that looks like a token itself is refused unseen."""
    if looks_like_credential(value):
        msg = ("looks like a token, not the name of an environment variable (the value is not shown): put "
               "the token in an environment variable and pass that variable's name")
        raise ValueError(msg)
    if not ENV_NAME.fullmatch(value):
        msg = "is not an environment variable name"
        raise ValueError(msg)
    return value


EnvName = Annotated[str, AfterValidator(env_var_name)]
"""The name of an environment variable that holds a token (never the token)."""


def http_url(value: str) -> str:
    """An http(s) URL, or ``ValueError``."""
    if not value.startswith(("https://", "http://")):
        msg = "is not an http(s) URL"
        raise ValueError(msg)
    return value


def matching(pattern: str, message: str) -> AfterValidator:
    """A validator: the value (when given) must match ``pattern`` in full, else ``message``."""
    compiled = re.compile(pattern)

    def check(value: Any) -> Any:
        if value is not None and not compiled.fullmatch(str(value)):
            raise ValueError(message)
        return value

    return AfterValidator(check)


StackName = Annotated[str, matching(STACK_NAME, "is not a CloudFormation stack name")]
"""A CloudFormation stack name (not an ARN)."""
STACK_NAME_FORM = "a letter, then letters, digits and '-', at most 128, e.g. backgroundagent-dev"

StackRef = Annotated[str, matching(STACK_REF, "is not a CloudFormation stack name or stack ARN")]
"""A CloudFormation stack name or stack ARN."""
STACK_REF_FORM = "a stack name (a letter, then letters, digits and '-', at most 128) or a stack ARN"

Region = Annotated[str | None, matching(REGION, "is not an AWS region")]
"""An optional AWS region such as us-east-1."""


def _ssm_parameter_name(value: str | None) -> str | None:
    if value is not None and (problem := ssm_name_problem(value)):
        msg = f"is not an SSM parameter name: {problem}"
        raise ValueError(msg)
    return value


SsmParameterName = Annotated[str | None, AfterValidator(_ssm_parameter_name)]
"""An optional SSM parameter name a user owns, such as /abca/runtime-image (AWS's naming rules)."""
