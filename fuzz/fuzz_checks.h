#ifndef OSM_FUZZ_FUZZ_CHECKS_H_
#define OSM_FUZZ_FUZZ_CHECKS_H_

#include <grpcpp/support/status.h>

#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/rpc/status.pb.h"

// Invariant checks shared by the fuzz targets. A broken invariant prints one
// line naming it (never a secret) and aborts, which libFuzzer records as a
// crash with the input that caused it.

#define OSM_FUZZ_CHECK(condition, what) \
  ((condition) ? static_cast<void>(0) : ::osm::fuzz::Fail(__FILE__, __LINE__, #condition, what))

namespace osm::fuzz {

[[noreturn]] void Fail(const char* file, int line, const char* condition, absl::string_view what);

// True if every byte is printable ASCII (0x20-0x7E): what a gRPC metadata
// value may hold.
bool IsPrintableAscii(absl::string_view text);

// The details that `status` carries (its grpc-status-details-bin), parsed;
// aborts if they do not parse or disagree with the status's code or message.
google::rpc::Status ParsedDetails(const grpc::Status& status);

// How many google.rpc.ErrorInfo `details` holds.
int CountErrorInfos(const google::rpc::Status& details);

// Calls `visit` with every string field of `message`, recursively, with
// google.protobuf.Any values unpacked when their type is linked in.
void ForEachString(const google::protobuf::Message& message,
                   const std::function<void(absl::string_view)>& visit);

// A realistic token: at least 16 bytes, all from the base64 alphabet
// (A-Z a-z 0-9 + / =). Nothing the adapter writes itself (words, reasons,
// field names, type URLs, "[REDACTED]", "...", U+FFFD, '?') holds such a run,
// so finding one in the output means it came from the upstream unredacted.
bool IsTokenLike(absl::string_view secret);

}  // namespace osm::fuzz

#endif  // OSM_FUZZ_FUZZ_CHECKS_H_
