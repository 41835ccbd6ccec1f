#include "tests/support/test_certificates.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace osm::testing {
namespace {

// Only a broken OpenSSL gets here.
void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "test certificates: %s failed\n", what);
  ERR_print_errors_fp(stderr);
  std::abort();
}

EVP_PKEY* NewKey() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  Check(key != nullptr, "EC key generation");
  return key;
}

void AddExtension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  Check(extension != nullptr, "X509V3_EXT_conf_nid");
  Check(X509_add_ext(certificate, extension, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(extension);
}

// A certificate for `key`, named `common_name`, not yet signed. Its issuer
// is `issuer`, or itself.
X509* NewCertificate(EVP_PKEY* key, const std::string& common_name, X509* issuer) {
  static std::atomic<long> serial{1};
  X509* certificate = X509_new();
  Check(certificate != nullptr, "X509_new");
  X509_set_version(certificate, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), serial.fetch_add(1));
  X509_gmtime_adj(X509_getm_notBefore(certificate), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 24 * 3600);
  Check(X509_set_pubkey(certificate, key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(certificate);
  Check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0) == 1,
        "X509_NAME_add_entry_by_txt");
  Check(X509_set_issuer_name(certificate,
                             issuer != nullptr ? X509_get_subject_name(issuer) : name) == 1,
        "X509_set_issuer_name");
  return certificate;
}

std::string ToPem(X509* certificate) {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(bio != nullptr && PEM_write_bio_X509(bio, certificate) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return pem;
}

std::string ToPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(bio != nullptr &&
            PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return pem;
}

}  // namespace

TestCertificateAuthority::TestCertificateAuthority(const std::string& common_name)
    : key_(NewKey()) {
  cert_ = NewCertificate(key_, common_name, nullptr);
  AddExtension(cert_, cert_, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(cert_, cert_, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(cert_, cert_, NID_subject_key_identifier, "hash");
  Check(X509_sign(cert_, key_, EVP_sha256()) > 0, "X509_sign");
  cert_pem_ = ToPem(cert_);
}

TestCertificateAuthority::~TestCertificateAuthority() {
  X509_free(cert_);
  EVP_PKEY_free(key_);
}

PemKeyPair TestCertificateAuthority::IssueServer(
    const std::string& common_name, const std::vector<std::string>& dns_names,
    const std::vector<std::string>& ip_addresses) const {
  std::vector<std::string> names;
  for (const std::string& name : dns_names) names.push_back(absl::StrCat("DNS:", name));
  for (const std::string& address : ip_addresses) names.push_back(absl::StrCat("IP:", address));
  return Issue(common_name, absl::StrJoin(names, ","), "serverAuth");
}

PemKeyPair TestCertificateAuthority::IssueClient(const std::string& common_name) const {
  return Issue(common_name, "", "clientAuth");
}

PemKeyPair TestCertificateAuthority::Issue(const std::string& common_name,
                                           const std::string& subject_alt_names,
                                           const char* extended_key_usage) const {
  EVP_PKEY* key = NewKey();
  X509* certificate = NewCertificate(key, common_name, cert_);
  AddExtension(certificate, cert_, NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(certificate, cert_, NID_key_usage, "critical,digitalSignature,keyEncipherment");
  AddExtension(certificate, cert_, NID_ext_key_usage, extended_key_usage);
  AddExtension(certificate, cert_, NID_subject_key_identifier, "hash");
  AddExtension(certificate, cert_, NID_authority_key_identifier, "keyid:always");
  if (!subject_alt_names.empty()) {
    AddExtension(certificate, cert_, NID_subject_alt_name, subject_alt_names);
  }
  Check(X509_sign(certificate, key_, EVP_sha256()) > 0, "X509_sign");
  PemKeyPair pair{ToPem(certificate), ToPem(key)};
  X509_free(certificate);
  EVP_PKEY_free(key);
  return pair;
}

}  // namespace osm::testing
