#include "module/store/key_rotation.h"

#include <pqxx/pqxx>

#include "module/store/data_keys.h"
#include "module/store/pg_conn.h"

namespace callvault {

bool RewrapDataKeys(pqxx::connection_base& conn, const Keyring& keyring, RewrapResult* result,
                    std::string* error) {
  const uint32_t active = keyring.active_kek_version();
  const SecretBytes* new_kek = keyring.kek(active);
  if (new_kek == nullptr) {
    *error = "keyring has no active KEK";
    return false;
  }
  *result = RewrapResult{};
  result->kek_version = active;
  try {
    pqxx::work tx(conn);
    const pqxx::result rows = tx.exec(
        "SELECT key_id::text, trunk, period, kek_version, state, wrapped FROM cdr.data_keys "
        "ORDER BY key_id FOR UPDATE");
    for (const auto& row : rows) {
      const std::string key_id = row[0].as<std::string>();
      const std::string trunk = row[1].as<std::string>();
      const std::string period = row[2].as<std::string>();
      const uint32_t version = row[3].as<uint32_t>();
      if (row[4].as<std::string>() != "active") {
        ++result->shredded;
        continue;
      }
      if (version == active) {
        ++result->already_current;
        continue;
      }
      const SecretBytes* old_kek = keyring.kek(version);
      if (old_kek == nullptr) {
        *error = "data key " + key_id + " is wrapped under KEK version " + std::to_string(version) +
                 ", which the keyring does not have; nothing was rewrapped";
        return false;
      }
      const std::string aad = DataKeyStore::WrapAad(key_id, period, trunk);
      SecretBytes raw;
      std::string wrapped;
      if (!UnwrapKey(*old_kek, pqxx::binarystring(row[5]).str(), aad, &raw)) {
        *error = "data key " + key_id + ": unwrap under KEK version " + std::to_string(version) +
                 " failed (wrong keyring or altered row); nothing was rewrapped";
        return false;
      }
      if (!WrapKey(*new_kek, raw, aad, &wrapped)) {
        *error = "data key " + key_id + ": wrap under KEK version " + std::to_string(active) +
                 " failed; nothing was rewrapped";
        return false;
      }
      tx.exec_params(
          "UPDATE cdr.data_keys SET kek_version = $2, wrapped = $3, rotated_at = now() "
          "WHERE key_id = $1",
          key_id, active, pqxx::binarystring(wrapped));
      ++result->rewrapped;
    }
    tx.commit();
    return true;
  } catch (const std::exception& e) {
    *error = "database: " + RedactDbError(e.what()) + "; nothing was rewrapped";
    return false;
  }
}

}  // namespace callvault
