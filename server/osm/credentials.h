#ifndef OSM_SERVER_OSM_CREDENTIALS_H_
#define OSM_SERVER_OSM_CREDENTIALS_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/base/mutex.h"
#include "server/osm/aksk_signer.h"

struct stat;

// Where the adapter's access key comes from: the Huawei Cloud SDKs'
// environment variables, or a JSON file that is re-read when it changes.
// Nothing here ever puts a credential value in a status or a log line.

namespace osm {

// The variables the Huawei Cloud SDKs read.
inline constexpr absl::string_view kAccessKeyVariable = "HUAWEICLOUD_SDK_AK";
inline constexpr absl::string_view kSecretKeyVariable = "HUAWEICLOUD_SDK_SK";
inline constexpr absl::string_view kSecurityTokenVariable = "HUAWEICLOUD_SDK_SECURITY_TOKEN";
inline constexpr absl::string_view kDomainIdVariable = "HUAWEICLOUD_SDK_DOMAIN_ID";

// Longest value accepted for any credential (security tokens run to a few KB).
inline constexpr std::size_t kMaxCredentialBytes = 16 * 1024;
// Largest credentials file read.
inline constexpr std::size_t kMaxCredentialsFileBytes = 64 * 1024;

// What the fields are called where they came from, for error messages.
struct CredentialFieldNames {
  absl::string_view access_key;
  absl::string_view secret_key;
  absl::string_view security_token;
  absl::string_view domain_id;
};

// Checks values before they are used to sign: AK and SK present, every value
// printable ASCII without spaces and at most kMaxCredentialBytes, and an AK
// without "," or "=". The error names the field, never quotes a value.
absl::Status ValidateCredentials(const AkSkCredentials& credentials,
                                 const CredentialFieldNames& names);

// Reads HUAWEICLOUD_SDK_AK, _SK, _SECURITY_TOKEN and _DOMAIN_ID through
// `getenv`. NOT_FOUND when none is set (the adapter then passes callers'
// tokens through); INVALID_ARGUMENT, naming the variable, when they are set
// but unusable (an AK without an SK, a value with a space...).
using GetEnvironment = std::function<const char*(const char*)>;
absl::StatusOr<AkSkCredentials> CredentialsFromEnvironment(const GetEnvironment& getenv);
// True when any of the four variables is set.
bool AnyCredentialVariableSet(const GetEnvironment& getenv);

// A credentials file: one JSON object with string fields
//   {"ak": "...", "sk": "...", "security_token": "...", "domain_id": "...",
//    "expires_at": "2025-01-02T03:04:05.000000Z"}
// of which ak and sk are required. expires_at (RFC 3339, as IAM's temporary
// credentials carry it) is when the credentials stop being usable. A file
// that is not complete JSON (half-written) or has another field is refused.
struct CredentialsFile {
  AkSkCredentials credentials;
  absl::Time expires_at = absl::InfiniteFuture();
};
absl::StatusOr<CredentialsFile> ParseCredentialsFile(absl::string_view contents);

// What signs the upstream requests. Implementations are thread-safe; Get()
// is on every call's path and never waits for I/O of another thread.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;

  // The credentials to sign a request made at `now`, or UNAVAILABLE (the
  // credentials expired and no replacement has been loaded). The message
  // names the source, never a value.
  virtual absl::StatusOr<std::shared_ptr<const AkSkCredentials>> Get(absl::Time now) = 0;

  // Where the credentials come from, for logs: "environment" or
  // "file /path". Never a value.
  virtual std::string Describe() const = 0;
};

// Credentials that never change (from the environment, or tests).
class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  StaticCredentialsProvider(AkSkCredentials credentials, std::string description);

  absl::StatusOr<std::shared_ptr<const AkSkCredentials>> Get(absl::Time now) override;
  std::string Describe() const override { return description_; }

 private:
  const std::shared_ptr<const AkSkCredentials> credentials_;
  const std::string description_;
};

// Credentials from a file, re-read when it changes so that rotated or
// temporary keys are taken without a restart.
//
// Get() looks at the file at most once per `check_interval`: the first
// caller after the interval stat()s it, and reads and parses it only when
// its identity, size or times changed; every other caller just loads the
// current credentials (an atomic shared_ptr load). A file that cannot be
// read or parsed, or that changed while it was read (a half-written file),
// is not used: the last good credentials stay, a warning is logged once,
// and the file is tried again at the next check. Replace the file by
// renaming a complete one over it.
class FileCredentialsProvider final : public CredentialsProvider {
 public:
  struct Options {
    absl::Duration check_interval = absl::Seconds(1);
  };

  // Reads the file once; fails, naming the file, when it cannot be read or
  // parsed.
  static absl::StatusOr<std::unique_ptr<FileCredentialsProvider>> Create(std::string path,
                                                                         Options options);

  absl::StatusOr<std::shared_ptr<const AkSkCredentials>> Get(absl::Time now) override;
  std::string Describe() const override;
  // When the credentials loaded last stop being usable.
  absl::Time ExpiresAt() const;

 private:
  // What identifies one version of the file.
  struct Version {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = -1;
    std::int64_t modified_ns = 0;
    std::int64_t changed_ns = 0;
    bool operator==(const Version& other) const;
    bool operator!=(const Version& other) const { return !(*this == other); }
  };
  struct Loaded {
    CredentialsFile file;
    Version version;
  };

  FileCredentialsProvider(std::string path, Options options, std::shared_ptr<const Loaded> loaded);

  static Version VersionOf(const struct stat& info);
  // Reads and parses the file: the contents and the version read.
  static absl::StatusOr<Loaded> Load(const std::string& path);
  // Re-reads the file if it changed since it was last loaded.
  void Refresh();

  const std::string path_;
  const Options options_;
  // When Get() next looks at the file (Unix nanoseconds).
  std::atomic<std::int64_t> next_check_ns_;
  // Swapped with std::atomic_store; read with std::atomic_load.
  std::shared_ptr<const Loaded> current_;
  // The expiry of the current credentials has been logged.
  std::atomic<bool> expiry_logged_{false};

  Mutex refresh_mu_;
  // The version whose failure was last logged, so it is logged once.
  std::optional<Version> warned_ ABSL_GUARDED_BY(refresh_mu_);
};

}  // namespace osm

#endif  // OSM_SERVER_OSM_CREDENTIALS_H_
