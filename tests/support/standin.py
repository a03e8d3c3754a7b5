"""A local stand-in for Twilio's and Telegram's APIs: a small HTTP server that records
every call the channels make and answers the way the platform does. It can be told to
fail the next calls, to prove the retries."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)  # Twilio: form-encoded
    json: dict[str, Any] | None = None  # Telegram: JSON
    status: int = 0  # what the stand-in answered

    @property
    def accepted(self) -> bool:
        return self.status < 300

    @property
    def method(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class StandIn:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # a short poll interval: shutdown() waits for it, once per test
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, times: int = 1, status: int = 500) -> None:
        with self._lock:
            self._failures += [status] * times

    def mark(self) -> int:
        """A position in the log of calls: calls_since(mark) gives what came after."""
        with self._lock:
            return len(self.calls)

    def calls_since(self, mark: int) -> list[Call]:
        with self._lock:
            return list(self.calls[mark:])

    def _answer(self, call: Call) -> tuple:
        with self._lock:
            self.calls.append(call)
            status = self._failures.pop(0) if self._failures else None
            call.status = status or (201 if call.path.endswith("/Messages.json") else 200)
        if status is not None:
            # Both platforms' error shapes; Twilio's message may quote the phone number.
            return status, {
                "code": 20500,
                "error_code": status,
                "ok": False,
                "message": "Stand-in failure for +447700900000",
                "description": "stand-in failure",
            }
        if call.path.endswith("/Messages.json"):
            sid = "SM" + f"{len(self.calls):032x}"
            return 201, {"sid": sid, "status": "queued", "to": call.form.get("To"), "body": call.form.get("Body")}
        return 200, {"ok": True, "result": {"message_id": len(self.calls)} if call.method == "sendMessage" else True}

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                call = Call(self.path, {k: v for k, v in self.headers.items()})
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    call.json = json.loads(raw)
                else:
                    call.form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
                status, body = standin._answer(call)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:  # keep the test output quiet
                pass

        return Handler
