// The message group end to end (SendMessage, ListMessages, ListMoreMessages,
// PollNewMessages, CountUnreadMessages, MarkMessagesRead, ListCaseMessages):
// a generated C++ stub, the real gRPC server over TCP, the curl upstream
// client and a scripted HTTP upstream, all on port 0 of this host. Each
// test asserts the exact request OSM receives and what the caller gets.

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "huaweicloud/osm/v2/message_service.grpc.pb.h"
#include "server/app/adapter_server.h"
#include "server/osm/credentials.h"
#include "tests/support/in_process_adapter.h"
#include "tests/support/scripted_upstream.h"
#include "tests/support/signature_verifier.h"
#include "tests/support/status_details.h"

namespace osm {
namespace {

using namespace huaweicloud::osm::v2;  // NOLINT: the contract's messages
using testing::DecodedDetails;
using testing::DecodeDetails;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing::RecordedRequest;
using testing::ScriptedUpstream;
using testing::TestAdapterConfig;
using testing::UpstreamExchange;

constexpr char kToken[] = "iam-token-group-0123456789";

std::string Json(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

template <typename Request>
Request Parse(const std::string& text) {
  Request request;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &request)) << text;
  return request;
}

class MessageGroupTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(TestAdapterConfig(upstream_.base_url())); }

  void Start(const AdapterConfig& config) {
    server_.reset();
    absl::StatusOr<std::unique_ptr<AdapterServer>> server = AdapterServer::Start(config);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(32 << 20);
    stub_ = MessageService::NewStub(
        grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                  grpc::InsecureChannelCredentials(), arguments));
  }

  template <typename Response>
  struct Result {
    grpc::Status status;
    Response response;
    std::multimap<std::string, std::string> trailers;
  };

  // One call of `method` with the test's token.
  template <typename Request, typename Response>
  Result<Response> Call(grpc::Status (MessageService::Stub::*method)(grpc::ClientContext*,
                                                                     const Request&, Response*),
                        const Request& request, bool with_token = true) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    if (with_token) context.AddMetadata("x-auth-token", kToken);
    Result<Response> result;
    result.status = ((*stub_).*method)(&context, request, &result.response);
    for (const auto& [key, value] : context.GetServerTrailingMetadata()) {
      result.trailers.emplace(std::string(key.data(), key.size()),
                              std::string(value.data(), value.size()));
    }
    return result;
  }

  // The one request the upstream received: method, target and body, and
  // its headers but Host, in order.
  std::string OnlyRequest() {
    EXPECT_EQ(upstream_.request_count(), 1);
    if (upstream_.request_count() < 1) return "";
    const RecordedRequest sent = upstream_.requests().back();
    std::string text = absl::StrCat(sent.method, " ", sent.target, " ", sent.version, "\n");
    for (const auto& [name, value] : sent.headers) {
      if (name == "Host") {
        EXPECT_EQ(value, absl::StrCat("127.0.0.1:", upstream_.port()));
        continue;
      }
      absl::StrAppend(&text, name, ": ", value, "\n");
    }
    absl::StrAppend(&text, "\n", sent.body);
    return text;
  }

  void Answer(int status, std::string body) {
    upstream_.SetHandler([status, body](UpstreamExchange& exchange) {
      exchange.Respond(status, body, {{"X-Request-Id", "req-9"}});
    });
  }

  ScriptedUpstream upstream_;
  std::unique_ptr<AdapterServer> server_;
  std::unique_ptr<MessageService::Stub> stub_;
};

const std::string kCommonHeaders = absl::StrCat(
    "Content-Type: application/json\nAccept: application/json\nUser-Agent: osm-grpc-adapter/",
    OSM_ADAPTER_VERSION, "\nX-Auth-Token: ", kToken, "\n");

TEST_F(MessageGroupTest, SendMessageExactWire) {
  Answer(200, R"({"error_code":"","error_msg":""})");
  auto result = Call(&MessageService::Stub::SendMessage,
                     Parse<SendMessageRequest>(R"(case_id: "C 1" content: "Hello \"OSM\"")"
                                               R"( accessory_ids: "a-1" group_id: "g-1")"
                                               R"( language: "en-us" site: SITE_INTERNATIONAL)"));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(Json(result.response), R"({"request_id":"req-9"})");
  EXPECT_THAT(result.trailers, ::testing::Contains(Pair("x-request-id", "req-9")));
  const std::string body =
      R"({"message":{"content":"Hello \"OSM\"","accessory_ids":["a-1"]},"group_id":"g-1"})";
  EXPECT_EQ(
      OnlyRequest(),
      absl::StrCat("POST /v2/servicerequest/cases/C%201/message HTTP/1.1\n", kCommonHeaders,
                   "X-Language: en-us\nX-Site: 1\nContent-Length: ", body.size(), "\n\n", body));
}

TEST_F(MessageGroupTest, ListMessagesExactWireAndTypedAnswer) {
  Answer(200, R"({"count":3,"message_list":[{"type":0,"content":"a","create_time":)"
              R"("2026-11-30T08:15:00Z","replier_name":"me"},{"type":1,"content":"b"}],"x":1})");
  auto result = Call(&MessageService::Stub::ListMessages,
                     Parse<ListMessagesRequest>(R"(case_id: "c1" offset: 0 limit: 2)"
                                                R"( keep_rich_text: true time_zone: "GMT+8")"));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(Json(result.response),
            R"({"total_count":3,"messages":[{"replier_name":"me","content":"a",)"
            R"("create_time":"2026-11-30T08:15:00Z","create_timestamp":"2026-11-30T08:15:00Z"},)"
            R"({"type":1,"content":"b"}],"next_offset":2,"request_id":"req-9"})");
  EXPECT_EQ(OnlyRequest(), absl::StrCat("GET /v2/servicerequest/cases/c1/messages?limit=2"
                                        "&trim_osm_rich_text_label=false HTTP/1.1\n",
                                        kCommonHeaders, "X-Time-Zone: GMT+8\n\n"));
}

TEST_F(MessageGroupTest, ListMoreMessagesExactWire) {
  Answer(200, R"({"count":0,"message_list":[]})");
  auto result = Call(&MessageService::Stub::ListMoreMessages,
                     Parse<ListMoreMessagesRequest>(R"(case_id: "c1" limit: 5 type: 1)"
                                                    R"( create_time: "2026-11-30 08:15:00")"));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(Json(result.response), R"({"request_id":"req-9"})");
  EXPECT_EQ(OnlyRequest(), absl::StrCat("GET /v2/servicerequest/cases/c1/instant-messages/more"
                                        "?create_time=2026-11-30%2008%3A15%3A00&type=1&limit=5"
                                        " HTTP/1.1\n",
                                        kCommonHeaders, "\n"));
}

TEST_F(MessageGroupTest, PollNewMessagesExactWire) {
  Answer(200, R"({"imstatus":[{"status":0,"incident_id":"c1"}],"immsg":[{"incident_id":"c1",)"
              R"("message_list":[{"type":1,"content":"new"}]}],"last_message_time_id":"1700"})");
  auto result =
      Call(&MessageService::Stub::PollNewMessages,
           Parse<PollNewMessagesRequest>(R"(case_ids: "c1" case_ids: "c2")"
                                         R"( last_message_time_id: "1600" group_id: "g")"));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(Json(result.response),
            R"({"cases":[{"case_id":"c1","messages":[{"type":1,"content":"new"}]}],)"
            R"("read_statuses":[{"case_id":"c1"}],"last_message_time_id":"1700",)"
            R"("request_id":"req-9"})");
  EXPECT_EQ(OnlyRequest(), absl::StrCat("GET /v2/servicerequest/cases/instant-messages"
                                        "?case_ids=c1,c2&last_message_time_id=1600&group_id=g"
                                        " HTTP/1.1\n",
                                        kCommonHeaders, "\n"));
}

TEST_F(MessageGroupTest, CountUnreadMessagesExactWire) {
  Answer(200, R"({"imunread":[{"status":1,"incident_id":"c1","unread_num":4}]})");
  auto result = Call(&MessageService::Stub::CountUnreadMessages,
                     Parse<CountUnreadMessagesRequest>(R"(case_ids: "c1" site: SITE_CHINA)"));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(Json(result.response),
            R"({"counts":[{"case_id":"c1","unread_count":4,"status":1}],"request_id":"req-9"})");
  EXPECT_EQ(OnlyRequest(),
            absl::StrCat("GET /v2/servicerequest/cases/instant-messages/unread?case_ids=c1"
                         " HTTP/1.1\n",
                         kCommonHeaders, "X-Site: 0\n\n"));
}

TEST_F(MessageGroupTest, MarkMessagesReadExactWire) {
  Answer(200, "");
  auto result = Call(&MessageService::Stub::MarkMessagesRead,
                     Parse<MarkMessagesReadRequest>(R"(case_id: "c1")"));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(OnlyRequest(),
            absl::StrCat("POST /v2/servicerequest/cases/c1/instant-messages/unread HTTP/1.1\n",
                         kCommonHeaders, "Content-Length: 2\n\n{}"));
}

TEST_F(MessageGroupTest, ListCaseMessagesExactWireWithIds) {
  Answer(200, R"({"incident_detail_info":{"incident_id":"c1","simple_description":"x",)"
              R"("message_list":[{"message_id":"m-1","type":0,"content":"mine"}]}})");
  auto result = Call(&MessageService::Stub::ListCaseMessages,
                     Parse<ListCaseMessagesRequest>(R"(case_id: "c1" group_id: "g")"));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(Json(result.response),
            R"({"messages":[{"message_id":"m-1","content":"mine"}],"request_id":"req-9"})");
  EXPECT_EQ(OnlyRequest(), absl::StrCat("GET /v2/servicerequest/cases/c1?group_id=g HTTP/1.1\n",
                                        kCommonHeaders, "\n"));
}

TEST_F(MessageGroupTest, BusinessErrorOnHttp200CarriesOsmAnswer) {
  Answer(200, R"({"error_code":"OSM.01010015","error_msg":"This case does not exist."})");
  auto result =
      Call(&MessageService::Stub::ListMessages, Parse<ListMessagesRequest>(R"(case_id: "nope")"));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(result.status.error_message(), "This case does not exist.");
  EXPECT_THAT(result.trailers, ::testing::Contains(Pair("x-request-id", "req-9")));
  const DecodedDetails details = DecodeDetails(result.status);
  ASSERT_EQ(details.error_infos.size(), 1u);
  EXPECT_EQ(details.error_infos[0].reason(), "CASE_NOT_FOUND");
  ASSERT_EQ(details.osm_answers.size(), 1u);
  EXPECT_EQ(Json(details.osm_answers[0]),
            R"({"error_code":"OSM.01010015","error_msg":"This case does not exist.",)"
            R"("http_status":200,"request_id":"req-9"})");
}

TEST_F(MessageGroupTest, UnreadableAnswerIsInternalForReadsAndUnknownForWrites) {
  Answer(200, "<html>maintenance</html>");
  auto read = Call(&MessageService::Stub::CountUnreadMessages,
                   Parse<CountUnreadMessagesRequest>(R"(case_ids: "c1")"));
  EXPECT_EQ(read.status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(DecodeDetails(read.status).error_infos.at(0).reason(), "MALFORMED_UPSTREAM_RESPONSE");
  auto write = Call(&MessageService::Stub::SendMessage,
                    Parse<SendMessageRequest>(R"(case_id: "c1" content: "x")"));
  EXPECT_EQ(write.status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(DecodeDetails(write.status).error_infos.at(0).reason(), "MALFORMED_UPSTREAM_RESPONSE");
}

TEST_F(MessageGroupTest, InvalidRequestIsRefusedBeforeAnythingIsSent) {
  auto result = Call(&MessageService::Stub::PollNewMessages,
                     Parse<PollNewMessagesRequest>(R"(case_ids: "a,b")"));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const DecodedDetails details = DecodeDetails(result.status);
  ASSERT_EQ(details.bad_requests.size(), 1u);
  EXPECT_EQ(details.bad_requests[0].field_violations(0).field(), "case_ids[0]");
  auto no_token = Call(&MessageService::Stub::MarkMessagesRead,
                       Parse<MarkMessagesReadRequest>(R"(case_id: "c1")"), /*with_token=*/false);
  EXPECT_EQ(no_token.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(upstream_.request_count(), 0);
}

// A read that got no answer is sent again; a message is never sent twice.
TEST_F(MessageGroupTest, ReadsAreRetriedAfterSendingWritesAreNot) {
  int seen = 0;
  upstream_.SetHandler([&seen](UpstreamExchange& exchange) {
    if (seen++ == 0) {
      exchange.Reset();
      return;
    }
    exchange.Respond(200, R"({"count":0,"message_list":[]})");
  });
  auto read =
      Call(&MessageService::Stub::ListMessages, Parse<ListMessagesRequest>(R"(case_id: "c1")"));
  EXPECT_TRUE(read.status.ok()) << read.status.error_message();
  EXPECT_EQ(upstream_.request_count(), 2);

  upstream_.SetHandler([](UpstreamExchange& exchange) { exchange.Reset(); });
  auto write = Call(&MessageService::Stub::SendMessage,
                    Parse<SendMessageRequest>(R"(case_id: "c1" content: "once")"));
  EXPECT_EQ(write.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(upstream_.request_count(), 3);
}

// A case detail larger than gRPC's default 4 MiB message limit reaches the
// caller; one over the adapter's 16 MiB cap is refused as too large.
TEST_F(MessageGroupTest, LargeListsUpToTheCap) {
  auto answer_with = [](int messages, int content_bytes) {
    std::string body = R"({"incident_detail_info":{"message_list":[)";
    const std::string content(content_bytes, 'x');
    for (int i = 0; i < messages; ++i) {
      absl::StrAppend(&body, i ? "," : "", R"({"message_id":"m)", i, R"(","content":")", content,
                      "\"}");
    }
    return absl::StrCat(body, "]}}");
  };
  Answer(200, answer_with(6000, 1000));  // about 6 MiB
  auto large = Call(&MessageService::Stub::ListCaseMessages,
                    Parse<ListCaseMessagesRequest>(R"(case_id: "c1")"));
  ASSERT_TRUE(large.status.ok()) << large.status.error_message();
  EXPECT_EQ(large.response.messages_size(), 6000);
  EXPECT_EQ(large.response.messages(5999).message_id(), "m5999");

  Answer(200, answer_with(17000, 1000));  // about 17 MiB
  auto too_large = Call(&MessageService::Stub::ListCaseMessages,
                        Parse<ListCaseMessagesRequest>(R"(case_id: "c1")"));
  EXPECT_EQ(too_large.status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(DecodeDetails(too_large.status).error_infos.at(0).reason(),
            "UPSTREAM_RESPONSE_TOO_LARGE");
}

TEST_F(MessageGroupTest, SignedGetWithQueryVerifies) {
  AdapterConfig config = TestAdapterConfig(upstream_.base_url());
  config.credentials = std::make_shared<StaticCredentialsProvider>(
      AkSkCredentials{"AKGROUP", "sk-group-5f1e", "", "domain-9"}, "test");
  Start(config);
  Answer(200, R"({"imunread":[]})");
  auto result = Call(&MessageService::Stub::CountUnreadMessages,
                     Parse<CountUnreadMessagesRequest>(R"(case_ids: "c1" case_ids: "c 2")"
                                                       R"( language: "en-us" site: SITE_CHINA)"),
                     /*with_token=*/false);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(upstream_.request_count(), 1);
  const RecordedRequest sent = upstream_.requests()[0];
  EXPECT_EQ(sent.target, "/v2/servicerequest/cases/instant-messages/unread?case_ids=c1,c%202");
  EXPECT_FALSE(sent.Header("X-Auth-Token").has_value());
  EXPECT_TRUE(testing::VerifySignedRequest(sent, "AKGROUP", "sk-group-5f1e", absl::Now()).ok());
  EXPECT_FALSE(testing::VerifySignedRequest(sent, "AKGROUP", "sk-wrong", absl::Now()).ok());
}

}  // namespace
}  // namespace osm
