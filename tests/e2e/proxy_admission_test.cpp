// The real callvault-proxy (module off) is no open relay.  Raw UDP peers on
// distinct loopback addresses play the caller (127.0.0.1, the only ingress
// source), the callee (127.0.0.2, carrier-b's next hop), an attacker on no
// trunk (127.0.0.3) and a reflection victim (127.0.0.4), so the test controls
// every byte, including forged ones, and sees exactly what each one receives.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/e2e/deployment.h"
#include "tests/e2e/process.h"

namespace callvault::e2e {
namespace {

using std::chrono::milliseconds;

// Nothing must arrive within this long (the proxy forwards in microseconds).
constexpr milliseconds kSilence{600};
constexpr milliseconds kWait{3000};

class UdpPeer {
 public:
  explicit UdpPeer(const std::string& ip) : ip_(ip) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << ip;
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~UdpPeer() { ::close(fd_); }
  UdpPeer(const UdpPeer&) = delete;
  UdpPeer& operator=(const UdpPeer&) = delete;

  const std::string& ip() const { return ip_; }
  int port() const { return port_; }
  std::string hostport() const { return ip_ + ":" + std::to_string(port_); }

  void SendTo(int port, const std::string& text) const {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ASSERT_EQ(::sendto(fd_, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a),
              static_cast<ssize_t>(text.size()));
  }

  // The next datagram within `timeout`, or "".
  std::string Receive(milliseconds timeout) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return "";
    std::string buf(70000, '\0');
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }

  // The next datagram whose first line starts with `start`, skipping others
  // (100 Trying), or "".
  std::string ReceiveStarting(const std::string& start, milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      std::string m = Receive(left);
      if (m.empty()) return "";
      if (m.rfind(start, 0) == 0) return m;
    }
  }

 private:
  std::string ip_;
  int fd_ = -1;
  int port_ = 0;
};

// Header lines joined with CRLF, an empty line, then the body.
std::string Sip(std::initializer_list<std::string> lines, const std::string& body = "") {
  std::string out;
  for (const auto& l : lines) out += l + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return out;
}

// Every header line of `msg` named `name` (case-sensitive, as sofia-sip
// writes them), joined with CRLF.
std::string Headers(const std::string& msg, const std::string& name) {
  std::string out;
  size_t pos = 0;
  while ((pos = msg.find("\r\n" + name + ": ", pos)) != std::string::npos) {
    const size_t start = pos + 2;
    const size_t end = msg.find("\r\n", start);
    if (!out.empty()) out += "\r\n";
    out += msg.substr(start, end - start);
    pos = end;
  }
  return out;
}

std::string Header(const std::string& msg, const std::string& name) {
  const std::string all = Headers(msg, name);
  return all.substr(0, all.find("\r\n"));
}

class ProxyAdmission : public ::testing::Test {
 protected:
  // Starts the proxy: pstn-in admits only 127.0.0.1, carrier-b's next hop
  // is the callee.  `extra` is appended to the config.
  void StartProxy(const std::string& extra = "") {
    dir_ = std::filesystem::temp_directory_path() /
           ("cv-admission-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    proxy_port_ = FreeUdpPort();
    std::ofstream(dir_ / "proxy.yaml")
        << "listen: [\"sip:127.0.0.1:" << proxy_port_ << ";transport=udp\"]\n"
        << "trunks:\n"
        << "  - { name: pstn-in, ingress_cidrs: [\"127.0.0.1/32\"], default_egress: carrier-b }\n"
        << "  - { name: carrier-b, next_hop: \"sip:" << callee_.hostport() << "\" }\n"
        << "record_route: true\n"
        << extra;
    log_ = (dir_ / "proxy.log").string();
    proxy_ = Process::Start({ProxyBinary(), "--config", (dir_ / "proxy.yaml").string()}, log_,
                            {{"CV_PROXY_STATS_FILE", (dir_ / "stats.txt").string()},
                             {"CV_PROXY_LOG_LEVEL", "debug"}});
    for (int i = 0; i < 100; ++i) {
      if (ReadFile(log_).find("ready ") != std::string::npos) return;
      std::this_thread::sleep_for(milliseconds(50));
    }
    FAIL() << "proxy did not start:\n" << ReadFile(log_);
  }

  // Stops the proxy and returns its counters line.
  std::string StopProxy() {
    EXPECT_EQ(proxy_.Stop(), 0);
    const std::string stats = ReadFile((dir_ / "stats.txt").string());
    const size_t at = stats.find("proxy_counters ");
    return at == std::string::npos ? "" : stats.substr(at, stats.find('\n', at) - at);
  }

  void TearDown() override {
    if (proxy_.running()) proxy_.Stop();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::string ProxyUri() const { return "127.0.0.1:" + std::to_string(proxy_port_); }

  // An initial INVITE from the caller, routed by pstn-in's default egress.
  std::string Invite(const std::string& branch, const std::string& body = "v=0\r\n") const {
    return Sip({"INVITE sip:+911234@" + ProxyUri() + " SIP/2.0",
                "Via: SIP/2.0/UDP " + caller_.hostport() + ";branch=" + branch,
                "From: <sip:+441111@" + caller_.ip() + ">;tag=caller-1",
                "To: <sip:+911234@" + ProxyUri() + ">", "Call-ID: " + branch + "@test",
                "CSeq: 1 INVITE", "Contact: <sip:+441111@" + caller_.hostport() + ">",
                "Max-Forwards: 70", "Content-Type: application/sdp"},
               body);
  }

  // The callee's answer to `invite` as it arrived there (Via list echoed).
  static std::string Answer(const std::string& invite, const std::string& callee_contact) {
    return Sip({"SIP/2.0 200 OK", Headers(invite, "Via"), Header(invite, "Record-Route"),
                Header(invite, "From"), Header(invite, "To") + ";tag=callee-1",
                Header(invite, "Call-ID"), Header(invite, "CSeq"),
                "Contact: <sip:callee@" + callee_contact + ">"});
  }

  UdpPeer caller_{"127.0.0.1"};
  UdpPeer callee_{"127.0.0.2"};
  UdpPeer attacker_{"127.0.0.3"};
  UdpPeer victim_{"127.0.0.4"};
  std::filesystem::path dir_;
  int proxy_port_ = 0;
  std::string log_;
  Process proxy_;
};

// In-dialog requests (To-tag) and requests with a Route set, from a source
// on no trunk, aimed at the callee: 403, and the callee receives nothing.
// An ACK from there is dropped without an answer.
TEST_F(ProxyAdmission, UnknownSourceGetsForbiddenAndNothingIsRelayed) {
  StartProxy();
  const std::string target = "sip:callee@" + callee_.hostport();
  const auto request = [&](const std::string& method, const std::string& branch,
                           const std::string& extra_header, bool to_tag) {
    return Sip({method + " " + target + " SIP/2.0",
                "Via: SIP/2.0/UDP " + attacker_.hostport() + ";branch=" + branch,
                "From: <sip:fraud@" + attacker_.ip() + ">;tag=a1",
                "To: <sip:callee@" + callee_.ip() + ">" + (to_tag ? ";tag=b1" : ""),
                "Call-ID: " + branch + "@x", "CSeq: 2 " + method, "Max-Forwards: 70",
                extra_header});
  };
  const std::string route = "Route: <sip:" + ProxyUri() + ";lr>";
  attacker_.SendTo(proxy_port_, request("BYE", "z9hG4bK-bye", route, true));
  EXPECT_EQ(attacker_.ReceiveStarting("SIP/2.0 ", kWait).rfind("SIP/2.0 403", 0), 0u);
  attacker_.SendTo(proxy_port_, request("INVITE", "z9hG4bK-reinv", route, true));
  EXPECT_EQ(attacker_.ReceiveStarting("SIP/2.0 ", kWait).rfind("SIP/2.0 403", 0), 0u);
  // Out of dialog, but a Route set that leads beyond the proxy.
  attacker_.SendTo(proxy_port_,
                   request("INVITE", "z9hG4bK-route",
                           route + "\r\nRoute: <sip:" + callee_.hostport() + ";lr>", false));
  EXPECT_EQ(attacker_.ReceiveStarting("SIP/2.0 ", kWait).rfind("SIP/2.0 403", 0), 0u);
  attacker_.SendTo(proxy_port_, request("ACK", "z9hG4bK-ack", route, true));
  EXPECT_EQ(callee_.Receive(kSilence), "") << "the callee received a relayed request";
  // (The 403s to the INVITEs are retransmitted, unacknowledged; none may
  // answer the ACK.)
  for (std::string m; !(m = attacker_.Receive(kSilence)).empty();) {
    EXPECT_EQ(m.find("CSeq: 2 ACK"), std::string::npos) << "an ACK was answered";
  }

  const std::string counters = StopProxy();
  EXPECT_NE(counters.find(" replied_403=3 "), std::string::npos) << counters;
  EXPECT_NE(counters.find(" acks_refused=1 "), std::string::npos) << counters;
  EXPECT_NE(counters.find(" requests_forwarded=0 "), std::string::npos) << counters;
  // The proxy logs at debug level here: every refusal is logged, without
  // the address, URI or Call-ID that triggered it.
  const std::string log = ReadFile(log_);
  EXPECT_NE(log.find("403 request from a source not admitted"), std::string::npos) << log;
  for (const char* id : {"127.0.0.", "sip:", "z9hG4bK", "fraud"}) {
    EXPECT_EQ(log.find(id), std::string::npos) << "log names " << id << ":\n" << log;
  }
}

// The far end of an egress trunk is on no ingress trunk, yet its in-dialog
// BYE (following the Record-Route back through the proxy) reaches the caller.
TEST_F(ProxyAdmission, EgressPeerInDialogByeIsForwarded) {
  StartProxy();
  callee_.SendTo(proxy_port_,
                 Sip({"BYE sip:+441111@" + caller_.hostport() + " SIP/2.0",
                      "Via: SIP/2.0/UDP " + callee_.hostport() + ";branch=z9hG4bK-peer-bye",
                      "Route: <sip:" + ProxyUri() + ";lr>",
                      "From: <sip:+911234@" + callee_.ip() + ">;tag=callee-1",
                      "To: <sip:+441111@" + caller_.ip() + ">;tag=caller-1",
                      "Call-ID: peer-bye@test", "CSeq: 2 BYE", "Max-Forwards: 70"}));
  const std::string bye = caller_.ReceiveStarting("BYE ", kWait);
  ASSERT_FALSE(bye.empty()) << "the egress peer's BYE was not forwarded";
  caller_.SendTo(proxy_port_, Sip({"SIP/2.0 200 OK", Headers(bye, "Via"), Header(bye, "From"),
                                   Header(bye, "To"), Header(bye, "Call-ID"), Header(bye, "CSeq")}));
  EXPECT_EQ(callee_.ReceiveStarting("SIP/2.0 200", kWait).empty(), false);
  // A new call from the egress peer is not its to make: refused.
  callee_.SendTo(proxy_port_,
                 Sip({"INVITE sip:+449999@" + ProxyUri() + " SIP/2.0",
                      "Via: SIP/2.0/UDP " + callee_.hostport() + ";branch=z9hG4bK-peer-inv",
                      "From: <sip:x@" + callee_.ip() + ">;tag=p1", "To: <sip:+449999@" + ProxyUri() + ">",
                      "Call-ID: peer-inv@test", "CSeq: 1 INVITE", "Max-Forwards: 70"}));
  EXPECT_EQ(callee_.ReceiveStarting("SIP/2.0 ", kWait).rfind("SIP/2.0 403", 0), 0u);
}

// A forged response with the proxy's Via on top and a victim's below, that
// matches no client transaction, is not reflected to the victim.
TEST_F(ProxyAdmission, ForgedResponseIsNotReflected) {
  StartProxy();
  const std::string forged =
      Sip({"SIP/2.0 200 OK", "Via: SIP/2.0/UDP " + ProxyUri() + ";branch=z9hG4bK-forged",
           "Via: SIP/2.0/UDP " + victim_.hostport() + ";branch=z9hG4bK-victim",
           "From: <sip:a@" + victim_.ip() + ">;tag=v1", "To: <sip:b@" + victim_.ip() + ">;tag=v2",
           "Call-ID: forged@test", "CSeq: 1 INVITE"});
  attacker_.SendTo(proxy_port_, forged);
  EXPECT_EQ(victim_.Receive(kSilence), "") << "the forged response was reflected";
  const std::string counters = StopProxy();
  EXPECT_NE(counters.find(" stray_responses_dropped=1 "), std::string::npos) << counters;
  EXPECT_NE(counters.find(" stray_responses_forwarded=0 "), std::string::npos) << counters;
  EXPECT_EQ(ReadFile(log_).find("127.0.0."), std::string::npos) << ReadFile(log_);
}

// After the INVITE client transaction relayed its 2xx, a retransmitted 2xx
// still reaches the caller; one with the right branch but another Via below
// (a reflection attempt riding a real call) does not.
TEST_F(ProxyAdmission, TwoXxRetransmissionReachesTheCaller) {
  StartProxy();
  caller_.SendTo(proxy_port_, Invite("z9hG4bK-call-1"));
  const std::string invite = callee_.ReceiveStarting("INVITE ", kWait);
  ASSERT_FALSE(invite.empty()) << ReadFile(log_);
  const std::string ok = Answer(invite, callee_.hostport());
  callee_.SendTo(proxy_port_, ok);
  ASSERT_FALSE(caller_.ReceiveStarting("SIP/2.0 200", kWait).empty()) << "first 200 not relayed";
  // The caller's ACK is late: the callee retransmits.
  std::this_thread::sleep_for(milliseconds(100));
  callee_.SendTo(proxy_port_, ok);
  EXPECT_FALSE(caller_.ReceiveStarting("SIP/2.0 200", kWait).empty())
      << "the 2xx retransmission did not reach the caller";

  std::string redirected = ok;
  const std::string caller_via = "Via: SIP/2.0/UDP " + caller_.hostport();
  const size_t at = redirected.find(caller_via);
  ASSERT_NE(at, std::string::npos) << ok;
  redirected.replace(at, caller_via.size(), "Via: SIP/2.0/UDP " + victim_.hostport());
  attacker_.SendTo(proxy_port_, redirected);
  // The caller's own Via, steered elsewhere by a received parameter.
  std::string steered = ok;
  const size_t end = steered.find("\r\n", steered.find(caller_via));
  steered.insert(end, ";received=" + victim_.ip());
  attacker_.SendTo(proxy_port_, steered);
  EXPECT_EQ(victim_.Receive(kSilence), "") << "a 2xx was relayed to a Via the caller never sent";
  EXPECT_EQ(caller_.ReceiveStarting("SIP/2.0 200", kSilence), "");

  const std::string counters = StopProxy();
  EXPECT_NE(counters.find(" stray_responses_forwarded=1 "), std::string::npos) << counters;
  EXPECT_NE(counters.find(" stray_responses_dropped=2 "), std::string::npos) << counters;
}

// The Accepted record lives 64*T1 (here timers.t1x64_ms): a 2xx arriving
// later matches nothing and is dropped.
TEST_F(ProxyAdmission, AcceptedRecordExpiresAfter64T1) {
  StartProxy("timers: { t1x64_ms: 1000 }\n");
  caller_.SendTo(proxy_port_, Invite("z9hG4bK-call-2"));
  const std::string invite = callee_.ReceiveStarting("INVITE ", kWait);
  ASSERT_FALSE(invite.empty()) << ReadFile(log_);
  const std::string ok = Answer(invite, callee_.hostport());
  callee_.SendTo(proxy_port_, ok);
  ASSERT_FALSE(caller_.ReceiveStarting("SIP/2.0 200", kWait).empty());
  std::this_thread::sleep_for(milliseconds(1500));
  callee_.SendTo(proxy_port_, ok);
  EXPECT_EQ(caller_.ReceiveStarting("SIP/2.0 200", kSilence), "");
  const std::string counters = StopProxy();
  EXPECT_NE(counters.find(" stray_responses_dropped=1 "), std::string::npos) << counters;
}

// limits.max_message_bytes: a request over it gets 413 and is not
// forwarded; one under it is.
TEST_F(ProxyAdmission, MessageOverTheSizeLimitIsRefused) {
  StartProxy("limits: { max_message_bytes: 8192 }\n");
  caller_.SendTo(proxy_port_, Invite("z9hG4bK-big", "v=0\r\n" + std::string(9000, 'a') + "\r\n"));
  EXPECT_EQ(caller_.ReceiveStarting("SIP/2.0 4", kWait).rfind("SIP/2.0 413", 0), 0u);
  EXPECT_EQ(callee_.Receive(kSilence), "") << "an over-size INVITE was forwarded";
  caller_.SendTo(proxy_port_, Invite("z9hG4bK-fits", "v=0\r\n" + std::string(6000, 'a') + "\r\n"));
  EXPECT_FALSE(callee_.ReceiveStarting("INVITE ", kWait).empty());
  const std::string counters = StopProxy();
  EXPECT_NE(counters.find(" bad_requests=1 "), std::string::npos) << counters;
}

// The default limit admits a 12 KB INVITE (large WebRTC/video offers).
TEST_F(ProxyAdmission, DefaultSizeLimitAdmitsTwelveKilobytes) {
  StartProxy();
  caller_.SendTo(proxy_port_, Invite("z9hG4bK-12k", "v=0\r\n" + std::string(12 * 1024, 'a') + "\r\n"));
  EXPECT_FALSE(callee_.ReceiveStarting("INVITE ", kWait).empty());
}

// A TCP client connection to the proxy from 127.0.0.1.
class TcpClient {
 public:
  explicit TcpClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    local_port_ = ntohs(a.sin_port);
  }
  ~TcpClient() { Close(); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Sends an OPTIONS for the proxy itself; returns what came back before
  // `timeout` or the peer closed ("" for nothing).
  std::string Ping(int proxy_port, const std::string& branch, milliseconds timeout) {
    const std::string options =
        Sip({"OPTIONS sip:127.0.0.1:" + std::to_string(proxy_port) + ";transport=tcp SIP/2.0",
             "Via: SIP/2.0/TCP 127.0.0.1:" + std::to_string(local_port_) + ";branch=" + branch,
             "From: <sip:ping@127.0.0.1>;tag=t1", "To: <sip:127.0.0.1>", "Call-ID: " + branch,
             "CSeq: 1 OPTIONS", "Max-Forwards: 70"});
    EXPECT_EQ(::send(fd_, options.data(), options.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(options.size()));
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return "";
    std::string buf(4096, '\0');
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }

 private:
  int fd_ = -1;
  int local_port_ = 0;
};

// limits.max_tcp_connections: 2.  Two connections are served, the third is
// closed unanswered; once one closes, a new connection is served again.
TEST_F(ProxyAdmission, TcpConnectionsBeyondTheCapAreRefused) {
  StartProxy("limits: { max_tcp_connections: 2 }\n");
  // The generated config listens on UDP only; add TCP on the same port.
  proxy_.Stop();
  {
    std::string yaml = ReadFile((dir_ / "proxy.yaml").string());
    const std::string udp = ";transport=udp\"]";
    yaml.replace(yaml.find(udp), udp.size(),
                 ";transport=udp\", \"sip:127.0.0.1:" + std::to_string(proxy_port_) +
                     ";transport=tcp\"]");
    std::ofstream(dir_ / "proxy.yaml") << yaml;
    std::ofstream(log_, std::ios::trunc).flush();
  }
  proxy_ = Process::Start({ProxyBinary(), "--config", (dir_ / "proxy.yaml").string()}, log_,
                          {{"CV_PROXY_STATS_FILE", (dir_ / "stats.txt").string()},
                             {"CV_PROXY_LOG_LEVEL", "debug"}});
  for (int i = 0; i < 100 && ReadFile(log_).find("ready ") == std::string::npos; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_NE(ReadFile(log_).find("ready "), std::string::npos) << ReadFile(log_);

  TcpClient first(proxy_port_), second(proxy_port_), third(proxy_port_);
  EXPECT_EQ(first.Ping(proxy_port_, "z9hG4bK-t1", kWait).rfind("SIP/2.0 200", 0), 0u);
  EXPECT_EQ(second.Ping(proxy_port_, "z9hG4bK-t2", kWait).rfind("SIP/2.0 200", 0), 0u);
  EXPECT_EQ(third.Ping(proxy_port_, "z9hG4bK-t3", kWait), "") << "a third connection was served";
  first.Close();
  std::this_thread::sleep_for(milliseconds(300));
  TcpClient fourth(proxy_port_);
  EXPECT_EQ(fourth.Ping(proxy_port_, "z9hG4bK-t4", kWait).rfind("SIP/2.0 200", 0), 0u);
  const std::string counters = StopProxy();
  EXPECT_NE(counters.find(" tcp_connections_refused=1 "), std::string::npos) << counters;
}

}  // namespace
}  // namespace callvault::e2e
