// The consumer's crash checkpoint: how far into the capture ring everything
// is durable, where the journal ended at that moment, and the call tracker's
// state.  It is what lets a restarted module resume exactly where the crashed
// one was, without losing or duplicating a CDR.
//
// The tracker snapshot holds numbers and Call-IDs, so the file is sealed with
// AES-256-GCM under a fresh data key wrapped by the active KEK, and replaced
// atomically (write, fsync, rename, fsync dir): a crash mid-write leaves the
// previous checkpoint intact.
#pragma once

#include <cstdint>
#include <string>

#include "module/crypto/keyring.h"
#include "module/journal/journal.h"

namespace callvault {

struct Checkpoint {
  uint32_t ring_generation = 0;
  uint64_t ring_pos = 0;         // every message below this is reflected below
  JournalPosition journal_end;   // journal end when the checkpoint was taken
  std::string tracker_snapshot;  // CallTracker::Serialize()
};

bool WriteCheckpoint(const std::string& path, const std::string& node_id, const Keyring& keyring,
                     const Checkpoint& cp, std::string* error);
// *found is false (and true is returned) when there is no checkpoint yet.
bool ReadCheckpoint(const std::string& path, const std::string& node_id, const Keyring& keyring,
                    Checkpoint* cp, bool* found, std::string* error);

}  // namespace callvault
