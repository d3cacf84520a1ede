#include "module/analytics/net_address.h"

#include <netdb.h>

#include <cstring>

namespace callvault {

bool ResolveSocketAddress(const std::string& host, uint16_t port, int socktype,
                          SocketAddress* out, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    *error = "cannot resolve '" + host + "': " + ::gai_strerror(rc);
    return false;
  }
  std::memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
  out->len = res->ai_addrlen;
  out->family = res->ai_family;
  ::freeaddrinfo(res);
  return true;
}

}  // namespace callvault
