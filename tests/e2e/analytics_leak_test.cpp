// Analytics leak test (issue 4, deliverable 7).  Two SIPp callers - one
// signalling over 127.0.0.1, one over [::1] - place 1,200 answered calls
// through callvault-proxy with the module's analytics stream feeding every
// sink at once: a rotating JSON Lines file, UDP and TCP (this test listens on
// loopback and keeps every byte) and PostgreSQL (a private cluster).  Every
// call carries numbers generated for this run in a different form (+E.164,
// 00-international, national with a leading 0, bare digits, tel: URIs with and
// without visual separators, sip: URIs with domain and IP-literal hosts) in
// From, its display name, the Request-URI, To, P-Asserted-Identity, two
// Diversion headers and the User-Agent; every tenth call also diverts via a
// number too long to parse, which must still become a flagged token.
//
// After the proxy stopped, every analytics output, every log and the stats
// output are scanned for any of those numbers (8-digit suffixes in plain
// digit runs; the whole national number across visual separators), the
// signalling addresses in their textual forms, the SIPp Call-IDs, tags and
// branches, the CDR record ids, and a marker put in every free-text field
// (display names, user agents, URI domains).  Nothing may be found.  The same
// scanner run over the generated SIPp input and the raw CDRs must find all of
// it, so a scanner that finds nothing is itself caught.
//
// It also checks what arrived: exactly one event per call in the file sink
// (across rotations), over UDP, over TCP and in PostgreSQL, byte-identical to
// what the module's EventBuilder makes of the journal's CDR, with no drops
// counted; and the tokens: every number field parsed with the right country
// code, one token per subscriber within the epoch whatever the form (repeat
// callers, PAI vs From, To vs Request-URI), and different tokens in another
// epoch.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "module/analytics/epoch.h"
#include "module/analytics/epoch_key_store.h"
#include "module/analytics/event_builder.h"
#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/store/migrate.h"
#include "tests/e2e/deployment.h"
#include "tests/e2e/process.h"
#include "tests/module/store/pg_cluster.h"

namespace callvault::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kCallsPerCaller = 600;  // two callers: 1,200 calls
constexpr int kRatePerCaller = 60;    // calls per second
constexpr int kHoldMs = 200;
constexpr int kTotalCalls = 2 * kCallsPerCaller;
// Small enough that ~1 MB of events rotates a few times, large enough that
// the sink's 10 kept files hold all of them.
constexpr int kJsonlMaxBytes = 256 * 1024;
constexpr char kMarker[] = "leakmark";  // in every free-text field sent
constexpr char kPgDb[] = "callvault";

// ---------------------------------------------------------------- numbers

struct Subscriber {
  std::string region;    // "IN" | "GB"
  std::string cc;        // "91" | "44"
  std::string nsn;       // national significant number: 10 digits, or 15 if !possible
  bool possible = true;  // false: too long for E.164, so it cannot parse
  std::string E164() const { return "+" + cc + nsn; }
  std::string Last8() const { return nsn.substr(nsn.size() - 8); }
  std::string Last10() const { return nsn.substr(nsn.size() - 10); }
};

// Distinct random subscribers: Indian mobiles ([6-9] + 9 digits), UK mobiles
// (7[4-9] + 8 digits), and numbers too long to be possible anywhere (15
// digits after the country code), which the module must still tokenise.  No
// two share their last 8 digits, so a hit in the scan names one subscriber.
class NumberPool {
 public:
  explicit NumberPool(uint64_t seed) : rng_(seed) {}

  int New(const std::string& region) { return Add(region, true); }
  int NewUnparsable(const std::string& region) { return Add(region, false); }

  const Subscriber& operator[](int i) const { return subs_[i]; }
  size_t size() const { return subs_.size(); }

 private:
  char Digit(const char* from) {
    return from[std::uniform_int_distribution<size_t>(0, std::strlen(from) - 1)(rng_)];
  }
  int Add(const std::string& region, bool possible) {
    for (;;) {
      Subscriber s;
      s.region = region;
      s.possible = possible;
      s.cc = region == "IN" ? "91" : "44";
      if (!possible) {
        s.nsn = std::string(1, Digit("123456789"));
      } else if (region == "IN") {
        s.nsn = std::string(1, Digit("6789"));
      } else {
        s.nsn = std::string("7") + Digit("456789");
      }
      while (s.nsn.size() < (possible ? 10u : 15u)) s.nsn += Digit("0123456789");
      if (!last8_.insert(s.Last8()).second) continue;
      subs_.push_back(s);
      return static_cast<int>(subs_.size()) - 1;
    }
  }

  std::mt19937_64 rng_;
  std::vector<Subscriber> subs_;
  std::unordered_set<std::string> last8_;
};

// The user part of a number as dialled.  National and bare forms exist only
// for the calling trunk's own region; other subscribers fall back to +E.164.
enum class Form { kPlus, kIntl00, kNational, kBare };

std::string UserPart(const Subscriber& s, Form f, const std::string& home_region) {
  if (s.region != home_region && (f == Form::kNational || f == Form::kBare)) f = Form::kPlus;
  switch (f) {
    case Form::kPlus:
      return s.E164();
    case Form::kIntl00:
      return "00" + s.cc + s.nsn;
    case Form::kNational:
      return "0" + s.nsn;
    case Form::kBare:
      return s.nsn;
  }
  return {};
}

// Six complete URI shapes, cycled per call and per header.
std::string Uri(const Subscriber& s, int shape, const std::string& home_region,
                const std::string& ip_host, int call) {
  const std::string domain = "gw" + std::to_string(call % 37) + "." + kMarker + ".invalid";
  switch (shape % 6) {
    case 0:
      return "sip:" + s.E164() + "@" + domain;
    case 1:
      return "tel:+" + s.cc + "-" + s.nsn.substr(0, 5) + "-" + s.nsn.substr(5);
    case 2:
      return "sip:" + UserPart(s, Form::kNational, home_region) + "@" + ip_host;
    case 3:
      return "sip:" + UserPart(s, Form::kBare, home_region) + "@" + domain;
    case 4:
      return "sip:" + UserPart(s, Form::kIntl00, home_region) + "@" + domain;
    default:
      return "tel:" + s.E164();
  }
}

// One CSV row of uac_leak.xml and the subscribers behind it.
struct CallPlan {
  int caller = -1, callee = -1, div1 = -1, div2 = -1;
  int repeat_of = -1;     // row whose caller this row reuses, or -1
  std::string ruri_user;  // [field2], what the CDR's callee must be
  std::vector<std::string> fields;
};

struct CallerSide {
  std::string name;         // "v4" | "v6"
  std::string home_region;  // region of the ingress trunk
  std::string trunk;
  std::string ip_host;  // URI host form of the caller's address
  std::vector<CallPlan> rows;
  std::string csv;
};

CallerSide PlanCalls(NumberPool* pool, const std::string& name, const std::string& region,
                     const std::string& trunk, const std::string& ip_host) {
  CallerSide side{name, region, trunk, ip_host, {}, {}};
  const std::string foreign = region == "IN" ? "GB" : "IN";
  std::ostringstream csv;
  csv << "SEQUENTIAL\n";
  for (int i = 0; i < kCallsPerCaller; ++i) {
    CallPlan p;
    // Every 7th call comes again from the caller three rows back, with the
    // From URI in another shape (i + 1 vs i - 3, mod 6): same token.
    if (i % 7 == 6) {
      p.repeat_of = i - 3;
      p.caller = side.rows[i - 3].caller;
    } else {
      p.caller = pool->New(i % 4 == 3 ? foreign : region);
    }
    p.callee = pool->New(i % 5 == 4 ? foreign : region);
    p.div1 = pool->New(i % 3 == 2 ? foreign : region);
    p.div2 = i % 10 == 9 ? pool->NewUnparsable(region) : pool->New(region);
    const Subscriber& caller = (*pool)[p.caller];
    const Subscriber& callee = (*pool)[p.callee];
    std::string spaced =
        "+" + caller.cc + " " + caller.nsn.substr(0, 5) + " " + caller.nsn.substr(5);
    p.ruri_user = UserPart(callee, static_cast<Form>(i % 4), region);
    const std::array<std::string, 4> user_agents = {
        "MicroSIP/3.21.3 (" + std::string(kMarker) + " " +
            UserPart(caller, Form::kNational, region) + ")",
        "Linphone " + caller.E164() + " " + kMarker,
        "Zoiper rv2.10 " + UserPart(caller, Form::kIntl00, region) + " " + kMarker,
        "Grandstream GXP2160 1.0.11.3 " + std::string(kMarker) + "-" +
            UserPart(caller, Form::kBare, region)};
    p.fields = {Uri(caller, i + (p.repeat_of >= 0 ? 1 : 0), region, ip_host, i),  // From
                std::string(kMarker) + " " + spaced,                              // display name
                p.ruri_user,                                      // Request-URI user
                Uri(callee, i + 1, region, ip_host, i),           // To
                Uri(caller, i + 2, region, ip_host, i),           // P-Asserted-Identity
                Uri((*pool)[p.div1], i + 4, region, ip_host, i),  // Diversion 1
                Uri((*pool)[p.div2], i + 5, region, ip_host, i),  // Diversion 2
                user_agents[i % 4]};
    for (size_t f = 0; f < p.fields.size(); ++f) csv << (f ? ";" : "") << p.fields[f];
    csv << "\n";
    side.rows.push_back(std::move(p));
  }
  side.csv = csv.str();
  return side;
}

// ---------------------------------------------------------------- scanner

struct Hit {
  std::string source;
  size_t offset = 0;
  std::string what;
  std::string context;
};

class LeakScanner {
 public:
  void AddNumber(const Subscriber& s, int id) {
    last8_.emplace(s.Last8(), id);
    last10_.emplace(s.Last10(), id);
  }
  void AddCallerPid(pid_t pid) { pids_.push_back(std::to_string(pid)); }
  void AddRecordId(const std::string& id) { record_ids_.insert(id); }

  std::vector<Hit> Scan(const std::string& source, const std::string& text) const {
    std::vector<Hit> hits;
    auto hit = [&](size_t at, size_t len, std::string what) {
      const size_t from = at > 40 ? at - 40 : 0;
      std::string ctx = text.substr(from, len + 80);
      for (char& c : ctx) {
        if (c == '\n' || c == '\r') c = ' ';
      }
      hits.push_back({source, at, std::move(what), std::move(ctx)});
    };
    ScanDigits(text, hit);
    ScanAddresses(text, hit);
    ScanSipIds(text, hit);
    ScanRecordIds(text, hit);
    std::string lower = text;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (size_t at = lower.find(kMarker); at != std::string::npos;
         at = lower.find(kMarker, at + 1)) {
      hit(at, sizeof kMarker - 1, "free-text marker (display name, user agent or URI domain)");
    }
    return hits;
  }

 private:
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
  static bool IsSeparator(char c) {
    return c == '-' || c == '.' || c == ' ' || c == '(' || c == ')' || c == '/';
  }

  // (a) every plain digit run: any 8-digit window equal to a number's last
  //     8 digits (covers +E.164, digits without '+', 00-international,
  //     national, bare, and any longer suffix);
  // (b) digit runs joined across up to two visual separators ("+91 98765
  //     43210", "tel:+91-98765-43210", "(0)98765.43210"): any 10-digit
  //     window equal to a number's last 10 digits (the whole national
  //     number of a possible one).  Ten, not eight, because joining makes
  //     longer runs out of dates and addresses that must not match by chance.
  template <typename F>
  void ScanDigits(const std::string& t, F&& hit) const {
    for (size_t i = 0; i < t.size();) {
      if (!IsDigit(t[i])) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < t.size() && IsDigit(t[j])) ++j;
      for (size_t w = i; w + 8 <= j; ++w) {
        auto it = last8_.find(t.substr(w, 8));
        if (it != last8_.end())
          hit(w, 8, "number #" + std::to_string(it->second) + " (last 8 digits)");
      }
      i = j;
    }
    std::string joined;
    std::vector<size_t> where;
    auto flush = [&] {
      for (size_t w = 0; w + 10 <= joined.size(); ++w) {
        auto it = last10_.find(joined.substr(w, 10));
        if (it != last10_.end()) {
          hit(where[w], where[w + 9] - where[w] + 1,
              "number #" + std::to_string(it->second) + " (national number, separated)");
        }
      }
      joined.clear();
      where.clear();
    };
    for (size_t i = 0; i < t.size(); ++i) {
      if (IsDigit(t[i])) {
        joined += t[i];
        where.push_back(i);
        continue;
      }
      size_t k = i;
      while (k < t.size() && k - i < 3 && IsSeparator(t[k])) ++k;
      if (!joined.empty() && k > i && k - i <= 2 && k < t.size() && IsDigit(t[k])) {
        i = k - 1;
        continue;
      }
      flush();
    }
    flush();
  }

  // The signalling addresses: 127.0.0.1 and ::1 in their textual forms.
  template <typename F>
  void ScanAddresses(const std::string& t, F&& hit) const {
    auto find_all = [&](const std::string& needle, auto&& ok_before, auto&& ok_after) {
      for (size_t at = t.find(needle); at != std::string::npos; at = t.find(needle, at + 1)) {
        const char before = at > 0 ? t[at - 1] : ' ';
        const size_t end = at + needle.size();
        const char after = end < t.size() ? t[end] : ' ';
        if (ok_before(before) && ok_after(after)) hit(at, needle.size(), "address " + needle);
      }
    };
    auto not_digit_or_dot = [](char c) { return !IsDigit(c) && c != '.'; };
    auto not_digit = [](char c) { return !IsDigit(c); };
    auto not_hex_or_colon = [](char c) { return !IsHex(c) && c != ':'; };
    auto not_hex = [](char c) { return !IsHex(c); };
    auto any = [](char) { return true; };
    find_all("127.0.0.1", not_digit_or_dot, not_digit);
    find_all("127.000.000.001", not_digit_or_dot, not_digit);
    find_all("2130706433", not_digit, not_digit);  // 127.0.0.1 as an integer
    find_all("::1", not_hex_or_colon, not_hex);
    find_all("0:0:0:0:0:0:0:1", not_hex_or_colon, not_hex);
    find_all("0000:0000:0000:0000:0000:0000:0000:0001", any, not_hex);
    find_all("::ffff:7f00:1", any, not_hex);
    for (const std::string hex : {"7f000001", "7F000001"}) find_all(hex, not_hex, not_hex);
  }

  // SIPp Call-IDs are "<call number>-<pid>@<ip>"; tags "<pid>SIPpTag0<n>",
  // branches "z9hG4bK-...".  Any "<digits>-<caller pid>" is a Call-ID (or
  // its local part).
  template <typename F>
  void ScanSipIds(const std::string& t, F&& hit) const {
    for (const std::string& pid : pids_) {
      const std::string needle = "-" + pid;
      for (size_t at = t.find(needle); at != std::string::npos; at = t.find(needle, at + 1)) {
        const size_t end = at + needle.size();
        if (at > 0 && IsDigit(t[at - 1]) && (end >= t.size() || !IsDigit(t[end]))) {
          hit(at, needle.size(), "SIPp Call-ID of caller pid " + pid);
        }
      }
    }
    for (const char* needle : {"SIPpTag", "z9hG4bK"}) {
      for (size_t at = t.find(needle); at != std::string::npos; at = t.find(needle, at + 1)) {
        hit(at, std::strlen(needle), std::string("SIP tag/branch ") + needle);
      }
    }
  }

  // CDR record ids (UUID text): docs/analytics-events.md promises they only
  // leave as the keyed event_id.
  template <typename F>
  void ScanRecordIds(const std::string& t, F&& hit) const {
    if (record_ids_.empty()) return;
    const size_t len = record_ids_.begin()->size();
    for (size_t at = 0; at + len <= t.size(); ++at) {
      if (t[at + 8] != '-' || !IsHex(t[at])) continue;
      if (record_ids_.count(t.substr(at, len))) hit(at, len, "CDR record id");
    }
  }

  std::unordered_map<std::string, int> last8_, last10_;  // needle -> subscriber
  std::vector<std::string> pids_;
  std::unordered_set<std::string> record_ids_;
};

std::string Describe(const std::vector<Hit>& hits, size_t max = 20) {
  std::ostringstream out;
  for (size_t i = 0; i < hits.size() && i < max; ++i) {
    out << "  " << hits[i].source << " @" << hits[i].offset << ": " << hits[i].what << ": ..."
        << hits[i].context << "...\n";
  }
  if (hits.size() > max) out << "  (" << hits.size() - max << " more)\n";
  return out.str();
}

// ---------------------------------------------------------------- sockets

// Keeps every datagram sent to 127.0.0.1:port().
class UdpCollector {
 public:
  UdpCollector() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    const int buf = 8 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "udp collector: bind failed";
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::jthread([this](std::stop_token stop) {
      std::vector<char> buf(70000);
      while (!stop.stop_requested()) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
        if (n < 0) continue;
        std::lock_guard lk(mu_);
        datagrams_.emplace_back(buf.data(), static_cast<size_t>(n));
      }
    });
  }
  ~UdpCollector() {
    Stop();
    ::close(fd_);
  }
  int port() const { return port_; }
  void Stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }
  size_t count() {
    std::lock_guard lk(mu_);
    return datagrams_.size();
  }
  std::vector<std::string> datagrams() {
    std::lock_guard lk(mu_);
    return datagrams_;
  }

 private:
  int fd_ = -1, port_ = 0;
  std::mutex mu_;
  std::vector<std::string> datagrams_;
  std::jthread thread_;
};

// Accepts every connection to 127.0.0.1:port() and keeps all bytes received.
class TcpCollector {
 public:
  TcpCollector() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
        ::listen(listen_fd_, 8) != 0) {
      ADD_FAILURE() << "tcp collector: bind/listen failed";
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
  }
  ~TcpCollector() {
    Stop();
    ::close(listen_fd_);
  }
  int port() const { return port_; }
  void Stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
    for (int fd : conns_) ::close(fd);
    conns_.clear();
  }
  size_t lines() {
    std::lock_guard lk(mu_);
    return static_cast<size_t>(std::count(bytes_.begin(), bytes_.end(), '\n'));
  }
  std::string bytes() {
    std::lock_guard lk(mu_);
    return bytes_;
  }
  int connections() {
    std::lock_guard lk(mu_);
    return accepted_;
  }

 private:
  void Loop(std::stop_token stop) {
    std::vector<char> buf(1 << 16);
    std::map<int, std::string> partial;  // per connection, so streams never interleave
    while (!stop.stop_requested()) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      for (int fd : conns_) fds.push_back({fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        const int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd >= 0) {
          conns_.push_back(fd);
          std::lock_guard lk(mu_);
          ++accepted_;
        }
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t n = ::recv(fds[i].fd, buf.data(), buf.size(), 0);
        std::string& part = partial[fds[i].fd];
        if (n > 0) part.append(buf.data(), static_cast<size_t>(n));
        // Move whole lines out; a connection that ends keeps its tail too,
        // so a cut line shows up (and fails the count) rather than vanishing.
        const size_t last_nl = part.rfind('\n');
        std::lock_guard lk(mu_);
        if (n <= 0) {
          bytes_ += part;
          part.clear();
          ::close(fds[i].fd);
          conns_.erase(std::find(conns_.begin(), conns_.end(), fds[i].fd));
          partial.erase(fds[i].fd);
        } else if (last_nl != std::string::npos) {
          bytes_.append(part, 0, last_nl + 1);
          part.erase(0, last_nl + 1);
        }
      }
    }
    std::lock_guard lk(mu_);
    for (auto& [fd, part] : partial) bytes_ += part;
  }

  int listen_fd_ = -1, port_ = 0;
  std::vector<int> conns_;  // only touched by the loop thread (and Stop after join)
  std::mutex mu_;
  std::string bytes_;
  int accepted_ = 0;
  std::jthread thread_;
};

// ---------------------------------------------------------------- helpers

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

// True once something (the SIPp callee) is bound to 127.0.0.1:port over UDP.
bool UdpPortBound(int port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool taken = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0;
  ::close(fd);
  return taken;
}

// All JSON Lines files of the sink: path, path.1, path.2, ...
std::vector<fs::path> JsonlFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

size_t CountJsonlLines(const fs::path& dir) {
  size_t n = 0;
  for (const auto& f : JsonlFiles(dir)) n += Lines(ReadFile(f.string())).size();
  return n;
}

// "module_stat NAME=VALUE" lines of the proxy's statistics file.
std::map<std::string, uint64_t> ModuleStats(const std::string& text) {
  std::map<std::string, uint64_t> out;
  static const std::regex line(R"(^module_stat ([A-Za-z0-9_.]+)=(\d+)$)");
  for (const std::string& l : Lines(text)) {
    std::smatch m;
    if (std::regex_match(l, m, line)) out[m[1]] = std::stoull(m[2]);
  }
  return out;
}

std::vector<std::string> PgEvents(const testing::PgCluster& pg) {
  std::vector<std::string> out;
  pqxx::connection c(pg.SuperConnInfo(kPgDb));
  pqxx::nontransaction tx(c);
  for (const auto& row : tx.exec("select event::text from analytics.call_events")) {
    out.push_back(row[0].as<std::string>());
  }
  return out;
}

// Events by event_id; a second event with the same id is a failure.
std::map<std::string, json> ById(const std::vector<std::string>& lines, const std::string& sink) {
  std::map<std::string, json> out;
  for (const std::string& l : lines) {
    json e = json::parse(l, nullptr, false);
    if (e.is_discarded() || !e.contains("event_id")) {
      ADD_FAILURE() << sink << ": not an event: " << l.substr(0, 200);
      continue;
    }
    const std::string id = e["event_id"];
    EXPECT_TRUE(out.emplace(id, std::move(e)).second) << sink << ": event_id twice: " << id;
  }
  return out;
}

TEST(AnalyticsLeakTest, NothingRawLeavesThroughAnySinkLogOrStat) {
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t seed = std::random_device()();
  if (const char* s = std::getenv("CV_LEAK_SEED")) seed = std::stoull(s);
  SCOPED_TRACE("number seed " + std::to_string(seed) + " (rerun with CV_LEAK_SEED)");

  // PostgreSQL first: the analytics role must exist before the sink logs in.
  testing::PgCluster pg;
  pg.Exec("postgres", std::string("create database ") + kPgDb);
  {
    pqxx::connection admin(pg.SuperConnInfo(kPgDb));
    MigrateResult migrated;
    std::string err;
    ASSERT_TRUE(MigrateDatabase(admin, &migrated, &err)) << err;
  }
  pg.Exec(kPgDb, "alter role callvault_analytics login password 'analytics-leak-pw'");
  // The server log is scanned from here on: what came before is the
  // cluster's own start-up (its listen address included), before any call.
  const std::string pg_log = pg.dir() + "/postgres.log";
  const size_t pg_log_start = ReadFile(pg_log).size();

  UdpCollector udp;
  TcpCollector tcp;
  std::ostringstream analytics;
  analytics << "analytics:\n"
            << "  enabled: true\n"
            << "  epoch: month\n"
            << "  keep_ndc: true\n"  // more in clear: more that could go wrong
            << "  ip_mode: cryptopan\n"
            << "  uri_host_mode: pseudonymise\n"  // hosts go through Crypto-PAn / tokens
            << "  sinks:\n"
            << "    - { type: jsonl, path: analytics/events.jsonl, max_bytes: " << kJsonlMaxBytes
            << " }\n"
            << "    - { type: udp, host: 127.0.0.1, port: " << udp.port() << " }\n"
            << "    - { type: tcp, host: 127.0.0.1, port: " << tcp.port() << " }\n"
            << "    - { type: postgres, conninfo: \""
            << pg.TlsConnInfo(kPgDb, "callvault_analytics", "analytics-leak-pw") << "\" }\n";
  Deployment d("analytics-leak", ModuleOptions{.invite_timeout_s = 10,
                                               .max_call_duration_s = 30,
                                               .extra_yaml = analytics.str()});
  const fs::path dir = d.dir();
  // A second ingress trunk with region GB for the IPv6 caller, so national
  // forms are read as UK numbers there: the deployment's trunk list is
  // replaced in the generated module config.
  {
    std::string cfg = ReadFile(d.module_config());
    const std::string trunks = "trunks:\n  - { name: pstn-in }\n  - { name: carrier-b }\n";
    const size_t at = cfg.find(trunks);
    ASSERT_NE(at, std::string::npos) << "Deployment's trunk list changed:\n" << cfg;
    cfg.replace(at, trunks.size(),
                "trunks:\n  - { name: pstn-in, default_region: IN }\n"
                "  - { name: uk-in, default_region: GB }\n  - { name: carrier-b }\n");
    std::ofstream(d.module_config(), std::ios::trunc) << cfg;
  }
  fs::create_directories(dir / "analytics");
  fs::create_directories(dir / "sipp");
  fs::create_directories(dir / "proxy");

  NumberPool pool(seed);
  const CallerSide v4 = PlanCalls(&pool, "v4", "IN", "pstn-in", "127.0.0.1");
  const CallerSide v6 = PlanCalls(&pool, "v6", "GB", "uk-in", "[::1]");
  std::ofstream(dir / "sipp" / "v4.csv") << v4.csv;
  std::ofstream(dir / "sipp" / "v6.csv") << v6.csv;

  const int proxy_port = FreeUdpPort(), uas_port = FreeUdpPort();
  const int uac4_port = FreeUdpPort(), uac6_port = FreeUdpPort();
  std::ofstream(dir / "proxy" / "proxy.yaml")
      << "listen:\n"
      << "  - \"sip:127.0.0.1:" << proxy_port << ";transport=udp\"\n"
      << "  - \"sip:[::1]:" << proxy_port << ";transport=udp\"\n"
      << "trunks:\n"
      << "  - { name: pstn-in, ingress_cidrs: [\"127.0.0.0/8\"], default_egress: carrier-b }\n"
      << "  - { name: uk-in, ingress_cidrs: [\"::1/128\"], default_egress: carrier-b }\n"
      << "  - { name: carrier-b, next_hop: \"sip:127.0.0.1:" << uas_port << "\" }\n"
      << "record_route: true\n"
      << d.proxy_module_yaml();
  const std::string stats_file = (dir / "proxy" / "stats.txt").string();
  const std::string proxy_log = (dir / "proxy" / "proxy.log").string();
  Process proxy =
      Process::Start({ProxyBinary(), "--config", (dir / "proxy" / "proxy.yaml").string()},
                     proxy_log, {{"CV_PROXY_STATS_FILE", stats_file}});
  ASSERT_TRUE(
      WaitUntil([&] { return ReadFile(proxy_log).find("ready ") != std::string::npos; }, 15s))
      << ReadFile(proxy_log);

  const std::string scenarios = SourceDir() + "/sipp-scenarios";
  const std::string sipp_dir = (dir / "sipp").string();
  Process uas =
      Process::Start({"sipp", "-sf", scenarios + "/uas_leak.xml", "-i", "127.0.0.1", "-p",
                      std::to_string(uas_port), "-m", std::to_string(kTotalCalls), "-nostdin",
                      "-bind_local", "-trace_err", "-error_file", sipp_dir + "/uas.err"},
                     sipp_dir + "/uas.log");
  ASSERT_TRUE(WaitUntil([&] { return UdpPortBound(uas_port) || !uas.running(); }, 10s));
  ASSERT_TRUE(uas.running()) << ReadFile(sipp_dir + "/uas.log");
  auto caller = [&](const CallerSide& side, const std::string& proxy_host, const std::string& ip,
                    int port) {
    return Process::Start({"sipp",
                           "-sf",
                           scenarios + "/uac_leak.xml",
                           "-inf",
                           sipp_dir + "/" + side.name + ".csv",
                           proxy_host + ":" + std::to_string(proxy_port),
                           "-i",
                           ip,
                           "-p",
                           std::to_string(port),
                           "-m",
                           std::to_string(kCallsPerCaller),
                           "-r",
                           std::to_string(kRatePerCaller),
                           "-l",
                           "100",
                           "-d",
                           std::to_string(kHoldMs),
                           "-nostdin",
                           "-recv_timeout",
                           "15000",
                           "-timeout",
                           "120s",
                           "-timeout_error",
                           "-trace_err",
                           "-error_file",
                           sipp_dir + "/" + side.name + ".err"},
                          sipp_dir + "/" + side.name + ".log");
  };
  Process uac4 = caller(v4, "127.0.0.1", "127.0.0.1", uac4_port);
  Process uac6 = caller(v6, "[::1]", "::1", uac6_port);
  const pid_t pid4 = uac4.pid(), pid6 = uac6.pid();

  EXPECT_EQ(uac4.Wait(150s), 0) << "IPv4 caller:\n"
                                << ReadFile(sipp_dir + "/v4.log").substr(0, 4000);
  EXPECT_EQ(uac6.Wait(150s), 0) << "IPv6 caller:\n"
                                << ReadFile(sipp_dir + "/v6.log").substr(0, 4000);
  EXPECT_EQ(uas.Wait(30s), 0) << "callee:\n" << ReadFile(sipp_dir + "/uas.log").substr(0, 4000);

  // Every call reaches every sink before the proxy is told to stop, so the
  // stats it prints on SIGTERM are final.
  auto pg_rows = [&] {
    return std::stoull(pg.Query(kPgDb, "select count(*) from analytics.call_events"));
  };
  const bool all_arrived = WaitUntil(
      [&] {
        return CountJsonlLines(dir / "analytics") >= kTotalCalls && udp.count() >= kTotalCalls &&
               tcp.lines() >= kTotalCalls && pg_rows() >= kTotalCalls;
      },
      30s);
  EXPECT_TRUE(all_arrived) << "jsonl " << CountJsonlLines(dir / "analytics") << " udp "
                           << udp.count() << " tcp " << tcp.lines() << " pg " << pg_rows();
  EXPECT_EQ(proxy.Stop(20s), 0) << ReadFile(proxy_log);
  std::this_thread::sleep_for(200ms);  // late datagrams or a last TCP segment
  udp.Stop();
  tcp.Stop();

  // ---- the truth: the CDRs the module journaled (raw values)
  const std::vector<Cdr> cdrs = d.ReadCdrs();
  ASSERT_EQ(cdrs.size(), static_cast<size_t>(kTotalCalls));
  LeakScanner scanner;
  for (size_t i = 0; i < pool.size(); ++i) scanner.AddNumber(pool[i], static_cast<int>(i));
  scanner.AddCallerPid(pid4);
  scanner.AddCallerPid(pid6);
  for (const Cdr& c : cdrs) scanner.AddRecordId(c.record_id);

  // Which plan row each CDR is: SIPp's Call-ID is "<call number>-<pid>@<ip>"
  // and call n reads CSV row n-1.
  const std::regex sipp_id(R"(^(\d+)-(\d+)@(.+)$)");
  std::map<std::string, std::pair<const CallerSide*, int>> row_of;  // by record id
  for (const Cdr& c : cdrs) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(c.call_id, m, sipp_id)) << "unexpected Call-ID form";
    const pid_t pid = std::stoi(m[2]);
    const CallerSide* side = pid == pid4 ? &v4 : pid == pid6 ? &v6 : nullptr;
    ASSERT_NE(side, nullptr) << "Call-ID from an unknown SIPp";
    const int row = std::stoi(m[1]) - 1;
    ASSERT_TRUE(row >= 0 && row < kCallsPerCaller);
    ASSERT_EQ(c.callee, side->rows[row].ruri_user) << "CSV row mapping";
    EXPECT_EQ(c.ingress_trunk, side->trunk);
    EXPECT_EQ(c.disposition, Disposition::kAnswered);
    row_of[c.record_id] = {side, row};
  }
  ASSERT_EQ(row_of.size(), static_cast<size_t>(kTotalCalls));

  // ---- the scanner finds what it must (positive control)
  {
    std::vector<Hit> csv_hits = scanner.Scan("v4.csv", v4.csv);
    for (Hit& h : scanner.Scan("v6.csv", v6.csv)) csv_hits.push_back(std::move(h));
    std::set<std::string> found;
    for (const Hit& h : csv_hits) {
      if (h.what.rfind("number #", 0) == 0) found.insert(h.what.substr(0, h.what.find(' ', 8)));
    }
    EXPECT_EQ(found.size(), pool.size()) << "the scanner misses numbers in the SIPp input";
    std::string raw;
    for (const Cdr& c : cdrs) raw += c.call_id + " " + c.record_id + " " + c.src_addr + "\n";
    const std::vector<Hit> raw_hits = scanner.Scan("cdrs", raw);
    std::map<std::string, int> kinds;
    for (const Hit& h : raw_hits) ++kinds[h.what.substr(0, h.what.find(' '))];
    EXPECT_GE(kinds["SIPp"], kTotalCalls) << "the scanner misses Call-IDs";
    EXPECT_GE(kinds["CDR"], kTotalCalls) << "the scanner misses record ids";
    EXPECT_GE(kinds["address"], kTotalCalls) << "the scanner misses addresses";
  }

  // ---- every output, every log, the stats: nothing raw
  std::vector<std::pair<std::string, std::string>> outputs;
  // Everything the deployment wrote except its inputs (configs, keyring,
  // the SIPp side) and the encrypted journal with its state files.
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const fs::path rel = fs::relative(e.path(), dir);
    const std::string top = rel.begin()->string();
    if (top == "sipp" || top == "journal" || top == "keyring" || rel.extension() == ".yaml") {
      continue;
    }
    outputs.emplace_back(rel.string(), ReadFile(e.path().string()));
  }
  const std::string pg_log_text = ReadFile(pg_log);
  outputs.emplace_back("postgres.log (after start-up)",
                       pg_log_text.substr(std::min(pg_log_start, pg_log_text.size())));
  const std::vector<std::string> datagrams = udp.datagrams();
  std::string udp_text;
  for (const std::string& g : datagrams) udp_text += g;
  outputs.emplace_back("udp", udp_text);
  outputs.emplace_back("tcp", tcp.bytes());
  const std::vector<std::string> pg_events = PgEvents(pg);
  std::string pg_text;
  for (const std::string& e : pg_events) pg_text += e + "\n";
  outputs.emplace_back("postgres rows", pg_text);

  std::set<std::string> scanned;
  std::vector<Hit> leaks;
  size_t scanned_bytes = 0;
  for (const auto& [name, text] : outputs) {
    scanned.insert(name);
    scanned_bytes += text.size();
    for (Hit& h : scanner.Scan(name, text)) leaks.push_back(std::move(h));
  }
  EXPECT_TRUE(leaks.empty()) << leaks.size() << " raw identifiers found:\n" << Describe(leaks);
  // What must have been scanned, and must not be empty.
  for (const std::string must :
       {"callvault.log", "proxy/proxy.log", "proxy/stats.txt", "analytics/events.jsonl",
        "analytics/events.jsonl.1", "udp", "tcp", "postgres rows"}) {
    EXPECT_TRUE(scanned.count(must)) << must << " was not produced";
  }
  EXPECT_FALSE(ReadFile((dir / "callvault.log").string()).empty());

  // ---- counts: one event per call in every sink, nothing dropped
  std::vector<std::string> jsonl;
  const std::vector<fs::path> files = JsonlFiles(dir / "analytics");
  EXPECT_GE(files.size(), 2u) << "the JSON Lines sink never rotated";
  for (const auto& f : files) {
    EXPECT_LE(fs::file_size(f), static_cast<uintmax_t>(kJsonlMaxBytes)) << f;
    for (std::string& l : Lines(ReadFile(f.string()))) jsonl.push_back(std::move(l));
  }
  const std::vector<std::string> tcp_lines = Lines(tcp.bytes());
  EXPECT_EQ(jsonl.size(), static_cast<size_t>(kTotalCalls));
  EXPECT_EQ(datagrams.size(), static_cast<size_t>(kTotalCalls));
  EXPECT_EQ(tcp_lines.size(), static_cast<size_t>(kTotalCalls));
  EXPECT_EQ(pg_events.size(), static_cast<size_t>(kTotalCalls));
  for (const std::string& g : datagrams) {
    EXPECT_TRUE(!g.empty() && g.back() == '\n' && g.find('\n') == g.size() - 1)
        << "one event per datagram, newline-terminated";
  }

  const auto stats = ModuleStats(ReadFile(stats_file));
  ASSERT_FALSE(stats.empty()) << "no module_stat lines in " << stats_file;
  auto stat = [&](const std::string& name) {
    auto it = stats.find(name);
    EXPECT_NE(it, stats.end()) << "missing module_stat " << name;
    return it == stats.end() ? ~uint64_t{0} : it->second;
  };
  EXPECT_EQ(stat("analytics.events"), static_cast<uint64_t>(kTotalCalls));
  EXPECT_EQ(stat("analytics.queue_dropped"), 0u);
  EXPECT_EQ(stat("analytics.build_errors"), 0u);
  EXPECT_EQ(stat("analytics.epoch_retired"), 0u);
  const std::array<std::pair<const char*, size_t>, 4> sinks = {
      {{"sink0_jsonl", jsonl.size()},
       {"sink1_udp", datagrams.size()},
       {"sink2_tcp", tcp_lines.size()},
       {"sink3_postgres", pg_events.size()}}};
  for (const auto& [sink, received] : sinks) {
    const std::string prefix = std::string("analytics.") + sink + ".";
    EXPECT_EQ(stat(prefix + "dropped"), 0u) << sink;
    EXPECT_EQ(stat(prefix + "written"), static_cast<uint64_t>(kTotalCalls)) << sink;
    // Received = written - dropped (both from the module's own counters).
    EXPECT_EQ(received, stat(prefix + "written") - stat(prefix + "dropped")) << sink;
  }
  EXPECT_EQ(tcp.connections(), 1) << "the TCP sink reconnected during a clean run";

  // ---- the events are exactly what the module's builder makes of the CDRs
  Config config;
  std::string error;
  ASSERT_TRUE(LoadConfig(d.module_config(), &config, &error)) << error;
  Keyring keyring;
  ASSERT_TRUE(Keyring::Load(config.keyring, &keyring, &error)) << error;
  EventBuilderOptions options;
  ASSERT_TRUE(EventBuilderOptions::FromConfig(config, &options, &error)) << error;
  auto keys = EpochKeyStore::Open(EpochKeyFile(config), keyring, &error);
  ASSERT_TRUE(keys) << error;
  EventBuilder builder(options, keys.get());
  std::map<std::string, const Cdr*> cdr_of;  // by event id
  std::set<std::string> expected_lines;
  for (const Cdr& c : cdrs) {
    std::string line;
    ASSERT_EQ(builder.Build(c, &line, &error), EventBuilder::Result::kOk) << error;
    expected_lines.insert(line);
    cdr_of[json::parse(line)["event_id"].get<std::string>()] = &c;
  }
  EXPECT_EQ(std::set<std::string>(jsonl.begin(), jsonl.end()), expected_lines) << "jsonl sink";
  EXPECT_EQ(std::set<std::string>(tcp_lines.begin(), tcp_lines.end()), expected_lines) << "tcp";
  std::set<std::string> udp_lines;
  for (const std::string& g : datagrams) udp_lines.insert(g.substr(0, g.size() - 1));
  EXPECT_EQ(udp_lines, expected_lines) << "udp sink";
  const auto pg_by_id = ById(pg_events, "postgres");
  for (const std::string& l : expected_lines) {
    const json e = json::parse(l);
    auto it = pg_by_id.find(e["event_id"].get<std::string>());
    EXPECT_TRUE(it != pg_by_id.end() && it->second == e) << "postgres row differs or is missing";
  }

  // ---- numbers: right country, parsed, one token per subscriber per epoch
  const auto events = ById(jsonl, "jsonl");
  std::map<std::pair<std::string, std::string>, int> subscriber_of;  // (epoch, token)
  std::map<std::pair<std::string, int>, std::string> token_of;       // (epoch, subscriber)
  int repeats_checked = 0;
  auto check_number = [&](const json& e, const char* field, const json& n, int sub) {
    const Subscriber& s = pool[sub];
    const std::string epoch = e["epoch"];
    ASSERT_TRUE(n.is_object()) << field << " missing";
    EXPECT_EQ(n.value("parsed", !s.possible), s.possible) << field << " parsed flag";
    // An impossible number keeps nothing in clear; a possible one its
    // country code and (keep_ndc) at most a short prefix.
    EXPECT_EQ(n.value("cc", ""), s.possible ? s.cc : "") << field;
    const std::string ndc = n.value("ndc", "");
    EXPECT_TRUE(s.possible ? ndc.size() <= 5 && s.nsn.rfind(ndc, 0) == 0 : ndc.empty())
        << field << " ndc is not an NDC";
    const std::string token = n.value("token", "");
    EXPECT_EQ(token.size(), 22u) << field;
    auto [sit, snew] = subscriber_of.emplace(std::make_pair(epoch, token), sub);
    EXPECT_EQ(sit->second, sub) << field << ": two numbers, one token";
    auto [tit, tnew] = token_of.emplace(std::make_pair(epoch, sub), token);
    EXPECT_EQ(tit->second, token) << field << ": one number, two tokens in epoch " << epoch;
  };
  for (const auto& [id, e] : events) {
    auto cit = cdr_of.find(id);
    ASSERT_NE(cit, cdr_of.end()) << "an event no CDR explains";
    const Cdr& c = *cit->second;
    const auto [side, row] = row_of.at(c.record_id);
    const CallPlan& p = side->rows[row];
    EXPECT_EQ(e["epoch"], EpochIdFor(c.invite_time_ms, EpochGranularity::kMonth));
    EXPECT_EQ(e.value("ingress_trunk", ""), side->trunk);
    check_number(e, "caller", e.value("caller", json()), p.caller);
    check_number(e, "caller_pai", e.value("caller_pai", json()), p.caller);
    check_number(e, "callee", e.value("callee", json()), p.callee);
    check_number(e, "callee_to", e.value("callee_to", json()), p.callee);
    const json div = e.value("diversion", json::array());
    ASSERT_EQ(div.size(), 2u) << "diversion entries";
    check_number(e, "diversion[0]", div[0], p.div1);
    check_number(e, "diversion[1]", div[1], p.div2);
    repeats_checked += p.repeat_of >= 0;
    for (const char* f : {"src_ip", "dst_ip"}) {
      EXPECT_TRUE(e.contains(f)) << f;
    }
    static const std::regex ua(R"(^[A-Za-z0-9-]+(/\d{1,4})?$)");
    for (const char* f : {"caller_ua", "callee_ua"}) {
      EXPECT_TRUE(std::regex_match(e.value(f, std::string("?")), ua)) << f << " " << e.value(f, "");
    }
  }
  EXPECT_GE(repeats_checked, 2 * (kCallsPerCaller / 7) - 2);

  // ---- another epoch: tokens differ.  A live run cannot span two epochs
  // (month by default, and even `epoch: day` would need a run across
  // midnight), so the module's own EventBuilder, with the deployment's
  // keyring and epoch file, rebuilds journal CDRs with their INVITE time
  // moved 40 days back (another month): the new epoch gets its own key, the
  // same numbers get other tokens, and within that epoch the same number in
  // other forms still gets one token.
  int compared = 0;
  std::map<int, std::string> other_epoch_token;  // subscriber -> token
  for (const Cdr& c : cdrs) {
    const auto [side, row] = row_of.at(c.record_id);
    const CallPlan& p = side->rows[row];
    if (row % 50 != 0 && p.repeat_of < 0) continue;
    Cdr moved = c;
    moved.invite_time_ms -= 40ll * 24 * 3600 * 1000;
    std::string now_line, then_line;
    ASSERT_EQ(builder.Build(c, &now_line, &error), EventBuilder::Result::kOk) << error;
    ASSERT_EQ(builder.Build(moved, &then_line, &error), EventBuilder::Result::kOk) << error;
    const json now = json::parse(now_line), then = json::parse(then_line);
    ASSERT_NE(now["epoch"], then["epoch"]);
    EXPECT_NE(now["event_id"], then["event_id"]);
    for (const char* f : {"caller", "caller_pai", "callee", "callee_to"}) {
      EXPECT_EQ(now[f]["cc"], then[f]["cc"]) << f;
      EXPECT_NE(now[f]["token"], then[f]["token"]) << f << ": same token in two epochs";
      ++compared;
    }
    EXPECT_NE(now["src_ip"], then["src_ip"]) << "Crypto-PAn key is per epoch";
    EXPECT_EQ(then["caller"]["token"], then["caller_pai"]["token"]);
    EXPECT_EQ(then["callee"]["token"], then["callee_to"]["token"]);
    auto [it, fresh] = other_epoch_token.emplace(p.caller, then["caller"]["token"]);
    EXPECT_EQ(it->second, then["caller"]["token"]) << "repeat caller, other epoch";
  }
  EXPECT_GE(compared, 4 * 100);

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "analytics leak test: %d calls, %zu numbers, %zu outputs (%zu bytes) scanned, "
      "%zu hits, %.1f s\n",
      kTotalCalls, pool.size(), outputs.size(), scanned_bytes, leaks.size(), seconds);
}

}  // namespace
}  // namespace callvault::e2e
