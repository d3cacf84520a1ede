#include "tests/e2e/deployment.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "module/cdr/cdr_json.h"
#include "module/crypto/keyring.h"
#include "module/journal/journal.h"
#include "tests/e2e/process.h"

namespace callvault::e2e {

namespace fs = std::filesystem;

std::string ProxyBinary() { return CV_PROXY_BIN; }
std::string ModuleLibrary() { return CV_MODULE_SO; }
std::string SourceDir() { return CV_SOURCE_DIR; }

Deployment::Deployment(const std::string& name, ModuleOptions opts) {
  // node ids are letters, digits and '-', at most 32.
  std::string base = name.substr(0, 24);
  std::replace(base.begin(), base.end(), '_', '-');
  node_id_ = base + "-" + std::to_string(::getpid());
  dir_ = fs::temp_directory_path() / ("cv-e2e-" + node_id_);
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  std::string err;
  if (!Keyring::Generate().Save((dir_ / "keyring").string(), &err)) ADD_FAILURE() << err;
  std::ofstream(dir_ / "callvault.yaml")
      << "node_id: " << node_id_ << "\n"
      << "keyring: keyring\n"
      << "log: { file: callvault.log, level: info }\n"
      << "journal: { dir: journal, group_commit_ms: 2 }\n"
      << "capture: { slots: " << opts.slots
      << ", slot_bytes: 4096, checkpoint_interval_ms: " << opts.checkpoint_interval_ms << " }\n"
      << "tracker: { invite_timeout_s: " << opts.invite_timeout_s
      << ", max_call_duration_s: " << opts.max_call_duration_s << ", linger_s: 5 }\n"
      << "trunks:\n  - { name: pstn-in }\n  - { name: carrier-b }\n"
      << opts.extra_yaml;
  std::ofstream(dir_ / "proxy-module.yaml") << proxy_module_yaml();
}

Deployment::~Deployment() {
  ::shm_unlink(("/callvault-" + node_id_).c_str());
  if (!::testing::Test::HasFailure() && !std::getenv("CV_E2E_KEEP")) fs::remove_all(dir_);
}

std::string Deployment::proxy_module_yaml() const {
  return "module:\n  enabled: true\n  path: " + ModuleLibrary() + "\n  config: " +
         module_config() + "\n";
}

int Deployment::RunScenario(const std::string& pair, int calls,
                            const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {"bash", SourceDir() + "/tests/sip/proxy/run_scenario.sh",
                                   "--proxy", ProxyBinary(),
                                   "--extra-config", (dir_ / "proxy-module.yaml").string(),
                                   "--work", (dir_ / ("run-" + pair)).string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(pair);
  argv.push_back(std::to_string(calls));
  auto p = Process::Start(argv, (dir_ / ("run-" + pair + ".log")).string());
  int rc = p.Wait(std::chrono::minutes(5));
  if (rc != 0) {
    ADD_FAILURE() << "run_scenario " << pair << " exited " << rc << ":\n"
                  << ReadFile((dir_ / ("run-" + pair + ".log")).string());
  }
  return rc;
}

std::vector<Cdr> Deployment::ReadCdrs() const {
  std::vector<Cdr> out;
  Keyring keyring;
  std::string err;
  if (!Keyring::Load((dir_ / "keyring").string(), &keyring, &err)) {
    ADD_FAILURE() << err;
    return out;
  }
  auto reader = JournalReader::Open((dir_ / "journal").string(), keyring, &err);
  if (!reader) {
    ADD_FAILURE() << err;
    return out;
  }
  JournalRecord rec;
  for (;;) {
    auto st = reader->Next(&rec, &err);
    if (st == JournalReader::Status::kEnd) break;
    if (st == JournalReader::Status::kCorrupt) {
      ADD_FAILURE() << err;
      break;
    }
    Cdr c;
    if (!CdrFromJson(rec.payload, &c, &err)) {
      ADD_FAILURE() << err;
      continue;
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace callvault::e2e
