// The capture ring: a bounded multi-producer, single-consumer queue of SIP
// messages in POSIX shared memory.
//
// Why shared memory: the ring outlives a crash of the host process, so every
// message whose hook call returned is still there for the next open to
// consume.  Shared memory is not disk: nothing identifying is persisted in
// clear.
//
// Algorithm: Vyukov's bounded queue.  Slot i carries a sequence word; a
// producer claims position p by CAS on enqueue_pos when slot(p).seq == p,
// copies, then publishes with seq = p + 1 (release).  The consumer reads
// published slots ahead of release_pos and frees them only when told
// (ReleaseUpTo), after everything derived from them is durable: that is what
// makes a crash lose nothing.
//
// Invariants:
//  - release_pos <= consumer read position <= enqueue_pos.
//  - slot(p).seq == p       : free for the producer at p
//    slot(p).seq == p + 1   : published (or marked torn), readable at p
//    slot(p).seq == p + N   : released, free for the producer at p + N
//  - Push never blocks, allocates, locks or makes a syscall; a full ring or an
//    oversized message is counted and refused.
//  - One consumer per ring (enforced by the pipeline with a lock file).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "include/callvault/module.h"
#include "module/capture/captured_message.h"

namespace callvault {

struct RingGeometry {
  uint32_t slots = 32768;     // power of two
  uint32_t slot_bytes = 4096;  // header + payload; multiple of 64
};

struct RingOpenResult {
  bool created = false;       // a new ring (new generation) was made
  uint64_t unconsumed = 0;    // messages waiting from a previous process
  uint64_t torn = 0;          // claimed by a producer that died mid-copy
};

class CaptureRing {
 public:
  // Attaches to the ring if it exists with the same geometry, otherwise
  // creates it.  A ring with different geometry is refused while it still
  // holds unconsumed messages (it would lose them), and replaced if empty.
  static std::unique_ptr<CaptureRing> Open(const std::string& shm_name, RingGeometry geometry,
                                           RingOpenResult* result, std::string* error);
  ~CaptureRing();

  CaptureRing(const CaptureRing&) = delete;
  CaptureRing& operator=(const CaptureRing&) = delete;

  // Producer side: the hook.  Returns CV_OK, CV_DROPPED_FULL or CV_DROPPED_TOO_LARGE.
  int Push(const cv_msg_meta& meta, const void* bytes, size_t len) noexcept;

  // Consumer side.  Fills *out with the message at pos if it is published.
  // Torn slots are returned with empty bytes and CaptureInfo::flags == kTornFlag.
  bool Peek(uint64_t pos, CapturedMessage* out) const;
  // Frees every slot below pos for producers.
  void ReleaseUpTo(uint64_t pos);

  uint64_t release_pos() const;
  uint64_t enqueue_pos() const;
  uint32_t generation() const;
  uint64_t dropped_full() const;
  uint64_t dropped_too_large() const;
  size_t max_message_bytes() const;
  const RingGeometry& geometry() const { return geometry_; }

  // Removes the shared-memory object (tests and explicit decommissioning only).
  static void Unlink(const std::string& shm_name);

  static constexpr uint16_t kTornFlag = 0x8000;

 private:
  struct Header;
  struct Slot;
  CaptureRing(void* base, size_t bytes, RingGeometry geometry);
  Slot* SlotAt(uint64_t pos) const;
  uint64_t RecoverTorn();

  void* base_;
  size_t bytes_;
  RingGeometry geometry_;
  Header* header_;
  uint64_t mask_;
};

}  // namespace callvault
