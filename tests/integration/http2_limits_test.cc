// What a client sees of the adapter's defences against hostile HTTP/2
// clients, on the wire: the limits it advertises in its SETTINGS frame, and
// a connection that never completes its handshake being closed. The attack
// suite (tests/attacks) measures what the limits achieve under attack.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/adapter_process.h"

namespace osm {
namespace {

using testing::AdapterProcess;

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr uint16_t kMaxConcurrentStreams = 0x3;
constexpr uint16_t kMaxHeaderListSize = 0x6;

// A TCP connection to 127.0.0.1:port, closed on destruction.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        fd_ >= 0 && connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }
  bool Send(const std::string& bytes) {
    return write(fd_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  }
  // Reads what arrives within `timeout`; stops at EOF, which sets closed().
  std::string Read(absl::Duration timeout) {
    std::string data;
    const absl::Time deadline = absl::Now() + timeout;
    while (!closed_) {
      pollfd ready{fd_, POLLIN, 0};
      const int64_t wait_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
      if (wait_ms <= 0 || poll(&ready, 1, static_cast<int>(wait_ms)) <= 0) break;
      char buffer[4096];
      const ssize_t n = read(fd_, buffer, sizeof(buffer));
      if (n <= 0) {
        closed_ = true;
        break;
      }
      data.append(buffer, static_cast<std::size_t>(n));
    }
    return data;
  }
  bool closed() const { return closed_; }

 private:
  int fd_;
  bool connected_ = false;
  bool closed_ = false;
};

// An HTTP/2 frame header (RFC 9113, 4.1) followed by `payload`.
std::string Frame(uint8_t type, uint8_t flags, const std::string& payload) {
  const auto length = static_cast<uint32_t>(payload.size());
  std::string frame = {static_cast<char>(length >> 16),
                       static_cast<char>(length >> 8),
                       static_cast<char>(length),
                       static_cast<char>(type),
                       static_cast<char>(flags),
                       '\0',
                       '\0',
                       '\0',
                       '\0'};
  return frame + payload;
}

// The parameters of the first SETTINGS frame (not an ACK) in `data`.
std::map<uint16_t, uint32_t> FirstSettings(const std::string& data) {
  std::size_t at = 0;
  while (at + 9 <= data.size()) {
    const auto byte = [&](std::size_t i) { return static_cast<uint8_t>(data[at + i]); };
    const uint32_t length = (byte(0) << 16) | (byte(1) << 8) | byte(2);
    if (byte(3) == 0x4 && (byte(4) & 0x1) == 0 && at + 9 + length <= data.size()) {
      std::map<uint16_t, uint32_t> settings;
      for (std::size_t p = at + 9; p + 6 <= at + 9 + length; p += 6) {
        const auto b = [&](std::size_t i) {
          return static_cast<uint32_t>(static_cast<uint8_t>(data[p + i]));
        };
        settings[static_cast<uint16_t>((b(0) << 8) | b(1))] =
            (b(2) << 24) | (b(3) << 16) | (b(4) << 8) | b(5);
      }
      return settings;
    }
    at += 9 + length;
  }
  return {};
}

std::map<uint16_t, uint32_t> AdvertisedSettings(const AdapterProcess& adapter) {
  RawConnection connection(adapter.port());
  EXPECT_TRUE(connection.connected());
  EXPECT_TRUE(connection.Send(std::string(kPreface) + Frame(0x4, 0, "")));
  std::string received;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (FirstSettings(received).empty() && !connection.closed() && absl::Now() < deadline) {
    received += connection.Read(absl::Milliseconds(100));
  }
  return FirstSettings(received);
}

TEST(Http2LimitsTest, TheDefaultsAreAdvertisedInTheServersSettings) {
  AdapterProcess adapter({});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  const std::map<uint16_t, uint32_t> settings = AdvertisedSettings(adapter);
  EXPECT_EQ(settings.at(kMaxConcurrentStreams), 100u);
  EXPECT_EQ(settings.at(kMaxHeaderListSize), 8192u);
}

TEST(Http2LimitsTest, TheFlagsChangeTheAdvertisedLimits) {
  AdapterProcess adapter({"--max_concurrent_streams=7", "--max_header_list_size=4096"});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  const std::map<uint16_t, uint32_t> settings = AdvertisedSettings(adapter);
  EXPECT_EQ(settings.at(kMaxConcurrentStreams), 7u);
  EXPECT_EQ(settings.at(kMaxHeaderListSize), 4096u);
}

// A connection that never sends the HTTP/2 preface is closed once
// --handshake_timeout has passed; one that did stays open.
TEST(Http2LimitsTest, AConnectionThatNeverHandshakesIsClosedAtTheHandshakeTimeout) {
  AdapterProcess adapter({"--handshake_timeout=500ms"});
  ASSERT_TRUE(adapter.started()) << adapter.Output();
  RawConnection silent(adapter.port());
  RawConnection speaking(adapter.port());
  ASSERT_TRUE(silent.connected() && speaking.connected());
  ASSERT_TRUE(speaking.Send(std::string(kPreface) + Frame(0x4, 0, "")));
  const absl::Time opened = absl::Now();
  silent.Read(absl::Seconds(10));
  EXPECT_TRUE(silent.closed());
  EXPECT_GE(absl::Now() - opened, absl::Milliseconds(400));
  EXPECT_LT(absl::Now() - opened, absl::Seconds(5));
  speaking.Read(absl::Seconds(1));
  EXPECT_FALSE(speaking.closed());
}

}  // namespace
}  // namespace osm
