// Fuzzes AK/SK signing canonicalization (server/aksk_signer.h) and the
// signed request the adapter builds from it.
//
// Input: fields, each ended by a backslash and one more byte (a newline in
// the seeds), as FuzzedDataProvider::ConsumeRandomLengthString reads them
// ("\\\\" is a literal backslash); a missing field is empty:
//
//   method\ path\ body\ access_key\ secret_key\ case_id\ message_id\
//   then pairs, each "h\" or "q\" (header or query) followed by name\ value\
//
// Invariants checked on every input:
//   - CanonicalUri: only unreserved bytes, '/' and "%XX" (upper-case hex);
//     ends with '/'; keeps the path's segments; is idempotent; and the path
//     the adapter sends (WithdrawPath) is already canonical;
//   - CanonicalQueryString: one encoded "name=value" per pair, sorted;
//   - SignedHeaderNames: lower-case, sorted, without repeats, the names given;
//   - CanonicalRequest: its lines are the method, URI, query, one
//     "name:value" per header, an empty line, the names and the body hash;
//   - SignRequest: a 64-digit lower-case hex signature inside an
//     Authorization of the documented form; the same signature for requests
//     that differ only in what canonicalization removes (the case of header
//     names, whitespace around header values, the order of headers and
//     query parameters, percent-encoding of unreserved bytes in the path);
//     errors and the Authorization never quote the secret key;
//   - BuildSignedWithdrawHttpRequest: never an X-Auth-Token, the secret key
//     nowhere in the request, the signature is the Authorization's.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "fuzz/fuzz_checks.h"
#include "huaweicloud/osm/v2/message_service.pb.h"
#include "server/osm/aksk_signer.h"
#include "server/osm/upstream_request.h"

namespace {

using osm::fuzz::IsTokenLike;
using Pairs = std::vector<std::pair<std::string, std::string>>;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

bool IsUnreserved(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
         c == '~';
}

bool IsUpperHex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

// Unreserved bytes and %XX only, plus the bytes in `also`.
bool IsEncoded(absl::string_view text, absl::string_view also) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (text.size() - i < 3 || !IsUpperHex(text[i + 1]) || !IsUpperHex(text[i + 2])) {
        return false;
      }
      i += 2;
    } else if (!IsUnreserved(text[i]) && also.find(text[i]) == absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

// RFC 9110 token characters: what a header name is made of.
bool IsToken(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        absl::string_view("!#$%&'*+-.^_`|~").find(c) == absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool HasControl(absl::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return true;
  }
  return false;
}

void CheckCanonicalUri(absl::string_view path) {
  const std::string uri = osm::CanonicalUri(path);
  OSM_FUZZ_CHECK(IsEncoded(uri, "/"), "the canonical URI holds only unreserved bytes, '/' and %XX");
  OSM_FUZZ_CHECK(!uri.empty() && uri.back() == '/', "the canonical URI ends with '/'");
  const auto slashes = [](absl::string_view text) {
    return std::count(text.begin(), text.end(), '/');
  };
  const bool appended = path.empty() || path.back() != '/';
  OSM_FUZZ_CHECK(slashes(uri) == slashes(path) + (appended ? 1 : 0),
                 "the canonical URI keeps the path's segments");
  OSM_FUZZ_CHECK(osm::CanonicalUri(uri) == uri, "CanonicalUri is idempotent");
}

void CheckQuery(const Pairs& query) {
  const std::string canonical = osm::CanonicalQueryString(query);
  if (query.empty()) {
    OSM_FUZZ_CHECK(canonical.empty(), "no query, no canonical query");
    return;
  }
  const std::vector<absl::string_view> pairs = absl::StrSplit(canonical, '&');
  OSM_FUZZ_CHECK(pairs.size() == query.size(), "one canonical pair per query parameter");
  Pairs encoded;
  for (const auto& [name, value] : query) {
    encoded.emplace_back(osm::EncodePathSegment(name), osm::EncodePathSegment(value));
  }
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    OSM_FUZZ_CHECK(IsEncoded(pairs[i], "="), "a canonical pair is encoded");
    const std::vector<absl::string_view> parts = absl::StrSplit(pairs[i], '=');
    OSM_FUZZ_CHECK(parts.size() == 2, "a canonical pair is name=value");
  }
  Pairs sorted = query;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    OSM_FUZZ_CHECK(pairs[i] == absl::StrCat(osm::EncodePathSegment(sorted[i].first), "=",
                                            osm::EncodePathSegment(sorted[i].second)),
                   "the canonical pairs are sorted by name, then value");
  }
}

void CheckSignedHeaderNames(const Pairs& headers) {
  const std::string names = osm::SignedHeaderNames(headers);
  for (const auto& [name, value] : headers) {
    if (!IsToken(name)) return;  // the adapter only signs headers it names itself
  }
  std::vector<std::string> expected;
  for (const auto& header : headers) expected.push_back(absl::AsciiStrToLower(header.first));
  std::sort(expected.begin(), expected.end());
  expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
  const std::vector<std::string> got =
      names.empty() ? std::vector<std::string>() : absl::StrSplit(names, ';');
  OSM_FUZZ_CHECK(got == expected,
                 "the signed header names are the names, lower-case, sorted, once");
}

void CheckCanonicalRequest(const osm::SignableRequest& request) {
  const absl::StatusOr<std::string> canonical = osm::CanonicalRequest(request);
  bool names_ok = true;
  bool plain = !HasControl(request.method);
  for (const auto& [name, value] : request.headers) {
    names_ok = names_ok && !name.empty();
    plain = plain && IsToken(name) && !HasControl(value);
  }
  OSM_FUZZ_CHECK(canonical.ok() == names_ok, "only a header without a name is refused");
  if (!canonical.ok() || !plain) return;
  const std::vector<absl::string_view> lines = absl::StrSplit(*canonical, '\n');
  const std::size_t headers = request.headers.size();
  OSM_FUZZ_CHECK(lines.size() == 3 + headers + 3, "the canonical request has its lines");
  OSM_FUZZ_CHECK(lines[0] == request.method, "line 1 is the method");
  OSM_FUZZ_CHECK(lines[1] == osm::CanonicalUri(request.path), "line 2 is the canonical URI");
  OSM_FUZZ_CHECK(lines[2] == osm::CanonicalQueryString(request.query),
                 "line 3 is the canonical query");
  std::vector<std::pair<absl::string_view, absl::string_view>> parsed;
  for (std::size_t i = 0; i < headers; ++i) {
    const absl::string_view line = lines[3 + i];
    const std::size_t colon = line.find(':');
    OSM_FUZZ_CHECK(colon != absl::string_view::npos, "a header line is name:value");
    const absl::string_view name = line.substr(0, colon);
    const absl::string_view value = line.substr(colon + 1);
    OSM_FUZZ_CHECK(name == absl::AsciiStrToLower(name), "a header line's name is lower-case");
    OSM_FUZZ_CHECK(absl::StripAsciiWhitespace(value) == value, "a header line's value is trimmed");
    parsed.emplace_back(name, value);
  }
  OSM_FUZZ_CHECK(std::is_sorted(parsed.begin(), parsed.end()),
                 "the header lines are sorted by name, then value");
  OSM_FUZZ_CHECK(lines[3 + headers].empty(), "an empty line ends the headers");
  OSM_FUZZ_CHECK(lines[4 + headers] == osm::SignedHeaderNames(request.headers),
                 "then the signed header names");
  OSM_FUZZ_CHECK(lines[5 + headers] == *osm::HexSha256(request.body), "then the body's hash");
}

bool IsLowerHex64(absl::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// `request` as canonicalization should see it unchanged: header names in
// another case, values padded, headers and query reversed, and, in a path
// without '%', letters percent-encoded (lower-case hex).
osm::SignableRequest Disguised(const osm::SignableRequest& request) {
  osm::SignableRequest other = request;
  for (auto& [name, value] : other.headers) {
    for (char& c : name)
      c = absl::ascii_isupper(c) ? absl::ascii_tolower(c) : absl::ascii_toupper(c);
    value = absl::StrCat(" \t", value, " ");
  }
  std::reverse(other.headers.begin(), other.headers.end());
  std::reverse(other.query.begin(), other.query.end());
  if (absl::StrContains(request.path, '%')) return other;
  other.path.clear();
  for (char c : request.path) {
    if (absl::ascii_isalpha(static_cast<unsigned char>(c))) {
      static constexpr char kHex[] = "0123456789abcdef";
      const auto byte = static_cast<unsigned char>(c);
      other.path += {'%', kHex[byte >> 4], kHex[byte & 0x0F]};
    } else {
      other.path.push_back(c);
    }
  }
  return other;
}

void CheckSignature(const osm::SignableRequest& request, const std::string& access_key,
                    const std::string& secret_key) {
  const absl::StatusOr<osm::RequestSignature> signature =
      osm::SignRequest(request, access_key, secret_key);
  const bool secret_checkable =
      IsTokenLike(secret_key) && !absl::StrContains(access_key, secret_key);
  if (!signature.ok()) {
    if (secret_checkable) {
      OSM_FUZZ_CHECK(!absl::StrContains(signature.status().message(), secret_key),
                     "a signing error does not quote the secret key");
    }
    if (IsTokenLike(access_key)) {
      OSM_FUZZ_CHECK(!absl::StrContains(signature.status().message(), access_key),
                     "a signing error does not quote the access key");
    }
    return;
  }
  OSM_FUZZ_CHECK(IsLowerHex64(signature->signature), "the signature is 64 lower-case hex digits");
  OSM_FUZZ_CHECK(signature->authorization ==
                     absl::StrCat("SDK-HMAC-SHA256 Access=", access_key,
                                  ", SignedHeaders=", osm::SignedHeaderNames(request.headers),
                                  ", Signature=", signature->signature),
                 "the Authorization has the documented form");
  if (secret_checkable && !absl::StrContains(osm::SignedHeaderNames(request.headers), secret_key)) {
    OSM_FUZZ_CHECK(!absl::StrContains(signature->authorization, secret_key),
                   "the Authorization does not carry the secret key");
  }
  int dates = 0;
  for (const auto& [name, value] : request.headers) {
    if (HasControl(value) || HasControl(name)) return;  // padding may join with them
    if (absl::EqualsIgnoreCase(name, "x-sdk-date")) ++dates;
  }
  // Which of two dates is signed depends on their order; the adapter sends one.
  if (dates != 1) return;
  const absl::StatusOr<osm::RequestSignature> again =
      osm::SignRequest(Disguised(request), access_key, secret_key);
  OSM_FUZZ_CHECK(again.ok() && again->signature == signature->signature,
                 "what canonicalization removes does not change the signature");
}

void CheckSignedWithdraw(const std::string& case_id, const std::string& message_id,
                         const std::string& access_key, const std::string& secret_key,
                         absl::string_view security_token) {
  huaweicloud::osm::v2::WithdrawRequest request;
  request.set_case_id(case_id);
  request.set_message_id(message_id);
  request.set_language("en-us");
  auto build = [&](const std::string& key) {
    osm::AkSkCredentials credentials;
    credentials.access_key = access_key;
    credentials.secret_key = key;
    credentials.security_token = std::string(security_token);
    // https://osm.example.com/prefix, as ParseUpstreamUrl() gives it.
    const osm::UpstreamUrl upstream{"https", "osm.example.com", "/prefix"};
    return osm::BuildSignedWithdrawHttpRequest(upstream, request, credentials, kNow,
                                               kNow + absl::Seconds(30));
  };
  const absl::StatusOr<osm::SignedHttpRequest> built = build(secret_key);

  // The path the adapter sends is the canonical one: a gateway that
  // canonicalizes it again computes the same signature.
  const std::string path = osm::WithdrawPath(case_id, message_id);
  OSM_FUZZ_CHECK(osm::CanonicalUri(path) == path + "/", "the adapter's path is canonical");

  const bool secret_checkable = IsTokenLike(secret_key);
  if (!built.ok()) {
    if (secret_checkable && !absl::StrContains(access_key, secret_key)) {
      OSM_FUZZ_CHECK(!absl::StrContains(built.status().message(), secret_key),
                     "a signing error does not quote the secret key");
    }
    return;
  }
  // The same request signed with another key of the same length: where the
  // secret key's text shows in both, it came from elsewhere (the date, an
  // id, the access key), not from the key.
  std::string other_key = secret_key;
  for (char& c : other_key) c = c == 'Q' ? 'R' : 'Q';
  const absl::StatusOr<osm::SignedHttpRequest> other = build(other_key);
  OSM_FUZZ_CHECK(other.ok() && other->http.headers.size() == built->http.headers.size(),
                 "another secret key builds the same headers");
  std::string authorization;
  for (std::size_t i = 0; i < built->http.headers.size(); ++i) {
    const std::string& line = built->http.headers[i];
    OSM_FUZZ_CHECK(!absl::StartsWithIgnoreCase(line, "x-auth-token:"),
                   "a signed request never carries X-Auth-Token");
    if (absl::StartsWith(line, "Authorization: ")) authorization = line.substr(15);
    if (secret_checkable && absl::StrContains(line, secret_key)) {
      OSM_FUZZ_CHECK(absl::StrContains(other->http.headers[i], secret_key),
                     "no header carries the secret key");
    }
  }
  OSM_FUZZ_CHECK(built->http.url == other->http.url, "the secret key does not change the URL");
  OSM_FUZZ_CHECK(absl::EndsWith(authorization, absl::StrCat("Signature=", built->signature)),
                 "the signature is the Authorization's");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  osm::SignableRequest request;
  request.method = input.ConsumeRandomLengthString();
  request.path = input.ConsumeRandomLengthString();
  request.body = input.ConsumeRandomLengthString();
  const std::string access_key = input.ConsumeRandomLengthString();
  const std::string secret_key = input.ConsumeRandomLengthString();
  const std::string case_id = input.ConsumeRandomLengthString();
  const std::string message_id = input.ConsumeRandomLengthString();
  while (input.remaining_bytes() > 0 && request.headers.size() + request.query.size() < 16) {
    const std::string kind = input.ConsumeRandomLengthString();
    std::string name = input.ConsumeRandomLengthString();
    std::string value = input.ConsumeRandomLengthString();
    if (kind == "q") {
      request.query.emplace_back(std::move(name), std::move(value));
    } else {
      request.headers.emplace_back(std::move(name), std::move(value));
    }
  }

  CheckCanonicalUri(request.path);
  CheckQuery(request.query);
  CheckSignedHeaderNames(request.headers);
  CheckCanonicalRequest(request);
  CheckSignature(request, access_key, secret_key);
  CheckSignedWithdraw(case_id, message_id, access_key, secret_key, request.body);
  return 0;
}
