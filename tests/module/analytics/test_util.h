// Shared helpers for the analytics tests: a private temp dir, a keyring
// generated at test time, and a CDR full of known raw values.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "module/cdr/cdr.h"
#include "module/crypto/keyring.h"

namespace callvault::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cv-analytics-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// 2026-11-27T21:03:04.123Z
inline constexpr int64_t kInviteMs = 1795813384123;

// A CDR whose every identifying field holds a distinct, recognisable raw value.
inline Cdr SampleCdr() {
  Cdr c;
  c.record_id = "0193a5b2-7c11-8e55-9a1b-3c4d5e6f7a8b";
  c.node_id = "node-a";
  c.call_id = "a84b4c76e66710@pc33.atlanta.example.com";
  c.ingress_trunk = "carrier-in";
  c.egress_trunk = "carrier-out";
  c.caller = "+919876543210";
  c.caller_pai = "tel:+91-98765-43211;phone-context=+91";
  c.callee = "02079460123";
  c.callee_to = "sip:02079460123@gw.atlanta.example.com;user=phone";
  c.diversion = "9812345678, sip:+14155550123@divert.example.net";
  c.caller_host = "pc33.atlanta.example.com";
  c.callee_host = "[2001:db8:85a3::8a2e:370:7334]:5061";
  c.src_addr = "198.51.100.23:5060";
  c.dst_addr = "[2001:db8:1234:5678::99]:5060";
  c.caller_ua = "MicroSIP/3.21.3 (alice.smith MAC 00:11:22:33:44:55)";
  c.callee_ua = "Asterisk PBX 18.2.1";
  c.invite_time_ms = kInviteMs;
  c.ring_time_ms = kInviteMs + 1500;
  c.answer_time_ms = kInviteMs + 6000;
  c.end_time_ms = kInviteMs + 66500;
  c.post_dial_delay_ms = 1500;
  c.duration_ms = 60500;
  c.billable_seconds = 61;
  c.final_status = 200;
  c.reason = "Q.850;cause=16;text=\"Normal call clearing by Bob\"";
  c.q850_cause = 16;
  c.released_by = ReleasedBy::kCaller;
  c.disposition = Disposition::kAnswered;
  c.codecs_offered = "PCMU,PCMA,telephone-event";
  c.codecs_answered = "PCMU";
  c.flags = kCdrFlagReinvite | kCdrFlagHostLi;
  return c;
}

}  // namespace callvault::testing
