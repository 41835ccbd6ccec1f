#ifndef OSM_SERVER_SERVICE_OPERATIONS_H_
#define OSM_SERVER_SERVICE_OPERATIONS_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "huaweicloud/osm/v2/message_service.pb.h"
#include "server/osm/message_mapping.h"
#include "server/osm/message_requests.h"
#include "server/osm/redaction.h"
#include "server/osm/response_mapper.h"
#include "server/service/adapter_metrics.h"
#include "server/service/call_pipeline.h"
#include "server/upstream/http_types.h"

// MessageService's unary operations, one struct each, as UnaryCall
// (unary_call.h) uses them: the request and response types, the method's
// label, the request pipeline (Prepare), the mapping of OSM's answer (Map),
// the answer's fields for the metrics and the log (AnswerOf), and the ids
// the access log names. Adding an operation is a struct here, its builder
// (message_requests.h), its mapping (message_mapping.h) and its validation
// (request_validation.h).

namespace osm {

struct WithdrawOperation {
  using Request = huaweicloud::osm::v2::WithdrawRequest;
  using Response = huaweicloud::osm::v2::WithdrawResponse;
  static constexpr RpcMethod kMethod = RpcMethod::kWithdraw;
  static PreparedCall Prepare(const Request& request, const CallMetadata& metadata, absl::Time now,
                              absl::Time deadline, const PipelineOptions& options) {
    return PrepareUpstreamRequest(request, metadata, now, deadline, options);
  }
  static MappedWithdraw Map(const Request&, const absl::StatusOr<HttpResponse>& outcome,
                            absl::Time now, const CallSecrets& secrets) {
    return MapWithdrawOutcome(outcome, now, secrets);
  }
  static const Response& AnswerOf(const MappedWithdraw& mapped) { return mapped.response; }
  static absl::string_view CaseId(const Request& request) { return request.case_id(); }
  static absl::string_view MessageId(const Request& request) { return request.message_id(); }
};

// The parts every operation of the message group shares. `Derived` has
// Request, Response, kMethod, kIdempotent, kNeverTwice, kMaxAnswerBytes, Build()
// (message_requests.h) and MapOutcome() (message_mapping.h).
template <typename Derived, typename RequestType, typename ResponseType>
struct MessageOperation {
  using Request = RequestType;
  using Response = ResponseType;
  static PreparedCall Prepare(const Request& request, const CallMetadata& metadata, absl::Time now,
                              absl::Time deadline, const PipelineOptions& options) {
    PreparedCall prepared =
        PrepareMessageCall(request, Derived::Build(request), metadata, now, deadline, options);
    prepared.http.idempotent = Derived::kIdempotent;
    prepared.http.fresh_connection = Derived::kNeverTwice;
    prepared.http.max_response_body_bytes = Derived::kMaxAnswerBytes;
    return prepared;
  }
  static const huaweicloud::osm::v2::OsmAnswer& AnswerOf(const MappedCall<Response>& mapped) {
    return mapped.answer;
  }
  static absl::string_view MessageId(const Request&) { return {}; }
};

// For the operations on one case.
template <typename Request>
absl::string_view CaseIdOf(const Request& request) {
  return request.case_id();
}
// For those on several: the first, as the access log names one.
template <typename Request>
absl::string_view FirstCaseIdOf(const Request& request) {
  return request.case_ids().empty() ? absl::string_view() : request.case_ids(0);
}

struct SendMessageOperation
    : MessageOperation<SendMessageOperation, huaweicloud::osm::v2::SendMessageRequest,
                       huaweicloud::osm::v2::SendMessageResponse> {
  static constexpr RpcMethod kMethod = RpcMethod::kSendMessage;
  // A duplicate message is worse than an error: never retried, and sent
  // on a connection of its own (HttpRequest::fresh_connection).
  static constexpr bool kIdempotent = false;
  static constexpr bool kNeverTwice = true;
  static constexpr std::size_t kMaxAnswerBytes = kMaxWriteAnswerBytes;
  static OsmCall Build(const Request& request) { return SendMessageCall(request); }
  static MappedCall<Response> Map(const Request&, const absl::StatusOr<HttpResponse>& outcome,
                                  absl::Time now, const CallSecrets& secrets) {
    return MapSendMessageOutcome(outcome, now, secrets);
  }
  static absl::string_view CaseId(const Request& request) { return CaseIdOf(request); }
};

struct ListMessagesOperation
    : MessageOperation<ListMessagesOperation, huaweicloud::osm::v2::ListMessagesRequest,
                       huaweicloud::osm::v2::ListMessagesResponse> {
  static constexpr RpcMethod kMethod = RpcMethod::kListMessages;
  static constexpr bool kIdempotent = true;
  static constexpr bool kNeverTwice = false;
  static constexpr std::size_t kMaxAnswerBytes = kMaxPageAnswerBytes;
  static OsmCall Build(const Request& request) { return ListMessagesCall(request); }
  static MappedCall<Response> Map(const Request& request,
                                  const absl::StatusOr<HttpResponse>& outcome, absl::Time now,
                                  const CallSecrets& secrets) {
    return MapListMessagesOutcome(outcome, now, secrets, request.offset());
  }
  static absl::string_view CaseId(const Request& request) { return CaseIdOf(request); }
};

struct ListMoreMessagesOperation
    : MessageOperation<ListMoreMessagesOperation, huaweicloud::osm::v2::ListMoreMessagesRequest,
                       huaweicloud::osm::v2::ListMoreMessagesResponse> {
  static constexpr RpcMethod kMethod = RpcMethod::kListMoreMessages;
  static constexpr bool kIdempotent = true;
  static constexpr bool kNeverTwice = false;
  static constexpr std::size_t kMaxAnswerBytes = kMaxPageAnswerBytes;
  static OsmCall Build(const Request& request) { return ListMoreMessagesCall(request); }
  static MappedCall<Response> Map(const Request&, const absl::StatusOr<HttpResponse>& outcome,
                                  absl::Time now, const CallSecrets& secrets) {
    return MapListMoreMessagesOutcome(outcome, now, secrets);
  }
  static absl::string_view CaseId(const Request& request) { return CaseIdOf(request); }
};

struct PollNewMessagesOperation
    : MessageOperation<PollNewMessagesOperation, huaweicloud::osm::v2::PollNewMessagesRequest,
                       huaweicloud::osm::v2::PollNewMessagesResponse> {
  static constexpr RpcMethod kMethod = RpcMethod::kPollNewMessages;
  static constexpr bool kIdempotent = true;
  static constexpr bool kNeverTwice = false;
  static constexpr std::size_t kMaxAnswerBytes = kMaxListAnswerBytes;
  static OsmCall Build(const Request& request) { return PollNewMessagesCall(request); }
  static MappedCall<Response> Map(const Request&, const absl::StatusOr<HttpResponse>& outcome,
                                  absl::Time now, const CallSecrets& secrets) {
    return MapPollNewMessagesOutcome(outcome, now, secrets);
  }
  static absl::string_view CaseId(const Request& request) { return FirstCaseIdOf(request); }
};

struct CountUnreadMessagesOperation
    : MessageOperation<CountUnreadMessagesOperation,
                       huaweicloud::osm::v2::CountUnreadMessagesRequest,
                       huaweicloud::osm::v2::CountUnreadMessagesResponse> {
  static constexpr RpcMethod kMethod = RpcMethod::kCountUnreadMessages;
  static constexpr bool kIdempotent = true;
  static constexpr bool kNeverTwice = false;
  static constexpr std::size_t kMaxAnswerBytes = kMaxPageAnswerBytes;
  static OsmCall Build(const Request& request) { return CountUnreadMessagesCall(request); }
  static MappedCall<Response> Map(const Request&, const absl::StatusOr<HttpResponse>& outcome,
                                  absl::Time now, const CallSecrets& secrets) {
    return MapCountUnreadMessagesOutcome(outcome, now, secrets);
  }
  static absl::string_view CaseId(const Request& request) { return FirstCaseIdOf(request); }
};

struct MarkMessagesReadOperation
    : MessageOperation<MarkMessagesReadOperation, huaweicloud::osm::v2::MarkMessagesReadRequest,
                       huaweicloud::osm::v2::MarkMessagesReadResponse> {
  static constexpr RpcMethod kMethod = RpcMethod::kMarkMessagesRead;
  // Marking read twice leaves the case as once.
  static constexpr bool kIdempotent = true;
  static constexpr bool kNeverTwice = false;
  static constexpr std::size_t kMaxAnswerBytes = kMaxWriteAnswerBytes;
  static OsmCall Build(const Request& request) { return MarkMessagesReadCall(request); }
  static MappedCall<Response> Map(const Request&, const absl::StatusOr<HttpResponse>& outcome,
                                  absl::Time now, const CallSecrets& secrets) {
    return MapMarkMessagesReadOutcome(outcome, now, secrets);
  }
  static absl::string_view CaseId(const Request& request) { return CaseIdOf(request); }
};

struct ListCaseMessagesOperation
    : MessageOperation<ListCaseMessagesOperation, huaweicloud::osm::v2::ListCaseMessagesRequest,
                       huaweicloud::osm::v2::ListCaseMessagesResponse> {
  static constexpr RpcMethod kMethod = RpcMethod::kListCaseMessages;
  static constexpr bool kIdempotent = true;
  static constexpr bool kNeverTwice = false;
  static constexpr std::size_t kMaxAnswerBytes = kMaxListAnswerBytes;
  static OsmCall Build(const Request& request) { return ListCaseMessagesCall(request); }
  static MappedCall<Response> Map(const Request&, const absl::StatusOr<HttpResponse>& outcome,
                                  absl::Time now, const CallSecrets& secrets) {
    return MapListCaseMessagesOutcome(outcome, now, secrets);
  }
  static absl::string_view CaseId(const Request& request) { return CaseIdOf(request); }
};

}  // namespace osm

#endif  // OSM_SERVER_SERVICE_OPERATIONS_H_
