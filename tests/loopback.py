"""A loopback HTTP server for the download tests (no network beyond this machine)."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import ThreadingHTTPServer


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
