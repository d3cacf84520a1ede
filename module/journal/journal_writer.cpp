// JournalWriter: appends sealed records to the newest segment, rolls to a new
// segment (fresh data key) at segment_bytes, and enforces the disk bound.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "module/journal/journal.h"
#include "module/journal/segment_format.h"
#include "module/util/log.h"

namespace callvault {

using namespace journal_format;

namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// What the writer found at the end of the newest segment when it opened.
enum class TailState { kClean, kTorn, kDamaged };

}  // namespace

struct JournalWriter::Impl {
  JournalOptions opts;
  uint32_t kek_version = 0;
  SecretBytes kek;  // the active KEK, for wrapping new segments' data keys
  int lock_fd = -1;

  mutable std::mutex mu;
  // The segment being written.  Invariant: every byte below file_size is on
  // the file (not necessarily synced); buffer holds the bytes that follow.
  uint64_t segment = 0;
  int fd = -1;
  std::unique_ptr<Aead> aead;
  uint64_t file_size = 0;
  std::string buffer;
  std::map<uint64_t, uint64_t> older_sizes;  // finished segments -> bytes
  uint64_t older_bytes = 0;
  uint64_t torn_tail = 0;

  ~Impl() {
    if (fd >= 0) ::close(fd);
    if (lock_fd >= 0) ::close(lock_fd);  // releases the flock
  }

  std::string Where(uint64_t n) const { return "journal segment " + SegmentPath(opts.dir, n); }
  uint64_t BytesLocked() const { return older_bytes + file_size + buffer.size(); }

  // Creates segment n with a fresh data key; the header goes through a
  // temporary name so a crash never leaves a segment with a torn header.
  bool CreateSegment(uint64_t n, int* out_fd, std::unique_ptr<Aead>* out_aead,
                     std::string* error) const {
    SecretBytes data_key = SecretBytes::Random(kDataKeyBytes);
    SegmentHeader h;
    h.segment = n;
    h.kek_version = kek_version;
    if (!WrapKey(kek, data_key, WrapAad(n), &h.wrapped_key)) {
      *error = Where(n) + ": cannot wrap the data key";
      return false;
    }
    std::string header = EncodeHeader(h);
    std::string path = SegmentPath(opts.dir, n);
    std::string tmp = opts.dir + "/." + SegmentFileName(n) + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      *error = Errno(Where(n) + ": cannot create");
      return false;
    }
    if (!PwriteAll(fd, header.data(), header.size(), 0) || ::fsync(fd) != 0 ||
        ::rename(tmp.c_str(), path.c_str()) != 0 || !FsyncDir(opts.dir)) {
      *error = Errno(Where(n) + ": cannot create");
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    *out_fd = fd;
    *out_aead = Aead::Create(data_key);
    return true;
  }

  // Moves the buffer to the file.  On failure cuts off whatever part of it
  // reached the file, so the file still ends on a record boundary.
  bool WriteBuffer(std::string* error) {
    if (buffer.empty()) return true;
    if (!PwriteAll(fd, buffer.data(), buffer.size(), file_size)) {
      *error = Errno(Where(segment) + ": write failed");
      if (::ftruncate(fd, static_cast<off_t>(file_size)) != 0) {
        *error += "; cutting off the partial write failed too";
      }
      return false;
    }
    file_size += buffer.size();
    buffer.clear();
    return true;
  }

  bool SyncLocked(std::string* error) {
    if (!WriteBuffer(error)) return false;
    if (::fdatasync(fd) != 0) {
      *error = Errno(Where(segment) + ": fdatasync failed");
      return false;
    }
    return true;
  }

  // Finishes the current segment (written and synced) and starts the next.
  // On failure the writer stays on the current segment.
  bool Roll(std::string* error) {
    if (!SyncLocked(error)) return false;
    int new_fd = -1;
    std::unique_ptr<Aead> new_aead;
    if (!CreateSegment(segment + 1, &new_fd, &new_aead, error)) return false;
    ::close(fd);
    older_sizes[segment] = file_size;
    older_bytes += file_size;
    segment += 1;
    fd = new_fd;
    aead = std::move(new_aead);
    file_size = kHeaderBytes;
    return true;
  }

  // Walks the frames of the newest segment from the header on.  *good_end is
  // the end of the last whole record.
  bool ScanTail(uint64_t size, uint64_t* good_end, TailState* state, std::string* error) const {
    uint64_t pos = kHeaderBytes;
    char frame_bytes[kFrameBytes];
    while (pos < size) {
      size_t got = 0;
      if (!PreadUpTo(fd, frame_bytes, kFrameBytes, pos, &got)) {
        *error = Errno(Where(segment) + ": read failed");
        return false;
      }
      Frame frame;
      if (got == kFrameBytes && DecodeFrame(frame_bytes, &frame) == FrameCheck::kOk) {
        if (pos + kFrameBytes + frame.sealed_len > size) break;  // cut short: torn
        pos += kFrameBytes + frame.sealed_len;
        continue;
      }
      if (got < kFrameBytes) break;  // a partial frame can only be the tail
      // A damaged frame is torn only if nothing but zeros follows (a crash
      // can extend a file before its data reaches the disk).
      bool zeros = false;
      if (!AllZero(pos, size, &zeros, error)) return false;
      if (!zeros) {
        *good_end = pos;
        *state = TailState::kDamaged;
        return true;
      }
      break;
    }
    *good_end = pos;
    *state = pos == size ? TailState::kClean : TailState::kTorn;
    return true;
  }

  bool AllZero(uint64_t from, uint64_t to, bool* zeros, std::string* error) const {
    std::string chunk(64 << 10, '\0');
    for (uint64_t at = from; at < to; at += chunk.size()) {
      size_t got = 0;
      size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), to - at));
      if (!PreadUpTo(fd, chunk.data(), want, at, &got)) {
        *error = Errno(Where(segment) + ": read failed");
        return false;
      }
      for (size_t i = 0; i < got; ++i) {
        if (chunk[i] != 0) {
          *zeros = false;
          return true;
        }
      }
    }
    *zeros = true;
    return true;
  }

  // Opens the newest segment n for appending, dealing with its tail.
  bool OpenNewest(uint64_t n, const Keyring& keyring, std::string* error) {
    segment = n;
    std::string path = SegmentPath(opts.dir, n);
    fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || ::fstat(fd, &st) != 0) {
      *error = Errno(Where(n) + ": cannot open");
      return false;
    }
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    std::string header(kHeaderBytes, '\0');
    size_t got = 0;
    SegmentHeader h;
    std::string what;
    if (!PreadUpTo(fd, header.data(), header.size(), 0, &got)) {
      *error = Errno(Where(n) + ": read failed");
      return false;
    }
    header.resize(got);
    if (!DecodeHeader(header, n, &h, &what) || !(aead = OpenDataKey(h, keyring, &what))) {
      *error = Where(n) + ": " + what;
      return false;
    }

    uint64_t good_end = 0;
    TailState state = TailState::kClean;
    if (!ScanTail(size, &good_end, &state, error)) return false;
    file_size = size;
    if (state == TailState::kTorn) {
      if (::ftruncate(fd, static_cast<off_t>(good_end)) != 0 || ::fdatasync(fd) != 0) {
        *error = Errno(Where(n) + ": cannot truncate the torn tail");
        return false;
      }
      torn_tail = size - good_end;
      file_size = good_end;
      Log()->warn("journal segment {}: truncated a torn tail of {} bytes at offset {}", path,
                  torn_tail, good_end);
    } else if (state == TailState::kDamaged) {
      Log()->error(
          "journal segment {} offset {}: damaged record frame; leaving the segment for readers "
          "to report and continuing in a new segment",
          path, good_end);
      return Roll(error);
    }
    return true;
  }
};

JournalWriter::JournalWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

JournalWriter::~JournalWriter() {
  std::string error;
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (!impl_->buffer.empty() && !impl_->SyncLocked(&error)) {
    Log()->error("{} (at close; {} buffered bytes lost)", error, impl_->buffer.size());
  }
}

std::unique_ptr<JournalWriter> JournalWriter::Open(const JournalOptions& opts,
                                                   const Keyring& keyring, std::string* error) {
  const std::string& dir = opts.dir;
  if (dir.empty()) {
    *error = "journal: no directory configured";
    return nullptr;
  }
  if (opts.segment_bytes < 4096 || opts.max_bytes < opts.segment_bytes ||
      opts.alarm_percent < 1 || opts.alarm_percent > 100) {
    *error = "journal " + dir +
             ": bad options (need segment_bytes >= 4096, max_bytes >= segment_bytes, "
             "alarm_percent 1..100)";
    return nullptr;
  }
  const SecretBytes* kek = keyring.active_kek();
  if (kek == nullptr) {
    *error = "journal " + dir + ": the keyring has no active KEK";
    return nullptr;
  }
  std::error_code ec;
  if (std::filesystem::create_directories(dir, ec)) {
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  }
  if (ec) {
    *error = "journal " + dir + ": cannot create directory: " + ec.message();
    return nullptr;
  }

  auto impl = std::make_unique<Impl>();
  impl->opts = opts;
  impl->kek_version = keyring.active_kek_version();
  impl->kek = *kek;
  const std::string lock_path = dir + "/writer.lock";
  impl->lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (impl->lock_fd < 0) {
    *error = Errno("journal " + dir + ": cannot open " + lock_path);
    return nullptr;
  }
  if (::flock(impl->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    *error = errno == EWOULDBLOCK ? "journal " + dir + ": in use by another writer (" +
                                        lock_path + " is locked)"
                                  : Errno("journal " + dir + ": cannot lock " + lock_path);
    return nullptr;
  }

  std::vector<uint64_t> segments;
  if (!ListSegments(dir, &segments, error)) return nullptr;
  // Leftovers of a segment creation cut short by a crash; never renamed, so
  // never a segment.
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(".seg-") && name.ends_with(".cvj.tmp")) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    struct stat st;
    if (::stat(SegmentPath(dir, segments[i]).c_str(), &st) != 0) {
      *error = Errno("journal segment " + SegmentPath(dir, segments[i]) + ": cannot stat");
      return nullptr;
    }
    impl->older_sizes[segments[i]] = static_cast<uint64_t>(st.st_size);
    impl->older_bytes += static_cast<uint64_t>(st.st_size);
  }
  if (segments.empty()) {
    impl->segment = 1;
    impl->file_size = kHeaderBytes;
    if (!impl->CreateSegment(1, &impl->fd, &impl->aead, error)) return nullptr;
  } else if (!impl->OpenNewest(segments.back(), keyring, error)) {
    return nullptr;
  }
  return std::unique_ptr<JournalWriter>(new JournalWriter(std::move(impl)));
}

bool JournalWriter::Append(RecordType type, std::string_view payload, JournalPosition* at,
                           std::string* error) {
  Impl& w = *impl_;
  std::lock_guard<std::mutex> lock(w.mu);
  if (payload.size() > kMaxPayloadBytes) {
    *error = "journal " + w.opts.dir + ": record of " + std::to_string(payload.size()) +
             " bytes exceeds the 16 MiB record limit";
    return false;
  }
  const uint64_t record = kFrameBytes + Aead::kOverhead + payload.size();
  const uint64_t used = w.file_size + w.buffer.size();
  // A segment always takes at least one record, however large.
  const bool roll = used > kHeaderBytes && (used + record > w.opts.segment_bytes ||
                                            w.aead->encryptions() >= Aead::kMaxEncryptions);
  const uint64_t need = record + (roll ? kHeaderBytes : 0);
  if (w.BytesLocked() + need > w.opts.max_bytes) {
    *error = "journal " + w.opts.dir + ": full: " + std::to_string(need) +
             " more bytes would exceed max_bytes " + std::to_string(w.opts.max_bytes) +
             " (in use " + std::to_string(w.BytesLocked()) + ")";
    return false;
  }
  if (roll && !w.Roll(error)) return false;

  const uint64_t offset = w.file_size + w.buffer.size();
  const auto t = static_cast<uint8_t>(type);
  const size_t start = w.buffer.size();
  w.buffer.resize(start + kFrameBytes);
  if (!w.aead->Encrypt(payload, RecordAad(w.segment, offset, t), &w.buffer)) {
    w.buffer.resize(start);
    *error = w.Where(w.segment) + ": cannot seal the record";
    return false;
  }
  EncodeFrame(static_cast<uint32_t>(w.buffer.size() - start - kFrameBytes), t,
              w.buffer.data() + start);
  *at = JournalPosition{w.segment, offset};
  return true;
}

bool JournalWriter::Sync(std::string* error) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->SyncLocked(error);
}

JournalPosition JournalWriter::end() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return {impl_->segment, impl_->file_size + impl_->buffer.size()};
}

uint64_t JournalWriter::bytes_on_disk() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->BytesLocked();
}

bool JournalWriter::over_alarm() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  // In 128-bit arithmetic: max_bytes * percent can pass 2^64.
  return static_cast<unsigned __int128>(impl_->BytesLocked()) * 100 >
         static_cast<unsigned __int128>(impl_->opts.max_bytes) * impl_->opts.alarm_percent;
}

uint64_t JournalWriter::torn_tail_bytes() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->torn_tail;
}

void JournalWriter::DropSegmentsBefore(uint64_t segment) {
  Impl& w = *impl_;
  std::lock_guard<std::mutex> lock(w.mu);
  bool dropped = false;
  for (auto it = w.older_sizes.begin(); it != w.older_sizes.end() && it->first < segment &&
                                        it->first != w.segment;) {
    std::string path = SegmentPath(w.opts.dir, it->first);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      Log()->error("{}: cannot delete: {}", w.Where(it->first), std::strerror(errno));
      break;  // keep order: never leave a gap before a segment still present
    }
    w.older_bytes -= it->second;
    it = w.older_sizes.erase(it);
    dropped = true;
  }
  if (dropped && !FsyncDir(w.opts.dir)) {
    Log()->warn("journal {}: fsync of the directory after dropping segments failed", w.opts.dir);
  }
}

}  // namespace callvault
