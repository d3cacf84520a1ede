#include "module/store/data_keys.h"

#include <cstdio>

namespace callvault {
namespace {

std::string NameKey(const DataKeyRow& row) {
  return "data key " + row.key_id + " (trunk '" + row.trunk + "', " + row.period + ")";
}

}  // namespace

std::string RandomUuid() {
  SecretBytes b = SecretBytes::Random(16);
  uint8_t* u = b.data();
  u[6] = static_cast<uint8_t>((u[6] & 0x0f) | 0x40);
  u[8] = static_cast<uint8_t>((u[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
                u[15]);
  return out;
}

std::string DataKeyStore::WrapAad(const std::string& key_id, const std::string& period,
                                  const std::string& trunk) {
  // key_id and period have fixed formats, so trunk (free text) goes last and
  // the concatenation stays unambiguous.
  return "dk:" + key_id + ":" + period + ":" + trunk;
}

DataKey* DataKeyStore::Find(const std::string& trunk, const std::string& period) {
  auto it = by_trunk_period_.find({trunk, period});
  return it == by_trunk_period_.end() ? nullptr : it->second;
}

const DataKey* DataKeyStore::FindById(const std::string& key_id) const {
  auto it = by_id_.find(key_id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

DataKey* DataKeyStore::Adopt(const DataKeyRow& row, std::string* error) {
  if (auto known = by_id_.find(row.key_id); known != by_id_.end()) return known->second.get();
  if (row.state != "active") {
    *error = NameKey(row) + " is " + row.state;
    return nullptr;
  }
  const SecretBytes* kek = keyring_.kek(row.kek_version);
  if (kek == nullptr) {
    *error = NameKey(row) + " is wrapped under KEK version " + std::to_string(row.kek_version) +
             ", which the keyring does not have";
    return nullptr;
  }
  SecretBytes raw;
  if (!UnwrapKey(*kek, row.wrapped, WrapAad(row.key_id, row.period, row.trunk), &raw)) {
    *error = NameKey(row) + ": unwrap under KEK version " + std::to_string(row.kek_version) +
             " failed (wrong keyring or altered row)";
    return nullptr;
  }
  auto key = std::make_unique<DataKey>();
  key->aead = Aead::Create(raw);
  if (key->aead == nullptr) {
    *error = NameKey(row) + " has a wrong length";
    return nullptr;
  }
  key->key_id = row.key_id;
  key->trunk = row.trunk;
  key->period = row.period;
  key->kek_version = row.kek_version;
  DataKey* k = key.get();
  by_trunk_period_[{k->trunk, k->period}] = k;
  by_id_[k->key_id] = std::move(key);
  return k;
}

bool DataKeyStore::NewRow(const std::string& trunk, const std::string& period, DataKeyRow* row,
                          std::string* error) const {
  const uint32_t version = keyring_.active_kek_version();
  const SecretBytes* kek = keyring_.kek(version);
  if (kek == nullptr) {
    *error = "keyring has no active KEK";
    return false;
  }
  row->key_id = RandomUuid();
  row->trunk = trunk;
  row->period = period;
  row->kek_version = version;
  row->state = "active";
  const SecretBytes raw = SecretBytes::Random(Aead::kKeyBytes);
  if (!WrapKey(*kek, raw, WrapAad(row->key_id, period, trunk), &row->wrapped)) {
    *error = "cannot wrap a new data key for trunk '" + trunk + "', " + period;
    return false;
  }
  return true;
}

}  // namespace callvault
