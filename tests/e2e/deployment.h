// A private callvault deployment for one end-to-end test: a work directory
// with a freshly generated keyring, a module config, and helpers to drive
// SIPp through the real callvault-proxy (tests/sip/proxy/run_scenario.sh) and
// read back the CDRs the module journaled.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "module/cdr/cdr.h"

namespace callvault::e2e {

struct ModuleOptions {
  int invite_timeout_s = 30;
  int max_call_duration_s = 600;
  int slots = 8192;
  int checkpoint_interval_ms = 100;
  std::string extra_yaml;  // appended to the module config
};

class Deployment {
 public:
  explicit Deployment(const std::string& name, ModuleOptions opts = {});
  ~Deployment();

  const std::filesystem::path& dir() const { return dir_; }
  std::string module_config() const { return (dir_ / "callvault.yaml").string(); }
  std::string node_id() const { return node_id_; }
  // YAML for run_scenario.sh --extra-config: loads the module with this config.
  std::string proxy_module_yaml() const;

  // Runs one SIPp pair through the proxy with the module loaded; returns
  // run_scenario.sh's exit code (0 = SIPp and proxy checks passed).
  int RunScenario(const std::string& pair, int calls, const std::vector<std::string>& extra = {});

  // Every CDR in the journal; fails the test on a corrupt record.
  std::vector<Cdr> ReadCdrs() const;

 private:
  std::filesystem::path dir_;
  std::string node_id_;
};

// Paths baked in at build time.
std::string ProxyBinary();
std::string ModuleLibrary();
std::string SourceDir();

}  // namespace callvault::e2e
