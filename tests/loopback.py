"""A loopback HTTP server for the download tests (no network beyond this machine)."""

from __future__ import annotations

import contextlib
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that hangs up mid-body (a cancelled or cut download) is expected here


@contextmanager
def serving(handler, **attributes):
    """Serve ``handler`` on 127.0.0.1 (a free port) from a daemon thread.

    ``attributes`` are set on the server (handlers read them as ``self.server.x``).
    Yields ``(server, base_url)``; shuts the server down afterwards."""
    httpd = QuietServer(("127.0.0.1", 0), handler)
    for name, value in attributes.items():
        setattr(httpd, name, value)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


class Reply(NamedTuple):
    """A canned 200 answer: ``body`` after a ``Content-Length`` of ``length``.

    ``length=None`` sends no length (the body ends when the server hangs up); a ``length``
    above ``len(body)`` promises bytes that never come (the server hangs up after ``body``)."""

    body: bytes
    length: int | None


def cut(data: bytes) -> Reply:
    """Promises all of ``data``, sends the first half, hangs up."""
    return Reply(data[: len(data) // 2], len(data))


class BytesHandler(BaseHTTPRequestHandler):
    """Answers a GET from ``self.server.routes`` ({path: bytes or Reply}); 404 for any other path.

    Use as ``serving(BytesHandler, routes={"/w.pth": data, "/cut.pth": cut(data)})``."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        reply = self.server.routes.get(self.path)
        if reply is None:
            self.send_error(404, "Not Found")
            return
        if not isinstance(reply, Reply):
            reply = Reply(reply, len(reply))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if reply.length is None:
            self.send_header("Connection", "close")
        else:
            self.send_header("Content-Length", str(reply.length))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client cancelled and closed its socket
            self.wfile.write(reply.body)
        if reply.length != len(reply.body):  # only hanging up ends this body
            self.close_connection = True

    def log_message(self, *args):
        pass
