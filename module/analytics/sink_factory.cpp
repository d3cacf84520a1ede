#include "module/analytics/sink_factory.h"

#include "module/analytics/jsonl_sink.h"
#include "module/analytics/postgres_sink.h"
#include "module/analytics/tcp_sink.h"
#include "module/analytics/udp_sink.h"

namespace callvault {

std::unique_ptr<AnalyticsSink> MakeSink(const AnalyticsSinkConfig& c, const std::string& key,
                                        std::string* error) {
  if (c.type == "jsonl") {
    JsonlSinkOptions o;
    o.path = c.path;
    o.max_bytes = c.max_bytes;
    o.max_age_s = c.max_age_s;
    std::string e;
    auto sink = JsonlFileSink::Open(o, &e);
    if (!sink) *error = key + ": " + e;
    return sink;
  }
  if (c.type == "udp") {
    UdpSinkOptions o;
    o.host = c.host;
    o.port = c.port;
    return std::make_unique<UdpSink>(o);
  }
  if (c.type == "tcp") {
    TcpSinkOptions o;
    o.host = c.host;
    o.port = c.port;
    return std::make_unique<TcpSink>(o);
  }
  if (c.type == "postgres") {
    PostgresSinkOptions o;
    o.conninfo = c.conninfo;
    return std::make_unique<PostgresSink>(o);
  }
  *error = key + ".type: unknown sink type '" + c.type + "'";
  return nullptr;
}

}  // namespace callvault
