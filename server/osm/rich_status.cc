#include "server/osm/rich_status.h"

#include <cstdint>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/str_cat.h"
#include "google/rpc/status.pb.h"

namespace osm {
namespace {

// Protobuf writes map entries (ErrorInfo.metadata) in hash order, which
// differs between calls; sorted, the same error has the same bytes on the
// wire every time (caches, proxies and tests compare them).
std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

// Any.PackFrom, with the message's bytes written deterministically.
void Pack(const google::protobuf::Message& message, google::protobuf::Any* any) {
  any->set_type_url(absl::StrCat("type.googleapis.com/", message.GetDescriptor()->full_name()));
  any->set_value(DeterministicBytes(message));
}

}  // namespace

grpc::Status MakeRichStatus(grpc::StatusCode code, absl::string_view message,
                            const google::rpc::ErrorInfo& error_info,
                            std::initializer_list<const google::protobuf::Message*> more_details) {
  std::string bounded = SanitizeText(message, kMaxStatusMessageBytes);
  google::rpc::Status status;
  status.set_code(static_cast<int>(code));
  status.set_message(bounded);
  Pack(error_info, status.add_details());
  for (const google::protobuf::Message* detail : more_details) {
    if (detail != nullptr) Pack(*detail, status.add_details());
  }
  return grpc::Status(code, std::move(bounded), DeterministicBytes(status));
}

google::rpc::RetryInfo RetryInfoFor(absl::Duration delay) {
  google::rpc::RetryInfo retry;
  const int64_t seconds = absl::ToInt64Seconds(delay);
  retry.mutable_retry_delay()->set_seconds(seconds);
  retry.mutable_retry_delay()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(delay - absl::Seconds(seconds))));
  return retry;
}

std::string ErrorInfoReason(const grpc::Status& status) {
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
    return "";
  }
  for (const google::protobuf::Any& detail : details.details()) {
    google::rpc::ErrorInfo info;
    if (detail.UnpackTo(&info)) return info.reason();
  }
  return "";
}

namespace {

// Length of the valid UTF-8 sequence at the start of `s`, or 0 if invalid.
std::size_t Utf8SequenceLength(absl::string_view s) {
  const auto lead = static_cast<std::uint8_t>(s[0]);
  std::size_t length;
  std::uint32_t min_value;
  std::uint32_t value;
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, min_value = 0x80, value = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, min_value = 0x800, value = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, min_value = 0x10000, value = lead & 0x07;
  } else {
    return 0;
  }
  if (s.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    const auto c = static_cast<std::uint8_t>(s[i]);
    if ((c & 0xC0) != 0x80) return 0;
    value = (value << 6) | (c & 0x3F);
  }
  if (value < min_value || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  return length;
}

}  // namespace

std::string SanitizeText(absl::string_view text, std::size_t max_bytes) {
  static constexpr absl::string_view kEllipsis = "...";
  static constexpr absl::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(text.size() < max_bytes ? text.size() : max_bytes + 1);
  // Sanitize until the text is known to be too long, then cut.
  while (!text.empty() && out.size() <= max_bytes) {
    std::size_t length = Utf8SequenceLength(text);
    if (length == 0) {
      out.append(kReplacement.data(), kReplacement.size());
      length = 1;
    } else if ((length == 1 && (static_cast<std::uint8_t>(text[0]) < 0x20 || text[0] == 0x7F)) ||
               (length == 2 && static_cast<std::uint8_t>(text[0]) == 0xC2 &&
                static_cast<std::uint8_t>(text[1]) < 0xA0)) {
      // C0 and C1 control characters (U+0080..U+009F is 0xC2 0x80..0x9F).
      out.push_back(' ');
    } else {
      out.append(text.data(), length);
    }
    text.remove_prefix(length);
  }
  if (out.size() <= max_bytes && text.empty()) return out;
  if (max_bytes < kEllipsis.size()) return std::string();
  std::size_t cut = max_bytes - kEllipsis.size();
  // Back off to the start of a UTF-8 character.
  while (cut > 0 && (static_cast<std::uint8_t>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  out.append(kEllipsis.data(), kEllipsis.size());
  return out;
}

}  // namespace osm
