#include "module/store/shipper.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <vector>

#include "module/journal/journal.h"
#include "module/store/batch_reader.h"
#include "module/store/blind_index.h"
#include "module/store/copy_binary.h"
#include "module/store/data_keys.h"
#include "module/store/io_watchdog.h"
#include "module/store/pg_conn.h"
#include "module/store/pg_session.h"
#include "module/store/record_codec.h"
#include "module/util/log.h"

namespace callvault {
namespace {

// How long a batch in flight may still take once the module is closing.
constexpr int kStopGraceMs = 2000;

constexpr char kInsertRow[] =
    "INSERT INTO cdr.records (record_id, node_id, trunk, call_day, retention_class, legal_basis, "
    "retain_until, key_id, caller_bi, callee_bi, payload) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING";
constexpr char kSelectKey[] =
    "SELECT key_id, kek_version, state, wrapped FROM cdr.data_keys WHERE trunk = $1 AND period = $2";

using Item = ShipItem;

class InjectedFailure : public std::runtime_error {
 public:
  InjectedFailure() : std::runtime_error("injected failure before commit") {}
};

bool Shippable(const Item& it) { return !it.skip && !it.refused; }

// bytea results arrive in text form: "\x<hex>".
std::string UnhexBytea(std::string_view text) {
  std::string out;
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x') return out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 2; i + 1 < text.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(text[i]) << 4 | nibble(text[i + 1])));
  }
  return out;
}

}  // namespace

struct Shipper::Impl {
  Impl(const Config& c, const Keyring& k, ShipperOptions o)
      : cfg(c), keyring(k), opts(std::move(o)), keys(k) {
    blind_index = BlindIndexer::Create(keyring, &init_error);
    if (blind_index) codec = std::make_unique<RecordCodec>(cfg, *blind_index);
  }

  bool RunOnce(size_t max_records, std::string* error, size_t* processed);
  void Run(std::stop_token stop);

  bool Connect(std::string* error);
  void Reset() {
    db.reset();
    reader.reset();
  }
  std::chrono::milliseconds io_timeout() const {
    return std::chrono::milliseconds(opts.io_timeout_ms);
  }
  void EnsureMonth(const std::string& day);
  DataKey* KeyFor(const std::string& trunk, const std::string& period, std::string* error);
  void Prepare(std::vector<Item>* items);
  void Quarantine(const std::vector<Item>& items);
  void MovePosition(const JournalPosition& end, uint64_t shipped);
  void Commit() {
    if (opts.before_commit && !opts.before_commit()) throw InjectedFailure();
    db->Exec("COMMIT");
  }
  void ShipCopy(const std::vector<Item>& items, const JournalPosition& end, uint64_t* shipped);
  void ShipRows(std::vector<Item>* items, const JournalPosition& end, uint64_t* shipped,
                uint64_t* duplicates);
  void Fail(const std::string& why, std::string* error) {
    std::lock_guard<std::mutex> lock(stats_mu);
    ++stats.failures;
    stats.last_error = why;
    *error = why;
  }

  const Config& cfg;
  const Keyring& keyring;
  const ShipperOptions opts;
  std::string init_error;
  std::unique_ptr<BlindIndexer> blind_index;
  std::unique_ptr<RecordCodec> codec;
  DataKeyStore keys;
  IoWatchdog watchdog;
  std::unique_ptr<PgSession> db;
  std::unique_ptr<BatchReader> reader;
  std::string checkpoint;  // committed position text ("" = journal start)
  std::set<std::string> ensured_months;

  mutable std::mutex stats_mu;
  ShipperStats stats;
};

bool Shipper::Impl::Connect(std::string* error) {
  DbConnectOptions o;
  o.application_name = "callvault-shipper";
  o.connect_timeout_s = static_cast<int>(opts.connect_timeout_s);
  o.statement_timeout_ms = static_cast<int>(opts.io_timeout_ms * 3 / 4);
  db = PgSession::Connect(cfg.database.conninfo, o, error);
  if (!db) return false;
  {
    ArmedScope armed(watchdog, db->socket(), io_timeout());
    // The row exists from the first connect on, so every batch can move the
    // checkpoint with a compare-and-set (see MovePosition).
    db->Exec(
        "INSERT INTO cdr.ship_positions (node_id, position) VALUES ($1, '') "
        "ON CONFLICT (node_id) DO NOTHING",
        {PgParam::Text(cfg.node_id)});
    checkpoint = std::string(
        db->Exec("SELECT position FROM cdr.ship_positions WHERE node_id = $1",
                 {PgParam::Text(cfg.node_id)})
            .get(0, 0));
    // Partitions ahead of use: this month and the next.
    const int64_t today = std::chrono::duration_cast<std::chrono::hours>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count() / 24;
    EnsureMonth(FormatDay(today));
    EnsureMonth(FormatDay(today + 31));
  }
  std::string why;
  auto journal = JournalReader::Open(cfg.journal.dir, keyring, &why);
  if (!journal) {
    *error = "journal: " + why;
    Reset();
    return false;
  }
  if (!checkpoint.empty()) {
    JournalPosition pos;
    if (!JournalPosition::Parse(checkpoint, &pos)) {
      *error = "node '" + cfg.node_id + "': stored checkpoint '" + checkpoint +
               "' is not a journal position";
      Reset();
      return false;
    }
    if (!journal->Seek(pos, &why)) {
      *error = "journal: cannot resume at checkpoint " + checkpoint + ": " + why;
      Reset();
      return false;
    }
  }
  reader = std::make_unique<BatchReader>(std::move(journal), *codec, cfg.database.batch_size);
  {
    std::lock_guard<std::mutex> lock(stats_mu);
    stats.position = checkpoint;
  }
  return true;
}

void Shipper::Impl::EnsureMonth(const std::string& day) {
  const std::string month = day.substr(0, 7);
  if (ensured_months.count(month)) return;
  db->Exec("SELECT cdr.ensure_month($1::date)", {PgParam::Text(day)});
  ensured_months.insert(month);
}

DataKey* Shipper::Impl::KeyFor(const std::string& trunk, const std::string& period,
                               std::string* error) {
  if (DataKey* k = keys.Find(trunk, period)) return k;
  const std::vector<PgParam> which = {PgParam::Text(trunk), PgParam::Text(period)};
  PgResult r = db->Exec(kSelectKey, which);
  if (r.rows() == 0) {
    // Autocommit: the key is durable before any record uses it, and
    // whichever concurrent shipper inserts first wins for everyone.
    DataKeyRow fresh;
    if (!keys.NewRow(trunk, period, &fresh, error)) return nullptr;
    db->Exec(
        "INSERT INTO cdr.data_keys (key_id, trunk, period, kek_version, wrapped) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (trunk, period) DO NOTHING",
        {PgParam::Text(fresh.key_id), PgParam::Text(trunk), PgParam::Text(period),
         PgParam::Text(std::to_string(fresh.kek_version)), PgParam::Bytes(fresh.wrapped)});
    r = db->Exec(kSelectKey, which);
  }
  if (r.rows() == 0) {
    *error = "data key for trunk '" + trunk + "', " + period + " vanished while being created";
    return nullptr;
  }
  DataKeyRow row;
  row.key_id = std::string(r.get(0, 0));
  row.trunk = trunk;
  row.period = period;
  row.kek_version = static_cast<uint32_t>(std::stoul(std::string(r.get(0, 1))));
  row.state = std::string(r.get(0, 2));
  if (!r.is_null(0, 3)) row.wrapped = UnhexBytea(r.get(0, 3));
  return keys.Adopt(row, error);
}

void Shipper::Impl::Prepare(std::vector<Item>* items) {
  for (Item& it : *items) {
    if (!Shippable(it)) continue;
    EnsureMonth(it.row.call_day);
    std::string why;
    DataKey* key = KeyFor(it.row.trunk, it.row.period(), &why);
    if (key == nullptr || !RecordCodec::Seal(it.json, key, &it.row, &why)) {
      it.refused = true;
      it.reason = "record " + it.row.record_id + ": " + why;
    }
    it.json.clear();
  }
}

void Shipper::Impl::Quarantine(const std::vector<Item>& items) {
  for (const Item& it : items) {
    if (!it.refused) continue;
    // ON CONFLICT: the position is the key, a record is parked only once.
    const std::string at = it.at.ToString();
    db->Exec(
        "INSERT INTO cdr.quarantine (node_id, journal_position, record_id, reason) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        {PgParam::Text(cfg.node_id), PgParam::Text(at), PgParam::TextOrNull(it.row.record_id),
         PgParam::Text(it.reason)});
  }
}

void Shipper::Impl::MovePosition(const JournalPosition& end, uint64_t shipped) {
  // Compare-and-set: if another shipper moved this node's checkpoint since we
  // read it, commit nothing (two shippers on one journal would duplicate).
  const std::string to = end.ToString(), n = std::to_string(shipped);
  const PgResult r = db->Exec(
      "UPDATE cdr.ship_positions SET position = $2, shipped = shipped + $3, updated_at = now() "
      "WHERE node_id = $1 AND position = $4",
      {PgParam::Text(cfg.node_id), PgParam::Text(to), PgParam::Text(n), PgParam::Text(checkpoint)});
  if (r.affected() != 1) {
    throw std::runtime_error("checkpoint of node '" + cfg.node_id +
                             "' moved under this shipper: is another shipper running for it?");
  }
}

void Shipper::Impl::ShipCopy(const std::vector<Item>& items, const JournalPosition& end,
                             uint64_t* shipped) {
  RecordCopyEncoder copy;
  for (const Item& it : items) {
    if (Shippable(it) && !copy.Add(it.row)) {
      throw std::logic_error("record " + it.row.record_id + ": row not encodable for COPY");
    }
  }
  db->Exec("BEGIN");
  if (copy.rows() > 0) db->CopyIn(kRecordCopyStatement, copy.Finish());
  Quarantine(items);
  MovePosition(end, copy.rows());
  Commit();
  *shipped = copy.rows();
}

void Shipper::Impl::ShipRows(std::vector<Item>* items, const JournalPosition& end,
                             uint64_t* shipped, uint64_t* duplicates) {
  db->Exec("BEGIN");
  uint64_t n = 0, dup = 0;
  for (Item& it : *items) {
    if (!Shippable(it)) continue;
    const RecordRow& r = it.row;
    db->Exec("SAVEPOINT cv_row");
    try {
      const PgResult res = db->Exec(
          kInsertRow,
          {PgParam::Text(r.record_id), PgParam::Text(r.node_id), PgParam::Text(r.trunk),
           PgParam::Text(r.call_day), PgParam::Text(r.retention_class),
           PgParam::Text(r.legal_basis), PgParam::Text(r.retain_until), PgParam::Text(r.key_id),
           PgParam::BytesOrNull(r.caller_bi), PgParam::BytesOrNull(r.callee_bi),
           PgParam::Bytes(r.payload)});
      db->Exec("RELEASE SAVEPOINT cv_row");
      (res.affected() == 1 ? n : dup) += 1;
    } catch (const PgError& e) {
      if (!IsRowRefusal(e.sqlstate())) throw;
      db->Exec("ROLLBACK TO SAVEPOINT cv_row");
      it.refused = true;
      it.reason = "record " + r.record_id + ": " + e.what();
    }
  }
  Quarantine(*items);
  MovePosition(end, n);
  Commit();
  *shipped = n;
  *duplicates = dup;
}

bool Shipper::Impl::RunOnce(size_t max_records, std::string* error, size_t* processed) {
  if (processed) *processed = 0;
  if (!codec) {
    Fail(init_error, error);
    return false;
  }
  const size_t limit = std::max<size_t>(1, std::min<size_t>(max_records, cfg.database.batch_size));
  std::string why;
  try {
    if (!db && !Connect(&why)) {
      Fail(why, error);
      return false;
    }
    std::vector<Item> items = reader->Take(limit);
    if (items.empty()) return true;
    const JournalPosition end = items.back().next;
    uint64_t shipped = 0, duplicates = 0;
    bool fell_back = false;
    {
      ArmedScope armed(watchdog, db->socket(), io_timeout());
      Prepare(&items);
      try {
        ShipCopy(items, end, &shipped);
      } catch (const PgError& e) {
        // A refused row (or a replayed record id) fails the whole COPY: find
        // it row by row.  Anything else is the database's problem: retry later.
        if (!IsRowRefusal(e.sqlstate())) throw;
        db->Exec("ROLLBACK");
        fell_back = true;
        ShipRows(&items, end, &shipped, &duplicates);
      }
    }
    uint64_t quarantined = 0;
    for (const Item& it : items) quarantined += it.refused;
    checkpoint = end.ToString();
    {
      std::lock_guard<std::mutex> lock(stats_mu);
      stats.shipped += shipped;
      stats.duplicates += duplicates;
      stats.quarantined += quarantined;
      stats.batches += 1;
      stats.row_fallbacks += fell_back;
      stats.position = checkpoint;
    }
    if (quarantined > 0) {
      Log()->warn("shipper: {} record(s) quarantined in batch ending at {}", quarantined,
                  checkpoint);
    }
    if (processed) *processed = items.size();
    return true;
  } catch (const PgError& e) {
    why = "database: " + std::string(e.what());
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (watchdog.fired()) {
    why = "database did not answer within " + std::to_string(opts.io_timeout_ms) +
          " ms; connection dropped";
  }
  Reset();
  Fail(why, error);
  return false;
}

void Shipper::Impl::Run(std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  auto sleep = [&](uint32_t ms) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, stop, std::chrono::milliseconds(ms), [] { return false; });
  };
  // On stop, a batch in flight gets a moment to commit; against a frozen
  // database it is cut (and shipped again by the next start, exactly once
  // since its checkpoint did not commit either).
  std::stop_callback hurry(stop,
                           [this] { watchdog.Hurry(std::chrono::milliseconds(kStopGraceMs)); });
  const uint32_t base = std::max<uint32_t>(cfg.database.retry_ms, 1);
  uint32_t backoff = base;
  while (!stop.stop_requested()) {
    size_t n = 0;
    std::string error;
    if (!RunOnce(cfg.database.batch_size, &error, &n)) {
      Log()->warn("shipper: {}; retrying in {} ms", error, backoff);
      sleep(backoff);
      backoff = std::min(backoff * 2, std::max(opts.max_backoff_ms, base));
      continue;
    }
    backoff = base;
    if (n == 0) sleep(opts.idle_poll_ms);
  }
}

Shipper::Shipper(const Config& cfg, const Keyring& keyring, ShipperOptions opts)
    : impl_(std::make_unique<Impl>(cfg, keyring, std::move(opts))) {}

Shipper::~Shipper() = default;

bool Shipper::RunOnce(size_t max_records, std::string* error, size_t* processed) {
  return impl_->RunOnce(max_records, error, processed);
}

void Shipper::Run(std::stop_token stop) { impl_->Run(stop); }

ShipperStats Shipper::stats() const {
  std::lock_guard<std::mutex> lock(impl_->stats_mu);
  return impl_->stats;
}

}  // namespace callvault
