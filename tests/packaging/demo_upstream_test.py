#!/usr/bin/env python3
"""Checks the demo OSM stand-in of scripts/run.sh (scripts/demo-upstream/osm_demo.py):
started on port 0, every operation of the message group answers with OSM's
JSON shapes over keep-alive HTTP/1.1; send, withdraw and mark-read change
what the reads return; polling on with each answer's marker returns every
new message exactly once; unknown cases and paths, missing credentials and
the special case ids give OSM's and the gateway's errors.

usage: demo_upstream_test.py [REPO_ROOT] [unittest arguments]
"""
import http.client
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time
import unittest
import urllib.parse

REPO = (pathlib.Path(sys.argv.pop(1)) if len(sys.argv) > 1 and os.path.isdir(sys.argv[1]) else
        pathlib.Path(__file__).resolve().parents[2])
DEMO = REPO / "scripts" / "demo-upstream" / "osm_demo.py"
TOKEN = {"X-Auth-Token": "demo"}
CASES = "/v2/servicerequest/cases"
FIRST, SECOND, THIRD, FOURTH = (f"C20261130000{n}" for n in range(1, 5))
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
QUERY_INFO_KEYS = ["type", "replier_type", "replier", "content", "create_time", "replier_name",
                   "is_first_message", "iam_user_type", "accessory_list"]
INCIDENT_MESSAGE_KEYS = ["type", "replier", "content", "message_id", "replier_name",
                         "create_time", "is_first_message", "accessory_list"]
OK = {"error_code": "", "error_msg": ""}


class Demo:
    """osm_demo.py on port 0, and one keep-alive connection to it."""

    def __init__(self, *flags):
        self.process = subprocess.Popen([sys.executable, str(DEMO), "--port=0", *flags],
                                         stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def stop(self):
        self.connection.close()
        self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=10)
        self.process.stdout.close()
        return status

    def request(self, method, path, query=None, body=None, headers=TOKEN):
        """(status, headers, JSON body)."""
        if query:
            path += "?" + urllib.parse.urlencode(query, doseq=True)
        data = None if body is None else (body if isinstance(body, bytes) else
                                          json.dumps(body).encode())
        self.connection.request(method, path, body=data, headers=dict(headers))
        response = self.connection.getresponse()
        raw = response.read()
        assert len(raw) == int(response.headers["Content-Length"])
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"]), response.headers
        return response.status, response.headers, json.loads(raw)

    def ok(self, method, path, query=None, body=None, headers=TOKEN):
        status, _, answer = self.request(method, path, query, body, headers)
        assert status == 200, (status, answer)
        assert "error_code" not in answer or answer["error_code"] == "", answer
        return answer

    # The operations.
    def detail(self, case_id, **query):
        return self.ok("GET", f"{CASES}/{case_id}", query)["incident_detail_info"]

    def list(self, case_id, **query):
        return self.ok("GET", f"{CASES}/{case_id}/messages", query)

    def send(self, case_id, content, **extra):
        body = {"message": {"content": content, **extra}}
        return self.ok("POST", f"{CASES}/{case_id}/message", body=body)

    def poll(self, case_ids, marker=None):
        query = {"case_ids": ",".join(case_ids)}
        if marker is not None:
            query["last_message_time_id"] = marker
        return self.ok("GET", f"{CASES}/instant-messages", query)

    def unread(self, case_ids):
        answer = self.ok("GET", f"{CASES}/instant-messages/unread",
                         {"case_ids": ",".join(case_ids)})
        return {entry["incident_id"]: entry["unread_num"] for entry in answer["imunread"]}


def operations(case_id):
    """(method, path, query, body) of every operation, on case_id."""
    return [
        ("POST", f"{CASES}/{case_id}/instant-messages/M100001/withdraw", None, None),
        ("POST", f"{CASES}/{case_id}/message", None, {"message": {"content": "hi"}}),
        ("GET", f"{CASES}/{case_id}/messages", None, None),
        ("GET", f"{CASES}/{case_id}/instant-messages/more",
         {"create_time": "2026-11-30T01:15:00Z", "type": 0, "limit": 10}, None),
        ("GET", f"{CASES}/instant-messages", {"case_ids": f"{FIRST},{case_id}"}, None),
        ("GET", f"{CASES}/instant-messages/unread", {"case_ids": f"{case_id},{FIRST}"}, None),
        ("POST", f"{CASES}/{case_id}/instant-messages/unread", None, {}),
        ("GET", f"{CASES}/{case_id}", None, None),
    ]


class StaticDemoTest(unittest.TestCase):
    """No new support replies (--new_message_interval=0): a fixed state."""

    def setUp(self):
        self.demo = Demo("--new_message_interval=0")

    def tearDown(self):
        self.assertEqual(self.demo.stop(), 0)

    def assert_business_error(self, code, method, path, query=None, body=None):
        status, _, answer = self.demo.request(method, path, query, body)
        self.assertEqual(status, 200, path)
        self.assertEqual(answer["error_code"], code, (path, answer))
        self.assertEqual(set(answer), {"error_code", "error_msg"})
        self.assertTrue(answer["error_msg"])

    def test_case_detail_lists_every_message_with_its_id(self):
        info = self.demo.detail(FIRST)
        for key in ("incident_id", "status", "business_type_name", "incident_type_name",
                    "customer_id", "dc_name", "simple_description", "create_time",
                    "message_list"):
            self.assertIn(key, info)
        self.assertEqual(info["incident_id"], FIRST)
        messages = info["message_list"]
        self.assertEqual([m["message_id"] for m in messages],
                         ["M100001", "M100002", "M100003", "M100004"])
        self.assertEqual([m["type"] for m in messages], [0, 1, 0, 1])
        for message in messages:
            self.assertEqual(list(message), INCIDENT_MESSAGE_KEYS)
            self.assertRegex(message["create_time"], TIME)
        self.assertEqual([m["is_first_message"] for m in messages], [1, 0, 0, 0])
        self.assertEqual(messages[1]["replier_name"], "Huawei Cloud Support")
        self.assertEqual(messages[2]["accessory_list"][0],
                         {"accessory_id": "ACC2026113001473001",
                          "file_actual_name": "vnc-console.png"})
        # Rich text is trimmed unless asked to keep it.
        self.assertNotIn("<", messages[1]["content"])
        kept = self.demo.detail(FIRST, trim_osm_rich_text_label="false")["message_list"]
        self.assertTrue(kept[1]["content"].startswith("<p>"))
        times = [m["create_time"] for m in messages]
        self.assertEqual(times, sorted(times))
        self.assertEqual([self.demo.detail(c)["incident_id"] for c in (SECOND, THIRD, FOURTH)],
                         [SECOND, THIRD, FOURTH])

    def test_list_pages_by_offset_without_message_ids(self):
        answer = self.demo.list(FIRST)
        self.assertEqual(list(answer), ["count", "message_list"])
        self.assertEqual(answer["count"], 4)
        for message in answer["message_list"]:
            self.assertEqual(list(message), QUERY_INFO_KEYS)
        contents = [m["content"] for m in answer["message_list"]]
        self.assertEqual(contents, [m["content"] for m in self.demo.detail(FIRST)["message_list"]])
        page = self.demo.list(FIRST, offset=1, limit=2)
        self.assertEqual(page["count"], 4)
        self.assertEqual([m["content"] for m in page["message_list"]], contents[1:3])
        self.assertEqual(self.demo.list(FIRST, offset=4)["message_list"], [])
        for bad in ({"limit": 101}, {"limit": "x"}, {"offset": -1}):
            self.assert_business_error("OSM.01010001", "GET", f"{CASES}/{FIRST}/messages", bad)

    def test_send_appends_a_customer_message(self):
        self.assertEqual(self.demo.send(SECOND, "It works again, thank you."), OK)
        self.assertEqual(self.demo.send(SECOND, "Two files.", accessory_ids=["A1", "A2"]), OK)
        answer = self.demo.list(SECOND)
        self.assertEqual(answer["count"], 5)
        sent = answer["message_list"][-2:]
        self.assertEqual([m["content"] for m in sent], ["It works again, thank you.", "Two files."])
        self.assertEqual([(m["type"], m["replier_type"], m["is_first_message"]) for m in sent],
                         [(0, 0, 0), (0, 0, 0)])
        self.assertEqual([a["accessory_id"] for a in sent[1]["accessory_list"]], ["A1", "A2"])
        self.assertLess(sent[0]["create_time"], sent[1]["create_time"])  # unique within a case
        ids = [m["message_id"] for m in self.demo.detail(SECOND)["message_list"]]
        self.assertEqual(len(set(ids)), 5)
        first_ids = [m["message_id"] for m in self.demo.detail(FIRST)["message_list"]]
        self.assertNotIn(ids[-1], first_ids)
        path = f"{CASES}/{SECOND}/message"
        for body in ({"message": {"content": ""}}, {"message": {"content": "  "}}, {"message": {}},
                     {"group_id": "g"}, {"message": {"content": "x", "accessory_ids": "A1"}},
                     {"message": {"content": "x" * 10001}}, b"not json", b""):
            self.assert_business_error("OSM.01010001", "POST", path, body=body)
        self.assertEqual(self.demo.list(SECOND)["count"], 5)

    def test_withdraw_removes_the_message(self):
        path = f"{CASES}/{FIRST}/instant-messages/M100003/withdraw"
        self.assertEqual(self.demo.ok("POST", path), OK)
        ids = [m["message_id"] for m in self.demo.detail(FIRST)["message_list"]]
        self.assertEqual(ids, ["M100001", "M100002", "M100004"])
        answer = self.demo.list(FIRST)
        self.assertEqual(answer["count"], 3)
        self.assertNotIn("Screenshot", json.dumps(answer))
        self.assertNotIn("Screenshot", json.dumps(self.demo.poll([FIRST])))
        self.assert_business_error("OSM.01010001", "POST", path)  # already withdrawn
        self.assert_business_error("OSM.01010001", "POST",
                                   f"{CASES}/{FIRST}/instant-messages/M100005/withdraw")

    def test_more_returns_the_messages_after_the_cursor(self):
        messages = self.demo.list(THIRD)["message_list"]
        path = f"{CASES}/{THIRD}/instant-messages/more"
        answer = self.demo.ok("GET", path, {"create_time": messages[0]["create_time"],
                                            "type": messages[0]["type"], "limit": 10})
        self.assertEqual(list(answer), ["count", "message_list"])
        self.assertEqual(answer["count"], 3)
        self.assertEqual(answer["message_list"], messages[1:])
        answer = self.demo.ok("GET", path, {"create_time": messages[0]["create_time"], "type": 0,
                                            "limit": 1})
        self.assertEqual(answer["message_list"], messages[1:2])
        answer = self.demo.ok("GET", path, {"create_time": messages[-1]["create_time"], "type": 1,
                                            "limit": 5})
        self.assertEqual(answer["message_list"], [])
        self.assert_business_error("OSM.01010012", "GET", path,
                                   {"create_time": messages[0]["create_time"], "type": 2,
                                    "limit": 5})
        for bad in ({"type": 0, "limit": 5}, {"create_time": "yesterday", "type": 0, "limit": 5},
                    {"create_time": messages[0]["create_time"], "type": 0},
                    {"create_time": messages[0]["create_time"], "type": 0, "limit": 0}):
            self.assert_business_error("OSM.01010001", "GET", path, bad)

    def test_poll_with_the_returned_marker_returns_nothing_new(self):
        first = self.demo.poll([FIRST, FOURTH])
        self.assertEqual(list(first), ["imstatus", "immsg", "last_message_time_id"])
        self.assertEqual(first["imstatus"], [{"status": 0, "incident_id": FIRST},
                                             {"status": 1, "incident_id": FOURTH}])
        self.assertEqual([c["incident_id"] for c in first["immsg"]], [FIRST, FOURTH])
        self.assertEqual(first["immsg"][0]["message_list"], self.demo.list(FIRST)["message_list"])
        self.assertEqual(list(first["immsg"][0]), ["incident_id", "message_list"])
        marker = first["last_message_time_id"]
        self.assertRegex(marker, r"^\d{1,64}$")
        again = self.demo.poll([FIRST, FOURTH], marker)
        self.assertEqual(again["immsg"], [])
        self.assertEqual(again["last_message_time_id"], marker)
        self.demo.send(FOURTH, "Any news?")
        new = self.demo.poll([FIRST, FOURTH], marker)
        self.assertEqual([(c["incident_id"], [m["content"] for m in c["message_list"]])
                          for c in new["immsg"]], [(FOURTH, ["Any news?"])])
        self.assertGreater(int(new["last_message_time_id"]), int(marker))
        self.assertEqual(self.demo.poll([FIRST, FOURTH], new["last_message_time_id"])["immsg"], [])
        # case_ids repeated, as the Go SDK sends them.
        repeated = self.demo.ok("GET", f"{CASES}/instant-messages",
                                {"case_ids": [FIRST, FOURTH], "last_message_time_id": marker})
        self.assertEqual(repeated["immsg"], new["immsg"])
        path = f"{CASES}/instant-messages"
        for bad in ({}, {"case_ids": ""}, {"case_ids": f"{FIRST},"},
                    {"case_ids": FIRST, "last_message_time_id": "abc"},
                    {"case_ids": ",".join([FIRST] * 101)}):
            self.assert_business_error("OSM.01010001", "GET", path, bad)

    def test_unread_counts_and_mark_read(self):
        self.assertEqual(self.demo.unread([FIRST, SECOND, THIRD, FOURTH]),
                         {FIRST: 1, SECOND: 0, THIRD: 2, FOURTH: 0})
        answer = self.demo.ok("GET", f"{CASES}/instant-messages/unread", {"case_ids": THIRD})
        self.assertEqual(answer, {"imunread": [{"status": 1, "incident_id": THIRD,
                                                "unread_num": 2}]})
        path = f"{CASES}/{THIRD}/instant-messages/unread"
        self.assertEqual(self.demo.ok("POST", path, body={}), OK)
        self.assertEqual(self.demo.ok("POST", path, body={"group_id": "g1"}), OK)
        self.assertEqual(self.demo.ok("POST", path), OK)  # no body
        self.assertEqual(self.demo.unread([FIRST, THIRD]), {FIRST: 1, THIRD: 0})
        self.assertEqual(self.demo.poll([THIRD])["imstatus"], [{"status": 1, "incident_id": THIRD}])
        self.assert_business_error("OSM.01010001", "GET", f"{CASES}/instant-messages/unread")

    def test_unknown_and_special_cases_give_their_errors_in_every_operation(self):
        for case_id, code in (("C209901010001", "OSM.01010015"), ("missing", "OSM.01010015"),
                              ("forbidden", "OSM.01010002")):
            for method, path, query, body in operations(case_id):
                with self.subTest(case_id=case_id, path=path):
                    self.assert_business_error(code, method, path, query, body)
        for method, path, query, body in operations("throttled"):
            with self.subTest(path=path):
                status, headers, answer = self.demo.request(method, path, query, body)
                self.assertEqual(status, 429)
                self.assertEqual(headers["Retry-After"], "5")
                self.assertEqual(answer["error_code"], "APIGW.0308")
                self.assertEqual(answer["request_id"], headers["X-Request-Id"])
        # Nothing was changed by the refused calls.
        self.assertEqual(self.demo.list(FIRST)["count"], 4)
        self.assertEqual(self.demo.unread([FIRST]), {FIRST: 1})

    def test_credentials_and_unknown_paths(self):
        for method, path, query, body in operations(FIRST):
            with self.subTest(path=path):
                status, headers, answer = self.demo.request(method, path, query, body, headers={})
                self.assertEqual(status, 401)
                self.assertEqual(answer["error_code"], "APIGW.0301")
                self.assertEqual(answer["request_id"], headers["X-Request-Id"])
                status, _, _ = self.demo.request(method, path, query, body,
                                                 headers={"X-Auth-Token": ""})
                self.assertEqual(status, 401)
        # An AK/SK signature instead of a token.
        signed = {"Authorization": "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=00"}
        self.assertEqual(self.demo.ok("GET", f"{CASES}/{FIRST}/messages", headers=signed)["count"],
                         4)
        for method, path in (("GET", "/"), ("GET", "/v2/servicerequest/other"),
                             ("GET", f"{CASES}/{FIRST}/instant-messages/M100001/withdraw"),
                             ("DELETE", f"{CASES}/{FIRST}"), ("POST", f"{CASES}/{FIRST}/messages"),
                             ("GET", f"{CASES}/{FIRST}/message")):
            for headers in (TOKEN, {}):
                with self.subTest(method=method, path=path, headers=headers):
                    status, response_headers, answer = self.demo.request(method, path,
                                                                         headers=headers)
                    self.assertEqual(status, 404)
                    self.assertEqual(answer["error_code"], "APIGW.0101")
                    self.assertEqual(answer["request_id"], response_headers["X-Request-Id"])

    def test_percent_encoded_ids_and_chinese_errors(self):
        path = f"{CASES}/{FIRST}/instant-messages/%4D100001/withdraw"  # M100001
        self.assertEqual(self.demo.ok("POST", path), OK)
        status, _, answer = self.demo.request("GET", f"{CASES}/C%2F1/messages",
                                              headers={**TOKEN, "X-Language": "zh-cn"})
        self.assertEqual((status, answer["error_code"]), (200, "OSM.01010015"))
        self.assertEqual(answer["error_msg"], "工单不存在。")

    def test_keep_alive_and_sigterm(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.demo.port, timeout=10)
        sockets = set()
        for _ in range(5):
            connection.request("GET", f"{CASES}/{FIRST}/messages", headers=TOKEN)
            response = connection.getresponse()
            self.assertEqual(response.version, 11)
            self.assertEqual(response.headers["Content-Type"], "application/json;charset=UTF-8")
            self.assertFalse(response.will_close)
            response.read()
            sockets.add(id(connection.sock))
        self.assertEqual(len(sockets), 1)
        connection.close()


class RepliesOverTimeTest(unittest.TestCase):
    """Support replies every 0.2 s."""

    def setUp(self):
        self.demo = Demo("--new_message_interval=0.2")

    def tearDown(self):
        self.assertEqual(self.demo.stop(), 0)

    def test_polling_on_from_each_marker_returns_every_new_message_once(self):
        cases = [FIRST, SECOND, THIRD, FOURTH]
        before = {c: len(self.demo.detail(c)["message_list"]) for c in cases}
        marker = self.demo.poll(cases)["last_message_time_id"]
        self.demo.send(FIRST, "Restarted it: SSH works again.")
        received, deadline = [], time.monotonic() + 20
        while len(received) < 6:
            self.assertLess(time.monotonic(), deadline, f"only {received} within 20 s")
            answer = self.demo.poll(cases, marker)
            self.assertGreaterEqual(int(answer["last_message_time_id"]), int(marker))
            marker = answer["last_message_time_id"]
            received += [(c["incident_id"], m) for c in answer["immsg"] for m in c["message_list"]]
            time.sleep(0.05)
        # What the polls returned is exactly what was added, in order, once each.
        polled = self.demo.poll(cases, marker)  # replies that came meanwhile
        received += [(c["incident_id"], m) for c in polled["immsg"] for m in c["message_list"]]
        details = {c: self.demo.detail(c)["message_list"] for c in cases}
        added = [(c, m) for c in cases for m in details[c][before[c]:]]
        self.assertEqual(len(received), len(added))
        for case_id in cases:
            mine = [m for c, m in received if c == case_id]
            theirs = [m for c, m in added if c == case_id]
            self.assertEqual([m["content"] for m in mine], [m["content"] for m in theirs])
            self.assertEqual([m["create_time"] for m in mine], [m["create_time"] for m in theirs])
        replies = [m for _, m in received if m["type"] == 1]
        self.assertGreaterEqual(len(replies), 5)
        self.assertTrue(all(m["replier_name"] == "Huawei Cloud Support" for m in replies))
        # The customer's message is answered first, quoted.
        self.assertEqual([(c, m["type"]) for c, m in received[:2]], [(FIRST, 0), (FIRST, 1)])
        first_case = [m for c, m in received if c == FIRST]
        self.assertEqual(first_case[0]["content"], "Restarted it: SSH works again.")
        self.assertEqual(first_case[1]["type"], 1)
        self.assertIn("Restarted it", first_case[1]["content"])
        # Support replies are unread until the case is marked read.
        self.assertGreaterEqual(self.demo.unread([FIRST])[FIRST], 2)

    def test_reply_is_awaited_by_polling(self):
        marker = self.demo.poll([FOURTH])["last_message_time_id"]
        deadline = time.monotonic() + 20
        while True:
            self.assertLess(time.monotonic(), deadline)
            answer = self.demo.poll([FOURTH], marker)
            if answer["immsg"]:
                break
            # Replies in the other cases move the marker on.
            self.assertGreaterEqual(int(answer["last_message_time_id"]), int(marker))
            marker = answer["last_message_time_id"]
            time.sleep(0.02)
        new = answer["immsg"][0]["message_list"]
        self.assertEqual(new[0]["type"], 1)
        self.assertEqual(self.demo.detail(FOURTH)["status"], 1)  # accepted by the reply
        self.assertRegex(new[0]["create_time"], TIME)


class ParentTest(unittest.TestCase):
    def test_stops_when_its_parent_is_gone(self):
        parent = subprocess.Popen(["sleep", "60"])
        demo = Demo("--new_message_interval=0", f"--parent_pid={parent.pid}")
        try:
            parent.kill()
            parent.wait()
            self.assertEqual(demo.process.wait(timeout=10), 0)
        finally:
            if demo.process.poll() is None:
                demo.stop()
            demo.connection.close()
            demo.process.stdout.close()

    def test_a_busy_port_is_refused(self):
        demo = Demo("--new_message_interval=0")
        try:
            second = subprocess.run([sys.executable, str(DEMO), f"--port={demo.port}"],
                                    capture_output=True, text=True, timeout=30)
            self.assertEqual(second.returncode, 1)
            self.assertEqual(second.stdout, "")
            self.assertIn("cannot listen", second.stderr)
        finally:
            self.assertEqual(demo.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
