#!/usr/bin/env python3
"""The README's quick start, end to end: the demo OSM stand-in of the run
command (scripts/demo-upstream/osm_demo.py), the osm-adapter binary and every
subcommand of osm-messages against them, with --json.

  demo_end_to_end_test.py REPO OSM_ADAPTER OSM_MESSAGES

Each step checks the exit status and the JSON the CLI printed. Every process
is started here, on port 0, and ended here.
"""
import json
import os
import re
import subprocess
import sys
import time

REPO, ADAPTER, CLI = sys.argv[1:4]
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print(f"FAIL: {what}", flush=True)


def start_demo():
    demo = subprocess.Popen(
        [sys.executable, f"{REPO}/scripts/demo-upstream/osm_demo.py", "--port=0",
         "--new_message_interval=0.3", f"--parent_pid={os.getpid()}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(demo.stdout.readline())
    return demo, port


def start_adapter(upstream_port):
    adapter = subprocess.Popen(
        [ADAPTER, "--listen=127.0.0.1:0", f"--upstream=http://127.0.0.1:{upstream_port}",
         "--metrics_listen=", "--access_log=off", "--watch_interval=200ms",
         "--min_watch_interval=100ms"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in adapter.stderr:
        if '"listening"' in line:
            return adapter, json.loads(line)["address"]
    sys.exit(f"osm-adapter did not start: exit status {adapter.wait()}")


def cli(target, *args):
    """Runs osm-messages; its exit status and the JSON lines it printed."""
    result = subprocess.run([CLI, *args, f"--target={target}", "--token=demo", "--json"],
                            capture_output=True, text=True, timeout=60)
    # Each line is {"status", "code", "response"} or an error object.
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    lines = [line.get("response", line) for line in lines]
    print(f"$ osm-messages {' '.join(args)}  -> exit {result.returncode}, {len(lines)} line(s)",
          flush=True)
    return result.returncode, lines


def main():
    demo, demo_port = start_demo()
    adapter, target = start_adapter(demo_port)
    try:
        case = "C202611300002"

        status, out = cli(target, "list-case", f"--case_id={case}")
        check(status == 0, "list-case is OK")
        ids = [m.get("message_id") for m in out[0].get("messages", [])] if out else []
        check(ids[:3] == ["M100005", "M100006", "M100007"], f"list-case shows the ids: {ids}")

        status, out = cli(target, "send", f"--case_id={case}", "--content=end to end")
        check(status == 0 and out and out[0].get("request_id"), f"send is OK: {out}")

        status, out = cli(target, "list", f"--case_id={case}", "--limit=2")
        page = out[0] if out else {}
        # Three seeded messages and the one sent; support may have replied already.
        check(status == 0 and page.get("total_count", 0) >= 4, f"list counts 4 or more: {page}")
        check(len(page.get("messages", [])) == 2 and page.get("next_offset") == 2,
              f"list pages by 2: {page}")

        status, out = cli(target, "list", f"--case_id={case}", "--offset=2", "--limit=100")
        contents = [m.get("content") for m in (out[0].get("messages", []) if out else [])]
        check(status == 0 and "end to end" in contents, f"the sent message: {contents}")
        check(out and out[0].get("next_offset", 0) == 0, "the last page has no next offset")

        first_time = page.get("messages", [{}])[0].get("create_time", "")
        status, out = cli(target, "list-more", f"--case_id={case}", f"--create_time={first_time}",
                          "--type=0", "--limit=10")
        check(status == 0 and out and len(out[0].get("messages", [])) >= 1,
              f"list-more after the first message: {out}")

        status, out = cli(target, "count-unread", f"--case_ids={case},C202611300003")
        counts = {c.get("case_id"): c for c in (out[0].get("counts", []) if out else [])}
        check(status == 0 and set(counts) == {case, "C202611300003"}, f"count-unread: {out}")

        status, out = cli(target, "mark-read", f"--case_id={case}")
        check(status == 0, f"mark-read is OK: {out}")

        status, out = cli(target, "poll", f"--case_ids={case}")
        check(status == 0 and out and out[0].get("last_message_time_id"), f"poll: {out}")
        marker = out[0].get("last_message_time_id", "") if out else ""

        status, out = cli(target, "list-case", f"--case_id={case}")
        sent = [m.get("message_id") for m in (out[0].get("messages", []) if out else [])
                if m.get("content") == "end to end"]
        check(len(sent) == 1, f"list-case shows the sent message's id: {sent}")
        if sent:
            status, _ = cli(target, "withdraw", f"--case_id={case}", f"--message_id={sent[0]}")
            check(status == 0, "withdraw is OK")
            status, out = cli(target, "list-case", f"--case_id={case}")
            left = [m.get("message_id") for m in (out[0].get("messages", []) if out else [])]
            check(sent[0] not in left, f"the withdrawn message is gone: {left}")

        # The stand-in adds a support reply every 0.3 s: a watch from the marker
        # gets at least one batch before its deadline ends it.
        status, out = cli(target, "watch", f"--case_ids={case}",
                          f"--last_message_time_id={marker}", "--timeout=3s")
        batches = [line for line in out if "cases" in line]
        check(status == 4, f"the watch ends at its deadline (DEADLINE_EXCEEDED): {status}")
        check(len(batches) >= 1, f"the watch printed batches: {out}")
        if batches:
            markers = [int(b["last_message_time_id"]) for b in batches]
            check(markers == sorted(markers) and markers[0] > int(marker),
                  f"markers move forward: {marker} then {markers}")

        status, out = cli(target, "list-case", "--case_id=missing")
        check(status == 5, f"an unknown case is NOT_FOUND (5): {status}")
        check(out and out[0].get("status") == "NOT_FOUND" and "CASE_NOT_FOUND" in json.dumps(out),
              f"its reason: {out}")
        # The token never shows: the CLI's output quoted none of it.
        check(all("demo" not in json.dumps(line) for line in out), "no token in the output")
    finally:
        adapter.terminate()
        check(adapter.wait(timeout=30) == 0, "osm-adapter exits 0 on SIGTERM")
        demo.terminate()
        demo.wait(timeout=30)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")
    print("PASS: the quick start against the demo stand-in")


main()
