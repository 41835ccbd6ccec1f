#ifndef OSM_CLIENT_HEALTH_PROBE_H_
#define OSM_CLIENT_HEALTH_PROBE_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace osm {

// grpc.health.v1.HealthCheckResponse.ServingStatus.
enum class ServingStatus { kUnknown = 0, kServing = 1, kNotServing = 2, kServiceUnknown = 3 };

// Calls grpc.health.v1.Health/Check for `service` ("" for the server).
// The two messages are encoded by hand (one field each), since Debian ships
// no health.proto to generate them from.
absl::StatusOr<ServingStatus> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                          absl::string_view service, absl::Duration timeout);

// The services the server lists through reflection
// (grpc.reflection.v1alpha.ServerReflection, list_services).
absl::StatusOr<std::vector<std::string>> ListServicesByReflection(
    const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout);

}  // namespace osm

#endif  // OSM_CLIENT_HEALTH_PROBE_H_
