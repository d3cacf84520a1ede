// Everything behind the hook: config, keys, the capture ring, the consumer
// thread and the journal's downstreams.  module.cpp is a thin C shell over it.
#pragma once

#include <memory>
#include <string>

#include "module/capture/capture_ring.h"
#include "module/pipeline/stats.h"

namespace callvault {

class Pipeline {
 public:
  // On failure returns nullptr, sets *error (naming file and key) and *code
  // to a CV_ERR_* value.
  static std::unique_ptr<Pipeline> Open(const std::string& config_path, std::string* error,
                                        int* code);
  ~Pipeline();  // stops the threads after a final drain and checkpoint

  // The hook's only dependency; valid for the pipeline's lifetime.
  CaptureRing* ring() const;

  // Re-reads and validates the config.  node_id, capture and journal settings
  // cannot change while running (refused with an error); log settings apply
  // at once.
  bool Reload(std::string* error);
  void Stats(const StatFn& fn) const;

 private:
  struct Impl;
  explicit Pipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace callvault
