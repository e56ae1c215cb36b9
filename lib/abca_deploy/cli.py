"""The ``abca-deploy`` console script: lazy command dispatch, error reporting and exit codes.

Command modules are imported only when their command runs, so ``abca-deploy --help`` starts without boto3,
docker, PyGithub or pydantic.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING

from abca_deploy import __version__
from abca_deploy.errors import EXIT_OK, EXIT_SIGINT, EXIT_USAGE, AbcaError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from abca_deploy.report import Reporter
    from abca_deploy.settings import Command

PROG = "abca-deploy"

# group -> (help, {subcommand: (target "module:ATTR", help)}); a top-level command has one "" subcommand.
COMMANDS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "runtime": (
        "Publish, inspect and roll back the AgentCore runtime.",
        {
            "publish": (
                "abca_deploy.runtime.commands:PUBLISH",
                "Build, push by digest, update the runtime, wait, smoke-test, roll back on failure.",
            ),
            "status": (
                "abca_deploy.runtime.commands:STATUS",
                "Show the runtime's version, image, status, failure reason and endpoints.",
            ),
            "rollback": (
                "abca_deploy.runtime.commands:ROLLBACK",
                "Redeploy the newest tested version's configuration, or move an endpoint back.",
            ),
            "resolve": (
                "abca_deploy.runtime.commands:RESOLVE",
                "Print the runtime's id, ARN and the concurrency key of jobs that change it.",
            ),
            "adopt": (
                "abca_deploy.runtime.adopt_command:ADOPT",
                "Migration to integrations/abca: copy the live image into the CI repository, record it.",
            ),
        },
    ),
    "repo": (
        "Onboard and manage repositories in the ABCA repo table.",
        {
            "onboard": (
                "abca_deploy.repos.commands:ONBOARD",
                "Onboard a repository (or re-activate a removed one).",
            ),
            "update": (
                "abca_deploy.repos.commands:UPDATE",
                "Change the given fields of an onboarded repository.",
            ),
            "show": ("abca_deploy.repos.commands:SHOW", "Show one repository's row."),
            "list": ("abca_deploy.repos.commands:LIST", "List repositories."),
            "offboard": (
                "abca_deploy.repos.commands:OFFBOARD",
                "Soft-delete a repository (status removed, 30-day TTL).",
            ),
            "sync": ("abca_deploy.repos.commands:SYNC", "Make the table match a repos.yaml file."),
            "login": (
                "abca_deploy.repos.session:LOGIN",
                "Sign in to ABCA's API (Cognito) for `repo ... --api-url`.",
            ),
        },
    ),
    "sandbox": (
        "Run the local sandbox: moto, an OCI registry and the AgentCore emulator.",
        {
            "up": (
                "abca_deploy.sandbox.commands:UP",
                "Start the sandbox (idempotent) and seed an ABCA-shaped platform.",
            ),
            "down": (
                "abca_deploy.sandbox.commands:DOWN",
                "Stop exactly what 'up' started and remove its state.",
            ),
            "status": ("abca_deploy.sandbox.commands:STATUS", "Show each sandbox service."),
            "env": (
                "abca_deploy.sandbox.commands:ENV",
                "Print export lines that point AWS tools at the sandbox.",
            ),
            "token": (
                "abca_deploy.sandbox.signin:TOKEN",
                "Print a Cognito ID token for a seeded user (admin or participant).",
            ),
        },
    ),
    "changes": (
        "Decide which lifecycles a git range touches (path gates).",
        {
            "": (
                "abca_deploy.gates.changes:CHANGES",
                "Decide which lifecycles a git range touches (path gates).",
            ),
        },
    ),
    "record": (
        "Record a successful deploy as a GitHub deployment (changes --stack-name diffs from it).",
        {
            "": (
                "abca_deploy.gates.record:RECORD",
                "Record a successful deploy as a GitHub deployment (changes --stack-name diffs from it).",
            ),
        },
    ),
    "pr-comment": (
        "Write the plan as one job summary and one pull request comment, updated in place.",
        {
            "": (
                "abca_deploy.gates.comment:COMMENT",
                "Write the plan as one job summary and one pull request comment, updated in place.",
            ),
        },
    ),
    "drift": (
        "Compare the live runtime image with the stack template and the image parameter.",
        {
            "": (
                "abca_deploy.gates.drift:DRIFT",
                "Compare the live runtime image with the stack template and the image parameter.",
            ),
        },
    ),
}


def _usage() -> str:
    lines = [
        f"usage: {PROG} [--debug] [--version] COMMAND ...",
        "",
        "Lifecycle-split deployment for ABCA on Amazon Bedrock AgentCore.",
        "",
        "commands:",
    ]
    for group, (help_text, subs) in COMMANDS.items():
        lines.append(f"  {group:<10} {help_text}")
        for sub, (_, sub_help) in subs.items():
            if sub:
                lines.append(f"    {sub:<10} {sub_help}")
    lines += [
        "",
        f"Run '{PROG} COMMAND [SUBCOMMAND] --help' for a command's flags.",
        "Exit codes: 0 ok, 1 the operation failed, 2 the input must be fixed, 3 drift.",
    ]
    return "\n".join(lines)


def _group_usage(group: str) -> str:
    help_text, subs = COMMANDS[group]
    lines = [f"usage: {PROG} {group} SUBCOMMAND ...", "", help_text, "", "subcommands:"]
    lines += [f"  {sub:<10} {sub_help}" for sub, (_, sub_help) in subs.items()]
    return "\n".join(lines)


def _load(target: str) -> Command:
    module, _, attr = target.partition(":")
    command: Command = getattr(importlib.import_module(module), attr)
    return command


def _wants_json(argv: Sequence[str]) -> bool:
    for i, arg in enumerate(argv):
        if arg == "--output=json" or (arg == "--output" and i + 1 < len(argv) and argv[i + 1] == "json"):
            return True
    return os.environ.get("ABCA_OUTPUT", "").strip() == "json" and "--output" not in " ".join(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = False
    while args and args[0] in {"--debug", "--version"}:
        if args.pop(0) == "--version":
            print(f"{PROG} {__version__}")
            return EXIT_OK
        debug = True
    debug = debug or "--debug" in args
    args = [a for a in args if a != "--debug"]
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return EXIT_OK if args else EXIT_USAGE
    group, rest = args[0], args[1:]
    if group not in COMMANDS:
        print(f"{PROG}: unknown command {group!r}; choose from {', '.join(COMMANDS)}.", file=sys.stderr)
        return EXIT_USAGE
    subs = COMMANDS[group][1]
    if "" in subs:
        sub, prog = "", f"{PROG} {group}"
    elif not rest or rest[0] in {"-h", "--help"}:
        print(_group_usage(group))
        return EXIT_OK if rest else EXIT_USAGE
    elif rest[0] not in subs:
        print(
            f"{PROG} {group}: unknown subcommand {rest[0]!r}; choose from {', '.join(subs)}.", file=sys.stderr
        )
        return EXIT_USAGE
    else:
        sub, rest, prog = rest[0], rest[1:], f"{PROG} {group} {rest[0]}"
    return _run(subs[sub][0], prog, rest, debug=debug)


def _run(target: str, prog: str, argv: list[str], *, debug: bool) -> int:
    from abca_deploy.interrupts import SIGNALS, Interrupted
    from abca_deploy.report import Reporter

    reporter = Reporter.from_env(output="json" if _wants_json(argv) else "text", debug=debug)
    try:
        with SIGNALS.handled():
            from abca_deploy.settings import parse

            command = _load(target)
            settings = parse(command, prog, argv)
            code = command.run(settings, reporter)
        return EXIT_OK if code is None else code
    except SystemExit as exc:  # argparse --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except AbcaError as err:
        _report_error(reporter, err)
        _traceback(reporter, err)
        return err.exit_code
    except Interrupted as stop:
        reporter.error(f"Interrupted by {stop.name}.", title="Interrupted")
        _traceback(reporter, stop)
        return stop.exit_code
    except KeyboardInterrupt as stop:  # a SIGINT while no handler was installed (not the main thread)
        reporter.error("Interrupted.", title="Interrupted")
        _traceback(reporter, stop)
        return EXIT_SIGINT


def _traceback(reporter: Reporter, error: BaseException) -> None:
    """With --debug or RUNNER_DEBUG=1, the traceback too; the exit code stays what it would be without."""
    if reporter.debug_enabled:
        import traceback

        reporter.debug("".join(traceback.format_exception(error)).rstrip())


def _report_error(reporter: Reporter, err: AbcaError) -> None:
    reporter.error(err.one_line(), title=err.title)
    reporter.summary(f"### :x: {err.title}\n\n{err.one_line()}")
    if reporter.output == "json" and not reporter.result_emitted:
        reporter.result(
            {
                "status": "failed",
                "error": {
                    "title": err.title,
                    "message": err.message,
                    "hint": err.hint,
                    "exit_code": err.exit_code,
                },
            }
        )


if __name__ == "__main__":
    raise SystemExit(main())
