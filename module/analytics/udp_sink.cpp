#include "module/analytics/udp_sink.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

#include "module/util/log.h"

namespace callvault {

UdpSink::UdpSink(UdpSinkOptions options) : options_(std::move(options)) {}

UdpSink::~UdpSink() {
  if (fd_ >= 0) ::close(fd_);
}

bool UdpSink::EnsureSocket() {
  if (fd_ >= 0) return true;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) return false;
  next_attempt_ = now + std::chrono::milliseconds(options_.retry_ms);
  SocketAddress to;
  std::string error;
  if (!ResolveSocketAddress(options_.host, options_.port, SOCK_DGRAM, &to, &error)) {
    CountError();
    Log()->warn("analytics udp sink: {}", error);
    return false;
  }
  fd_ = ::socket(to.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<const sockaddr*>(&to.addr), to.len) != 0) {
    CountError();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return false;
  }
  return true;
}

bool UdpSink::Write(const std::string& json_line) {
  if (json_line.size() + 1 > kMaxDatagram || !EnsureSocket()) {
    CountRefused();
    return false;
  }
  char newline = '\n';
  iovec iov[2] = {{const_cast<char*>(json_line.data()), json_line.size()}, {&newline, 1}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  ssize_t n;
  do {
    n = ::sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(json_line.size() + 1)) {
    CountWritten();
    return true;
  }
  // EAGAIN/ENOBUFS: the kernel is full; ECONNREFUSED: an earlier datagram
  // bounced (nobody listening).  Either way this one is lost.
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) CountError();
  CountRefused();
  return false;
}

}  // namespace callvault
