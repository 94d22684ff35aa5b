"""An HTTP proxy in front of the test S3 server that injects faults.

Each request is forwarded to the real server unless the fault policy says otherwise:
every `error_every`-th request gets a 503 SlowDown (S3's own throttling answer), every
`stall_every`-th is held longer than the client's read timeout before being forwarded, and
requests whose path contains one of `broken_paths` fail with 500 until those are cleared.
Deterministic (counts, not randomness), bounded, loopback only.
"""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
INTERNAL = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
    b"<Message>injected</Message></Error>"
)


class FaultyProxy:
    def __init__(
        self, upstream: str, error_every: int = 0, stall_every: int = 0, stall_s: float = 3.0
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.error_every = error_every
        self.stall_every = stall_every
        self.stall_s = stall_s
        self.broken_paths: set[str] = set()
        self.count = 0
        self.injected = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._fault(self.command, self.path)
                if fault == "stall":
                    time.sleep(proxy.stall_s)
                elif fault is not None:
                    self.send_response(fault[0])
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(fault[1])))
                    self.end_headers()
                    self.wfile.write(fault[1])
                    return
                conn = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = proxy.upstream.netloc
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _fault(self, method: str, path: str):
        with self._lock:
            self.count += 1
            n = self.count
            if any(p in path for p in self.broken_paths) and method in ("PUT", "POST"):
                self.injected += 1
                return (500, INTERNAL)
            if self.error_every and n % self.error_every == 0:
                self.injected += 1
                return (503, SLOW_DOWN)
            if self.stall_every and n % self.stall_every == 0:
                self.injected += 1
                return "stall"
        return None

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
