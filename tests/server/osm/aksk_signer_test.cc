#include "server/osm/aksk_signer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/osm/upstream_request.h"

namespace osm {
namespace {

using ::testing::ElementsAre;

constexpr char kEmptyBodySha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

absl::Time Utc(int year, int month, int day, int hour, int minute, int second) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                         absl::UTCTimeZone());
}

TEST(FormatSdkDateTest, IsCompactUtc) {
  EXPECT_EQ(FormatSdkDate(Utc(2019, 11, 15, 3, 36, 55)), "20191115T033655Z");
  EXPECT_EQ(FormatSdkDate(Utc(2006, 1, 2, 15, 4, 5)), "20060102T150405Z");
  // Sub-second parts are dropped, not rounded.
  EXPECT_EQ(FormatSdkDate(Utc(2024, 12, 31, 23, 59, 59) + absl::Milliseconds(999)),
            "20241231T235959Z");
}

TEST(CanonicalUriTest, Table) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "/"},
      {"/", "/"},
      {"/path", "/path/"},
      {"/a/b/", "/a/b/"},
      {"/v2/x%2Fy", "/v2/x%2Fy/"},
      {"/a%2fb", "/a%2Fb/"},  // hex normalized to upper case
      {"/%41%7e", "/A~/"},    // unreserved bytes decoded
      {"/a b", "/a%20b/"},    // raw bytes encoded
      {"/%zz", "/%25zz/"},    // a stray % is a byte like any other
      {"/50%", "/50%25/"},
      {"/\xC3\xA9", "/%C3%A9/"},
      {"/%C3%A9%20x", "/%C3%A9%20x/"},  // already canonical: unchanged
      {"/a+b=c", "/a%2Bb%3Dc/"},
      {"//x", "//x/"},
  };
  for (const auto& [path, uri] : cases) {
    SCOPED_TRACE(path);
    EXPECT_EQ(CanonicalUri(path), uri);
  }
}

TEST(CanonicalQueryStringTest, SortsByNameThenValueAndEncodes) {
  EXPECT_EQ(CanonicalQueryString({}), "");
  EXPECT_EQ(CanonicalQueryString({{"limit", "1"}}), "limit=1");
  EXPECT_EQ(CanonicalQueryString({{"b", "2"}, {"a", "2"}, {"a", "1"}}), "a=1&a=2&b=2");
  EXPECT_EQ(CanonicalQueryString({{"a b", "c/d"}, {"e", ""}}), "a%20b=c%2Fd&e=");
}

TEST(SignedHeaderNamesTest, LowerCaseSortedWithoutRepeats) {
  EXPECT_EQ(SignedHeaderNames({{"X-Sdk-Date", "d"}, {"Host", "h"}, {"host", "h"}}),
            "host;x-sdk-date");
}

TEST(DigestTest, KnownAnswers) {
  EXPECT_EQ(*HexSha256(""), kEmptyBodySha256);
  EXPECT_EQ(*HexSha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231, test case 2.
  EXPECT_EQ(*HexHmacSha256("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// The public test vector of Huawei Cloud's Go SDK.
SignableRequest PublicVector() {
  SignableRequest request;
  request.method = "GET";
  request.path = "/path";
  request.query = {{"limit", "1"}};
  request.headers = {{"X-Sdk-Date", "20060102T150405Z"}};
  return request;
}

TEST(SignRequestTest, PublicTestVector) {
  const absl::StatusOr<std::string> canonical = CanonicalRequest(PublicVector());
  ASSERT_TRUE(canonical.ok()) << canonical.status();
  EXPECT_EQ(*canonical, absl::StrCat("GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\n"
                                     "x-sdk-date\n",
                                     kEmptyBodySha256));
  const absl::StatusOr<std::string> to_sign = StringToSign("20060102T150405Z", *canonical);
  ASSERT_TRUE(to_sign.ok());
  EXPECT_TRUE(absl::StartsWith(*to_sign, "SDK-HMAC-SHA256\n20060102T150405Z\n")) << *to_sign;

  const absl::StatusOr<RequestSignature> signature =
      SignRequest(PublicVector(), "AccessKey", "SecretKey");
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_EQ(signature->signature,
            "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624");
  EXPECT_EQ(signature->authorization,
            "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, "
            "Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624");
}

TEST(SignRequestTest, EveryPartOfTheRequestChangesTheSignature) {
  const std::string original = SignRequest(PublicVector(), "AccessKey", "SecretKey")->signature;
  std::vector<SignableRequest> changed(7, PublicVector());
  changed[0].method = "POST";
  changed[1].path = "/path2";
  changed[2].query = {{"limit", "2"}};
  changed[3].headers = {{"X-Sdk-Date", "20060102T150406Z"}};
  changed[4].headers.emplace_back("Host", "example.huaweicloud.com");
  changed[5].body = "{}";
  changed[6].query.clear();
  for (std::size_t i = 0; i < changed.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_NE(SignRequest(changed[i], "AccessKey", "SecretKey")->signature, original);
  }
  EXPECT_NE(SignRequest(PublicVector(), "AccessKey", "SecretKey2")->signature, original);
}

TEST(SignRequestTest, HeadersAreLowerCasedTrimmedAndSorted) {
  SignableRequest request;
  request.method = "POST";
  request.path = "/";
  request.headers = {{"X-Sdk-Date", " 20060102T150405Z "}, {"Host", "h.example"}, {"X-B", "  v  "}};
  EXPECT_EQ(*CanonicalRequest(request),
            absl::StrCat("POST\n/\n\nhost:h.example\nx-b:v\nx-sdk-date:20060102T150405Z\n\n"
                         "host;x-b;x-sdk-date\n",
                         kEmptyBodySha256));
  // The date in the string to sign is the trimmed header value.
  SignableRequest trimmed = request;
  trimmed.headers[0].second = "20060102T150405Z";
  EXPECT_EQ(SignRequest(request, "AK", "SK")->signature,
            SignRequest(trimmed, "AK", "SK")->signature);
}

TEST(SignRequestTest, RefusesWhatCannotBeSignedWithoutQuotingTheKeys) {
  constexpr char kSecret[] = "sk-must-not-show-9d1e";
  SignableRequest no_date = PublicVector();
  no_date.headers = {{"Host", "h"}};
  struct Case {
    SignableRequest request;
    std::string access_key;
    std::string secret_key;
    std::string message;
  };
  const std::vector<Case> cases = {
      {no_date, "AK", kSecret, "X-Sdk-Date must be among the signed headers"},
      {PublicVector(), "", kSecret,
       "the access key is empty or has characters other than printable ASCII, or , or ="},
      {PublicVector(), "A,K", kSecret,
       "the access key is empty or has characters other than printable ASCII, or , or ="},
      {PublicVector(), "A K", kSecret,
       "the access key is empty or has characters other than printable ASCII, or , or ="},
      {PublicVector(), "AK", "", "the secret key is empty"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    const absl::StatusOr<RequestSignature> signature =
        SignRequest(c.request, c.access_key, c.secret_key);
    ASSERT_FALSE(signature.ok());
    EXPECT_EQ(signature.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(signature.status().message()), c.message);
  }
}

// ---- The withdraw request, signed ------------------------------------------
// Expected values computed independently (Python's hashlib/hmac and
// urllib.parse.quote) from the published algorithm.

TEST(BuildSignedWithdrawHttpRequestTest, VectorWithLanguageAndTimeZone) {
  huaweicloud::osm::v2::WithdrawRequest request;
  request.set_case_id("C123");
  request.set_message_id("M456");
  request.set_language("en-us");
  request.set_time_zone("GMT+8");
  AkSkCredentials credentials;
  credentials.access_key = "AKEXAMPLE";
  credentials.secret_key = "SKEXAMPLE";
  const absl::Time deadline = Utc(2024, 5, 6, 7, 8, 39);

  const absl::StatusOr<SignedHttpRequest> signed_request = BuildSignedWithdrawHttpRequest(
      UpstreamUrl{"https", "osm.ap-southeast-3.myhuaweicloud.com", ""}, request, credentials,
      Utc(2024, 5, 6, 7, 8, 9), deadline);

  ASSERT_TRUE(signed_request.ok()) << signed_request.status();
  EXPECT_EQ(signed_request->http.url,
            "https://osm.ap-southeast-3.myhuaweicloud.com/v2/servicerequest/cases/C123/"
            "instant-messages/M456/withdraw");
  EXPECT_EQ(signed_request->http.deadline, deadline);
  EXPECT_EQ(signed_request->signature,
            "59c6a46fde7e2ef7fc2ea0862538887ab5af564ea710a10683f793ef5aca5b9d");
  EXPECT_THAT(
      signed_request->http.headers,
      ElementsAre("Content-Type: application/json", "Accept: application/json",
                  absl::StrCat("User-Agent: ", UserAgent()), "X-Language: en-us",
                  "X-Time-Zone: GMT+8", "Host: osm.ap-southeast-3.myhuaweicloud.com",
                  "X-Sdk-Date: 20240506T070809Z",
                  "Authorization: SDK-HMAC-SHA256 Access=AKEXAMPLE, "
                  "SignedHeaders=host;x-language;x-sdk-date;x-time-zone, "
                  "Signature=59c6a46fde7e2ef7fc2ea0862538887ab5af564ea710a10683f793ef5aca5b9d"));
}

TEST(BuildSignedWithdrawHttpRequestTest, VectorWithTemporaryCredentialsPortPrefixAndEncodedIds) {
  huaweicloud::osm::v2::WithdrawRequest request;
  request.set_case_id("a/b");
  request.set_message_id("\xC3\xA9 x");
  AkSkCredentials credentials;
  credentials.access_key = "TMPAK";
  credentials.secret_key = "TMPSK";
  credentials.security_token = "TEMPTOKEN+/==";
  credentials.domain_id = "0123456789abcdef";

  const absl::StatusOr<SignedHttpRequest> signed_request =
      BuildSignedWithdrawHttpRequest(UpstreamUrl{"https", "127.0.0.1:8443", "/osm"}, request,
                                     credentials, Utc(2025, 1, 2, 3, 4, 5), absl::InfiniteFuture());

  ASSERT_TRUE(signed_request.ok()) << signed_request.status();
  EXPECT_EQ(signed_request->http.url,
            "https://127.0.0.1:8443/osm/v2/servicerequest/cases/a%2Fb/instant-messages/"
            "%C3%A9%20x/withdraw");
  EXPECT_THAT(
      signed_request->http.headers,
      ElementsAre("Content-Type: application/json", "Accept: application/json",
                  absl::StrCat("User-Agent: ", UserAgent()), "Host: 127.0.0.1:8443",
                  "X-Sdk-Date: 20250102T030405Z", "X-Domain-Id: 0123456789abcdef",
                  "X-Security-Token: TEMPTOKEN+/==",
                  "Authorization: SDK-HMAC-SHA256 Access=TMPAK, "
                  "SignedHeaders=host;x-domain-id;x-sdk-date;x-security-token, "
                  "Signature=ca54ef6b2f80088c2ee163961c09a0ca1c8b9400008e1bb9e2052633f193e054"));
}

TEST(BuildSignedWithdrawHttpRequestTest, UnusableCredentialsAreAnErrorThatQuotesNothing) {
  huaweicloud::osm::v2::WithdrawRequest request;
  request.set_case_id("c");
  request.set_message_id("m");
  AkSkCredentials credentials;
  credentials.access_key = "AK,with-comma";
  credentials.secret_key = "sk-secret-3f9a";
  const absl::StatusOr<SignedHttpRequest> signed_request =
      BuildSignedWithdrawHttpRequest(UpstreamUrl{"https", "osm.example.com", ""}, request,
                                     credentials, Utc(2025, 1, 2, 3, 4, 5), absl::InfiniteFuture());
  ASSERT_FALSE(signed_request.ok());
  EXPECT_EQ(signed_request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(absl::StrContains(signed_request.status().message(), "with-comma"));
  EXPECT_FALSE(absl::StrContains(signed_request.status().message(), "sk-secret"));
}

}  // namespace
}  // namespace osm
