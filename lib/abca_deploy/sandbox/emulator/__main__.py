"""``python -m abca_deploy.sandbox.emulator``: the AgentCore emulator in the foreground until SIGTERM/SIGINT.

On exit it removes the containers it started. Logs go to stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from abca_deploy.sandbox.emulator.invoke import DEFAULT_ERROR_FORM, ERROR_FORMS
from abca_deploy.sandbox.emulator.server import EmulatorServer

ERRORS_ENV = "ABCA_CONTAINER_ERRORS"  # the same variable `abca-deploy sandbox up` reads


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m abca_deploy.sandbox.emulator",
        description="Local Amazon Bedrock AgentCore emulator running real containers.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    parser.add_argument("--registry", required=True,
                        help="the OCI registry standing in for ECR, e.g. 127.0.0.1:5000")
    parser.add_argument("--account", default="123456789012", help="account id in ARNs (12 digits)")
    parser.add_argument("--region", default="us-east-1", help="region in ARNs")
    parser.add_argument("--ping-timeout", type=float, default=60.0,
                        help="seconds a new container has to answer GET /ping with 200 (default 60)")
    parser.add_argument("--instance", default="default", help="sandbox instance name put on container labels")
    parser.add_argument("--container-errors", choices=ERROR_FORMS,
                        default=os.environ.get(ERRORS_ENV) or DEFAULT_ERROR_FORM,
                        help="how a container's non-2xx answer reaches the caller: 'wrapped' (424 "
                             "RuntimeClientError \"Received error (NNN) from runtime\", as AWS answers) or "
                             f"'passthrough' (its status and body); default {DEFAULT_ERROR_FORM}, "
                             f"or ${ERRORS_ENV}")
    parser.add_argument("--debug", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    if args.container_errors not in ERROR_FORMS:  # argparse checks choices of given flags, not of defaults
        parser.error(f"${ERRORS_ENV} must be one of {', '.join(ERROR_FORMS)}, not {args.container_errors!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT, then stop and clean up."""
    args = parse(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    for noisy in ("urllib3", "docker"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = EmulatorServer(args.registry, account=args.account, region=args.region,
                            ping_timeout=args.ping_timeout, instance=args.instance,
                            host=args.host, port=args.port, container_errors=args.container_errors)
    server.start()
    try:
        stop.wait()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
