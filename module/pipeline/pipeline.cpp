#include "module/pipeline/pipeline.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "include/callvault/module.h"
#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/journal/journal.h"
#include "module/pipeline/capture_consumer.h"
#include "module/pipeline/downstreams.h"
#include "module/util/background.h"
#include "module/util/log.h"

namespace callvault {
namespace {

bool MakePrivateDir(const std::string& dir, const std::string& key, const std::string& cfg,
                    std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *error = cfg + ": " + key + ": cannot create directory " + dir + ": " + ec.message();
    return false;
  }
  ::chmod(dir.c_str(), 0700);
  return true;
}

// One consumer per ring: a second module instance for the same node would
// otherwise release slots the first has not made durable.
int LockConsumer(const std::string& path, std::string* error) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "lock " + path + ": " + std::strerror(errno);
    return -1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    *error = "lock " + path + ": another callvault instance is running for this node";
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

struct Pipeline::Impl {
  Config cfg;
  Keyring keyring;
  int lock_fd = -1;
  std::unique_ptr<CaptureRing> ring;
  std::unique_ptr<JournalWriter> journal;
  std::unique_ptr<CaptureConsumer> consumer;
  std::vector<std::unique_ptr<Downstream>> downstreams;
  std::vector<std::jthread> threads;  // consumer first, so it is stopped last
  mutable std::mutex reload_mu;

  ~Impl() {
    // Downstreams stop before the consumer so the consumer's final drain is
    // the last writer; jthreads join in reverse order of creation.
    for (auto it = threads.rbegin(); it != threads.rend(); ++it) {
      it->request_stop();
      if (it->joinable()) it->join();
    }
    downstreams.clear();
    consumer.reset();
    journal.reset();
    ring.reset();
    if (lock_fd >= 0) ::close(lock_fd);
  }
};

Pipeline::Pipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pipeline::~Pipeline() = default;

std::unique_ptr<Pipeline> Pipeline::Open(const std::string& config_path, std::string* error,
                                         int* code) {
  auto impl = std::make_unique<Impl>();
  *code = CV_ERR_CONFIG;
  if (!LoadConfig(config_path, &impl->cfg, error)) return nullptr;
  const Config& cfg = impl->cfg;
  SetBackgroundNice(static_cast<int>(cfg.capture.background_nice));
  if (!ConfigureLog(cfg.log.file, cfg.log.level, error)) {
    *error = config_path + ": log.file: " + *error;
    return nullptr;
  }
  *code = CV_ERR_KEYS;
  if (!Keyring::Load(cfg.keyring, &impl->keyring, error)) return nullptr;

  *code = CV_ERR_IO;
  if (!MakePrivateDir(cfg.journal.dir, "journal.dir", config_path, error) ||
      !MakePrivateDir(cfg.capture.state_dir, "capture.state_dir", config_path, error)) {
    return nullptr;
  }
  impl->lock_fd = LockConsumer(cfg.capture.state_dir + "/consumer.lock", error);
  if (impl->lock_fd < 0) return nullptr;

  RingOpenResult opened;
  impl->ring = CaptureRing::Open(cfg.capture.shm_name,
                                 {cfg.capture.slots, cfg.capture.slot_bytes}, &opened, error);
  if (!impl->ring) return nullptr;
  if (opened.torn) Log()->warn("capture: {} slots torn by a crashed producer", opened.torn);

  JournalOptions jo{cfg.journal.dir, cfg.journal.segment_bytes, cfg.journal.max_bytes,
                    cfg.journal.alarm_percent};
  impl->journal = JournalWriter::Open(jo, impl->keyring, error);
  if (!impl->journal) return nullptr;

  impl->consumer = CaptureConsumer::Create(cfg, impl->keyring, impl->ring.get(),
                                           impl->journal.get(), error);
  if (!impl->consumer) return nullptr;

  if (!MakeDownstreams(cfg, impl->keyring, &impl->downstreams, error)) return nullptr;
  if (!impl->downstreams.empty()) {
    Impl* raw = impl.get();
    impl->consumer->SetJournalFloor([raw]() -> std::optional<JournalPosition> {
      std::optional<JournalPosition> floor;
      for (const auto& d : raw->downstreams) {
        auto needed = d->NeededFrom();
        if (!needed) return std::nullopt;
        if (!floor || *needed < *floor) floor = needed;
      }
      return floor;
    });
  }

  impl->threads.emplace_back([c = impl->consumer.get()](std::stop_token st) {
    EnterBackground();
    c->Run(st);
  });
  for (auto& d : impl->downstreams) {
    impl->threads.emplace_back([d = d.get()](std::stop_token st) {
      EnterBackground();
      d->Run(st);
    });
  }
  Log()->info("callvault started: node {}, ring {} slots x {} bytes{}", cfg.node_id,
              cfg.capture.slots, cfg.capture.slot_bytes,
              opened.created ? " (new)" : ", resumed");
  *code = CV_OK;
  return std::unique_ptr<Pipeline>(new Pipeline(std::move(impl)));
}

CaptureRing* Pipeline::ring() const { return impl_->ring.get(); }

bool Pipeline::Reload(std::string* error) {
  std::lock_guard<std::mutex> lock(impl_->reload_mu);
  Config next;
  if (!LoadConfig(impl_->cfg.path, &next, error)) return false;
  const Config& cur = impl_->cfg;
  auto refuse = [&](const char* key) {
    *error = cur.path + ": " + key + ": cannot change while running; restart the host to apply it";
    return false;
  };
  // Only log settings apply to a running module.  Everything else is held
  // by threads that read it without locks (the tracker's timeouts, the
  // shipper's retention and conninfo, the analytics sinks), so a change is
  // refused rather than reported as applied and silently ignored.
  if (next.node_id != cur.node_id) return refuse("node_id");
  if (next.keyring != cur.keyring) return refuse("keyring");
  if (next.capture != cur.capture) return refuse("capture");
  if (next.tracker != cur.tracker) return refuse("tracker");
  if (next.journal != cur.journal) return refuse("journal");
  if (next.database != cur.database) return refuse("database");
  if (next.analytics != cur.analytics) return refuse("analytics");
  if (next.trunks != cur.trunks) return refuse("trunks");
  if (next.default_retention != cur.default_retention) return refuse("default_retention");
  if (!ConfigureLog(next.log.file, next.log.level, error)) {
    *error = next.path + ": log.file: " + *error;
    return false;
  }
  impl_->cfg.log = next.log;
  Log()->info("config reloaded");
  return true;
}

void Pipeline::Stats(const StatFn& fn) const {
  impl_->consumer->Stats(fn);
  for (const auto& d : impl_->downstreams) d->Stats(fn);
}

}  // namespace callvault
