#include "module/pipeline/journal_cursor.h"

#include <fstream>

#include "module/util/file_io.h"

namespace callvault {

bool JournalCursor::Load(std::optional<JournalPosition>* pos, std::string* error) const {
  std::ifstream in(path_);
  if (!in) {
    pos->reset();
    return true;
  }
  std::string text;
  std::getline(in, text);
  JournalPosition p;
  if (!JournalPosition::Parse(text, &p)) {
    *error = "cursor " + path_ + ": not a journal position";
    return false;
  }
  *pos = p;
  return true;
}

bool JournalCursor::Store(const JournalPosition& pos, std::string* error) const {
  if (!WriteFileAtomically(path_, pos.ToString() + "\n", 0600, error)) {
    *error = "cursor " + *error;
    return false;
  }
  return true;
}

}  // namespace callvault
