// Child processes for end-to-end tests: started with fork/exec, output to a
// log file, and always reaped.  A test only ever signals the PIDs it started.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace callvault::e2e {

class Process {
 public:
  Process() = default;
  Process(Process&& o) noexcept;
  Process& operator=(Process&& o) noexcept;
  ~Process();  // SIGKILLs and reaps a child still running

  static Process Start(const std::vector<std::string>& argv, const std::string& log_path,
                       const std::map<std::string, std::string>& env = {});

  bool running();
  // Exit code, 128 + signal when killed, or -1 when still running at the deadline.
  int Wait(std::chrono::milliseconds timeout);
  void Signal(int sig);
  // SIGTERM, then SIGKILL after grace; returns what Wait returned.
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(15));
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// A UDP port on 127.0.0.1 that nothing is bound to right now.
int FreeUdpPort();

std::string ReadFile(const std::string& path);

}  // namespace callvault::e2e
