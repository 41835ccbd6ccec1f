#include "server/osm/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "server/observability/log.h"

namespace osm {
namespace {

// Printable ASCII, no space: what can go in a header value and survive
// being copied from a console.
bool IsCredentialText(absl::string_view value) {
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7F) return false;
  }
  return true;
}

absl::Status CheckValue(absl::string_view name, absl::string_view value, bool required) {
  if (value.empty()) {
    return required ? absl::InvalidArgumentError(absl::StrCat(name, " is required"))
                    : absl::OkStatus();
  }
  if (value.size() > kMaxCredentialBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " is longer than ", kMaxCredentialBytes, " bytes"));
  }
  if (!IsCredentialText(value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " must be printable ASCII without spaces (check for a stray newline or quote)"));
  }
  return absl::OkStatus();
}

std::int64_t Nanoseconds(const timespec& time) {
  return static_cast<std::int64_t>(time.tv_sec) * 1000000000 + time.tv_nsec;
}

// A field name from the file that is safe to echo: short lower-case words,
// which no key or token looks like.
bool EchoableFieldName(absl::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  return true;
}

constexpr CredentialFieldNames kFileFieldNames = {"ak", "sk", "security_token", "domain_id"};

}  // namespace

absl::Status ValidateCredentials(const AkSkCredentials& credentials,
                                 const CredentialFieldNames& names) {
  for (absl::Status status : {CheckValue(names.access_key, credentials.access_key, true),
                              CheckValue(names.secret_key, credentials.secret_key, true),
                              CheckValue(names.security_token, credentials.security_token, false),
                              CheckValue(names.domain_id, credentials.domain_id, false)}) {
    if (!status.ok()) return status;
  }
  for (char c : credentials.access_key) {
    if (c == ',' || c == '=') {
      return absl::InvalidArgumentError(
          absl::StrCat(names.access_key, " must not contain \",\" or \"=\""));
    }
  }
  return absl::OkStatus();
}

bool AnyCredentialVariableSet(const GetEnvironment& getenv) {
  for (absl::string_view name :
       {kAccessKeyVariable, kSecretKeyVariable, kSecurityTokenVariable, kDomainIdVariable}) {
    const char* value = getenv(std::string(name).c_str());
    if (value != nullptr && value[0] != '\0') return true;
  }
  return false;
}

absl::StatusOr<AkSkCredentials> CredentialsFromEnvironment(const GetEnvironment& getenv) {
  if (!AnyCredentialVariableSet(getenv)) {
    return absl::NotFoundError("no HUAWEICLOUD_SDK_* credentials in the environment");
  }
  auto get = [&](absl::string_view name) {
    const char* value = getenv(std::string(name).c_str());
    return value == nullptr ? std::string() : std::string(value);
  };
  AkSkCredentials credentials;
  credentials.access_key = get(kAccessKeyVariable);
  credentials.secret_key = get(kSecretKeyVariable);
  credentials.security_token = get(kSecurityTokenVariable);
  credentials.domain_id = get(kDomainIdVariable);
  if (absl::Status status = ValidateCredentials(
          credentials,
          {kAccessKeyVariable, kSecretKeyVariable, kSecurityTokenVariable, kDomainIdVariable});
      !status.ok()) {
    return status;
  }
  return credentials;
}

absl::StatusOr<CredentialsFile> ParseCredentialsFile(absl::string_view contents) {
  google::protobuf::Struct object;
  google::protobuf::util::JsonParseOptions options;
  // The parser's own message quotes the text around the error, which may be
  // a key: it is never passed on.
  if (!google::protobuf::util::JsonStringToMessage(std::string(contents), &object, options).ok()) {
    return absl::InvalidArgumentError("not a complete JSON object (half-written, or not JSON)");
  }
  CredentialsFile file;
  std::string expires_at;
  for (const auto& [name, value] : object.fields()) {
    std::string* target = nullptr;
    if (name == kFileFieldNames.access_key) {
      target = &file.credentials.access_key;
    } else if (name == kFileFieldNames.secret_key) {
      target = &file.credentials.secret_key;
    } else if (name == kFileFieldNames.security_token) {
      target = &file.credentials.security_token;
    } else if (name == kFileFieldNames.domain_id) {
      target = &file.credentials.domain_id;
    } else if (name == "expires_at") {
      target = &expires_at;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown field ", EchoableFieldName(name) ? absl::StrCat("\"", name, "\"") : "",
          " (the fields are ak, sk, security_token, domain_id and expires_at)"));
    }
    if (value.kind_case() != google::protobuf::Value::kStringValue) {
      return absl::InvalidArgumentError(absl::StrCat(name, " must be a string"));
    }
    *target = value.string_value();
  }
  if (absl::Status status = ValidateCredentials(file.credentials, kFileFieldNames); !status.ok()) {
    return status;
  }
  if (!expires_at.empty()) {
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, expires_at, &file.expires_at, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "expires_at must be an RFC 3339 time such as 2025-01-02T03:04:05Z: ", error));
    }
  }
  return file;
}

// ---- StaticCredentialsProvider --------------------------------------------

StaticCredentialsProvider::StaticCredentialsProvider(AkSkCredentials credentials,
                                                     std::string description)
    : credentials_(std::make_shared<const AkSkCredentials>(std::move(credentials))),
      description_(std::move(description)) {}

absl::StatusOr<std::shared_ptr<const AkSkCredentials>> StaticCredentialsProvider::Get(
    absl::Time /*now*/) {
  return credentials_;
}

// ---- FileCredentialsProvider ----------------------------------------------

bool FileCredentialsProvider::Version::operator==(const Version& other) const {
  return device == other.device && inode == other.inode && size == other.size &&
         modified_ns == other.modified_ns && changed_ns == other.changed_ns;
}

FileCredentialsProvider::Version FileCredentialsProvider::VersionOf(const struct stat& info) {
  Version version;
  version.device = info.st_dev;
  version.inode = info.st_ino;
  version.size = info.st_size;
  version.modified_ns = Nanoseconds(info.st_mtim);
  version.changed_ns = Nanoseconds(info.st_ctim);
  return version;
}

absl::StatusOr<std::unique_ptr<FileCredentialsProvider>> FileCredentialsProvider::Create(
    std::string path, Options options) {
  if (options.check_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the check interval must not be negative");
  }
  absl::StatusOr<Loaded> loaded = Load(path);
  if (!loaded.ok()) return loaded.status();
  return std::unique_ptr<FileCredentialsProvider>(new FileCredentialsProvider(
      std::move(path), options, std::make_shared<const Loaded>(*std::move(loaded))));
}

FileCredentialsProvider::FileCredentialsProvider(std::string path, Options options,
                                                 std::shared_ptr<const Loaded> loaded)
    : path_(std::move(path)),
      options_(options),
      next_check_ns_(absl::ToUnixNanos(absl::Now() + options.check_interval)),
      current_(std::move(loaded)) {}

std::string FileCredentialsProvider::Describe() const { return absl::StrCat("file ", path_); }

absl::Time FileCredentialsProvider::ExpiresAt() const {
  return std::atomic_load(&current_)->file.expires_at;
}

absl::StatusOr<FileCredentialsProvider::Loaded> FileCredentialsProvider::Load(
    const std::string& path) {
  auto fail = [&](absl::string_view why) {
    return absl::UnavailableError(absl::StrCat(path, ": ", why));
  };
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return fail(std::strerror(errno));
  struct stat before {};
  if (fstat(fd, &before) != 0) {
    const int error = errno;
    close(fd);
    return fail(std::strerror(error));
  }
  if (!S_ISREG(before.st_mode)) {
    close(fd);
    return fail("not a regular file");
  }
  if (static_cast<std::size_t>(before.st_size) > kMaxCredentialsFileBytes) {
    close(fd);
    return fail(absl::StrCat("larger than ", kMaxCredentialsFileBytes, " bytes"));
  }
  std::string contents;
  char buffer[4096];
  while (contents.size() <= kMaxCredentialsFileBytes) {
    const ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int error = errno;
      close(fd);
      return fail(std::strerror(error));
    }
    if (got == 0) break;
    contents.append(buffer, static_cast<std::size_t>(got));
  }
  struct stat after {};
  const bool stat_after = fstat(fd, &after) == 0;
  close(fd);
  Loaded loaded;
  loaded.version = VersionOf(before);
  if (!stat_after || VersionOf(after) != loaded.version ||
      contents.size() != static_cast<std::size_t>(before.st_size)) {
    return fail("changed while it was read");
  }
  absl::StatusOr<CredentialsFile> parsed = ParseCredentialsFile(contents);
  if (!parsed.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", parsed.status().message()));
  loaded.file = *std::move(parsed);
  return loaded;
}

absl::StatusOr<std::shared_ptr<const AkSkCredentials>> FileCredentialsProvider::Get(
    absl::Time now) {
  const std::int64_t now_ns = absl::ToUnixNanos(now);
  const std::int64_t interval_ns = absl::ToInt64Nanoseconds(options_.check_interval);
  std::int64_t due = next_check_ns_.load(std::memory_order_relaxed);
  // Due, or the clock went back by more than an interval. Only the caller
  // that moves the next check on looks at the file.
  if ((now_ns >= due || due - now_ns > interval_ns) &&
      next_check_ns_.compare_exchange_strong(due, now_ns + interval_ns,
                                             std::memory_order_relaxed)) {
    Refresh();
  }
  const std::shared_ptr<const Loaded> loaded = std::atomic_load(&current_);
  if (now >= loaded->file.expires_at) {
    const std::string expired_at =
        absl::FormatTime(absl::RFC3339_sec, loaded->file.expires_at, absl::UTCTimeZone());
    if (!expiry_logged_.exchange(true, std::memory_order_relaxed)) {
      Log(LogLevel::kError, "credentials expired: calls fail until the file is replaced",
          {{"source", Describe()}, {"expires_at", expired_at}});
    }
    // The path is the operator's business: not in what callers see.
    return absl::UnavailableError(absl::StrCat("the credentials from the file expired at ",
                                               expired_at,
                                               " and no valid replacement has been loaded"));
  }
  // Shares ownership of the whole Loaded, which outlives any swap.
  return std::shared_ptr<const AkSkCredentials>(loaded, &loaded->file.credentials);
}

void FileCredentialsProvider::Refresh() {
  MutexLock lock(&refresh_mu_);
  const std::shared_ptr<const Loaded> current = std::atomic_load(&current_);
  struct stat info {};
  Version seen;  // a missing file: the default version
  if (stat(path_.c_str(), &info) == 0) {
    seen = VersionOf(info);
    if (seen == current->version) return;  // unchanged: the common case
  }
  absl::StatusOr<Loaded> loaded = Load(path_);
  if (!loaded.ok()) {
    // Kept: the last good credentials. Tried again at the next check, since
    // a half-written file may be complete by then.
    if (warned_ != seen) {
      warned_ = seen;
      Log(LogLevel::kWarning, "credentials file not usable: keeping the credentials loaded before",
          {{"error", loaded.status().message()}});
    }
    return;
  }
  warned_.reset();
  const std::string expires_at =
      loaded->file.expires_at == absl::InfiniteFuture()
          ? "never"
          : absl::FormatTime(absl::RFC3339_sec, loaded->file.expires_at, absl::UTCTimeZone());
  std::atomic_store(&current_, std::make_shared<const Loaded>(*std::move(loaded)));
  expiry_logged_.store(false, std::memory_order_relaxed);
  Log(LogLevel::kInfo, "credentials reloaded",
      {{"source", Describe()}, {"expires_at", expires_at}});
}

}  // namespace osm
