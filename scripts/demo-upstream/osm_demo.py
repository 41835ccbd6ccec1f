#!/usr/bin/env python3
"""A demo stand-in for Huawei Cloud OSM's ticket message group, for trying
the adapter without an OSM account (scripts/run.sh starts it when
OSM_UPSTREAM is not set). Python 3 standard library only.

It holds four demo tickets in memory and answers every operation of the
group the way OSM documents it (osm-message-group.md,
osm-show-case-detail.md):

  POST /v2/servicerequest/cases/{case_id}/instant-messages/{message_id}/withdraw
  POST /v2/servicerequest/cases/{case_id}/message                  CreateMessages
  GET  /v2/servicerequest/cases/{case_id}/messages                 ListMessages
  GET  /v2/servicerequest/cases/{case_id}/instant-messages/more    ListMoreInstantMessages
  GET  /v2/servicerequest/cases/instant-messages                   ListNewInstantMessages
  GET  /v2/servicerequest/cases/instant-messages/unread            ListUnreadNewInstantMessages
  POST /v2/servicerequest/cases/{case_id}/instant-messages/unread  UpdateNewInstantMessagesRead
  GET  /v2/servicerequest/cases/{case_id}                          ShowCaseDetail

Behaviour:
  * Business errors come back with HTTP 200 and an OSM.0101xxxx error code:
    OSM.01010001 for an invalid parameter (also an unknown message id),
    OSM.01010012 for a ListMoreInstantMessages type other than 0 or 1,
    OSM.01010015 for a case id that is not one of the demo tickets.
  * The case ids 'missing' (OSM.01010015), 'forbidden' (OSM.01010002) and
    'throttled' (HTTP 429, APIGW.0308, Retry-After: 5) give those errors
    in every operation, also as one of the case_ids of a list.
  * No X-Auth-Token and no Authorization header: HTTP 401, APIGW.0301.
    Any other path or method: HTTP 404, APIGW.0101. Every answer has an
    X-Request-Id header.
  * Every --new_message_interval seconds Huawei Cloud support replies in
    one ticket: one whose last message is the customer's if there is one
    (first those sent to this server, oldest first, with a reply that
    quotes the message), otherwise the next ticket in turn.
  * Times are UTC, "2026-11-30T08:15:00Z", whatever X-Time-Zone says, and
    strictly increasing within a ticket. Error messages are in English, or
    in Chinese when X-Language starts with "zh".
  * ListNewInstantMessages' last_message_time_id: every message gets a
    "time id" when it is stored, the larger of the current time in
    milliseconds since 1970 and the previous time id plus one, so time ids
    are unique and increase in the order messages are stored, also across
    restarts of the stand-in. A poll returns the messages of the given
    cases whose time id is above the marker (all of them without one), and
    the largest time id stored so far as the new marker (never less than
    the marker it was given). Polling on with each answer's marker returns
    every message exactly once.
  * ListMoreInstantMessages returns the messages created after create_time
    (the type of the message at the cursor must be 0 or 1); its count, like
    ListMessages', is the ticket's total. A withdrawn message is gone from
    every list. Support replies are unread until the ticket is marked read.

usage: osm_demo.py [--host=127.0.0.1] [--port=8080] [--new_message_interval=20]
                   [--parent_pid=PID] [--verbose]
Prints the port it listens on (the chosen one with --port=0) as its first
line on stdout. Stops on SIGTERM or SIGINT, and when process PARENT_PID is
gone.
"""
import argparse
import datetime
import html
import json
import os
import re
import signal
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MAX_BODY = 1 << 20

CUSTOMER = {"customer_id": "0b4f5c7d2e8a4b1c9f3e6a7d5c2b1a09",
            "xcustomer_id": "7c1e9a2f4b6d4e8fa3c5b7d9e1f20468", "xcustomer_name": "li_wei"}
SUPPORT = {"replier": "hws_engineer_0381", "replier_name": "Huawei Cloud Support"}
SPECIAL_CASES = ("throttled", "forbidden", "missing")

# (case fields, messages): each message is (time, type, content, attachments, unread).
TICKETS = [
    ({"incident_id": "C202611300001", "status": 1, "business_type_name": "Elastic Cloud Server",
      "incident_type_name": "Technical issue", "dc_name": "CN South-Guangzhou",
      "severity_name": "Major", "create_time": "2026-11-30T01:15:00Z",
      "simple_description": "ECS ecs-web-01 unreachable over SSH after resizing"}, [
        ("2026-11-30T01:15:00Z", 0,
         "After resizing ecs-web-01 from s6.large.2 to s6.xlarge.2 I can no longer connect "
         "over SSH: port 22 times out. The security group has not changed.", [], False),
        ("2026-11-30T01:32:00Z", 1,
         "<p>Hello,</p><p>Thank you for contacting Huawei Cloud Support. Could you send a "
         "screenshot of the remote login (VNC) console and the output of "
         "<b>systemctl status sshd</b>?</p>", [], False),
        ("2026-11-30T01:47:30Z", 0,
         "Screenshot attached. sshd is running, but the console shows "
         "'eth0: link is not ready'.",
         [("ACC2026113001473001", "vnc-console.png"), ("ACC2026113001473002", "sshd-status.txt")],
         False),
        ("2026-11-30T03:05:10Z", 1,
         "<p>The resize moved the instance to another host and its network interface needs "
         "to be initialised again. Please stop the instance in the console, start it again "
         "and tell us whether SSH works.</p>", [], True),
    ]),
    ({"incident_id": "C202611300002", "status": 1, "business_type_name": "Object Storage Service",
      "incident_type_name": "Technical issue", "dc_name": "AP-Singapore",
      "severity_name": "Minor", "create_time": "2026-11-30T04:02:00Z",
      "simple_description": "OBS presigned URLs return 403 SignatureDoesNotMatch"}, [
        ("2026-11-30T04:02:00Z", 0,
         "Presigned GET URLs for bucket media-prod return 403 SignatureDoesNotMatch, "
         "although they are generated with the SDK a second before use.", [], False),
        ("2026-11-30T04:40:00Z", 1,
         "<p>Hello,</p><p>This error usually means the signing machine's clock is off by "
         "more than 15 minutes. Please check it with <b>date -u</b>.</p>", [], False),
        ("2026-11-30T05:10:00Z", 0,
         "Thanks, that was it: the clock of the signing host was 20 minutes behind.", [], False),
    ]),
    ({"incident_id": "C202611300003", "status": 2, "business_type_name": "Billing",
      "incident_type_name": "Billing and payment", "dc_name": "CN North-Beijing4",
      "severity_name": "Minor", "create_time": "2026-11-30T06:20:00Z",
      "simple_description": "The November invoice shows one RDS charge twice"}, [
        ("2026-11-30T06:20:00Z", 0,
         "The November invoice charges CNY 1,280.00 twice for the same RDS for MySQL "
         "instance (rds-orders).", [], False),
        ("2026-11-30T07:05:00Z", 1,
         "<p>Hello,</p><p>We have found the duplicate charge and asked the billing team to "
         "refund it.</p>", [], True),
        ("2026-11-30T09:45:00Z", 1,
         "<p>The duplicate charge of CNY 1,280.00 has been refunded to your account balance. "
         "Please confirm that you see it, and we will close this ticket.</p>", [], True),
    ]),
    ({"incident_id": "C202611300004", "status": 0, "business_type_name": "Quota",
      "incident_type_name": "Service request", "dc_name": "CN East-Shanghai1",
      "severity_name": "Minor", "create_time": "2026-11-30T10:20:00Z",
      "simple_description": "Raise the vCPU quota to 400"}, [
        ("2026-11-30T10:20:00Z", 0,
         "Please raise our vCPU quota in CN East-Shanghai1 from 200 to 400 for the "
         "year-end sale.", [], False),
    ]),
]

# Replies in turn, per ticket; then the generic ones.
REPLIES = {
    "C202611300001": ["<p>Our engineers see the instance running again on the new host. "
                      "Is SSH reachable now?</p>"],
    "C202611300002": ["<p>Glad it works. We will keep this ticket open for another day in "
                      "case the error comes back.</p>"],
    "C202611300003": ["<p>A reminder: please confirm the refund, or tell us what is "
                      "missing.</p>"],
    "C202611300004": ["<p>Hello,</p><p>We have received your quota request and passed it "
                      "to the capacity team.</p>",
                      "<p>The vCPU quota in CN East-Shanghai1 is now 400.</p>"],
}
GENERIC_REPLIES = ["<p>We are still looking into this and will update you within two "
                   "hours.</p>",
                   "<p>Is there anything else we can help you with on this ticket?</p>"]

ERRORS = {  # code: (English, Chinese)
    "OSM.01010001": ("Param validation failed.", "参数校验失败。"),
    "OSM.01010002": ("No permission for the operation.", "无操作权限。"),
    "OSM.01010012": ("The type must be 0 or 1.", "类型必须为0或1。"),
    "OSM.01010015": ("The case does not exist.", "工单不存在。"),
}


def format_time(moment):
    return moment.strftime(TIME_FORMAT)


def parse_time(text):
    """A create_time cursor as OSM's SDKs read times: ISO 8601 with Z, an
    offset or neither (then UTC), a space instead of T, or seconds or
    milliseconds since 1970. None if it is none of these."""
    text = text.strip()
    if re.fullmatch(r"\d{1,16}", text):
        number = int(text)
        seconds = number / 1000 if number >= 100_000_000_000 else number
        try:
            return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment


def trim_rich_text(content):
    """OSM's trim_osm_rich_text_label: the markup removed, one line per paragraph."""
    text = re.sub(r"<br\s*/?>|</p>", "\n", content, flags=re.IGNORECASE)
    text = re.sub(r"</?[A-Za-z][^<>]*>", "", text)
    return "\n".join(line.strip() for line in html.unescape(text).splitlines() if line.strip())


class OsmError(Exception):
    """An OSM business error: HTTP 200 with error_code and error_msg."""

    def __init__(self, code, detail=""):
        super().__init__(code)
        self.code = code
        self.detail = detail


class Message:
    def __init__(self, message_id, message_type, content, created, time_id, attachments=(),
                 first=False):
        self.message_id = message_id
        self.type = message_type
        self.content = content
        self.created = created
        self.time_id = time_id
        self.attachments = list(attachments)
        self.first = first

    def author(self):
        if self.type == 0:
            return 0, CUSTOMER["xcustomer_id"], CUSTOMER["xcustomer_name"]
        return 1, SUPPORT["replier"], SUPPORT["replier_name"]

    def content_for(self, trim):
        return trim_rich_text(self.content) if trim else self.content

    def accessory_list(self):
        return [{"accessory_id": a, "file_actual_name": n} for a, n in self.attachments]

    def query_info(self, trim):
        """QueryMessageInfoV2: no message_id."""
        replier_type, replier, name = self.author()
        return {"type": self.type, "replier_type": replier_type, "replier": replier,
                "content": self.content_for(trim), "create_time": format_time(self.created),
                "replier_name": name, "is_first_message": int(self.first), "iam_user_type": 0,
                "accessory_list": self.accessory_list()}

    def incident_message(self, trim):
        """IncidentMessageV2: with message_id."""
        _, replier, name = self.author()
        return {"type": self.type, "replier": replier, "content": self.content_for(trim),
                "message_id": self.message_id, "replier_name": name,
                "create_time": format_time(self.created), "is_first_message": int(self.first),
                "accessory_list": self.accessory_list()}


class Case:
    def __init__(self, fields):
        self.fields = dict(fields)
        self.case_id = fields["incident_id"]
        self.messages = []  # in the order stored, which is create_time order
        self.read_time_id = 0  # support replies above this are unread
        self.canned_sent = 0  # of REPLIES and GENERIC_REPLIES

    def unread(self):
        return sum(1 for m in self.messages if m.type == 1 and m.time_id > self.read_time_id)


class Store:
    """The demo tickets; every method runs under one lock."""

    def __init__(self, clock=None):
        self.clock = clock or (lambda: datetime.datetime.now(datetime.timezone.utc))
        self.lock = threading.Lock()
        self.cases = {}
        self.last_time_id = 0
        self.message_count = 0
        self.turn = 0
        seeded = []  # message ids in ticket order (M100001...), time ids in time order
        for fields, messages in TICKETS:
            case = Case(dict(fields, judgement="", source_name="Console", business_ownership=0,
                             incident_satisfaction=[], **CUSTOMER))
            self.cases[case.case_id] = case
            for index, (created, message_type, content, attachments, unread) in enumerate(messages):
                moment = datetime.datetime.strptime(created, TIME_FORMAT).replace(
                    tzinfo=datetime.timezone.utc)
                seeded.append((moment, self._new_message_id(), case, message_type, content,
                               attachments, index == 0, unread))
        for moment, message_id, case, message_type, content, attachments, first, unread in sorted(
                seeded, key=lambda item: item[0]):
            message = Message(message_id, message_type, content, moment,
                              self._new_time_id(moment), attachments, first)
            case.messages.append(message)
            if not unread:
                case.read_time_id = message.time_id
        self.seed_end = self.last_time_id

    def _new_message_id(self):
        self.message_count += 1
        return f"M{100000 + self.message_count}"

    def _new_time_id(self, moment):
        self.last_time_id = max(int(moment.timestamp() * 1000), self.last_time_id + 1)
        return self.last_time_id

    def _add(self, case, message_type, content, attachments=()):
        now = self.clock()
        created = now.replace(microsecond=0)
        if case.messages:  # strictly increasing within a ticket
            created = max(created, case.messages[-1].created + datetime.timedelta(seconds=1))
        message = Message(self._new_message_id(), message_type, content, created,
                          self._new_time_id(now), attachments, not case.messages)
        case.messages.append(message)
        return message

    def case(self, case_id):
        case = self.cases.get(case_id)
        if case is None:
            raise OsmError("OSM.01010015", case_id)
        return case

    def send(self, case_id, content, accessory_ids):
        with self.lock:
            return self._add(self.case(case_id), 0, content,
                             [(a, f"attachment-{a}") for a in accessory_ids])

    def withdraw(self, case_id, message_id):
        with self.lock:
            case = self.case(case_id)
            for message in case.messages:
                if message.message_id == message_id:
                    case.messages.remove(message)
                    return
            raise OsmError("OSM.01010001", f"case {case_id} has no message {message_id}")

    def messages(self, case_id):
        with self.lock:
            return list(self.case(case_id).messages)

    def detail(self, case_id, trim):
        with self.lock:
            case = self.case(case_id)
            return dict(case.fields,
                        message_list=[m.incident_message(trim) for m in case.messages])

    def poll(self, case_ids, marker, trim):
        with self.lock:
            cases = [self.case(case_id) for case_id in case_ids]
            statuses, batches = [], []
            for case in cases:
                statuses.append({"status": 0 if case.unread() else 1,
                                 "incident_id": case.case_id})
                new = [m.query_info(trim) for m in case.messages if m.time_id > marker]
                if new:
                    batches.append({"incident_id": case.case_id, "message_list": new})
            return statuses, batches, str(max(marker, self.last_time_id))

    def unread(self, case_ids):
        with self.lock:
            cases = [self.case(case_id) for case_id in case_ids]
            return [{"status": 1, "incident_id": c.case_id, "unread_num": c.unread()}
                    for c in cases]

    def mark_read(self, case_id):
        with self.lock:
            self.case(case_id).read_time_id = self.last_time_id

    def reply(self):
        """Support replies in one open ticket; returns (case id, message)."""
        with self.lock:
            open_cases = [c for c in self.cases.values() if c.fields["status"] in (0, 1, 2)]
            if not open_cases:
                return None
            waiting = [c for c in open_cases if c.messages and c.messages[-1].type == 0]
            if waiting:  # the messages sent to this server first, oldest first
                case = min(waiting, key=lambda c: (c.messages[-1].time_id <= self.seed_end,
                                                   c.messages[-1].time_id))
            else:
                case = open_cases[self.turn % len(open_cases)]
                self.turn += 1
            last = case.messages[-1] if case.messages else None
            if last is not None and last.type == 0 and last.time_id > self.seed_end:
                quoted = " ".join(trim_rich_text(last.content).split())
                quoted = quoted if len(quoted) <= 60 else quoted[:57] + "..."
                content = (f"<p>Thank you for your message (\"{html.escape(quoted)}\"). "
                           "An engineer is looking into it.</p>")
            else:
                canned = REPLIES.get(case.case_id, [])
                if case.canned_sent < len(canned):
                    content = canned[case.canned_sent]
                else:
                    content = GENERIC_REPLIES[(case.canned_sent - len(canned)) %
                                              len(GENERIC_REPLIES)]
                case.canned_sent += 1
            if case.fields["status"] == 0:
                case.fields["status"] = 1  # accepted: processing
            return case.case_id, self._add(case, 1, content)


# ---- HTTP ------------------------------------------------------------------

CASE = r"([^/]+)"
ROUTES = [  # (method, path pattern, operation)
    ("POST", rf"/v2/servicerequest/cases/{CASE}/instant-messages/{CASE}/withdraw", "withdraw"),
    ("POST", rf"/v2/servicerequest/cases/{CASE}/message", "send"),
    ("GET", rf"/v2/servicerequest/cases/{CASE}/messages", "list"),
    ("GET", rf"/v2/servicerequest/cases/{CASE}/instant-messages/more", "more"),
    ("GET", r"/v2/servicerequest/cases/instant-messages", "poll"),
    ("GET", r"/v2/servicerequest/cases/instant-messages/unread", "unread"),
    ("POST", rf"/v2/servicerequest/cases/{CASE}/instant-messages/unread", "mark_read"),
    ("GET", rf"/v2/servicerequest/cases/{CASE}", "detail"),
]


def route(method, path):
    for route_method, pattern, operation in ROUTES:
        match = re.fullmatch(pattern, path)
        if match:
            if route_method != method:
                return None, ()
            return operation, tuple(urllib.parse.unquote(g) for g in match.groups())
    return None, ()


class Request:
    """The parts of a request an operation reads."""

    def __init__(self, query, body):
        self.query = query
        self.body = body

    def value(self, name, required=False, limit=64):
        values = self.query.get(name)
        if not values:
            if required:
                raise OsmError("OSM.01010001", f"{name} is required")
            return None
        if len(values[-1]) > limit:
            raise OsmError("OSM.01010001", f"{name} is longer than {limit} characters")
        return values[-1]

    def integer(self, name, default, low, high, required=False):
        text = self.value(name, required)
        if text is None:
            return default
        if not re.fullmatch(r"-?\d{1,9}", text) or not low <= int(text) <= high:
            raise OsmError("OSM.01010001", f"{name} must be an integer from {low} to {high}")
        return int(text)

    def trim(self):
        text = self.value("trim_osm_rich_text_label")
        if text is None:
            return True
        if text.lower() not in ("true", "false"):
            raise OsmError("OSM.01010001", "trim_osm_rich_text_label must be true or false")
        return text.lower() == "true"

    def case_ids(self):
        """case_ids comma-joined (case_ids=a,b), repeated, or both."""
        values = self.query.get("case_ids", [])
        ids = [i for value in values for i in value.split(",")] if values else []
        if not ids:
            raise OsmError("OSM.01010001", "case_ids is required")
        if len(ids) > 100:
            raise OsmError("OSM.01010001", "case_ids has more than 100 ids")
        if any(not 1 <= len(i) <= 64 for i in ids):
            raise OsmError("OSM.01010001", "a case id is empty or longer than 64 characters")
        return ids

    def json_body(self, required):
        if not self.body.strip():
            if required:
                raise OsmError("OSM.01010001", "the request body is empty")
            return {}
        try:
            body = json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise OsmError("OSM.01010001", "the request body is not JSON") from None
        if body is None and not required:
            return {}
        if not isinstance(body, dict):
            raise OsmError("OSM.01010001", "the request body is not a JSON object")
        group_id = body.get("group_id")
        if group_id is not None and (not isinstance(group_id, str) or len(group_id) > 64):
            raise OsmError("OSM.01010001", "group_id must be a string of at most 64 characters")
        return body


def operate(store, operation, ids, request):
    """Runs one operation; returns its JSON answer (a business error raises)."""
    ok = {"error_code": "", "error_msg": ""}
    request.value("group_id")  # checked, otherwise ignored
    if operation == "withdraw":
        store.withdraw(*ids)
        return ok
    if operation == "send":
        body = request.json_body(required=True)
        message = body.get("message")
        if not isinstance(message, dict):
            raise OsmError("OSM.01010001", "message is required")
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            raise OsmError("OSM.01010001", "message.content is required")
        if len(content) > 10000:
            raise OsmError("OSM.01010001", "message.content is longer than 10000 characters")
        accessory_ids = message.get("accessory_ids") or []
        if (not isinstance(accessory_ids, list) or len(accessory_ids) > 10 or
                any(not isinstance(a, str) or not 1 <= len(a) <= 32 for a in accessory_ids)):
            raise OsmError("OSM.01010001", "accessory_ids: at most 10 ids of 1 to 32 characters")
        store.send(ids[0], content, accessory_ids)
        return ok
    if operation == "list":
        offset = request.integer("offset", 0, 0, 65535)
        limit = request.integer("limit", 10, 0, 100) or 10
        trim = request.trim()
        messages = store.messages(ids[0])
        return {"count": len(messages),
                "message_list": [m.query_info(trim) for m in messages[offset:offset + limit]]}
    if operation == "more":
        text = request.value("create_time", required=True, limit=100)
        cursor = parse_time(text)
        if cursor is None:
            raise OsmError("OSM.01010001", "create_time is not a time")
        message_type = request.value("type", required=True)
        if message_type not in ("0", "1"):
            raise OsmError("OSM.01010012")
        limit = request.integer("limit", None, 1, 100, required=True)
        trim = request.trim()
        messages = store.messages(ids[0])
        after = [m for m in messages if m.created > cursor]
        return {"count": len(messages), "message_list": [m.query_info(trim) for m in after[:limit]]}
    if operation == "poll":
        case_ids = request.case_ids()
        marker_text = request.value("last_message_time_id") or ""
        if marker_text and not re.fullmatch(r"\d{1,19}", marker_text):
            raise OsmError("OSM.01010001", "last_message_time_id is not one this server gave")
        trim = request.trim()
        statuses, batches, marker = store.poll(case_ids, int(marker_text or 0), trim)
        return {"imstatus": statuses, "immsg": batches, "last_message_time_id": marker}
    if operation == "unread":
        return {"imunread": store.unread(request.case_ids())}
    if operation == "mark_read":
        request.json_body(required=False)
        store.mark_read(ids[0])
        return ok
    if operation == "detail":
        return {"incident_detail_info": store.detail(ids[0], request.trim())}
    raise AssertionError(operation)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "osm-demo"
    timeout = 300  # an idle keep-alive connection is closed after this
    # Each answer in one write (handle_one_request flushes), sent at once.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def do_GET(self):
        self.answer_request()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_GET

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        if self.server.verbose:
            super().log_message(format, *args)

    def read_body(self):
        """The body, or None if it cannot be read."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size_line = self.rfile.readline(1024)
                try:
                    size = int(size_line.split(b";")[0], 16)
                except ValueError:
                    return None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                if len(body) + size > MAX_BODY:
                    return None
                body += self.rfile.read(size)
                self.rfile.readline(1024)
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return None
        if not 0 <= length <= MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def answer_request(self):
        request_id = uuid.uuid4().hex
        body = self.read_body()
        if body is None:
            self.close_connection = True
            return self.send_json(400, {"error_code": "APIGW.0201",
                                        "error_msg": "Request error: unreadable body.",
                                        "request_id": request_id}, request_id)
        url = urllib.parse.urlsplit(self.path)
        operation, ids = route(self.command, url.path)
        if operation is None:
            return self.send_json(404, {
                "error_code": "APIGW.0101",
                "error_msg": "The API does not exist or has not been published in the "
                             "environment.", "request_id": request_id}, request_id)
        if not self.headers.get("X-Auth-Token") and not self.headers.get("Authorization"):
            return self.send_json(401, {
                "error_code": "APIGW.0301",
                "error_msg": "Incorrect IAM authentication information: no token",
                "request_id": request_id}, request_id)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        request = Request(query, body)
        try:
            named = list(ids[:1])  # the path's case id, and the listed ones
            for value in query.get("case_ids", []):
                named += value.split(",")
            for special in SPECIAL_CASES:
                if special in named:
                    if special == "throttled":
                        return self.send_json(429, {
                            "error_code": "APIGW.0308",
                            "error_msg": "The throttling threshold has been reached.",
                            "request_id": request_id}, request_id, {"Retry-After": "5"})
                    raise OsmError("OSM.01010002" if special == "forbidden" else "OSM.01010015")
            answer = operate(self.server.store, operation, ids, request)
        except OsmError as error:
            english, chinese = ERRORS[error.code]
            if self.headers.get("X-Language", "").lower().startswith("zh"):
                message = chinese
            else:
                message = (english[:-1] + f": {error.detail}.") if error.detail else english
            answer = {"error_code": error.code, "error_msg": message}
        return self.send_json(200, answer, request_id)

    def send_json(self, status, answer, request_id, headers=None):
        data = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", request_id)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0: any free port")
    parser.add_argument("--new_message_interval", type=float, default=20.0,
                        help="seconds between support replies; 0: none")
    parser.add_argument("--parent_pid", type=int, default=0,
                        help="stop when this process is gone")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args()

    store = Store()
    try:
        server = ThreadingHTTPServer((args.host, args.port), Handler)
    except OSError as error:
        print(f"osm_demo.py: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    server.daemon_threads = True
    server.store = store
    server.verbose = args.verbose
    stopping = threading.Event()

    def stop(*_):
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def replies():
        while not stopping.wait(args.new_message_interval):
            store.reply()

    def watch_parent():
        while not stopping.wait(0.5):
            try:
                os.kill(args.parent_pid, 0)
            except ProcessLookupError:
                stop()
            except PermissionError:
                pass

    if args.new_message_interval > 0:
        threading.Thread(target=replies, daemon=True).start()
    if args.parent_pid > 0:
        threading.Thread(target=watch_parent, daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
