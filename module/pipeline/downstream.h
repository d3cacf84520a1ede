// A reader of the journal that ships records somewhere else (PostgreSQL,
// analytics).  Each keeps its own durable position, so a slow or dead one
// never holds back the others, the journal writer or the call path.
#pragma once

#include <optional>
#include <stop_token>

#include "module/journal/journal.h"
#include "module/pipeline/stats.h"

namespace callvault {

class Downstream {
 public:
  virtual ~Downstream() = default;
  virtual void Run(std::stop_token stop) = 0;
  // The oldest journal position it still needs; nullopt while unknown (then
  // nothing may be dropped on its behalf).  Called from other threads.
  virtual std::optional<JournalPosition> NeededFrom() const = 0;
  virtual void Stats(const StatFn& fn) const = 0;
};

}  // namespace callvault
