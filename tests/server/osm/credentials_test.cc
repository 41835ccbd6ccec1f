#include "server/osm/credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/temp_dir.h"

namespace osm {
namespace {

using testing::TempDir;

// Secret values are compared, never printed: a failure names the field.
void ExpectCredentials(const AkSkCredentials& actual, const AkSkCredentials& expected) {
  EXPECT_EQ(actual.access_key, expected.access_key);
  EXPECT_TRUE(actual.secret_key == expected.secret_key) << "secret_key differs";
  EXPECT_TRUE(actual.security_token == expected.security_token) << "security_token differs";
  EXPECT_EQ(actual.domain_id, expected.domain_id);
}

// Error messages may be printed: this checks that none quotes a secret.
void ExpectQuotesNone(const absl::Status& status, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    EXPECT_FALSE(absl::StrContains(status.message(), secret))
        << "the error quotes a secret value (error not shown)";
  }
}

AkSkCredentials Key(std::string access_key, std::string secret_key, std::string security_token = "",
                    std::string domain_id = "") {
  return AkSkCredentials{std::move(access_key), std::move(secret_key), std::move(security_token),
                         std::move(domain_id)};
}

// A fake environment.
class Environment {
 public:
  explicit Environment(std::map<std::string, std::string> variables)
      : variables_(std::move(variables)) {}
  GetEnvironment getenv() const {
    return [this](const char* name) -> const char* {
      auto it = variables_.find(name);
      return it == variables_.end() ? nullptr : it->second.c_str();
    };
  }

 private:
  std::map<std::string, std::string> variables_;
};

// ---- Environment -----------------------------------------------------------

TEST(CredentialsFromEnvironmentTest, NoneSetIsNotFound) {
  const std::vector<std::map<std::string, std::string>> cases = {
      {}, {{"HUAWEICLOUD_SDK_AK", ""}, {"HUAWEICLOUD_SDK_SK", ""}}, {{"OTHER", "x"}}};
  for (const auto& variables : cases) {
    const Environment environment(variables);
    const absl::StatusOr<AkSkCredentials> credentials =
        CredentialsFromEnvironment(environment.getenv());
    EXPECT_EQ(credentials.status().code(), absl::StatusCode::kNotFound);
    EXPECT_FALSE(AnyCredentialVariableSet(environment.getenv()));
  }
}

TEST(CredentialsFromEnvironmentTest, ReadsTheSdkVariables) {
  const Environment minimal({{"HUAWEICLOUD_SDK_AK", "AK1"}, {"HUAWEICLOUD_SDK_SK", "env-sk-1"}});
  absl::StatusOr<AkSkCredentials> credentials = CredentialsFromEnvironment(minimal.getenv());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  ExpectCredentials(*credentials, Key("AK1", "env-sk-1"));

  const Environment full({{"HUAWEICLOUD_SDK_AK", "AK2"},
                          {"HUAWEICLOUD_SDK_SK", "env-sk-2"},
                          {"HUAWEICLOUD_SDK_SECURITY_TOKEN", "env-token-2"},
                          {"HUAWEICLOUD_SDK_DOMAIN_ID", "domain-2"}});
  credentials = CredentialsFromEnvironment(full.getenv());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  ExpectCredentials(*credentials, Key("AK2", "env-sk-2", "env-token-2", "domain-2"));
  EXPECT_TRUE(AnyCredentialVariableSet(full.getenv()));
}

TEST(CredentialsFromEnvironmentTest, UnusableValuesNameTheVariableNeverTheValue) {
  constexpr char kSecret[] = "env-sk-secret-81c2";
  struct Case {
    std::map<std::string, std::string> variables;
    std::string message;
  };
  const std::string printable =
      " must be printable ASCII without spaces (check for a stray newline or quote)";
  const std::vector<Case> cases = {
      {{{"HUAWEICLOUD_SDK_AK", "AK"}}, "HUAWEICLOUD_SDK_SK is required"},
      {{{"HUAWEICLOUD_SDK_SK", kSecret}}, "HUAWEICLOUD_SDK_AK is required"},
      {{{"HUAWEICLOUD_SDK_DOMAIN_ID", "d"}}, "HUAWEICLOUD_SDK_AK is required"},
      {{{"HUAWEICLOUD_SDK_AK", "AK"}, {"HUAWEICLOUD_SDK_SK", absl::StrCat(kSecret, "\n")}},
       absl::StrCat("HUAWEICLOUD_SDK_SK", printable)},
      {{{"HUAWEICLOUD_SDK_AK", "A K"}, {"HUAWEICLOUD_SDK_SK", kSecret}},
       absl::StrCat("HUAWEICLOUD_SDK_AK", printable)},
      {{{"HUAWEICLOUD_SDK_AK", "A,K"}, {"HUAWEICLOUD_SDK_SK", kSecret}},
       "HUAWEICLOUD_SDK_AK must not contain \",\" or \"=\""},
      {{{"HUAWEICLOUD_SDK_AK", "AK"},
        {"HUAWEICLOUD_SDK_SK", kSecret},
        {"HUAWEICLOUD_SDK_SECURITY_TOKEN", "tok\xC3\xA9"}},
       absl::StrCat("HUAWEICLOUD_SDK_SECURITY_TOKEN", printable)},
      {{{"HUAWEICLOUD_SDK_AK", "AK"},
        {"HUAWEICLOUD_SDK_SK", kSecret},
        {"HUAWEICLOUD_SDK_SECURITY_TOKEN", std::string(kMaxCredentialBytes + 1, 't')}},
       "HUAWEICLOUD_SDK_SECURITY_TOKEN is longer than 16384 bytes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    const Environment environment(c.variables);
    const absl::StatusOr<AkSkCredentials> credentials =
        CredentialsFromEnvironment(environment.getenv());
    ASSERT_FALSE(credentials.ok());
    EXPECT_EQ(credentials.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(credentials.status().message()), c.message);
    ExpectQuotesNone(credentials.status(), {kSecret});
  }
}

// ---- The file format -------------------------------------------------------

TEST(ParseCredentialsFileTest, ReadsEveryField) {
  absl::StatusOr<CredentialsFile> file = ParseCredentialsFile(R"({"ak":"AK1","sk":"file-sk"})");
  ASSERT_TRUE(file.ok()) << file.status();
  ExpectCredentials(file->credentials, Key("AK1", "file-sk"));
  EXPECT_EQ(file->expires_at, absl::InfiniteFuture());

  file = ParseCredentialsFile(R"({
    "ak": "AK2", "sk": "file-sk-2", "security_token": "file-token",
    "domain_id": "dom", "expires_at": "2025-01-02T03:04:05.123456Z"
  })");
  ASSERT_TRUE(file.ok()) << file.status();
  ExpectCredentials(file->credentials, Key("AK2", "file-sk-2", "file-token", "dom"));
  EXPECT_EQ(file->expires_at,
            absl::FromCivil(absl::CivilSecond(2025, 1, 2, 3, 4, 5), absl::UTCTimeZone()) +
                absl::Microseconds(123456));
}

TEST(ParseCredentialsFileTest, RefusesWhatIsNotACompleteValidFileWithoutQuotingIt) {
  constexpr char kSecret[] = "file-sk-secret-5e7b";
  const std::string json_error = "not a complete JSON object (half-written, or not JSON)";
  struct Case {
    std::string contents;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", json_error},
      {"{", json_error},
      {absl::StrCat(R"({"ak":"AK","sk":")", kSecret), json_error},          // cut in a value
      {absl::StrCat(R"({"ak":"AK","sk":")", kSecret, R"(")"), json_error},  // cut before }
      {absl::StrCat(R"({"ak":"AK" "sk":")", kSecret, R"("})"), json_error},
      {"[]", json_error},
      {R"("ak")", json_error},
      {absl::StrCat("ak=AK\nsk=", kSecret), json_error},
      {absl::StrCat(R"({"ak":1,"sk":")", kSecret, R"("})"), "ak must be a string"},
      {absl::StrCat(R"({"ak":"AK","sk":")", kSecret, R"(","region":"x"})"),
       "unknown field \"region\" (the fields are ak, sk, security_token, domain_id and "
       "expires_at)"},
      // A field name that might be a key is not echoed.
      {absl::StrCat(R"({"ak":"AK","sk":"s",")", kSecret, R"(":"x"})"),
       "unknown field  (the fields are ak, sk, security_token, domain_id and expires_at)"},
      {R"({"ak":"AK"})", "sk is required"},
      {absl::StrCat(R"({"sk":")", kSecret, R"("})"), "ak is required"},
      {absl::StrCat(R"({"ak":"AK","sk":" )", kSecret, R"("})"),
       "sk must be printable ASCII without spaces (check for a stray newline or quote)"},
      {absl::StrCat(R"({"ak":"AK","sk":")", kSecret, R"(","expires_at":"tomorrow"})"),
       "expires_at must be an RFC 3339 time such as 2025-01-02T03:04:05Z: "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    const absl::StatusOr<CredentialsFile> file = ParseCredentialsFile(c.contents);
    ASSERT_FALSE(file.ok());
    EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(file.status().message(), c.message)) << file.status().message();
    ExpectQuotesNone(file.status(), {kSecret});
  }
}

// ---- Providers -------------------------------------------------------------

TEST(StaticCredentialsProviderTest, AlwaysGivesTheSameCredentials) {
  StaticCredentialsProvider provider(Key("AK", "static-sk"), "environment");
  EXPECT_EQ(provider.Describe(), "environment");
  for (absl::Time now : {absl::UnixEpoch(), absl::Now(), absl::InfiniteFuture()}) {
    const absl::StatusOr<std::shared_ptr<const AkSkCredentials>> credentials = provider.Get(now);
    ASSERT_TRUE(credentials.ok());
    ExpectCredentials(**credentials, Key("AK", "static-sk"));
  }
}

std::string FileFor(const AkSkCredentials& key, const std::string& expires_at = "") {
  std::string json =
      absl::StrCat(R"({"ak":")", key.access_key, R"(","sk":")", key.secret_key, R"(")");
  if (!key.security_token.empty()) {
    absl::StrAppend(&json, R"(,"security_token":")", key.security_token, R"(")");
  }
  if (!expires_at.empty()) absl::StrAppend(&json, R"(,"expires_at":")", expires_at, R"(")");
  return json + "}";
}

class FileCredentialsProviderTest : public ::testing::Test {
 protected:
  std::unique_ptr<FileCredentialsProvider> Create(absl::Duration check_interval) {
    FileCredentialsProvider::Options options;
    options.check_interval = check_interval;
    absl::StatusOr<std::unique_ptr<FileCredentialsProvider>> provider =
        FileCredentialsProvider::Create(path_, options);
    EXPECT_TRUE(provider.ok()) << provider.status();
    return provider.ok() ? *std::move(provider) : nullptr;
  }

  // The access key Get() gives at `now`, or the error's message.
  std::string AccessKeyAt(FileCredentialsProvider& provider, absl::Time now) {
    const absl::StatusOr<std::shared_ptr<const AkSkCredentials>> credentials = provider.Get(now);
    if (!credentials.ok()) return std::string(credentials.status().message());
    return (*credentials)->access_key;
  }

  TempDir dir_;
  const std::string path_ = dir_.Write("credentials.json", FileFor(Key("AK1", "sk-one")));
};

TEST_F(FileCredentialsProviderTest, CreateFailsNamingTheFile) {
  FileCredentialsProvider::Options options;
  absl::StatusOr<std::unique_ptr<FileCredentialsProvider>> provider =
      FileCredentialsProvider::Create(dir_.File("missing.json"), options);
  ASSERT_FALSE(provider.ok());
  EXPECT_EQ(std::string(provider.status().message()),
            absl::StrCat(dir_.File("missing.json"), ": No such file or directory"));

  const std::string half = dir_.Write("half.json", R"({"ak":"AK","sk":"sk-sec)");
  provider = FileCredentialsProvider::Create(half, options);
  ASSERT_FALSE(provider.ok());
  EXPECT_EQ(std::string(provider.status().message()),
            absl::StrCat(half, ": not a complete JSON object (half-written, or not JSON)"));
  ExpectQuotesNone(provider.status(), {"sk-sec"});

  provider = FileCredentialsProvider::Create(dir_.path(), options);
  ASSERT_FALSE(provider.ok());
  EXPECT_EQ(std::string(provider.status().message()),
            absl::StrCat(dir_.path(), ": not a regular file"));

  const std::string large =
      dir_.Write("large.json", std::string(kMaxCredentialsFileBytes + 1, ' '));
  provider = FileCredentialsProvider::Create(large, options);
  ASSERT_FALSE(provider.ok());
  EXPECT_EQ(std::string(provider.status().message()),
            absl::StrCat(large, ": larger than 65536 bytes"));
}

TEST_F(FileCredentialsProviderTest, PicksUpARotatedFileAtTheNextCheckOnly) {
  std::unique_ptr<FileCredentialsProvider> provider = Create(absl::Hours(1));
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->Describe(), absl::StrCat("file ", path_));
  const absl::Time start = absl::Now();
  EXPECT_EQ(AccessKeyAt(*provider, start), "AK1");

  dir_.Write("credentials.json", FileFor(Key("AK2", "sk-two", "token-two")));
  // Not yet looked at: the interval has not passed.
  EXPECT_EQ(AccessKeyAt(*provider, start + absl::Minutes(30)), "AK1");
  // The first call after the interval looks, and sees the new file.
  EXPECT_EQ(AccessKeyAt(*provider, start + absl::Minutes(61)), "AK2");
  const absl::StatusOr<std::shared_ptr<const AkSkCredentials>> credentials =
      provider->Get(start + absl::Minutes(62));
  ASSERT_TRUE(credentials.ok());
  ExpectCredentials(**credentials, Key("AK2", "sk-two", "token-two"));
}

TEST_F(FileCredentialsProviderTest, AClockThatWentBackChecksAtOnce) {
  std::unique_ptr<FileCredentialsProvider> provider = Create(absl::Hours(1));
  ASSERT_NE(provider, nullptr);
  dir_.Write("credentials.json", FileFor(Key("AK2", "sk-two")));
  EXPECT_EQ(AccessKeyAt(*provider, absl::Now() - absl::Hours(3)), "AK2");
}

TEST_F(FileCredentialsProviderTest, KeepsTheLastGoodCredentialsUntilTheFileIsValidAgain) {
  std::unique_ptr<FileCredentialsProvider> provider = Create(absl::ZeroDuration());
  ASSERT_NE(provider, nullptr);
  const absl::Time now = absl::Now();

  // Half-written, in place.
  dir_.WriteInPlace("credentials.json", R"({"ak":"AK2","sk":"sk-t)");
  EXPECT_EQ(AccessKeyAt(*provider, now), "AK1");
  // Valid JSON, invalid credentials.
  dir_.Write("credentials.json", R"({"ak":"AK2"})");
  EXPECT_EQ(AccessKeyAt(*provider, now), "AK1");
  // Gone.
  ASSERT_EQ(unlink(path_.c_str()), 0);
  EXPECT_EQ(AccessKeyAt(*provider, now), "AK1");
  // Complete again.
  dir_.WriteInPlace("credentials.json", FileFor(Key("AK3", "sk-three")));
  EXPECT_EQ(AccessKeyAt(*provider, now), "AK3");
}

TEST_F(FileCredentialsProviderTest, ExpiredCredentialsAreUnavailableUntilReplaced) {
  dir_.Write("credentials.json", FileFor(Key("AK1", "sk-one"), "2030-01-01T00:00:00Z"));
  std::unique_ptr<FileCredentialsProvider> provider = Create(absl::ZeroDuration());
  ASSERT_NE(provider, nullptr);
  const absl::Time expiry =
      absl::FromCivil(absl::CivilSecond(2030, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  EXPECT_EQ(provider->ExpiresAt(), expiry);
  EXPECT_EQ(AccessKeyAt(*provider, expiry - absl::Seconds(1)), "AK1");

  const absl::StatusOr<std::shared_ptr<const AkSkCredentials>> expired = provider->Get(expiry);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(expired.status().message()),
            "the credentials from the file expired at 2030-01-01T00:00:00+00:00 and no valid "
            "replacement has been loaded");

  dir_.Write("credentials.json", FileFor(Key("AK2", "sk-two"), "2030-01-01T01:00:00Z"));
  EXPECT_EQ(AccessKeyAt(*provider, expiry + absl::Minutes(1)), "AK2");
}

TEST_F(FileCredentialsProviderTest, CredentialsHeldByACallerSurviveARotation) {
  std::unique_ptr<FileCredentialsProvider> provider = Create(absl::ZeroDuration());
  ASSERT_NE(provider, nullptr);
  const absl::StatusOr<std::shared_ptr<const AkSkCredentials>> held = provider->Get(absl::Now());
  ASSERT_TRUE(held.ok());
  dir_.Write("credentials.json", FileFor(Key("AK2", "sk-two")));
  EXPECT_EQ(AccessKeyAt(*provider, absl::Now()), "AK2");
  ExpectCredentials(**held, Key("AK1", "sk-one"));
}

// Readers on several threads while the file changes under them: every answer
// is one complete set of credentials (AK and SK of the same file).
TEST_F(FileCredentialsProviderTest, ConcurrentReadersSeeWholeCredentials) {
  dir_.Write("credentials.json", FileFor(Key("AK0", "sk-AK0")));
  std::unique_ptr<FileCredentialsProvider> provider = Create(absl::ZeroDuration());
  ASSERT_NE(provider, nullptr);
  std::atomic<bool> stop{false};
  std::atomic<int> mismatches{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const absl::StatusOr<std::shared_ptr<const AkSkCredentials>> credentials =
            provider->Get(absl::Now());
        if (!credentials.ok() ||
            (*credentials)->secret_key != absl::StrCat("sk-", (*credentials)->access_key)) {
          mismatches.fetch_add(1);
        }
        reads.fetch_add(1);
      }
    });
  }
  for (int i = 1; i <= 200; ++i) {
    const std::string ak = absl::StrCat("AK", i);
    if (i % 2 == 0) {
      dir_.Write("credentials.json", FileFor(Key(ak, absl::StrCat("sk-", ak))));
    } else {
      dir_.WriteInPlace("credentials.json", FileFor(Key(ak, absl::StrCat("sk-", ak))));
    }
  }
  stop.store(true);
  for (std::thread& reader : readers) reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(AccessKeyAt(*provider, absl::Now()), "AK200");
}

}  // namespace
}  // namespace osm
