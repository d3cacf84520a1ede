#include "module/config/config.h"

#include <sys/stat.h>

#include <cctype>
#include <cstdio>

#include <filesystem>
#include <functional>
#include <limits>
#include <set>

#include <yaml-cpp/yaml.h>

#include "include/callvault/module.h"

namespace callvault {
namespace {

// Validation walks the document once.  Every error names the file, the key
// path and the line, so ops can fix a config without reading the source.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

  void Fail(const std::string& key, const YAML::Node& at, const std::string& what) {
    if (failed()) return;
    error_ = file_ + ": " + key;
    if (at.IsDefined() && at.Mark().line >= 0) error_ += " (line " + std::to_string(at.Mark().line + 1) + ")";
    error_ += ": " + what;
  }

  // Refuses keys the section does not know: a typo must not silently fall back
  // to a default.
  bool Map(const YAML::Node& node, const std::string& key, const std::set<std::string>& allowed) {
    if (!node.IsMap()) {
      Fail(key, node, "must be a mapping");
      return false;
    }
    for (const auto& kv : node) {
      auto name = kv.first.as<std::string>();
      if (!allowed.count(name)) {
        Fail(Join(key, name), kv.first, "unknown key");
        return false;
      }
    }
    return true;
  }

  void String(const YAML::Node& node, const std::string& key, std::string* out) {
    if (!node.IsDefined() || failed()) return;
    if (!node.IsScalar()) return Fail(key, node, "must be a string");
    *out = node.Scalar();
  }

  void Bool(const YAML::Node& node, const std::string& key, bool* out) {
    if (!node.IsDefined() || failed()) return;
    bool v;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, v)) {
      return Fail(key, node, "must be true or false");
    }
    *out = v;
  }

  template <typename T>
  void Int(const YAML::Node& node, const std::string& key, T* out, int64_t min, int64_t max) {
    if (!node.IsDefined() || failed()) return;
    int64_t v;
    if (!node.IsScalar() || !YAML::convert<int64_t>::decode(node, v)) {
      return Fail(key, node, "must be an integer");
    }
    if (v < min || v > max) {
      return Fail(key, node,
                  std::to_string(v) + " is out of range [" + std::to_string(min) + ", " +
                      std::to_string(max) + "]");
    }
    *out = static_cast<T>(v);
  }

  void OneOf(const YAML::Node& node, const std::string& key, std::string* out,
             const std::set<std::string>& allowed) {
    String(node, key, out);
    if (failed() || !node.IsDefined()) return;
    if (!allowed.count(*out)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      Fail(key, node, "'" + *out + "' is not one of: " + list);
    }
  }

  static std::string Join(const std::string& a, const std::string& b) {
    return a.empty() ? b : a + "." + b;
  }

 private:
  std::string file_;
  std::string error_;
};

constexpr int64_t kMaxI32 = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxI64 = std::numeric_limits<int64_t>::max();

const std::set<std::string> kRetentionClasses = {"cdr", "billing", "analytics", "li-audit",
                                                 "api-log"};

void ReadRetention(Reader& r, const YAML::Node& n, const std::string& key, RetentionPolicy* out) {
  if (!n.IsDefined() || !r.Map(n, key, {"class", "days", "legal_basis"})) return;
  r.OneOf(n["class"], key + ".class", &out->retention_class, kRetentionClasses);
  r.Int(n["days"], key + ".days", &out->days, 1, 36500);
  r.String(n["legal_basis"], key + ".legal_basis", &out->legal_basis);
}

// The statutory floor applies to CDRs of trunks under the Indian licence
// rule; a trunk that declares another jurisdiction takes responsibility for
// its own floor.
void CheckStatutoryMinimum(Reader& r, const YAML::Node& n, const std::string& key,
                           const std::string& trunk, const std::string& jurisdiction,
                           const RetentionPolicy& p) {
  if (r.failed() || p.retention_class != "cdr" || jurisdiction != "IN") return;
  if (p.days < kStatutoryCdrMinDays) {
    r.Fail(key + ".days", n["days"],
           std::to_string(p.days) + " days is below the statutory minimum of " +
               std::to_string(kStatutoryCdrMinDays) + " days for CDRs on trunk '" + trunk +
               "' (jurisdiction IN); declare the trunk's jurisdiction if another law applies");
  }
}

void ReadSink(Reader& r, const YAML::Node& n, const std::string& key, AnalyticsSinkConfig* s) {
  if (!r.Map(n, key, {"type", "path", "max_bytes", "max_age_s", "host", "port", "conninfo"})) return;
  r.OneOf(n["type"], key + ".type", &s->type, {"jsonl", "udp", "tcp", "postgres"});
  r.String(n["path"], key + ".path", &s->path);
  r.Int(n["max_bytes"], key + ".max_bytes", &s->max_bytes, 4096, kMaxI64);
  r.Int(n["max_age_s"], key + ".max_age_s", &s->max_age_s, 1, kMaxI32);
  r.String(n["host"], key + ".host", &s->host);
  r.Int(n["port"], key + ".port", &s->port, 1, 65535);
  r.String(n["conninfo"], key + ".conninfo", &s->conninfo);
  if (r.failed()) return;
  if (s->type.empty()) return r.Fail(key + ".type", n, "is required");
  if (s->type == "jsonl" && s->path.empty()) return r.Fail(key + ".path", n, "is required for jsonl");
  if ((s->type == "udp" || s->type == "tcp") && (s->host.empty() || s->port == 0)) {
    return r.Fail(key + ".host", n, "host and port are required for " + s->type);
  }
  if (s->type == "postgres" && s->conninfo.empty()) {
    return r.Fail(key + ".conninfo", n, "is required for postgres");
  }
}

void ReadAnalytics(Reader& r, const YAML::Node& n, AnalyticsConfig* a) {
  if (!n.IsDefined()) return;
  if (!r.Map(n, "analytics", {"enabled", "epoch", "keep_ndc", "ip_mode", "uri_host_mode",
                              "queue_events", "sinks"})) {
    return;
  }
  r.Bool(n["enabled"], "analytics.enabled", &a->enabled);
  r.OneOf(n["epoch"], "analytics.epoch", &a->epoch, {"month", "week", "day"});
  r.Bool(n["keep_ndc"], "analytics.keep_ndc", &a->keep_ndc);
  r.OneOf(n["ip_mode"], "analytics.ip_mode", &a->ip_mode, {"cryptopan", "truncate"});
  r.OneOf(n["uri_host_mode"], "analytics.uri_host_mode", &a->uri_host_mode,
          {"pseudonymise", "generalise", "drop"});
  r.Int(n["queue_events"], "analytics.queue_events", &a->queue_events, 16, 1 << 24);
  const auto& sinks = n["sinks"];
  if (sinks.IsDefined()) {
    if (!sinks.IsSequence()) return r.Fail("analytics.sinks", sinks, "must be a list");
    for (size_t i = 0; i < sinks.size() && !r.failed(); ++i) {
      a->sinks.emplace_back();
      ReadSink(r, sinks[i], "analytics.sinks[" + std::to_string(i) + "]", &a->sinks.back());
    }
  }
}

void ReadTrunks(Reader& r, const YAML::Node& n, std::vector<TrunkConfig>* trunks) {
  if (!n.IsDefined()) return;
  if (!n.IsSequence()) return r.Fail("trunks", n, "must be a list");
  std::set<std::string> seen;
  for (size_t i = 0; i < n.size() && !r.failed(); ++i) {
    const std::string key = "trunks[" + std::to_string(i) + "]";
    const auto& t = n[i];
    if (!r.Map(t, key, {"name", "default_region", "jurisdiction", "retention"})) return;
    TrunkConfig tc;
    r.String(t["name"], key + ".name", &tc.name);
    r.String(t["default_region"], key + ".default_region", &tc.default_region);
    r.String(t["jurisdiction"], key + ".jurisdiction", &tc.jurisdiction);
    ReadRetention(r, t["retention"], key + ".retention", &tc.retention);
    if (r.failed()) return;
    if (tc.name.empty() || tc.name.size() >= CV_TRUNK_MAX) {
      return r.Fail(key + ".name", t, "is required and must be shorter than 32 bytes");
    }
    if (!seen.insert(tc.name).second) {
      return r.Fail(key + ".name", t["name"], "duplicate trunk '" + tc.name + "'");
    }
    if (tc.default_region.size() != 2) {
      return r.Fail(key + ".default_region", t["default_region"],
                    "must be a two-letter region code like IN or GB");
    }
    CheckStatutoryMinimum(r, t["retention"], key + ".retention", tc.name, tc.jurisdiction,
                          tc.retention);
    trunks->push_back(std::move(tc));
  }
}

bool IsPowerOfTwo(uint32_t v) { return v && !(v & (v - 1)); }

}  // namespace

const TrunkConfig* Config::FindTrunk(const std::string& name) const {
  for (const auto& t : trunks) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const RetentionPolicy& Config::RetentionFor(const std::string& trunk) const {
  const TrunkConfig* t = FindTrunk(trunk);
  return t ? t->retention : default_retention;
}

bool CheckPrivateFile(const std::string& path, const std::string& what, std::string* error) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    *error = what + " " + path + ": does not exist or cannot be read";
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = what + " " + path + ": is not a regular file";
    return false;
  }
  if (st.st_mode & 077) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    *error = what + " " + path + ": mode " + mode +
             " lets group or others access it; run chmod 600 on it";
    return false;
  }
  return true;
}

bool LoadConfig(const std::string& path, Config* out, std::string* error) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    *error = path + ": cannot open config file";
    return false;
  } catch (const YAML::ParserException& e) {
    *error = path + ": line " + std::to_string(e.mark.line + 1) + ": YAML syntax error: " + e.msg;
    return false;
  }

  Config c;
  c.path = path;
  Reader r(path);
  if (!r.Map(root, "", {"node_id", "log", "capture", "tracker", "keyring", "journal", "database",
                        "analytics", "trunks", "default_retention"})) {
    *error = r.error();
    return false;
  }

  r.String(root["node_id"], "node_id", &c.node_id);
  if (!r.failed()) {
    bool ok = !c.node_id.empty() && c.node_id.size() <= 32;
    for (char ch : c.node_id) ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-');
    if (!ok) r.Fail("node_id", root["node_id"], "is required: 1-32 letters, digits or '-'");
  }

  if (const auto& n = root["log"]; n.IsDefined() && r.Map(n, "log", {"file", "level"})) {
    r.String(n["file"], "log.file", &c.log.file);
    r.OneOf(n["level"], "log.level", &c.log.level,
            {"trace", "debug", "info", "warning", "error", "critical", "off"});
  }

  if (const auto& n = root["capture"];
      n.IsDefined() &&
      r.Map(n, "capture", {"shm_name", "slots", "slot_bytes", "checkpoint_interval_ms", "state_dir",
                                  "background_nice"})) {
    r.String(n["shm_name"], "capture.shm_name", &c.capture.shm_name);
    r.Int(n["slots"], "capture.slots", &c.capture.slots, 64, 1 << 22);
    r.Int(n["slot_bytes"], "capture.slot_bytes", &c.capture.slot_bytes, 1024, 65536);
    r.Int(n["checkpoint_interval_ms"], "capture.checkpoint_interval_ms",
          &c.capture.checkpoint_interval_ms, 10, 60000);
    r.String(n["state_dir"], "capture.state_dir", &c.capture.state_dir);
    r.Int(n["background_nice"], "capture.background_nice", &c.capture.background_nice, 0, 19);
    if (!r.failed() && !IsPowerOfTwo(c.capture.slots)) {
      r.Fail("capture.slots", n["slots"], "must be a power of two");
    }
    if (!r.failed() && c.capture.slot_bytes % 64) {
      r.Fail("capture.slot_bytes", n["slot_bytes"], "must be a multiple of 64");
    }
  }

  if (const auto& n = root["tracker"];
      n.IsDefined() && r.Map(n, "tracker", {"max_call_duration_s", "invite_timeout_s", "linger_s",
                                            "max_active_calls"})) {
    r.Int(n["max_call_duration_s"], "tracker.max_call_duration_s", &c.tracker.max_call_duration_s,
          1, 7 * 86400);
    r.Int(n["invite_timeout_s"], "tracker.invite_timeout_s", &c.tracker.invite_timeout_s, 1, 3600);
    r.Int(n["linger_s"], "tracker.linger_s", &c.tracker.linger_s, 0, 3600);
    r.Int(n["max_active_calls"], "tracker.max_active_calls", &c.tracker.max_active_calls, 1,
          10000000);
  }

  r.String(root["keyring"], "keyring", &c.keyring);

  if (const auto& n = root["journal"];
      n.IsDefined() && r.Map(n, "journal", {"dir", "segment_bytes", "max_bytes", "alarm_percent",
                                            "group_commit_ms"})) {
    r.String(n["dir"], "journal.dir", &c.journal.dir);
    r.Int(n["segment_bytes"], "journal.segment_bytes", &c.journal.segment_bytes, 64 << 10,
          4ll << 30);
    r.Int(n["max_bytes"], "journal.max_bytes", &c.journal.max_bytes, 1 << 20, kMaxI64);
    r.Int(n["alarm_percent"], "journal.alarm_percent", &c.journal.alarm_percent, 1, 100);
    r.Int(n["group_commit_ms"], "journal.group_commit_ms", &c.journal.group_commit_ms, 0, 1000);
  }

  if (const auto& n = root["database"];
      n.IsDefined() && r.Map(n, "database", {"enabled", "conninfo", "batch_size", "retry_ms"})) {
    r.Bool(n["enabled"], "database.enabled", &c.database.enabled);
    r.String(n["conninfo"], "database.conninfo", &c.database.conninfo);
    r.Int(n["batch_size"], "database.batch_size", &c.database.batch_size, 1, 100000);
    r.Int(n["retry_ms"], "database.retry_ms", &c.database.retry_ms, 10, 600000);
    if (!r.failed() && c.database.enabled && c.database.conninfo.empty()) {
      r.Fail("database.conninfo", n, "is required when database.enabled is true");
    }
  }

  ReadAnalytics(r, root["analytics"], &c.analytics);
  ReadTrunks(r, root["trunks"], &c.trunks);
  ReadRetention(r, root["default_retention"], "default_retention", &c.default_retention);
  CheckStatutoryMinimum(r, root["default_retention"], "default_retention", "(unknown trunk)", "IN",
                        c.default_retention);

  if (!r.failed() && c.keyring.empty()) r.Fail("keyring", root, "is required");
  if (!r.failed() && c.journal.dir.empty()) r.Fail("journal.dir", root, "is required");
  if (r.failed()) {
    *error = r.error();
    return false;
  }

  // Relative paths are relative to the config file, so a config and its
  // keyring can move together.
  const auto base = std::filesystem::path(path).parent_path();
  auto resolve = [&](std::string& p) {
    if (!p.empty() && std::filesystem::path(p).is_relative()) p = (base / p).lexically_normal();
  };
  resolve(c.keyring);
  resolve(c.journal.dir);
  resolve(c.log.file);
  resolve(c.capture.state_dir);
  for (auto& s : c.analytics.sinks) resolve(s.path);
  if (c.capture.state_dir.empty()) c.capture.state_dir = c.journal.dir;
  if (c.capture.shm_name.empty()) c.capture.shm_name = "/callvault-" + c.node_id;

  if (!CheckPrivateFile(c.keyring, path + ": keyring", error)) return false;

  *out = std::move(c);
  return true;
}

}  // namespace callvault
