// JSON Lines file sink with rotation by size and by age.
//
// Lines are buffered and written + fdatasync'ed on Flush() (or when the
// buffer fills), and counted as written only then.  Before a line would take
// the file past max_bytes, or once the file is older than max_age_s, the
// file is rotated: path.<keep-1> -> path.<keep> ... path -> path.1 (newest
// is .1; the oldest beyond `keep` is deleted).  A file never exceeds
// max_bytes unless a single line is longer than that.  Files are created
// 0640: events are pseudonymised, and a consumer group may read them.
//
// If the file cannot be opened or written, lines stay buffered up to
// max_pending_bytes (retried on each Flush), beyond which new lines are
// dropped and counted.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "module/analytics/sink.h"

namespace callvault {

struct JsonlSinkOptions {
  std::string path;
  uint64_t max_bytes = 64ull << 20;
  uint32_t max_age_s = 3600;
  uint32_t keep = 10;                     // rotated files kept
  size_t buffer_bytes = 1u << 20;         // forces a flush when reached
  size_t max_pending_bytes = 16u << 20;   // bound while the file is unwritable
};

class JsonlFileSink : public AnalyticsSink {
 public:
  // Opens (creating) the file now so that a bad path fails at start-up.
  static std::unique_ptr<JsonlFileSink> Open(const JsonlSinkOptions& options, std::string* error);
  ~JsonlFileSink() override;

  bool Write(const std::string& json_line) override;
  void Flush() override;
  std::string_view kind() const override { return "jsonl"; }

 private:
  explicit JsonlFileSink(const JsonlSinkOptions& options);
  bool OpenFile(std::string* error);
  void Rotate();
  bool Sync();

  JsonlSinkOptions options_;
  int fd_ = -1;
  uint64_t size_ = 0;           // bytes in the current file
  int64_t opened_at_s_ = 0;     // birth time of the current file (wall clock)
  std::string buffer_;          // whole lines, each ending in '\n'
  uint64_t buffer_lines_ = 0;
  uint64_t unsynced_lines_ = 0;  // written to the fd, not yet fdatasync'ed
};

}  // namespace callvault
