// What the capture ring hands to the background pipeline for one SIP message:
// the host's meta as copied by the hook, plus the ring position that makes the
// message (and every record derived from it) stable across a crash replay.
#pragma once

#include <cstdint>
#include <string_view>

#include "include/callvault/module.h"

namespace callvault {

struct CaptureInfo {
  uint64_t seq = 0;         // ring sequence number, unique within a generation
  uint32_t generation = 0;  // random id of the ring instance (changes when recreated)
  uint8_t direction = CV_DIR_RECEIVED;
  uint8_t transport = CV_TRANSPORT_UDP;
  uint16_t flags = 0;
  cv_addr src{};
  cv_addr dst{};
  int64_t wall_ns = 0;
  int64_t mono_ns = 0;
  std::string_view ingress_trunk;  // empty = unknown
  std::string_view egress_trunk;
};

struct CapturedMessage {
  CaptureInfo info;
  std::string_view bytes;  // valid until the consumer releases the slot
};

}  // namespace callvault
