#include "sip/proxy/message_tap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/msg_types.h>
#include <sys/socket.h>

#include <cstring>
#include <ctime>

namespace callvault::proxy {
namespace {

int64_t NowNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

MessageTap::MessageTap(const ModuleHost* module) : module_(module) {
  if (module_ != nullptr) scratch_.resize(64 * 1024);
}

cv_addr MessageTap::ToCvAddr(const void* address) {
  cv_addr out{};
  const auto* sa = static_cast<const sockaddr*>(address);
  if (sa == nullptr) return out;
  if (sa->sa_family == AF_INET) {
    const auto* in = static_cast<const sockaddr_in*>(address);
    out.family = 4;
    out.port = ntohs(in->sin_port);
    std::memcpy(out.addr, &in->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = static_cast<const sockaddr_in6*>(address);
    out.family = 6;
    out.port = ntohs(in6->sin6_port);
    std::memcpy(out.addr, &in6->sin6_addr, 16);
  }
  return out;
}

bool MessageTap::ReceivedBytes(msg_t* msg, bool datagram, const char** data, size_t* len) {
  msg_header_t* first = *msg_chain_head(msg);
  if (first == nullptr) return false;

  // Fast path: the original bytes form one span of the receive buffer.
  // A gap between fragments is accepted only where an edited header (data
  // cleared) stood, and only within a datagram, whose bytes are known to sit
  // in a single buffer.
  if (first->sh_data != nullptr) {
    const char* start = static_cast<const char*>(first->sh_data);
    const char* end = start + first->sh_len;
    bool edited_before = false;
    bool span_ok = true;
    for (msg_header_t* h = first->sh_succ; h != nullptr; h = h->sh_succ) {
      const char* d = static_cast<const char*>(h->sh_data);
      if (d == nullptr) {
        edited_before = true;
      } else if (d == end) {
        end += h->sh_len;
        edited_before = false;
      } else if (datagram && edited_before && d > end) {
        end = d + h->sh_len;
        edited_before = false;
      } else {
        span_ok = false;
        break;
      }
    }
    if (span_ok && !edited_before) {
      *data = start;
      *len = static_cast<size_t>(end - start);
      return true;
    }
  }

  // Rebuild from the fragments: original text where it survives, a fresh
  // encoding where the header was edited.  Fields that shared the edited
  // header's line (zero-length fragments of the same class) are re-encoded
  // with it, so no field is lost.
  size_t used = 0;
  auto append = [this, &used](const void* p, size_t n) {
    if (used + n > scratch_.size()) scratch_.resize((used + n) * 2);
    std::memcpy(scratch_.data() + used, p, n);
    used += n;
  };
  auto encode = [this, &used](msg_header_t* h) {
    for (;;) {
      const size_t room = scratch_.size() - used;
      const issize_t n = msg_header_e(scratch_.data() + used, static_cast<isize_t>(room), h, 0);
      if (n < 0) return false;
      if (static_cast<size_t>(n) < room) {
        used += static_cast<size_t>(n);
        return true;
      }
      scratch_.resize((used + static_cast<size_t>(n) + 1) * 2);
    }
  };
  msg_hclass_t const* edited_class = nullptr;
  bool encoded_any = false;
  for (msg_header_t* h = first; h != nullptr; h = h->sh_succ) {
    const bool continues_edited =
        edited_class != nullptr && h->sh_class == edited_class && h->sh_len == 0;
    if (h->sh_data == nullptr || continues_edited) {
      if (!encode(h)) return false;
      edited_class = h->sh_class;
      encoded_any = true;
    } else {
      append(h->sh_data, h->sh_len);
      edited_class = nullptr;
    }
  }
  if (encoded_any) ++counters_.reencoded;
  *data = scratch_.data();
  *len = used;
  return true;
}

void MessageTap::Received(msg_t* msg, bool datagram, const TapContext& ctx) {
  if (module_ == nullptr) return;
  const char* data = nullptr;
  size_t len = 0;
  if (!ReceivedBytes(msg, datagram, &data, &len)) {
    ++counters_.bytes_unavailable;
    return;
  }
  Deliver(CV_DIR_RECEIVED, ToCvAddr(msg_addr(msg)), ctx.local, ctx, data, len);
}

void MessageTap::Sent(msg_t* msg, const TapContext& ctx) {
  if (module_ == nullptr) return;
  // Until sofia-sip has encoded the message there are no wire bytes: it was
  // queued (for example a CANCEL waiting for a provisional response).
  if (!msg_is_prepared(msg)) {
    ++counters_.bytes_unavailable;
    return;
  }
  // Concatenating every fragment in chain order reproduces msg_iovec(): a
  // field sharing its header's line has zero length.
  size_t used = 0;
  for (msg_header_t* h = *msg_chain_head(msg); h != nullptr; h = h->sh_succ) {
    if (h->sh_data == nullptr) {
      ++counters_.bytes_unavailable;
      return;
    }
    if (used + h->sh_len > scratch_.size()) scratch_.resize((used + h->sh_len) * 2);
    std::memcpy(scratch_.data() + used, h->sh_data, h->sh_len);
    used += h->sh_len;
  }
  Deliver(CV_DIR_SENT, ctx.local, ToCvAddr(msg_addr(msg)), ctx, scratch_.data(), used);
}

void MessageTap::Deliver(uint8_t direction, const cv_addr& src, const cv_addr& dst,
                         const TapContext& ctx, const void* bytes, size_t len) {
  cv_msg_meta meta{};
  meta.struct_size = sizeof(meta);
  meta.direction = direction;
  meta.transport = ctx.transport;
  meta.flags = 0;
  meta.src = src;
  meta.dst = dst;
  meta.wall_ns = NowNs(CLOCK_REALTIME);
  meta.mono_ns = NowNs(CLOCK_MONOTONIC);
  meta.ingress_trunk = ctx.ingress_trunk;
  meta.egress_trunk = ctx.egress_trunk;
  ++counters_.hook_calls;
  switch (module_->OnMessage(meta, bytes, len)) {
    case CV_OK:
      break;
    case CV_DROPPED_FULL:
      ++counters_.hook_dropped_full;
      break;
    case CV_DROPPED_TOO_LARGE:
      ++counters_.hook_dropped_too_large;
      break;
    default:
      ++counters_.hook_errors;
      break;
  }
}

}  // namespace callvault::proxy
