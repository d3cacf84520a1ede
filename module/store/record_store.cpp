#include "module/store/record_store.h"

#include <algorithm>

#include <pqxx/pqxx>

#include "module/store/pg_conn.h"

namespace callvault {
namespace {

constexpr char kColumns[] =
    "SELECT record_id::text, node_id, trunk, to_char(call_day, 'YYYY-MM-DD'), retention_class, "
    "legal_basis, to_char(retain_until, 'YYYY-MM-DD'), hold_state, key_id::text, caller_bi, "
    "callee_bi, payload FROM cdr.records ";

RecordRow ToRow(const pqxx::row& r) {
  RecordRow row;
  row.record_id = r[0].as<std::string>();
  row.node_id = r[1].as<std::string>();
  row.trunk = r[2].as<std::string>();
  row.call_day = r[3].as<std::string>();
  row.retention_class = r[4].as<std::string>();
  row.legal_basis = r[5].as<std::string>();
  row.retain_until = r[6].as<std::string>();
  row.hold_state = r[7].as<int>();
  row.key_id = r[8].as<std::string>();
  if (!r[9].is_null()) row.caller_bi = pqxx::binarystring(r[9]).str();
  if (!r[10].is_null()) row.callee_bi = pqxx::binarystring(r[10]).str();
  row.payload = pqxx::binarystring(r[11]).str();
  return row;
}

std::string HexList(const std::vector<std::string>& values) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += ',';
    for (unsigned char c : v) {
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

const char* OrNull(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

}  // namespace

bool RecordStore::Search(NumberField field, const std::vector<std::string>& blind_indexes,
                         const std::string& from_day, const std::string& to_day,
                         std::vector<RecordRow>* rows, std::string* error) {
  rows->clear();
  if (blind_indexes.empty()) return true;
  const std::string column = field == NumberField::kCaller ? "caller_bi" : "callee_bi";
  try {
    pqxx::read_transaction tx(conn_);
    const pqxx::result r = tx.exec_params(
        std::string(kColumns) + "WHERE " + column +
            " IN (SELECT decode(h, 'hex') FROM unnest(string_to_array($1, ',')) AS h) "
            "AND ($2::date IS NULL OR call_day >= $2::date) "
            "AND ($3::date IS NULL OR call_day <= $3::date) "
            "ORDER BY call_day, record_id",
        HexList(blind_indexes), OrNull(from_day), OrNull(to_day));
    for (const auto& row : r) rows->push_back(ToRow(row));
    return true;
  } catch (const std::exception& e) {
    *error = "database: " + RedactDbError(e.what());
    return false;
  }
}

bool RecordStore::Fetch(const std::string& record_id, RecordRow* row, bool* found,
                        std::string* error) {
  std::string id;
  if (!CanonicalUuid(record_id, &id)) {
    *error = "'" + record_id + "' is not a record id (UUID)";
    return false;
  }
  try {
    pqxx::read_transaction tx(conn_);
    const pqxx::result r = tx.exec_params(std::string(kColumns) + "WHERE record_id = $1", id);
    *found = !r.empty();
    if (*found) *row = ToRow(r[0]);
    return true;
  } catch (const std::exception& e) {
    *error = "database: " + RedactDbError(e.what());
    return false;
  }
}

bool RecordStore::Decrypt(const RecordRow& row, Cdr* cdr, std::string* error) {
  const DataKey* key = keys_.FindById(row.key_id);
  std::string why;
  if (key == nullptr) {
    try {
      pqxx::read_transaction tx(conn_);
      const pqxx::result r = tx.exec_params(
          "SELECT trunk, period, kek_version, state, wrapped FROM cdr.data_keys WHERE key_id = $1",
          row.key_id);
      if (r.empty()) {
        why = "data key " + row.key_id + " does not exist";
      } else {
        DataKeyRow k;
        k.key_id = row.key_id;
        k.trunk = r[0][0].as<std::string>();
        k.period = r[0][1].as<std::string>();
        k.kek_version = r[0][2].as<uint32_t>();
        k.state = r[0][3].as<std::string>();
        if (!r[0][4].is_null()) k.wrapped = pqxx::binarystring(r[0][4]).str();
        key = keys_.Adopt(k, &why);
      }
    } catch (const std::exception& e) {
      why = "database: " + RedactDbError(e.what());
    }
  }
  if (key == nullptr) {
    *error = "record " + row.record_id + ": " + why;
    return false;
  }
  return RecordCodec::Open(row, *key, cdr, error);
}

std::vector<std::string> SearchRegions(const Config& cfg) {
  std::vector<std::string> regions = {TrunkConfig{}.default_region};
  for (const auto& t : cfg.trunks) {
    if (std::find(regions.begin(), regions.end(), t.default_region) == regions.end()) {
      regions.push_back(t.default_region);
    }
  }
  return regions;
}

}  // namespace callvault
