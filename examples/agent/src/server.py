"""A small agent implementing the Amazon Bedrock AgentCore HTTP contract (stdlib only).

GET /ping         -> 200 {"status": "Healthy", "time_of_last_update": <unix seconds>}
POST /invocations -> like ABCA's agent: {"input": {}} is 400 TASK_RECORD_INCOMPLETE (no work started);
                     {"input": {...}} or {"prompt": "..."} answers 200 JSON, or text/event-stream when the
                     request's Accept header asks for it.
"""

from __future__ import annotations

import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

STARTED = int(time.time())
MESSAGE = (Path(__file__).with_name("message.txt").read_text(encoding="utf-8").strip()
           if Path(__file__).with_name("message.txt").exists() else "hello")
SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"


class Handler(BaseHTTPRequestHandler):
    server_version = "abca-example-agent/1"

    def log_message(self, fmt: str, *args: object) -> None:  # one line per request on stdout
        print(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}", flush=True)

    def _send(self, status: int, body: dict, content_type: str = "application/json") -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/ping":
            self._send(200, {"status": "Healthy", "time_of_last_update": STARTED})
        else:
            self._send(404, {"code": "NOT_FOUND", "message": self.path})

    def do_POST(self) -> None:
        if self.path != "/invocations":
            self._send(404, {"code": "NOT_FOUND", "message": self.path})
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            self._send(400, {"code": "INVALID_JSON", "message": "The payload is not JSON."})
            return
        task = payload.get("input") if isinstance(payload, dict) else None
        if isinstance(task, dict) and not task:
            self._send(400, {"code": "TASK_RECORD_INCOMPLETE",
                             "message": "input is empty: no task record to run; no work was started."})
            return
        answer = {
            "message": MESSAGE,
            "echo": task if task is not None else payload,
            "session_id": self.headers.get(SESSION_HEADER, ""),
            "environment": {k: v for k, v in os.environ.items() if k.startswith(("AGENT_", "ABCA_"))},
        }
        if "text/event-stream" in (self.headers.get("Accept") or ""):
            events = [{"event": "start"}, {"event": "message", "data": answer}, {"event": "end"}]
            body = "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self._send(200, answer)


def main() -> None:
    port = int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)  # noqa: S104 - the AgentCore contract
    print(f"example agent listening on 0.0.0.0:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
