#!/usr/bin/env python3
"""Lists a case's messages through osm-grpc-adapter: every message with its
message_id (ListCaseMessages), then the case page by page (ListMessages,
PAGE_SIZE messages a page, default 10, following next_offset).

Usage: OSM_AUTH_TOKEN=... PYTHONPATH=gen python3 list_messages.py HOST:PORT CASE_ID [PAGE_SIZE]
(gen/ comes from examples/python/generate.sh). Exit status: the gRPC status code.
"""
import sys

import grpc
from huaweicloud.osm.v2 import message_service_pb2 as osm

from osm_example import metadata, print_error, sender, stub

target, case_id = sys.argv[1:3]
page_size = int(sys.argv[3]) if len(sys.argv) > 3 else 10
service = stub(target)
try:
    listed = service.ListCaseMessages(osm.ListCaseMessagesRequest(case_id=case_id),
                                      metadata=metadata(), timeout=10)
    print(f"ListCaseMessages {case_id}: {len(listed.messages)} messages, "
          f"request_id {listed.request_id}")
    for message in listed.messages:
        print(f"  {message.message_id} [{sender(message)} {message.create_time}] "
              f"{message.content}")
    offset = 0
    while True:
        page = service.ListMessages(
            osm.ListMessagesRequest(case_id=case_id, offset=offset, limit=page_size),
            metadata=metadata(), timeout=10)
        print(f"ListMessages {case_id} offset {offset}: {len(page.messages)} of "
              f"{page.total_count}, next_offset {page.next_offset}")
        for message in page.messages:
            print(f"  [{sender(message)} {message.create_time}] {message.content}")
        if page.next_offset == 0:
            break
        offset = page.next_offset
except grpc.RpcError as error:
    sys.exit(print_error(error))
