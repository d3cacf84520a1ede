#include "module/analytics/postgres_sink.h"

#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>

#include "module/util/background.h"
#include "module/util/log.h"

namespace callvault {
namespace {

constexpr char kInsert[] =
    "insert into analytics.call_events (event_id, epoch, event, received_at) "
    "select e->>'event_id', e->>'epoch', e, now() from jsonb_array_elements($1::jsonb) as e "
    "on conflict (event_id) do nothing";

std::string WithConnectTimeout(const std::string& conninfo) {
  if (conninfo.find("connect_timeout") != std::string::npos) return conninfo;
  // URI form takes a query parameter, key=value form another pair.
  if (conninfo.rfind("postgres://", 0) == 0 || conninfo.rfind("postgresql://", 0) == 0) {
    return conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=5";
  }
  return conninfo + " connect_timeout=5";
}

}  // namespace

struct PostgresSink::Worker {
  Worker(PostgresSink* s, PostgresSinkOptions o) : sink(s), options(std::move(o)) {}

  PostgresSink* sink;
  PostgresSinkOptions options;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> lines;  // guarded by mu
  bool kick = false;              // guarded by mu
  bool stop = false;              // guarded by mu
  bool abandon = false;           // guarded by mu: shutdown grace expired, give up at once
  bool finished = false;          // guarded by mu
  int sock = -1;                  // guarded by mu: the live connection's socket

  std::unique_ptr<pqxx::connection> conn;  // worker thread only
  bool was_connected = false;              // worker thread only: for edge-triggered logs
  std::chrono::steady_clock::time_point next_attempt{};
  std::thread thread;

  void Run();
  bool Connect();
  void Disconnect();
  // Inserts lines [0, n) of a snapshot; true when committed.
  bool Insert(const std::deque<std::string>& batch, bool* poison);
};

bool PostgresSink::Worker::Connect() {
  if (conn) return true;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_attempt) return false;
  next_attempt = now + std::chrono::milliseconds(options.retry_ms);
  try {
    conn = std::make_unique<pqxx::connection>(WithConnectTimeout(options.conninfo));
  } catch (const std::exception&) {
    // libpq's message names the server host; log only that it failed.
    sink->CountError();
    if (was_connected) Log()->warn("analytics postgres sink: connection lost; retrying");
    was_connected = false;
    conn.reset();
    return false;
  }
  {
    std::lock_guard<std::mutex> lk(mu);
    sock = conn->sock();
  }
  if (!was_connected) Log()->info("analytics postgres sink: connected");
  was_connected = true;
  return true;
}

void PostgresSink::Worker::Disconnect() {
  {
    std::lock_guard<std::mutex> lk(mu);
    sock = -1;
  }
  conn.reset();
  next_attempt = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.retry_ms);
}

bool PostgresSink::Worker::Insert(const std::deque<std::string>& batch, bool* poison) {
  *poison = false;
  std::string array = "[";
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i) array += ',';
    array += batch[i];
  }
  array += ']';
  try {
    pqxx::work tx(*conn);
    tx.exec_params(kInsert, array);
    tx.commit();
    return true;
  } catch (const pqxx::broken_connection&) {
    sink->CountError();
    Log()->warn("analytics postgres sink: connection lost; retrying");
    was_connected = false;
    Disconnect();
  } catch (const pqxx::data_exception&) {
    // Would fail the same batch forever: drop it (counted).  Only the kind
    // of error is logged: server messages can quote the offending value.
    sink->CountError();
    Log()->warn("analytics postgres sink: data exception; batch of {} dropped", batch.size());
    *poison = true;
    Disconnect();
  } catch (const pqxx::insufficient_privilege&) {
    sink->CountError();
    Log()->warn("analytics postgres sink: insufficient privilege (is the login a member of callvault_analytics?)");
    Disconnect();
  } catch (const pqxx::undefined_table&) {
    sink->CountError();
    Log()->warn("analytics postgres sink: analytics.call_events missing (run callvaultctl db migrate)");
    Disconnect();
  } catch (const std::exception&) {
    sink->CountError();
    Log()->warn("analytics postgres sink: insert failed");
    Disconnect();
  }
  return false;
}

void PostgresSink::Worker::Run() {
  std::unique_lock<std::mutex> lk(mu);
  for (;;) {
    cv.wait_for(lk, std::chrono::milliseconds(options.retry_ms),
                [&] { return stop || (kick && !lines.empty()); });
    kick = false;
    const bool stopping = stop;
    if (stopping) next_attempt = {};  // one last try at once, whatever the backoff
    while (!lines.empty() && !abandon) {
      const size_t n = std::min(lines.size(), options.batch_lines);
      std::deque<std::string> batch(lines.begin(), lines.begin() + static_cast<long>(n));
      lk.unlock();
      bool poison = false;
      const bool ok = Connect() && Insert(batch, &poison);
      lk.lock();
      if (ok || poison) {
        lines.erase(lines.begin(), lines.begin() + static_cast<long>(n));
        if (ok) {
          sink->CountWritten(n);
        } else {
          sink->CountDropped(n);
        }
        continue;
      }
      break;  // retry after retry_ms (or stop)
    }
    if (stopping || abandon) break;
  }
  finished = true;
  cv.notify_all();
}

PostgresSink::PostgresSink(PostgresSinkOptions options)
    : worker_(std::make_unique<Worker>(this, std::move(options))) {
  worker_->thread = std::thread([w = worker_.get()] {
    EnterBackground();
    w->Run();
  });
}

PostgresSink::~PostgresSink() {
  Worker& w = *worker_;
  {
    std::unique_lock<std::mutex> lk(w.mu);
    w.stop = true;
    w.cv.notify_all();
    if (!w.cv.wait_for(lk, std::chrono::milliseconds(w.options.shutdown_grace_ms),
                       [&] { return w.finished; })) {
      // Stuck in libpq on a frozen server: break the socket under it and
      // make the worker give up instead of reconnecting.
      w.abandon = true;
      if (w.sock >= 0) ::shutdown(w.sock, SHUT_RDWR);
    }
  }
  w.thread.join();
  CountDropped(w.lines.size());
}

bool PostgresSink::Write(const std::string& json_line) {
  Worker& w = *worker_;
  std::lock_guard<std::mutex> lk(w.mu);
  if (w.lines.size() >= w.options.max_buffer_lines) {
    CountRefused();
    return false;
  }
  w.lines.push_back(json_line);
  return true;
}

void PostgresSink::Flush() {
  Worker& w = *worker_;
  std::lock_guard<std::mutex> lk(w.mu);
  w.kick = true;
  w.cv.notify_all();
}

}  // namespace callvault
