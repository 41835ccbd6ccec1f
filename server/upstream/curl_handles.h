#ifndef OSM_SERVER_UPSTREAM_CURL_HANDLES_H_
#define OSM_SERVER_UPSTREAM_CURL_HANDLES_H_

#include <curl/curl.h>

#include <memory>

namespace osm {

// Owning handles for libcurl's objects: each frees its object with the
// matching cleanup call, so no failure path frees anything by hand.
struct CurlEasyCleanup {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct CurlMultiCleanup {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct CurlShareCleanup {
  void operator()(CURLSH* share) const { curl_share_cleanup(share); }
};
struct CurlSlistCleanup {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct CurlUrlCleanup {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

using CurlEasy = std::unique_ptr<CURL, CurlEasyCleanup>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiCleanup>;
using CurlShare = std::unique_ptr<CURLSH, CurlShareCleanup>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistCleanup>;
using CurlUrlHandle = std::unique_ptr<CURLU, CurlUrlCleanup>;

}  // namespace osm

#endif  // OSM_SERVER_UPSTREAM_CURL_HANDLES_H_
