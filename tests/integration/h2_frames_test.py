#!/usr/bin/python3
"""What the adapter writes on an HTTP/2 connection during ordinary calls,
frame by frame (python3-h2's hyperframe and hpack).

  h2_frames_test.py ADAPTER_BINARY

Starts the demo upstream (nginx, scripts/demo-upstream.sh) and the adapter
on free ports, makes 20 Withdraw calls one after another on one raw
connection, and asserts the server's frames exactly: its SETTINGS, then per
call HEADERS, DATA and trailing HEADERS with grpc-status 0 and END_STREAM,
and nothing else: no PING (the adapter turns gRPC's bandwidth-delay probing
off: a Withdraw is a few hundred bytes, and each probe costs both sides a
wake-up, a write and a read), no WINDOW_UPDATE beyond the connection's.
Exits 1 with the frames seen when anything differs.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "attacks"))
from h2_attacks import PREFACE, REPO, free_port, grpc_frame, request_headers, withdraw_request  # noqa: E402
from hpack import Decoder, Encoder  # noqa: E402
from hyperframe.frame import (DataFrame, Frame, HeadersFrame, SettingsFrame,  # noqa: E402
                              WindowUpdateFrame)

CALLS = 20


class FrameReader:
    """The server's frames, parsed as they arrive on `sock`."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def until_stream_end(self, stream_id):
        """Frames up to the END_STREAM of stream `stream_id`; what follows
        stays buffered for the next read."""
        frames = []
        while True:
            frame = self._next()
            frames.append(frame)
            if frame.stream_id == stream_id and "END_STREAM" in frame.flags:
                return frames

    def _next(self):
        while True:
            if len(self.buffer) >= 9:
                frame, length = Frame.parse_frame_header(memoryview(self.buffer[:9]))
                if len(self.buffer) >= 9 + length:
                    frame.parse_body(memoryview(self.buffer[9:9 + length]))
                    self.buffer = self.buffer[9 + length:]
                    return frame
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("the server closed the connection")
            self.buffer += chunk


def main():
    adapter_binary = sys.argv[1]
    upstream_port = free_port()
    upstream_dir = tempfile.mkdtemp(prefix="osm-h2-frames-")
    nginx_pid = int(subprocess.run([f"{REPO}/scripts/demo-upstream.sh", str(upstream_port),
                                    upstream_dir], check=True, stdout=subprocess.PIPE,
                                   text=True).stdout)
    adapter = None
    try:
        adapter = subprocess.Popen([adapter_binary, "--listen=127.0.0.1:0", "--metrics_listen=",
                                    "--access_log=off",
                                    f"--upstream=http://127.0.0.1:{upstream_port}"],
                                   stderr=subprocess.PIPE, text=True)
        line = adapter.stderr.readline()
        match = re.search(r'"address":"127\.0\.0\.1:(\d+)"', line)
        if not match:
            raise AssertionError(f"the adapter did not start: {line}")
        address = ("127.0.0.1", int(match.group(1)))
        sock = socket.create_connection(address, timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(PREFACE + SettingsFrame(0).serialize())
        encoder, decoder = Encoder(), Decoder()
        authority = "%s:%d" % address
        reader = FrameReader(sock)
        seen = []
        for call in range(CALLS):
            stream_id = 1 + 2 * call
            headers = HeadersFrame(stream_id, data=encoder.encode(request_headers(authority)),
                                   flags=["END_HEADERS"]).serialize()
            data = DataFrame(stream_id, data=grpc_frame(withdraw_request()),
                             flags=["END_STREAM"]).serialize()
            sock.sendall(headers + data)
            frames = reader.until_stream_end(stream_id)
            for frame in frames:
                if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
                    sock.sendall(SettingsFrame(0, flags=["ACK"]).serialize())
            on_stream = [f for f in frames if f.stream_id == stream_id]
            kinds = [type(f).__name__ for f in on_stream]
            if kinds != ["HeadersFrame", "DataFrame", "HeadersFrame"]:
                raise AssertionError(f"call {call}: frames on the stream {kinds}")
            response = dict(decoder.decode(on_stream[0].data))
            trailers = dict(decoder.decode(on_stream[2].data))
            if response.get(":status") != "200" or trailers.get("grpc-status") != "0":
                raise AssertionError(f"call {call}: {response} {trailers}")
            if "END_STREAM" not in on_stream[2].flags:
                raise AssertionError(f"call {call}: the trailers do not end the stream")
            seen += [(type(f).__name__, f.stream_id, sorted(f.flags)) for f in frames
                     if f.stream_id != stream_id]
        # On stream 0: the server's SETTINGS, its ACK of ours, and (gRPC
        # replenishes the connection's window) WINDOW_UPDATEs; no PING.
        allowed = {"SettingsFrame", WindowUpdateFrame.__name__}
        unexpected = [f for f in seen if f[0] not in allowed]
        if unexpected:
            raise AssertionError(f"frames the adapter should not send: {unexpected}")
        print(f"ok: {CALLS} calls, connection frames {seen}")
        sock.close()
    finally:
        if adapter is not None:
            adapter.terminate()
            adapter.wait(timeout=30)
        os.kill(nginx_pid, signal.SIGTERM)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"FAILED: {error}")
        sys.exit(1)
