#include "fuzz/fuzz_checks.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/rpc/error_details.pb.h"

namespace osm::fuzz {

void Fail(const char* file, int line, const char* condition, absl::string_view what) {
  std::fprintf(stderr, "%s:%d: invariant broken: %.*s (%s)\n", file, line,
               static_cast<int>(what.size()), what.data(), condition);
  std::abort();
}

bool IsPrintableAscii(absl::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

google::rpc::Status ParsedDetails(const grpc::Status& status) {
  google::rpc::Status details;
  OSM_FUZZ_CHECK(details.ParseFromString(status.error_details()),
                 "grpc-status-details-bin parses as google.rpc.Status");
  OSM_FUZZ_CHECK(details.code() == static_cast<int>(status.error_code()),
                 "the details' code is the status code");
  OSM_FUZZ_CHECK(details.message() == status.error_message(),
                 "the details' message is the status message");
  return details;
}

int CountErrorInfos(const google::rpc::Status& details) {
  int count = 0;
  for (const google::protobuf::Any& detail : details.details()) {
    if (detail.Is<google::rpc::ErrorInfo>()) ++count;
  }
  return count;
}

void ForEachString(const google::protobuf::Message& message,
                   const std::function<void(absl::string_view)>& visit) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const google::protobuf::Reflection* reflection = message.GetReflection();
  if (descriptor->full_name() == google::protobuf::Any::descriptor()->full_name()) {
    const auto& any = static_cast<const google::protobuf::Any&>(message);
    visit(any.type_url());
    const google::protobuf::Descriptor* type =
        google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
            std::string(any.type_url().substr(any.type_url().rfind('/') + 1)));
    if (type == nullptr) {
      visit(any.value());  // unknown type: look at its raw bytes
      return;
    }
    std::unique_ptr<google::protobuf::Message> unpacked(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
    OSM_FUZZ_CHECK(unpacked->ParseFromString(any.value()), "every detail parses as its type");
    ForEachString(*unpacked, visit);
    return;
  }
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->is_repeated()) {
      const int size = reflection->FieldSize(message, field);
      for (int k = 0; k < size; ++k) {
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          visit(reflection->GetRepeatedString(message, field, k));
        } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          ForEachString(reflection->GetRepeatedMessage(message, field, k), visit);
        }
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      visit(reflection->GetString(message, field));
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               reflection->HasField(message, field)) {
      ForEachString(reflection->GetMessage(message, field), visit);
    }
  }
}

bool IsTokenLike(absl::string_view secret) {
  if (secret.size() < 16) return false;
  for (char c : secret) {
    const bool base64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
    if (!base64) return false;
  }
  return true;
}

}  // namespace osm::fuzz
