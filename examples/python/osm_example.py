"""What list_messages.py and watch.py share (withdraw.py, shown whole in the
README, has its own copy): the stub, the token, and the error printed with its
status details as withdraw.py prints it."""
import os

import grpc
from google.rpc import error_details_pb2 as details_pb2, status_pb2
from huaweicloud.osm.v2 import message_service_pb2_grpc as osm_grpc


def stub(target):
    return osm_grpc.MessageServiceStub(grpc.insecure_channel(target))


def metadata():
    """The IAM token from OSM_AUTH_TOKEN, sent as x-auth-token."""
    token = os.environ.get("OSM_AUTH_TOKEN")
    return [("x-auth-token", token)] if token else []


def sender(message):
    return "support" if message.type == 1 else "customer"


def print_error(error):
    """Prints the status and its details; returns the exit status, the gRPC code."""
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
    return error.code().value[0]
