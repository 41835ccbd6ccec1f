#!/usr/bin/env python3
"""Withdraws a message through osm-grpc-adapter and prints the outcome.

Usage: OSM_AUTH_TOKEN=... PYTHONPATH=gen python3 withdraw.py HOST:PORT CASE_ID MESSAGE_ID
(gen/ comes from examples/python/generate.sh). Exit status: the gRPC status code.
"""
import os
import sys

import grpc
from google.rpc import error_details_pb2 as details_pb2, status_pb2
from huaweicloud.osm.v2 import message_service_pb2 as osm, message_service_pb2_grpc as osm_grpc

target, case_id, message_id = sys.argv[1:4]
token = os.environ.get("OSM_AUTH_TOKEN")
stub = osm_grpc.MessageServiceStub(grpc.insecure_channel(target))
try:
    response = stub.Withdraw(osm.WithdrawRequest(case_id=case_id, message_id=message_id),
                             metadata=[("x-auth-token", token)] if token else [], timeout=10)
except grpc.RpcError as error:
    print(f"code: {error.code().name}\nmessage: {error.details()}")
    trailers = dict(error.trailing_metadata() or ())
    status = status_pb2.Status.FromString(trailers.get("grpc-status-details-bin", b""))
    for detail in status.details:
        info, request = details_pb2.ErrorInfo(), details_pb2.RequestInfo()
        bad = details_pb2.BadRequest()
        if detail.Unpack(info):
            print(f"reason: {info.reason}")
            if "errorCode" in info.metadata:
                print(f"osm_error_code: {info.metadata['errorCode']}")
        elif detail.Unpack(request):
            print(f"request_id: {request.request_id}")
        elif detail.Unpack(bad):
            for violation in bad.field_violations:
                print(f"invalid field: {violation.field}: {violation.description}")
    sys.exit(error.code().value[0])
print(f"OK request_id: {response.request_id}")
