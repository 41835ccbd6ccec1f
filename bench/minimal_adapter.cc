// The "minimal adapter": the calibration point of the performance targets,
// rebuilt so that it runs in the same benchmark run as the real adapter. A
// callback-API Withdraw hands each call to one libcurl multi thread driven
// by curl_multi_poll (a locked queue and curl_multi_wakeup), and finishes
// the call from that thread. No validation, no JSON, no error mapping, no
// deadlines, no metrics, no logging: the least an asynchronous C++ adapter
// does. Not a product; bench/run.sh measures it beside the adapter.

#include <curl/curl.h>
#include <grpcpp/grpcpp.h>

#include <deque>
#include <string>
#include <thread>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "serve.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "listen address, HOST:PORT");
ABSL_FLAG(std::string, upstream, "http://127.0.0.1:18481", "upstream base URL");

namespace {

struct Call {
  grpc::ServerUnaryReactor* reactor;
  huaweicloud::osm::v2::WithdrawResponse* response;
  std::string url;
  std::string token_header;
  std::string body;
  curl_slist* headers = nullptr;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<Call*>(user)->body.append(data, size * count);
  return size * count;
}

class CurlThread {
 public:
  CurlThread() : multi_(curl_multi_init()), thread_([this] { Run(); }) {}

  void Submit(Call* call) {
    {
      absl::MutexLock lock(&mu_);
      queue_.push_back(call);
    }
    curl_multi_wakeup(multi_);
  }

 private:
  void Run() {
    while (true) {
      std::deque<Call*> calls;
      {
        absl::MutexLock lock(&mu_);
        calls.swap(queue_);
      }
      for (Call* call : calls) Start(call);
      int running = 0;
      curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
        if (message->msg != CURLMSG_DONE) continue;
        Call* call = nullptr;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &call);
        long status = 0;
        curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        const CURLcode code = message->data.result;
        curl_multi_remove_handle(multi_, message->easy_handle);
        curl_easy_cleanup(message->easy_handle);
        curl_slist_free_all(call->headers);
        if (code == CURLE_OK && status == 200) {
          call->response->set_http_status(200);
          call->reactor->Finish(grpc::Status::OK);
        } else {
          call->reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "upstream failed"));
        }
        delete call;
      }
      curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
  }

  void Start(Call* call) {
    CURL* easy = curl_easy_init();
    call->headers = curl_slist_append(call->headers, "Content-Type: application/json");
    call->headers = curl_slist_append(call->headers, call->token_header.c_str());
    curl_easy_setopt(easy, CURLOPT_URL, call->url.c_str());
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, call->headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, call);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, call);
    curl_multi_add_handle(multi_, easy);
  }

  CURLM* multi_;
  absl::Mutex mu_;
  std::deque<Call*> queue_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

class MinimalService final : public huaweicloud::osm::v2::MessageService::CallbackService {
 public:
  explicit MinimalService(std::string upstream) : upstream_(std::move(upstream)) {}

  grpc::ServerUnaryReactor* Withdraw(grpc::CallbackServerContext* context,
                                     const huaweicloud::osm::v2::WithdrawRequest* request,
                                     huaweicloud::osm::v2::WithdrawResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    auto* call = new Call{reactor, response,
                          absl::StrCat(upstream_, "/v2/servicerequest/cases/", request->case_id(),
                                       "/instant-messages/", request->message_id(), "/withdraw"),
                          "", ""};
    const auto token = context->client_metadata().find("x-auth-token");
    if (token != context->client_metadata().end()) {
      call->token_header =
          absl::StrCat("X-Auth-Token: ", std::string(token->second.data(), token->second.size()));
    }
    curl_.Submit(call);
    return reactor;
  }

 private:
  const std::string upstream_;
  CurlThread curl_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  MinimalService service(absl::GetFlag(FLAGS_upstream));
  return osm::bench::ServeForever(service, absl::GetFlag(FLAGS_listen));
}
