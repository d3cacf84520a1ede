// Resolving a sink's host:port for the UDP and TCP sinks.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace callvault {

struct SocketAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = 0;
};

// First address getaddrinfo gives for host:port and the socket type.  A
// numeric host resolves without any lookup; a name may block on DNS, so
// callers do this off the call path (the analytics thread) and only when
// (re)connecting.  The error names the host (operator config), never data.
bool ResolveSocketAddress(const std::string& host, uint16_t port, int socktype,
                          SocketAddress* out, std::string* error);

}  // namespace callvault
