#include "module/analytics/tcp_sink.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "module/util/log.h"

namespace callvault {

TcpSink::TcpSink(TcpSinkOptions options)
    : options_(std::move(options)), backoff_(options_.retry_initial_ms) {}

TcpSink::~TcpSink() {
  Pump();
  CountDropped(lines_.size());
  if (fd_ >= 0) ::close(fd_);
}

bool TcpSink::Write(const std::string& json_line) {
  if (buffered_bytes_ + json_line.size() + 1 > options_.max_buffer_bytes) {
    CountRefused();
    Pump();
    return false;
  }
  std::string line;
  line.reserve(json_line.size() + 1);
  line += json_line;
  line += '\n';
  buffered_bytes_ += line.size();
  lines_.push_back(std::move(line));
  Pump();
  return true;
}

void TcpSink::StartConnect() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) return;
  SocketAddress to;
  std::string error;
  if (!ResolveSocketAddress(options_.host, options_.port, SOCK_STREAM, &to, &error)) {
    Log()->warn("analytics tcp sink: {}", error);
    Fail();
    return;
  }
  fd_ = ::socket(to.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    Fail();
    return;
  }
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to.addr), to.len) == 0) {
    connecting_ = false;
  } else if (errno == EINPROGRESS) {
    connecting_ = true;
    return;
  } else {
    Fail();
    return;
  }
  ++connects_;
  backoff_ = std::chrono::milliseconds(options_.retry_initial_ms);
}

bool TcpSink::PeerClosed() {
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
  if (p.revents & POLLIN) {
    // The protocol is one-way; whatever the peer sends is read and ignored.
    char buf[512];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
  }
  return false;
}

void TcpSink::Fail() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  connecting_ = false;
  front_sent_ = 0;  // the cut line goes again, whole, on the next connection
  CountError();
  next_attempt_ = std::chrono::steady_clock::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(options_.retry_max_ms));
}

void TcpSink::Pump() {
  if (fd_ < 0) {
    if (lines_.empty()) return;  // connect lazily, when there is something to send
    StartConnect();
    if (fd_ < 0) return;
  }
  if (connecting_) {
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, 0) <= 0) return;
    int err = 0;
    socklen_t len = sizeof(err);
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      Fail();
      return;
    }
    connecting_ = false;
    ++connects_;
    backoff_ = std::chrono::milliseconds(options_.retry_initial_ms);
  }
  if (PeerClosed()) {
    Fail();
    return;
  }
  while (!lines_.empty()) {
    const std::string& front = lines_.front();
    const ssize_t n = ::send(fd_, front.data() + front_sent_, front.size() - front_sent_,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) Fail();
      return;
    }
    front_sent_ += static_cast<size_t>(n);
    if (front_sent_ == front.size()) {
      buffered_bytes_ -= front.size();
      lines_.pop_front();
      front_sent_ = 0;
      CountWritten();
    }
  }
}

}  // namespace callvault
