#include "client/health_probe.h"

#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace osm {
namespace {

// A length-delimited protobuf field: tag, varint length, bytes.
std::string LengthDelimited(int field, absl::string_view value) {
  std::string out;
  out.push_back(static_cast<char>(field << 3 | 2));
  std::size_t length = value.size();
  do {
    char byte = static_cast<char>(length & 0x7F);
    length >>= 7;
    if (length != 0) byte = static_cast<char>(byte | 0x80);
    out.push_back(byte);
  } while (length != 0);
  out.append(value.data(), value.size());
  return out;
}

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

// Reads a varint at `pos`; false if truncated.
bool ReadVarint(const std::string& bytes, std::size_t& pos, std::uint64_t& value) {
  value = 0;
  for (int shift = 0; pos < bytes.size() && shift < 64; shift += 7) {
    const auto byte = static_cast<std::uint8_t>(bytes[pos++]);
    value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// The length-delimited fields numbered `field` in `bytes`.
std::vector<std::string> Fields(const std::string& bytes, int field) {
  std::vector<std::string> found;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::uint64_t key;
    if (!ReadVarint(bytes, pos, key)) break;
    const int wire_type = static_cast<int>(key & 7);
    std::uint64_t value;
    if (wire_type == 0) {
      if (!ReadVarint(bytes, pos, value)) break;
    } else if (wire_type == 2) {
      if (!ReadVarint(bytes, pos, value) || value > bytes.size() - pos) break;
      if (static_cast<int>(key >> 3) == field) found.push_back(bytes.substr(pos, value));
      pos += value;
    } else {
      break;  // not used by these messages
    }
  }
  return found;
}

absl::Status FromGrpc(const grpc::Status& status, absl::string_view what) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

}  // namespace

absl::StatusOr<ServingStatus> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                          absl::string_view service, absl::Duration timeout) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::CompletionQueue queue;
  const grpc::ByteBuffer request =
      ToByteBuffer(service.empty() ? std::string() : LengthDelimited(1, service));
  auto call = stub.PrepareUnaryCall(&context, "/grpc.health.v1.Health/Check", request, &queue);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, &context);
  void* tag;
  bool ok;
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  if (!status.ok()) return FromGrpc(status, "health check");
  const std::string bytes = FromByteBuffer(response);
  // HealthCheckResponse { ServingStatus status = 1; }: 0x08, varint.
  std::size_t pos = 0;
  std::uint64_t key = 0;
  std::uint64_t value = 0;
  if (bytes.empty()) return ServingStatus::kUnknown;
  if (!ReadVarint(bytes, pos, key) || key != 0x08 || !ReadVarint(bytes, pos, value) || value > 3) {
    return absl::InternalError("health check: unreadable answer");
  }
  return static_cast<ServingStatus>(value);
}

absl::StatusOr<std::vector<std::string>> ListServicesByReflection(
    const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::CompletionQueue queue;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  void* tag;
  bool ok;
  // One step at a time: each operation's tag is awaited before the next.
  auto step = [&](void* expected) { return queue.Next(&tag, &ok) && tag == expected && ok; };
  call->StartCall(reinterpret_cast<void*>(1));
  bool healthy = step(reinterpret_cast<void*>(1));
  // ServerReflectionRequest { string list_services = 7; }
  if (healthy) {
    call->Write(ToByteBuffer(LengthDelimited(7, "*")), reinterpret_cast<void*>(2));
    healthy = step(reinterpret_cast<void*>(2));
  }
  grpc::ByteBuffer response;
  if (healthy) {
    call->Read(&response, reinterpret_cast<void*>(3));
    healthy = step(reinterpret_cast<void*>(3));
  }
  call->WritesDone(reinterpret_cast<void*>(4));
  queue.Next(&tag, &ok);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  while (queue.Next(&tag, &ok) && tag != reinterpret_cast<void*>(5)) {
  }
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  if (!status.ok()) return FromGrpc(status, "reflection");
  if (!healthy) return absl::UnavailableError("reflection: the stream failed");
  // ServerReflectionResponse { ListServiceResponse list_services_response = 6; }
  // ListServiceResponse { repeated ServiceResponse service = 1; }
  // ServiceResponse { string name = 1; }
  std::vector<std::string> names;
  for (const std::string& list : Fields(FromByteBuffer(response), 6)) {
    for (const std::string& service : Fields(list, 1)) {
      for (std::string& name : Fields(service, 1)) names.push_back(std::move(name));
    }
  }
  return names;
}

}  // namespace osm
