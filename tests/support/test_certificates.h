#ifndef OSM_TESTS_SUPPORT_TEST_CERTIFICATES_H_
#define OSM_TESTS_SUPPORT_TEST_CERTIFICATES_H_

#include <string>
#include <vector>

// OpenSSL's types, without its headers.
struct evp_pkey_st;
struct x509_st;

namespace osm::testing {

// A certificate and its private key, PEM.
struct PemKeyPair {
  std::string cert_pem;
  std::string key_pem;
};

// A certificate authority made at test time (EC P-256, valid for a day), so
// that no key or certificate lives in the repository.
class TestCertificateAuthority {
 public:
  explicit TestCertificateAuthority(const std::string& common_name);
  ~TestCertificateAuthority();
  TestCertificateAuthority(const TestCertificateAuthority&) = delete;
  TestCertificateAuthority& operator=(const TestCertificateAuthority&) = delete;

  const std::string& cert_pem() const { return cert_pem_; }

  // A server certificate naming `dns_names` and `ip_addresses` in its
  // subjectAltName.
  PemKeyPair IssueServer(const std::string& common_name, const std::vector<std::string>& dns_names,
                         const std::vector<std::string>& ip_addresses) const;
  // A client certificate.
  PemKeyPair IssueClient(const std::string& common_name) const;

 private:
  PemKeyPair Issue(const std::string& common_name, const std::string& subject_alt_names,
                   const char* extended_key_usage) const;

  evp_pkey_st* key_ = nullptr;
  x509_st* cert_ = nullptr;
  std::string cert_pem_;
};

}  // namespace osm::testing

#endif  // OSM_TESTS_SUPPORT_TEST_CERTIFICATES_H_
