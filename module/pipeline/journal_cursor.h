// A downstream's durable journal position in a small file, replaced
// atomically (write, fsync, rename), so a restart resumes where the last
// acknowledged record ended.
#pragma once

#include <optional>
#include <string>

#include "module/journal/journal.h"

namespace callvault {

class JournalCursor {
 public:
  explicit JournalCursor(std::string path) : path_(std::move(path)) {}
  // nullopt when there is no cursor yet (start from the journal's beginning);
  // false on an unreadable file.
  bool Load(std::optional<JournalPosition>* pos, std::string* error) const;
  bool Store(const JournalPosition& pos, std::string* error) const;

 private:
  std::string path_;
};

}  // namespace callvault
