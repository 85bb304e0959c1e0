"""Messages between the window and the worker process, over a multiprocessing pipe.

A message is a tuple of plain data (str, numbers, lists, dicts, dataclasses of
those, NumPy arrays). It is pickled with protocol 5: arrays of at least
``OUT_OF_BAND_BYTES`` travel out of band, each as one frame written straight from
the array's memory and read straight into the receiver's new buffer, which the
unpickled array then uses as it is. So a feature map or a preview crosses with no
copy in either process beyond the pipe's own (benchmarks/bench_transfer.py
measures it against shared memory). Small arrays go inside the pickle.

``send`` may be called from several threads of one process (the worker's jobs
and its download thread): a lock keeps each message's frames together.
"""

from __future__ import annotations

import contextlib
import pickle
import struct
import threading
from multiprocessing.connection import Connection

OUT_OF_BAND_BYTES = 64 * 1024
_COUNT = struct.Struct("<I")
_SIZE = struct.Struct("<Q")


SOCKET_BUFFER_BYTES = 4 * 1024 * 1024  # asked for; the kernel caps it (Linux: net.core.wmem_max)


class Channel:
    """One end of the pipe: ``send`` from any thread, ``recv`` from one reader thread."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._send_lock = threading.Lock()
        larger_buffers(conn)

    def send(self, message: tuple) -> None:
        buffers: list[pickle.PickleBuffer] = []

        def out_of_band(buf: pickle.PickleBuffer) -> bool:
            if buf.raw().nbytes < OUT_OF_BAND_BYTES:
                return True  # in band
            buffers.append(buf)
            return False

        body = pickle.dumps(message, protocol=5, buffer_callback=out_of_band)
        raws = [b.raw() for b in buffers]
        head = _COUNT.pack(len(raws)) + b"".join(_SIZE.pack(r.nbytes) for r in raws)
        with self._send_lock:
            self.conn.send_bytes(head + body)
            for raw in raws:
                self.conn.send_bytes(raw)

    def recv(self) -> tuple:
        """The next message; EOFError when the other side has gone."""
        frame = self.conn.recv_bytes()
        (count,) = _COUNT.unpack_from(frame)
        sizes = [_SIZE.unpack_from(frame, _COUNT.size + i * _SIZE.size)[0] for i in range(count)]
        body = memoryview(frame)[_COUNT.size + count * _SIZE.size:]
        buffers = []
        for size in sizes:
            buf = bytearray(size)
            if size:
                self.conn.recv_bytes_into(buf)
            else:
                self.conn.recv_bytes()
            buffers.append(buf)
        return pickle.loads(body, buffers=buffers)  # noqa: S301 - from our own process, over its private pipe

    def close(self) -> None:
        self.conn.close()


def larger_buffers(conn: Connection) -> None:
    """A duplex pipe is a socket pair on Linux and macOS, with ~200 KB buffers by default: a 4.4 MB
    feature-map message then crosses in ~20 slices, each a wake-up of the reader, and on a machine
    whose wake-ups are slow that took 10 ms instead of 3 (bench_transfer.py). Larger buffers where
    the kernel allows them; elsewhere (Windows' named pipes) nothing changes."""
    import os
    import socket

    try:
        sock = socket.socket(fileno=os.dup(conn.fileno()))
    except (OSError, ValueError):
        return
    with sock:
        for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER_BYTES)
