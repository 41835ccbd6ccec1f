#!/usr/bin/env python3
"""Watches cases for new messages through osm-grpc-adapter (WatchNewMessages):
prints each batch's messages and its last_message_time_id as they arrive,
starting after MARKER, for at most SECONDS (default: until the stream ends).
When the stream ends with UNAVAILABLE (the adapter shut down) or at the
deadline, it prints the marker to resume from: pass it as MARKER.

Usage: OSM_AUTH_TOKEN=... PYTHONPATH=gen python3 watch.py
           HOST:PORT CASE_ID[,CASE_ID...] [MARKER [SECONDS]]
(gen/ comes from examples/python/generate.sh). Exit status: the gRPC status code.
"""
import sys

import grpc
from huaweicloud.osm.v2 import message_service_pb2 as osm

from osm_example import metadata, print_error, sender, stub

target, case_ids = sys.argv[1:3]
marker = sys.argv[3] if len(sys.argv) > 3 else ""
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else None
request = osm.WatchNewMessagesRequest(case_ids=case_ids.split(","), last_message_time_id=marker)
try:
    for batch in stub(target).WatchNewMessages(request, metadata=metadata(), timeout=seconds):
        for case in batch.cases:
            for message in case.messages:
                print(f"{case.case_id} [{sender(message)} {message.create_time}] "
                      f"{message.content}")
        marker = batch.last_message_time_id
        print(f"last_message_time_id: {marker}", flush=True)
except grpc.RpcError as error:
    code = print_error(error)
    if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        print(f"resume_from: {marker}")
    sys.exit(code)
