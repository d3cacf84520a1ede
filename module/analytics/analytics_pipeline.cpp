#include "module/analytics/analytics_pipeline.h"

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "module/analytics/epoch_key_store.h"
#include "module/analytics/sink_factory.h"
#include "module/util/background.h"
#include "module/util/log.h"

namespace callvault {
namespace {

struct Item {
  Cdr cdr;
  bool has_position = false;
  JournalPosition next;
};

using SinkCounts = std::array<uint64_t, AnalyticsPipeline::kMaxSinks>;

// An offered record's position and, per sink, how many accepted lines must
// have settled for it (and everything before it) to be settled there.
struct PendingAck {
  JournalPosition next;
  SinkCounts need;
};

}  // namespace

struct AnalyticsPipeline::Impl {
  explicit Impl(Parts p)
      : keys(std::move(p.keys)),
        sinks(std::move(p.sinks)),
        builder(std::move(p.builder), keys.get()),
        queue_events(p.queue_events),
        flush_interval(p.flush_interval) {}

  std::unique_ptr<EpochKeyStore> keys;
  std::vector<std::unique_ptr<AnalyticsSink>> sinks;
  EventBuilder builder;
  const size_t queue_events;
  const std::chrono::milliseconds flush_interval;

  std::mutex mu;
  std::condition_variable work_cv;
  std::condition_variable idle_cv;
  std::deque<Item> queue;  // guarded by mu
  bool stopping = false;   // guarded by mu
  uint64_t enqueued = 0;   // guarded by mu
  uint64_t processed = 0;  // guarded by mu: built and written to the sinks
  uint64_t flushed = 0;    // guarded by mu: processed as of the last sink flush
  std::atomic<size_t> depth{0};
  std::thread thread;

  std::atomic<uint64_t> submitted{0}, queue_dropped{0}, offered{0}, offer_refused{0};
  std::atomic<uint64_t> events{0}, epoch_retired{0}, build_errors{0};
  std::atomic<uint64_t> numbers_fast{0}, numbers_slow{0}, numbers_cached{0};

  // Analytics thread only.
  SinkCounts accepted{};
  std::deque<PendingAck> pending;
  std::string line;

  mutable std::mutex ack_mu;
  std::optional<JournalPosition> acked;  // guarded by ack_mu

  bool Enqueue(const Cdr& cdr, const JournalPosition* next);
  void Run();
  void Process(const Item& item);
  void SettleAcks();
};

bool AnalyticsPipeline::Impl::Enqueue(const Cdr& cdr, const JournalPosition* next) {
  // Cheap early refusal without copying the CDR; the authoritative check is
  // under the lock.
  if (depth.load(std::memory_order_relaxed) >= queue_events) return false;
  Item item{cdr, next != nullptr, next ? *next : JournalPosition{}};
  std::lock_guard<std::mutex> lk(mu);
  if (stopping || queue.size() >= queue_events) return false;
  queue.push_back(std::move(item));
  ++enqueued;
  depth.store(queue.size(), std::memory_order_relaxed);
  work_cv.notify_one();
  return true;
}

void AnalyticsPipeline::Impl::Process(const Item& item) {
  line.clear();
  std::string error;
  switch (builder.Build(item.cdr, &line, &error)) {
    case EventBuilder::Result::kOk:
      events.fetch_add(1, std::memory_order_relaxed);
      for (size_t i = 0; i < sinks.size(); ++i) {
        if (sinks[i]->Write(line)) ++accepted[i];
      }
      break;
    case EventBuilder::Result::kEpochRetired:
      epoch_retired.fetch_add(1, std::memory_order_relaxed);
      break;
    case EventBuilder::Result::kError: {
      const uint64_t n = build_errors.fetch_add(1, std::memory_order_relaxed);
      // The error text carries no CDR data (EventBuilder's contract).
      if (n % 10000 == 0) Log()->error("analytics: event not built ({} so far): {}", n + 1, error);
      break;
    }
  }
  if (item.has_position) pending.push_back(PendingAck{item.next, accepted});
}

void AnalyticsPipeline::Impl::SettleAcks() {
  std::optional<JournalPosition> latest;
  while (!pending.empty()) {
    const PendingAck& front = pending.front();
    bool settled = true;
    for (size_t i = 0; i < sinks.size() && settled; ++i) {
      settled = sinks[i]->accepted_settled() >= front.need[i];
    }
    if (!settled) break;
    latest = front.next;
    pending.pop_front();
  }
  if (latest) {
    std::lock_guard<std::mutex> lk(ack_mu);
    acked = latest;
  }
}

void AnalyticsPipeline::Impl::Run() {
  // Sinks are flushed (file fsync, database kick, acks settled) at most once
  // per flush interval, not per batch: a trickle of single events must not
  // become an fsync per event.  Idle, the thread still wakes every interval
  // so what was written gets flushed and late settlements are seen.
  auto next_flush = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lk(mu);
  for (;;) {
    work_cv.wait_for(lk, flush_interval, [&] { return stopping || !queue.empty(); });
    std::deque<Item> batch;
    batch.swap(queue);
    depth.store(0, std::memory_order_relaxed);
    const bool last = stopping;
    lk.unlock();
    for (const Item& item : batch) Process(item);
    const auto now = std::chrono::steady_clock::now();
    const bool flush = last || now >= next_flush;
    if (flush) {
      for (auto& sink : sinks) sink->Flush();
      SettleAcks();
      next_flush = now + flush_interval;
    }
    const auto s = builder.stats();
    numbers_fast.store(s.numbers_fast, std::memory_order_relaxed);
    numbers_slow.store(s.numbers_slow, std::memory_order_relaxed);
    numbers_cached.store(s.numbers_cached, std::memory_order_relaxed);
    lk.lock();
    processed += batch.size();
    if (flush) {
      flushed = processed;
      idle_cv.notify_all();
    }
    if (last && queue.empty()) break;
  }
}

std::unique_ptr<AnalyticsPipeline> AnalyticsPipeline::Create(const Config& config,
                                                             const Keyring& keyring,
                                                             std::string* error) {
  Parts parts;
  if (!EventBuilderOptions::FromConfig(config, &parts.builder, error)) return nullptr;
  parts.keys = EpochKeyStore::Open(EpochKeyFile(config), keyring, error);
  if (!parts.keys) return nullptr;
  const auto& sinks = config.analytics.sinks;
  for (size_t i = 0; i < sinks.size(); ++i) {
    auto sink = MakeSink(sinks[i], config.path + ": analytics.sinks[" + std::to_string(i) + "]",
                         error);
    if (!sink) return nullptr;
    parts.sinks.push_back(std::move(sink));
  }
  parts.queue_events = config.analytics.queue_events;
  return Create(std::move(parts), error);
}

std::unique_ptr<AnalyticsPipeline> AnalyticsPipeline::Create(Parts parts, std::string* error) {
  if (!parts.keys) {
    *error = "analytics: no epoch key store";
    return nullptr;
  }
  if (parts.sinks.size() > kMaxSinks) {
    *error = "analytics.sinks: at most " + std::to_string(kMaxSinks) + " sinks";
    return nullptr;
  }
  if (parts.queue_events == 0) {
    *error = "analytics.queue_events: must be positive";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>(std::move(parts));
  impl->thread = std::thread([i = impl.get()] {
    EnterBackground();
    i->Run();
  });
  return std::unique_ptr<AnalyticsPipeline>(new AnalyticsPipeline(std::move(impl)));
}

AnalyticsPipeline::AnalyticsPipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AnalyticsPipeline::~AnalyticsPipeline() { Stop(); }

void AnalyticsPipeline::Stop() {
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    impl_->stopping = true;
    impl_->work_cv.notify_one();
  }
  if (impl_->thread.joinable()) impl_->thread.join();
}

bool AnalyticsPipeline::Submit(const Cdr& cdr) {
  impl_->submitted.fetch_add(1, std::memory_order_relaxed);
  if (impl_->Enqueue(cdr, nullptr)) return true;
  impl_->queue_dropped.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool AnalyticsPipeline::Offer(const Cdr& cdr, const JournalPosition& next) {
  if (impl_->Enqueue(cdr, &next)) {
    impl_->offered.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  impl_->offer_refused.fetch_add(1, std::memory_order_relaxed);
  return false;
}

std::optional<JournalPosition> AnalyticsPipeline::Acked() const {
  std::lock_guard<std::mutex> lk(impl_->ack_mu);
  return impl_->acked;
}

bool AnalyticsPipeline::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(impl_->mu);
  const uint64_t target = impl_->enqueued;
  return impl_->idle_cv.wait_for(lk, timeout, [&] { return impl_->flushed >= target; });
}

const std::vector<std::unique_ptr<AnalyticsSink>>& AnalyticsPipeline::sinks() const {
  return impl_->sinks;
}

void AnalyticsPipeline::Stats(const std::function<void(std::string_view, uint64_t)>& fn) const {
  const Impl& i = *impl_;
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  fn("analytics.submitted", get(i.submitted));
  fn("analytics.queue_dropped", get(i.queue_dropped));
  fn("analytics.queue_offered", get(i.offered));
  fn("analytics.queue_refused", get(i.offer_refused));
  fn("analytics.queue_depth", i.depth.load(std::memory_order_relaxed));
  fn("analytics.events", get(i.events));
  fn("analytics.epoch_retired", get(i.epoch_retired));
  fn("analytics.build_errors", get(i.build_errors));
  fn("analytics.numbers_fast", get(i.numbers_fast));
  fn("analytics.numbers_parsed_slow", get(i.numbers_slow));
  fn("analytics.numbers_cached", get(i.numbers_cached));
  for (size_t s = 0; s < i.sinks.size(); ++s) {
    const std::string prefix =
        "analytics.sink" + std::to_string(s) + "_" + std::string(i.sinks[s]->kind()) + ".";
    const SinkStats st = i.sinks[s]->stats();
    fn(prefix + "written", st.written);
    fn(prefix + "dropped", st.dropped);
    fn(prefix + "errors", st.errors);
  }
}

}  // namespace callvault
