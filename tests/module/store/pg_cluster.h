// A private PostgreSQL cluster for one test process: scripts/pg-cluster in a
// fresh temp directory on a free loopback port, stopped (by its own
// postmaster.pid) and removed when the object goes away.
#pragma once

#include <string>

namespace callvault::testing {

class PgCluster {
 public:
  // Starts the cluster; aborts the test binary if it cannot.
  PgCluster();
  ~PgCluster();

  const std::string& dir() const { return dir_; }
  int port() const { return port_; }
  std::string ca_file() const { return dir_ + "/tls/ca.crt"; }

  // Bootstrap superuser over the Unix socket (trusted).
  std::string SuperConnInfo(const std::string& db) const;
  // A login role over TCP with TLS; host_name is what the certificate is
  // checked against (the address is always 127.0.0.1).
  std::string TlsConnInfo(const std::string& db, const std::string& user,
                          const std::string& password, const std::string& ca = "",
                          const std::string& host_name = "localhost") const;

  // Runs SQL as the superuser in db; aborts on failure.
  void Exec(const std::string& db, const std::string& sql) const;
  // The first column of the first row, as text ("" for NULL / no row).
  std::string Query(const std::string& db, const std::string& sql) const;

  // Freeze (SIGSTOP) / thaw (SIGCONT) every process of this cluster, or
  // stop / start it again with pg_ctl.
  void Freeze(bool frozen) const;
  void Stop() const;
  void Start() const;

 private:
  std::string dir_;
  int port_ = 0;
};

// Runs a command, returns its exit status and captures stdout+stderr.
int RunCommand(const std::string& cmd, std::string* output);

int FreeTcpPort();

}  // namespace callvault::testing
