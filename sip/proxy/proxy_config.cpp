#include "sip/proxy/proxy_config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string_view>

namespace callvault::proxy {
namespace {

// Builds "<file>: <path> (line N): <what>" errors, as the module's config
// loader does, and walks typed values.  `at` is the offending node, or the
// mapping that lacks a required key.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void Fail(const std::string& path, const YAML::Node& at,
                         const std::string& what) const {
    std::string text = source_ + ": " + path;
    if (at.IsDefined() && at.Mark().line >= 0) {
      text += " (line " + std::to_string(at.Mark().line + 1) + ")";
    }
    throw ConfigError(text + ": " + what);
  }

  // For errors with no node to point at (the document as a whole).
  [[noreturn]] void FailAt(const std::string& where, const std::string& what) const {
    throw ConfigError(source_ + ": " + where + ": " + what);
  }

  void OnlyKeys(const YAML::Node& map, const std::string& path,
                std::initializer_list<std::string_view> allowed) const {
    if (!map.IsMap()) Fail(path, map, "must be a mapping");
    for (const auto& kv : map) {
      const std::string key = kv.first.as<std::string>();
      bool known = false;
      for (std::string_view a : allowed) known = known || key == a;
      if (!known) Fail(Join(path, key), kv.first, "unknown key");
    }
  }

  std::string String(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) Fail(path, node, "must be a string");
    return node.as<std::string>();
  }

  bool Bool(const YAML::Node& node, const std::string& path) const {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      Fail(path, node, "must be true or false");
    }
    return value;
  }

  unsigned PositiveInt(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) Fail(path, node, "must be a positive integer");
    const std::string text = node.as<std::string>();
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value == 0) {
      Fail(path, node, "must be a positive integer");
    }
    return value;
  }

  void Sequence(const YAML::Node& node, const std::string& path) const {
    if (!node.IsSequence()) Fail(path, node, "must be a list");
  }

  static std::string Join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }
  static std::string Index(const std::string& path, size_t i) {
    return path + "[" + std::to_string(i) + "]";
  }

  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

bool ValidTrunkName(const std::string& name) {
  if (name.empty() || name.size() > 31) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string ResolveAgainst(const std::string& source, const std::string& path) {
  const std::filesystem::path p(path);
  if (p.is_absolute() || source.empty()) return path;
  return (std::filesystem::path(source).parent_path() / p).lexically_normal().string();
}

SipEndpoint ReadEndpoint(const Reader& r, const YAML::Node& node, const std::string& path) {
  const std::string uri = r.String(node, path);
  std::string why;
  auto endpoint = ParseSipEndpoint(uri, &why);
  if (!endpoint) r.Fail(path, node, why);
  return *endpoint;
}

ModuleSettings ReadModule(const Reader& r, const YAML::Node& node) {
  r.OnlyKeys(node, "module", {"enabled", "path", "config"});
  ModuleSettings m;
  if (node["enabled"]) m.enabled = r.Bool(node["enabled"], "module.enabled");
  if (node["path"]) m.path = ResolveAgainst(r.source(), r.String(node["path"], "module.path"));
  if (node["config"]) {
    m.config = ResolveAgainst(r.source(), r.String(node["config"], "module.config"));
  }
  if (m.enabled && m.path.empty()) {
    r.Fail("module.path", node, "required when module.enabled is true");
  }
  if (m.enabled && m.config.empty()) {
    r.Fail("module.config", node, "required when module.enabled is true");
  }
  return m;
}

TrunkConfig ReadTrunk(const Reader& r, const YAML::Node& node, const std::string& path) {
  r.OnlyKeys(node, path, {"name", "ingress_cidrs", "next_hop", "default_egress"});
  TrunkConfig t;
  if (!node["name"]) r.Fail(Reader::Join(path, "name"), node, "required");
  t.name = r.String(node["name"], Reader::Join(path, "name"));
  if (!ValidTrunkName(t.name)) {
    r.Fail(Reader::Join(path, "name"), node["name"],
           "must be 1..31 characters of A-Z a-z 0-9 . _ -");
  }
  if (const YAML::Node cidrs = node["ingress_cidrs"]) {
    const std::string cpath = Reader::Join(path, "ingress_cidrs");
    r.Sequence(cidrs, cpath);
    for (size_t i = 0; i < cidrs.size(); ++i) {
      const std::string ipath = Reader::Index(cpath, i);
      std::string why;
      auto cidr = Cidr::Parse(r.String(cidrs[i], ipath), &why);
      if (!cidr) r.Fail(ipath, cidrs[i], why);
      t.ingress_cidrs.push_back(*cidr);
    }
  }
  if (node["next_hop"]) {
    t.next_hop = ReadEndpoint(r, node["next_hop"], Reader::Join(path, "next_hop"));
  }
  if (node["default_egress"]) {
    t.default_egress = r.String(node["default_egress"], Reader::Join(path, "default_egress"));
  }
  return t;
}

const TrunkConfig* FindTrunk(const std::vector<TrunkConfig>& trunks, const std::string& name) {
  for (const auto& t : trunks) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

void CheckEgress(const Reader& r, const std::vector<TrunkConfig>& trunks,
                 const YAML::Node& node, const std::string& path) {
  const TrunkConfig* t = FindTrunk(trunks, node.as<std::string>());
  if (t == nullptr) r.Fail(path, node, "names no configured trunk");
  if (!t->next_hop) r.Fail(path, node, "names a trunk without next_hop");
}

}  // namespace

std::optional<SipEndpoint> ParseSipEndpoint(const std::string& uri, std::string* why) {
  std::string_view rest(uri);
  if (rest.substr(0, 4) != "sip:") {
    *why = "must be a sip: URI";
    return std::nullopt;
  }
  rest.remove_prefix(4);
  if (rest.find('@') != std::string_view::npos) {
    *why = "must not contain a user part";
    return std::nullopt;
  }
  const size_t semi = rest.find(';');
  std::string_view hostport = rest.substr(0, semi);
  std::string_view params = semi == std::string_view::npos ? "" : rest.substr(semi + 1);

  SipEndpoint e;
  e.uri = uri;
  std::string_view port_text;
  if (!hostport.empty() && hostport.front() == '[') {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      *why = "unterminated IPv6 reference";
      return std::nullopt;
    }
    e.host = std::string(hostport.substr(0, close + 1));
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        *why = "malformed host:port";
        return std::nullopt;
      }
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = hostport.find(':');
    e.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port_text = hostport.substr(colon + 1);
  }
  auto address = IpAddress::Parse(e.host);
  if (!address) {
    *why = "host must be a numeric IPv4 address or a bracketed IPv6 address";
    return std::nullopt;
  }
  if (address->family == 6 && e.host.front() != '[') {
    *why = "IPv6 host must be written in brackets";
    return std::nullopt;
  }
  bool unspecified = true;
  for (uint8_t b : address->bytes) unspecified = unspecified && b == 0;
  if (unspecified) {
    *why = "host must be a specific address, not the unspecified address";
    return std::nullopt;
  }
  e.address = *address;
  if (!port_text.empty() || hostport.find(':') != std::string_view::npos) {
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
        port == 0 || port > 65535) {
      *why = "port must be 1..65535";
      return std::nullopt;
    }
    e.port = static_cast<uint16_t>(port);
  }
  while (!params.empty()) {
    const size_t next = params.find(';');
    std::string_view param = params.substr(0, next);
    params = next == std::string_view::npos ? "" : params.substr(next + 1);
    if (param.substr(0, 10) == "transport=") {
      e.transport = std::string(param.substr(10));
      if (e.transport != "udp" && e.transport != "tcp") {
        *why = "transport must be udp or tcp";
        return std::nullopt;
      }
    } else {
      *why = "only the transport parameter is supported";
      return std::nullopt;
    }
  }
  return e;
}

ProxyConfig ParseProxyConfig(const std::string& yaml_text, const std::string& source) {
  const Reader r(source);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports position and a grammar message; it does not echo values.
    r.FailAt("line " + std::to_string(e.mark.line + 1) + " column " +
                 std::to_string(e.mark.column + 1),
             e.msg);
  }
  if (!root.IsMap()) r.Fail("(top level)", root, "must be a mapping");
  r.OnlyKeys(root, "",
             {"listen", "module", "trunks", "routes", "record_route", "timers", "limits"});

  ProxyConfig cfg;
  cfg.source = source;

  if (!root["listen"]) r.Fail("listen", root, "required");
  r.Sequence(root["listen"], "listen");
  for (size_t i = 0; i < root["listen"].size(); ++i) {
    cfg.listen.push_back(ReadEndpoint(r, root["listen"][i], Reader::Index("listen", i)));
  }
  if (cfg.listen.empty()) r.Fail("listen", root["listen"], "must name at least one address");

  if (root["module"]) cfg.module = ReadModule(r, root["module"]);

  if (!root["trunks"]) r.Fail("trunks", root, "required");
  r.Sequence(root["trunks"], "trunks");
  std::set<std::string> names;
  for (size_t i = 0; i < root["trunks"].size(); ++i) {
    const std::string path = Reader::Index("trunks", i);
    TrunkConfig t = ReadTrunk(r, root["trunks"][i], path);
    if (!names.insert(t.name).second) {
      r.Fail(Reader::Join(path, "name"), root["trunks"][i]["name"], "duplicate trunk name");
    }
    cfg.trunks.push_back(std::move(t));
  }
  if (cfg.trunks.empty()) r.Fail("trunks", root["trunks"], "must define at least one trunk");
  for (size_t i = 0; i < cfg.trunks.size(); ++i) {
    if (!cfg.trunks[i].default_egress.empty()) {
      CheckEgress(r, cfg.trunks, root["trunks"][i]["default_egress"],
                  Reader::Join(Reader::Index("trunks", i), "default_egress"));
    }
  }

  if (const YAML::Node routes = root["routes"]) {
    r.Sequence(routes, "routes");
    std::set<std::string> prefixes;
    for (size_t i = 0; i < routes.size(); ++i) {
      const std::string path = Reader::Index("routes", i);
      r.OnlyKeys(routes[i], path, {"prefix", "egress"});
      RouteConfig route;
      if (!routes[i]["prefix"]) r.Fail(Reader::Join(path, "prefix"), routes[i], "required");
      if (!routes[i]["egress"]) r.Fail(Reader::Join(path, "egress"), routes[i], "required");
      route.prefix = r.String(routes[i]["prefix"], Reader::Join(path, "prefix"));
      route.egress = r.String(routes[i]["egress"], Reader::Join(path, "egress"));
      if (route.prefix.empty()) {
        r.Fail(Reader::Join(path, "prefix"), routes[i]["prefix"], "must not be empty");
      }
      if (!prefixes.insert(route.prefix).second) {
        r.Fail(Reader::Join(path, "prefix"), routes[i]["prefix"], "duplicate prefix");
      }
      CheckEgress(r, cfg.trunks, routes[i]["egress"], Reader::Join(path, "egress"));
      cfg.routes.push_back(std::move(route));
    }
  }

  if (root["record_route"]) cfg.record_route = r.Bool(root["record_route"], "record_route");

  if (const YAML::Node timers = root["timers"]) {
    r.OnlyKeys(timers, "timers", {"t1_ms", "t1x64_ms", "timer_c_ms"});
    if (timers["t1_ms"]) cfg.timers.t1_ms = r.PositiveInt(timers["t1_ms"], "timers.t1_ms");
    if (timers["t1x64_ms"]) {
      cfg.timers.t1x64_ms = r.PositiveInt(timers["t1x64_ms"], "timers.t1x64_ms");
    }
    if (timers["timer_c_ms"]) {
      cfg.timers.timer_c_ms = r.PositiveInt(timers["timer_c_ms"], "timers.timer_c_ms");
    }
  }

  if (const YAML::Node limits = root["limits"]) {
    r.OnlyKeys(limits, "limits", {"max_message_bytes", "max_tcp_connections"});
    if (const YAML::Node size = limits["max_message_bytes"]) {
      cfg.limits.max_message_bytes = r.PositiveInt(size, "limits.max_message_bytes");
      if (cfg.limits.max_message_bytes < Limits::kMinMessageBytes ||
          cfg.limits.max_message_bytes > Limits::kMaxMessageBytes) {
        r.Fail("limits.max_message_bytes", size,
               "must be " + std::to_string(Limits::kMinMessageBytes) + ".." +
                   std::to_string(Limits::kMaxMessageBytes));
      }
    }
    if (const YAML::Node cap = limits["max_tcp_connections"]) {
      cfg.limits.max_tcp_connections = r.PositiveInt(cap, "limits.max_tcp_connections");
    }
  }
  return cfg;
}

ProxyConfig LoadProxyConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": (file): cannot be opened");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path + ": (file): read error");
  return ParseProxyConfig(text.str(), path);
}

}  // namespace callvault::proxy
