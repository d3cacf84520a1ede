// Shared set-up of the store's database tests: one private cluster per test
// process with login roles for each group role, a fresh migrated database
// per test, a journal of generated CDRs and a config pointing at both.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "module/cdr/cdr.h"
#include "module/config/config.h"
#include "module/crypto/keyring.h"
#include "module/store/shipper.h"
#include "tests/module/store/pg_cluster.h"

namespace callvault::testing {

inline constexpr char kWriterPassword[] = "writer-pw";
inline constexpr char kOpsPassword[] = "ops-pw";
inline constexpr char kReaderPassword[] = "reader-pw";
inline constexpr char kNobodyPassword[] = "nobody-pw";

// The cluster, started on first use, stopped at exit.
PgCluster& Cluster();

// CDR number i: record id, numbers and times derived from i only.
Cdr MakeCdr(int i, const std::string& trunk = "carrier-a");
std::string RecordId(int i);
std::string CallerOf(int i);  // international form, e.g. "+919840000007"
std::string CalleeOf(int i);  // national form on an IN trunk, e.g. "09810000007"

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Appends CDRs [from, from+count) to the journal (and syncs).
  void Journal(int from, int count, const std::string& trunk = "carrier-a");
  void JournalRaw(const std::string& payload);
  // Runs RunOnce until the journal is drained; fails the test on an error.
  void Drain(Shipper& s);
  int64_t Count(const std::string& sql) const;
  std::string Writer() const { return Cluster().TlsConnInfo(db_, "cv_writer", kWriterPassword); }
  std::string Reader() const { return Cluster().TlsConnInfo(db_, "cv_reader", kReaderPassword); }

  std::string db_;
  std::string tmp_;
  Config cfg_;
  Keyring keyring_;
};

}  // namespace callvault::testing
