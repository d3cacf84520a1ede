// callvault-proxy: the reference SIP proxy that hosts libcallvault.so.
//
//   callvault-proxy --config FILE [--no-module]
//
// Prints "ready listen=N module=on|off" on stdout once every listen address
// is bound.  SIGUSR1 prints the statistics (see stats_report.h); SIGTERM or
// SIGINT shuts down cleanly: transactions are dropped, statistics printed,
// the module closed.  Exit status: 0 after a clean shutdown, 1 when the
// proxy or the module cannot start, 2 for a bad command line or config.
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "sip/proxy/latency_histogram.h"
#include "sip/proxy/message_tap.h"
#include "sip/proxy/module_host.h"
#include "sip/proxy/proxy_config.h"
#include "sip/proxy/router.h"
#include "sip/proxy/signal_watch.h"
#include "sip/proxy/sip_proxy.h"
#include "sip/proxy/sofia_logs.h"
#include "sip/proxy/stats_report.h"

namespace {

struct Options {
  std::string config;
  bool no_module = false;
};

void Usage(std::FILE* out) {
  std::fprintf(out,
               "usage: callvault-proxy --config FILE [--no-module]\n"
               "  --config FILE  proxy configuration (YAML)\n"
               "  --no-module    do not load the callvault module even if enabled\n"
               "environment: CV_PROXY_STATS_FILE  also write statistics to this file\n"
               "             CV_PROXY_LOG_LEVEL   trace|debug|info|warn|error (default info)\n");
}

bool ParseArgs(int argc, char** argv, Options* opts) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      opts->config = argv[++i];
    } else if (arg == "--no-module") {
      opts->no_module = true;
    } else if (arg == "--help" || arg == "-h") {
      Usage(stdout);
      std::exit(0);
    } else {
      std::fprintf(stderr, "callvault-proxy: unknown or incomplete argument #%d\n", i);
      return false;
    }
  }
  if (opts->config.empty()) {
    std::fprintf(stderr, "callvault-proxy: --config is required\n");
    return false;
  }
  return true;
}

void SetUpLogging() {
  auto logger = spdlog::stderr_color_mt("callvault-proxy");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %n %l: %v");
  spdlog::set_default_logger(logger);
  const char* level = std::getenv("CV_PROXY_LOG_LEVEL");
  spdlog::set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::info);
}

int Run(const Options& opts) {
  using namespace callvault::proxy;

  ProxyConfig config;
  try {
    config = LoadProxyConfig(opts.config);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "callvault-proxy: %s\n", e.what());
    return 2;
  }

  std::unique_ptr<ModuleHost> module;
  if (config.module.enabled && !opts.no_module) {
    std::string error;
    module = ModuleHost::Load(config.module.path, config.module.config, &error);
    if (module == nullptr) {
      spdlog::error("{}", error);
      return 1;
    }
  }

  su_root_t* root = su_root_create(nullptr);
  if (root == nullptr) {
    spdlog::error("cannot create the event loop");
    return 1;
  }

  int status = 0;
  {
    const Router router(config);
    LatencyHistogram latency;
    MessageTap tap(module.get());
    SipProxy proxy(config, router, tap, latency);
    const StatsReport report(latency, proxy, tap, module.get());
    SignalWatch signals(
        root, [&report] { report.Emit(); }, [root] { su_root_break(root); });

    std::string error;
    if (!proxy.Start(root, &error) || !signals.Start(&error)) {
      spdlog::error("{}", error);
      status = 1;
    } else {
      spdlog::info("listening on {} address(es), module {}", config.listen.size(),
                   module ? "on" : "off");
      std::fprintf(stdout, "ready listen=%zu module=%s\n", config.listen.size(),
                   module ? "on" : "off");
      std::fflush(stdout);
      su_root_run(root);
      spdlog::info("shutting down");
    }
    proxy.Stop();
    if (status == 0) report.Emit();
  }
  module.reset();  // close(): drains within the module's shutdown budget
  su_root_destroy(root);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything can start a thread: only the signalfd sees the signals.
  callvault::proxy::SignalWatch::BlockSignals();

  Options opts;
  if (!ParseArgs(argc, argv, &opts)) {
    Usage(stderr);
    return 2;
  }
  SetUpLogging();

  su_init();
  callvault::proxy::SilenceSofiaLogs();
  // Parse the extra headers too (P-Asserted-Identity, Remote-Party-ID, ...)
  // so they are kept as structured headers when forwarded.
  sip_update_default_mclass(sip_extend_mclass(nullptr));

  const int status = Run(opts);
  su_deinit();
  return status;
}
