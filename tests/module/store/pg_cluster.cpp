#include "tests/module/store/pg_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <pqxx/pqxx>

namespace callvault::testing {
namespace {

std::string Script() { return std::string(CV_SOURCE_DIR) + "/scripts/pg-cluster"; }

// Throws rather than aborts: GoogleTest reports the exception as the test's
// failure and unwinding runs ~PgCluster, so a failed test stops its cluster
// instead of leaving a postgres running after the test process is gone.
[[noreturn]] void Die(const std::string& what) {
  throw std::runtime_error("PgCluster: " + what);
}

// Pids whose parent is ppid (from /proc).
std::vector<pid_t> Children(pid_t ppid) {
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...
    const size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    pid_t parent = 0;
    rest >> state >> parent;
    if (parent == ppid) out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

}  // namespace

int RunCommand(const std::string& cmd, std::string* output) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  output->clear();
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int FreeTcpPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    Die("cannot find a free port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

PgCluster::PgCluster() {
  char tmpl[] = "/tmp/cv-pg-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) Die("mkdtemp failed");
  dir_ = tmpl;
  port_ = FreeTcpPort();
  std::string out;
  if (RunCommand(Script() + " start " + dir_ + " " + std::to_string(port_), &out) != 0) {
    Die("pg-cluster start failed: " + out);
  }
}

PgCluster::~PgCluster() {
  Freeze(false);
  std::string out;
  RunCommand(Script() + " stop " + dir_, &out);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PgCluster::SuperConnInfo(const std::string& db) const {
  return "host=" + dir_ + "/sock port=" + std::to_string(port_) + " user=postgres dbname=" + db;
}

std::string PgCluster::TlsConnInfo(const std::string& db, const std::string& user,
                                   const std::string& password, const std::string& ca,
                                   const std::string& host_name) const {
  return "host=" + host_name + " hostaddr=127.0.0.1 port=" + std::to_string(port_) +
         " sslmode=verify-full sslrootcert=" + (ca.empty() ? ca_file() : ca) + " user=" + user +
         " password=" + password + " dbname=" + db;
}

void PgCluster::Exec(const std::string& db, const std::string& sql) const {
  try {
    pqxx::connection c(SuperConnInfo(db));
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  } catch (const std::exception& e) {
    Die(std::string("SQL failed: ") + e.what());
  }
}

std::string PgCluster::Query(const std::string& db, const std::string& sql) const {
  try {
    pqxx::connection c(SuperConnInfo(db));
    pqxx::nontransaction tx(c);
    const pqxx::result r = tx.exec(sql);
    if (r.empty() || r[0][0].is_null()) return "";
    return r[0][0].as<std::string>();
  } catch (const std::exception& e) {
    Die(std::string("SQL failed: ") + e.what());
  }
}

void PgCluster::Freeze(bool frozen) const {
  std::ifstream pidfile(dir_ + "/data/postmaster.pid");
  pid_t postmaster = 0;
  if (!(pidfile >> postmaster) || postmaster <= 0) return;
  const int sig = frozen ? SIGSTOP : SIGCONT;
  ::kill(postmaster, sig);
  for (pid_t child : Children(postmaster)) ::kill(child, sig);
}

void PgCluster::Stop() const {
  std::string out;
  if (RunCommand(Script() + " stop " + dir_, &out) != 0) Die("pg-cluster stop failed: " + out);
}

void PgCluster::Start() const {
  std::string out;
  if (RunCommand(Script() + " start " + dir_ + " " + std::to_string(port_), &out) != 0) {
    Die("pg-cluster start failed: " + out);
  }
}

}  // namespace callvault::testing
