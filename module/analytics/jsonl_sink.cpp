#include "module/analytics/jsonl_sink.h"

#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "module/util/log.h"

namespace callvault {
namespace {

int64_t NowSeconds() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

JsonlFileSink::JsonlFileSink(const JsonlSinkOptions& options) : options_(options) {}

std::unique_ptr<JsonlFileSink> JsonlFileSink::Open(const JsonlSinkOptions& options,
                                                   std::string* error) {
  // The directory is part of the configured path: create it (private) like
  // the journal's, rather than refusing a fresh install.
  std::error_code ec;
  const auto dir = std::filesystem::path(options.path).parent_path();
  if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      *error = dir.string() + ": cannot create directory: " + ec.message();
      return nullptr;
    }
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  }
  std::unique_ptr<JsonlFileSink> sink(new JsonlFileSink(options));
  if (!sink->OpenFile(error)) return nullptr;
  return sink;
}

JsonlFileSink::~JsonlFileSink() {
  Flush();
  CountDropped(buffer_lines_ + unsynced_lines_);
  if (fd_ >= 0) ::close(fd_);
}

bool JsonlFileSink::OpenFile(std::string* error) {
  fd_ = ::open(options_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    *error = options_.path + ": " + std::strerror(errno);
    return false;
  }
  struct statx stx;
  size_ = 0;
  opened_at_s_ = NowSeconds();
  if (::statx(fd_, "", AT_EMPTY_PATH, STATX_SIZE | STATX_BTIME, &stx) == 0) {
    size_ = stx.stx_size;
    // An existing file keeps aging from its birth, so restarts do not
    // postpone age rotation forever.
    if ((stx.stx_mask & STATX_BTIME) && size_ > 0) opened_at_s_ = stx.stx_btime.tv_sec;
  }
  return true;
}

void JsonlFileSink::Rotate() {
  if (fd_ >= 0) {
    Sync();
    ::close(fd_);
    fd_ = -1;
  }
  const std::string& p = options_.path;
  if (options_.keep == 0) {
    ::unlink(p.c_str());
  } else {
    ::unlink((p + "." + std::to_string(options_.keep)).c_str());
    for (uint32_t i = options_.keep; i > 1; --i) {
      ::rename((p + "." + std::to_string(i - 1)).c_str(), (p + "." + std::to_string(i)).c_str());
    }
    if (::rename(p.c_str(), (p + ".1").c_str()) != 0 && errno != ENOENT) CountError();
  }
  std::string error;
  if (!OpenFile(&error)) {
    CountError();
    Log()->warn("analytics jsonl sink: cannot reopen after rotation: {}", error);
  }
}

bool JsonlFileSink::Sync() {
  if (unsynced_lines_ == 0) return true;
  if (::fdatasync(fd_) != 0) {
    // The kernel may have lost these pages: they are not known written.
    CountError();
    CountDropped(unsynced_lines_);
    unsynced_lines_ = 0;
    return false;
  }
  CountWritten(unsynced_lines_);
  unsynced_lines_ = 0;
  return true;
}

bool JsonlFileSink::Write(const std::string& json_line) {
  if (buffer_.size() + json_line.size() + 1 > options_.max_pending_bytes) {
    CountRefused();
    return false;
  }
  buffer_ += json_line;
  buffer_ += '\n';
  ++buffer_lines_;
  if (buffer_.size() >= options_.buffer_bytes) Flush();
  return true;
}

void JsonlFileSink::Flush() {
  if (fd_ < 0) {
    std::string error;
    if (!OpenFile(&error)) {
      CountError();
      return;
    }
  }
  if (size_ > 0 && NowSeconds() - opened_at_s_ >= static_cast<int64_t>(options_.max_age_s)) {
    Rotate();
    if (fd_ < 0) return;
  }
  size_t done = 0;  // bytes of buffer_ written
  while (done < buffer_.size()) {
    // The longest run of whole lines that fits in what is left of the file.
    const uint64_t room = size_ < options_.max_bytes ? options_.max_bytes - size_ : 0;
    size_t end = done;
    uint64_t lines = 0;
    while (end < buffer_.size()) {
      const size_t nl = buffer_.find('\n', end);
      if (nl + 1 - done > room) {
        // A line longer than max_bytes goes alone into a fresh file.
        if (lines == 0 && size_ == 0) {
          end = nl + 1;
          lines = 1;
        }
        break;
      }
      end = nl + 1;
      ++lines;
    }
    if (lines == 0) {  // nothing fits: start a new file
      Rotate();
      if (fd_ < 0) break;
      continue;
    }
    const ssize_t w = ::write(fd_, buffer_.data() + done, end - done);
    if (w < 0 && errno == EINTR) continue;
    if (w != static_cast<ssize_t>(end - done)) {
      // Short or failed write: keep the rest buffered for the next Flush.
      // Whole lines written so far are still accounted below.
      CountError();
      if (w > 0) {
        const size_t upto = done + static_cast<size_t>(w);
        for (size_t i = done; i < upto; ++i) {
          if (buffer_[i] == '\n') {
            --buffer_lines_;
            ++unsynced_lines_;
          }
        }
        size_ += static_cast<uint64_t>(w);
        done = upto;
      }
      break;
    }
    size_ += end - done;
    buffer_lines_ -= lines;
    unsynced_lines_ += lines;
    done = end;
  }
  buffer_.erase(0, done);
  Sync();
}

}  // namespace callvault
