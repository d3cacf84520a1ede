#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "module/analytics/jsonl_sink.h"
#include "module/analytics/tcp_sink.h"
#include "module/analytics/udp_sink.h"
#include "tests/module/analytics/test_util.h"

namespace callvault {
namespace {

using testing::ReadText;
using testing::TempDir;

// A line of exactly n bytes (without newline) carrying its number.
std::string Line(int i, size_t n = 99) {
  std::string s = "{\"n\":" + std::to_string(i) + ",\"pad\":\"";
  s.append(n - s.size() - 2, 'x');
  return s + "\"}";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.push_back(text.substr(start, nl - start));
  }
  EXPECT_EQ(start, text.size()) << "torn last line";
  return out;
}

TEST(JsonlSink, RotatesBySizeKeepingWholeLinesAndNFiles) {
  TempDir dir;
  JsonlSinkOptions o;
  o.path = dir / "events.jsonl";
  o.max_bytes = 1000;  // ten 100-byte lines per file
  o.keep = 3;
  std::string error;
  auto sink = JsonlFileSink::Open(o, &error);
  ASSERT_NE(sink, nullptr) << error;
  for (int i = 1; i <= 45; ++i) {
    ASSERT_TRUE(sink->Write(Line(i)));
    if (i % 7 == 0) sink->Flush();  // flushes of uneven size
  }
  sink->Flush();
  EXPECT_EQ(sink->stats().written, 45u);
  EXPECT_EQ(sink->stats().dropped, 0u);

  auto expect_file = [&](const std::string& path, int first, int last) {
    const auto lines = Lines(ReadText(path));
    ASSERT_EQ(static_cast<int>(lines.size()), last - first + 1) << path;
    for (int i = first; i <= last; ++i) EXPECT_EQ(lines[i - first], Line(i)) << path;
    EXPECT_LE(std::filesystem::file_size(path), o.max_bytes);
  };
  expect_file(o.path, 41, 45);
  expect_file(o.path + ".1", 31, 40);
  expect_file(o.path + ".2", 21, 30);
  expect_file(o.path + ".3", 11, 20);
  EXPECT_FALSE(std::filesystem::exists(o.path + ".4"));  // lines 1-10 aged out
}

TEST(JsonlSink, RotatesByAge) {
  TempDir dir;
  JsonlSinkOptions o;
  o.path = dir / "events.jsonl";
  o.max_age_s = 1;
  std::string error;
  auto sink = JsonlFileSink::Open(o, &error);
  ASSERT_NE(sink, nullptr) << error;
  sink->Write(Line(1));
  sink->Flush();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  sink->Write(Line(2));
  sink->Flush();
  EXPECT_EQ(Lines(ReadText(o.path + ".1")), std::vector<std::string>{Line(1)});
  EXPECT_EQ(Lines(ReadText(o.path)), std::vector<std::string>{Line(2)});
}

TEST(JsonlSink, OversizedLineGoesAloneAndBadPathFails) {
  TempDir dir;
  JsonlSinkOptions o;
  o.path = dir / "events.jsonl";
  o.max_bytes = 200;
  std::string error;
  auto sink = JsonlFileSink::Open(o, &error);
  sink->Write(Line(1));
  sink->Write(Line(2, 500));
  sink->Write(Line(3));
  sink->Flush();
  EXPECT_EQ(Lines(ReadText(o.path + ".2")), std::vector<std::string>{Line(1)});
  EXPECT_EQ(Lines(ReadText(o.path + ".1")), std::vector<std::string>{Line(2, 500)});
  EXPECT_EQ(Lines(ReadText(o.path)), std::vector<std::string>{Line(3)});

  // A missing directory is created (a fresh install); a path that cannot
  // exist (its "directory" is a regular file) is refused, naming it.
  o.path = dir / "missing-dir/events.jsonl";
  EXPECT_NE(JsonlFileSink::Open(o, &error), nullptr) << error;
  o.path = dir / "events.jsonl/events.jsonl";
  EXPECT_EQ(JsonlFileSink::Open(o, &error), nullptr);
  EXPECT_NE(error.find("events.jsonl"), std::string::npos) << error;
}

// A bound socket on loopback; port() is what the kernel chose.
class Listener {
 public:
  Listener(int family, int type, uint16_t port = 0) : family_(family) {
    fd_ = ::socket(family, type | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_storage ss{};
    socklen_t len;
    if (family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof(sockaddr_in);
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      a->sin6_addr = in6addr_loopback;
      len = sizeof(sockaddr_in6);
    }
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0;
    if (type == SOCK_STREAM) ok_ = ok_ && ::listen(fd_, 4) == 0;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    port_ = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                    : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  }
  ~Listener() { Close(); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool ok() const { return ok_; }
  int fd() const { return fd_; }
  uint16_t port() const { return port_; }
  int family() const { return family_; }

 private:
  int fd_ = -1;
  int family_;
  bool ok_ = false;
  uint16_t port_ = 0;
};

bool Readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

TEST(UdpSink, OneDatagramPerEventToARealSocket) {
  for (int family : {AF_INET, AF_INET6}) {
    Listener server(family, SOCK_DGRAM);
    ASSERT_TRUE(server.ok());
    UdpSinkOptions o;
    o.host = family == AF_INET ? "127.0.0.1" : "::1";
    o.port = server.port();
    UdpSink sink(o);
    for (int i = 1; i <= 3; ++i) EXPECT_TRUE(sink.Write(Line(i)));
    for (int i = 1; i <= 3; ++i) {
      ASSERT_TRUE(Readable(server.fd(), 2000));
      char buf[2048];
      const ssize_t n = ::recv(server.fd(), buf, sizeof(buf), 0);
      EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), Line(i) + "\n");
    }
    EXPECT_FALSE(sink.Write(std::string(70000, 'x')));  // cannot be one datagram
    EXPECT_EQ(sink.stats().written, 3u);
    EXPECT_EQ(sink.stats().dropped, 1u);
  }
}

// Reads whole lines from one accepted connection until `count` arrived.
std::vector<std::string> ReadLines(int conn, size_t count, TcpSink* sink) {
  std::string data;
  std::vector<std::string> lines;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (lines.size() < count && std::chrono::steady_clock::now() < deadline) {
    sink->Flush();
    if (!Readable(conn, 20)) continue;
    char buf[4096];
    const ssize_t n = ::recv(conn, buf, sizeof(buf), 0);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
    for (size_t nl; (nl = data.find('\n')) != std::string::npos; data.erase(0, nl + 1)) {
      lines.push_back(data.substr(0, nl));
    }
  }
  return lines;
}

int AcceptWithin(int listener, TcpSink* sink) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    sink->Flush();
    if (Readable(listener, 20)) return ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  }
  return -1;
}

TEST(TcpSink, ReconnectsToAListenerThatRestarts) {
  auto server = std::make_unique<Listener>(AF_INET, SOCK_STREAM);
  ASSERT_TRUE(server->ok());
  const uint16_t port = server->port();
  TcpSinkOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  TcpSink sink(o);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(sink.Write(Line(i)));
  int conn = AcceptWithin(server->fd(), &sink);
  ASSERT_GE(conn, 0);
  const auto first = ReadLines(conn, 5, &sink);
  ASSERT_EQ(first.size(), 5u);
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(first[i - 1], Line(i));

  // The collector goes away entirely...
  ::close(conn);
  server.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (int i = 6; i <= 10; ++i) ASSERT_TRUE(sink.Write(Line(i)));  // never blocks
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  sink.Flush();
  EXPECT_FALSE(sink.connected());

  // ...and comes back on the same port: the rest arrives, whole, in order.
  server = std::make_unique<Listener>(AF_INET, SOCK_STREAM, port);
  ASSERT_TRUE(server->ok());
  conn = AcceptWithin(server->fd(), &sink);
  ASSERT_GE(conn, 0);
  const auto second = ReadLines(conn, 5, &sink);
  ASSERT_EQ(second.size(), 5u);
  for (int i = 6; i <= 10; ++i) EXPECT_EQ(second[i - 6], Line(i));
  ::close(conn);
  EXPECT_EQ(sink.connects(), 2u);
  EXPECT_EQ(sink.stats().written, 10u);
  EXPECT_EQ(sink.stats().dropped, 0u);
  EXPECT_GE(sink.stats().errors, 1u);
}

TEST(TcpSink, BoundedBufferDropsAndCountsWithoutBlocking) {
  // A port with nobody listening.
  uint16_t port;
  {
    Listener probe(AF_INET, SOCK_STREAM);
    port = probe.port();
  }
  TcpSinkOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.max_buffer_bytes = 1000;  // ten lines of 99 bytes + newline
  TcpSink sink(o);
  const auto start = std::chrono::steady_clock::now();
  int accepted = 0;
  for (int i = 1; i <= 20; ++i) accepted += sink.Write(Line(i)) ? 1 : 0;
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(accepted, 10);
  EXPECT_EQ(sink.stats().dropped, 10u);
  EXPECT_EQ(sink.stats().written, 0u);
  EXPECT_LT(took, std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace callvault
