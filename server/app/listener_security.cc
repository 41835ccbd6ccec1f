#include "server/app/listener_security.h"

#include <arpa/inet.h>
#include <grpcpp/security/server_credentials.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace osm {
namespace {

constexpr std::size_t kMaxPemFileBytes = 1 << 20;

using UniqueBio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using UniqueX509 = std::unique_ptr<X509, decltype(&X509_free)>;
using UniqueKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

absl::StatusOr<std::string> ReadPemFile(absl::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path));
  // At most one byte past the limit: a device or a huge file is not read to
  // its end.
  std::string text(kMaxPemFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxPemFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", path, " is larger than 1 MiB"));
  }
  return text;
}

UniqueBio MemoryBio(const std::string& text) {
  return UniqueBio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
}

// The certificates of a PEM bundle, first first.
std::vector<UniqueX509> ReadCertificates(const std::string& pem) {
  std::vector<UniqueX509> certificates;
  UniqueBio bio = MemoryBio(pem);
  while (bio != nullptr) {
    X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (certificate == nullptr) break;
    certificates.emplace_back(certificate, &X509_free);
  }
  ERR_clear_error();  // the end of the bundle reads as an error
  return certificates;
}

// Never prompts for a passphrase (OpenSSL's default would, on a terminal).
int NoPassphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*user*/) { return -1; }

// Wipes a key's text when it goes out of scope.
class WipedString {
 public:
  explicit WipedString(std::string text) : text_(std::move(text)) {}
  ~WipedString() { OPENSSL_cleanse(text_.data(), text_.size()); }
  WipedString(const WipedString&) = delete;
  WipedString& operator=(const WipedString&) = delete;
  const std::string& get() const { return text_; }

 private:
  std::string text_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ListenerCredentials(
    const ListenerTlsFiles& files) {
  // Which files go together is Validate()'s to check (adapter_config.h).
  if (files.cert_file.empty()) return grpc::InsecureServerCredentials();

  absl::StatusOr<std::string> cert_pem = ReadPemFile("--tls_cert_file", files.cert_file);
  if (!cert_pem.ok()) return cert_pem.status();
  const std::vector<UniqueX509> chain = ReadCertificates(*cert_pem);
  if (chain.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_cert_file: ", files.cert_file, " holds no PEM certificate"));
  }

  absl::StatusOr<std::string> key_text = ReadPemFile("--tls_key_file", files.key_file);
  if (!key_text.ok()) return key_text.status();
  const WipedString key_pem(*std::move(key_text));
  {
    UniqueBio bio = MemoryBio(key_pem.get());
    UniqueKey key(bio == nullptr
                      ? nullptr
                      : PEM_read_bio_PrivateKey(bio.get(), nullptr, &NoPassphrase, nullptr),
                  &EVP_PKEY_free);
    ERR_clear_error();
    if (key == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls_key_file: ", files.key_file,
                       " holds no PEM private key (an encrypted key is not supported)"));
    }
    if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError(absl::StrCat("--tls_key_file: ", files.key_file,
                                                     " is not the key of the certificate in ",
                                                     files.cert_file));
    }
  }

  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (!files.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca_pem = ReadPemFile("--tls_client_ca_file", files.client_ca_file);
    if (!ca_pem.ok()) return ca_pem.status();
    if (ReadCertificates(*ca_pem).empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--tls_client_ca_file: ", files.client_ca_file,
                                                     " holds no PEM certificate"));
    }
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    options.pem_root_certs = *std::move(ca_pem);
  }
  options.pem_key_cert_pairs.push_back({key_pem.get(), *std::move(cert_pem)});
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::SslServerCredentials(options);
  OPENSSL_cleanse(options.pem_key_cert_pairs[0].private_key.data(),
                  options.pem_key_cert_pairs[0].private_key.size());
  return credentials;
}

bool IsLocalOnlyListenAddress(absl::string_view listen) {
  if (absl::StartsWith(listen, "unix:") || absl::StartsWith(listen, "unix-abstract:")) {
    return true;
  }
  const std::size_t colon = listen.rfind(':');
  if (colon == absl::string_view::npos) return false;
  absl::string_view host = listen.substr(0, colon);
  if (absl::ConsumePrefix(&host, "[") && !absl::ConsumeSuffix(&host, "]")) return false;
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  const std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  }
  return false;
}

absl::Status CheckSigningListener(absl::string_view listen, bool client_certificates_required,
                                  bool trust_network_callers) {
  if (client_certificates_required || trust_network_callers || IsLocalOnlyListenAddress(listen)) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the adapter signs upstream requests with its access key, so whoever reaches ", listen,
      " acts as the account: require client certificates (--tls_client_ca_file), listen on "
      "loopback or a unix: socket, or state that the network in front authorizes callers "
      "(--trust_network_callers)"));
}

}  // namespace osm
