// JournalReader: walks segments in order, decrypting records; follows a live
// writer; reports every problem with its position and never skips unasked.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "module/journal/journal.h"
#include "module/journal/segment_format.h"

namespace callvault {

using namespace journal_format;

struct JournalReader::Impl {
  // What Skip() must do about the problem Next() last reported.
  enum class Pending {
    kNone,
    kRecord,   // framing intact: step over pending_bytes
    kFrame,    // the frame is damaged: search for the next record that verifies
    kSegment,  // nothing more in this segment can be trusted
  };

  std::string dir;
  Keyring keyring;

  uint64_t segment = 0;  // 0: no segment open (the journal had none yet)
  int fd = -1;
  std::unique_ptr<Aead> aead;
  std::string header_error;  // non-empty: the segment's header is unusable
  bool final = false;        // a later segment exists, so this one is complete
  bool abandoned = false;    // skipped as a whole; waiting for a later segment
  uint64_t offset = 0;
  Pending pending = Pending::kNone;
  uint64_t pending_bytes = 0;

  // Read-ahead of the open segment: one pread per kReadAhead bytes instead
  // of two per record.  Segments are append-only, so bytes once read never
  // change and stay valid here; a request reaching past them reads the file
  // again (the writer may have appended since).
  static constexpr size_t kReadAhead = 256 << 10;
  std::string ahead;
  uint64_t ahead_at = 0;  // segment offset of ahead[0]

  ~Impl() { Close(); }

  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    aead.reset();
    ahead.clear();
  }

  // Like PreadUpTo on the open segment, served from the read-ahead.
  bool ReadAt(char* dst, size_t n, uint64_t at, size_t* got) {
    if (at < ahead_at || at + n > ahead_at + ahead.size()) {
      ahead.resize(std::max(n, kReadAhead));
      size_t filled = 0;
      if (!PreadUpTo(fd, ahead.data(), ahead.size(), at, &filled)) {
        ahead.clear();
        return false;
      }
      ahead.resize(filled);
      ahead_at = at;
    }
    *got = std::min<uint64_t>(n, ahead_at + ahead.size() - at);
    std::memcpy(dst, ahead.data() + (at - ahead_at), *got);
    return true;
  }

  std::string Where(uint64_t at) const {
    return SegmentPath(dir, segment) + " offset " + std::to_string(at) + ": ";
  }

  // Problems with the header are kept for Next() to report, not failed on:
  // the caller decides what to do with an unreadable segment.
  void OpenSegment(uint64_t n) {
    Close();
    segment = n;
    offset = kHeaderBytes;
    final = false;
    abandoned = false;
    pending = Pending::kNone;
    header_error.clear();
    fd = ::open(SegmentPath(dir, n).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      header_error = std::string("cannot open: ") + std::strerror(errno);
      return;
    }
    std::string header(kHeaderBytes, '\0');
    size_t got = 0;
    if (!PreadUpTo(fd, header.data(), header.size(), 0, &got)) {
      header_error = std::string("cannot read the segment header: ") + std::strerror(errno);
      return;
    }
    header.resize(got);
    SegmentHeader h;
    if (DecodeHeader(header, n, &h, &header_error)) aead = OpenDataKey(h, keyring, &header_error);
  }

  // The first segment after the current one, if any exists yet.
  bool LaterSegment(uint64_t* n) const {
    std::vector<uint64_t> all;
    std::string ignored;  // an unlistable dir reads as "nothing more yet"
    if (!ListSegments(dir, &all, &ignored)) return false;
    for (uint64_t s : all) {
      if (s > segment) {
        *n = s;
        return true;
      }
    }
    return false;
  }

  // True once the current segment is known complete.  Segments are finished
  // (written to the file) before the next one is created, so a later segment
  // existing means every byte of this one is in the file.
  bool KnownFinal() {
    uint64_t n = 0;
    if (!final) final = LaterSegment(&n);
    return final;
  }

  Status Corrupt(uint64_t at, const std::string& what, Pending skip, uint64_t bytes,
                 std::string* error) {
    *error = Where(at) + what;
    pending = skip;
    pending_bytes = bytes;
    return Status::kCorrupt;
  }

  // Reads the record at offset.  *advanced: moved to the next segment, so
  // the caller should simply try again.
  Status ReadRecord(JournalRecord* out, std::string* error, bool* advanced) {
    char fb[kFrameBytes];
    size_t got = 0;
    if (!ReadAt(fb, kFrameBytes, offset, &got)) {
      return Corrupt(offset, std::string("read failed: ") + std::strerror(errno),
                     Pending::kSegment, 0, error);
    }
    if (got < kFrameBytes) {
      if (!KnownFinal()) return Status::kEnd;  // the writer may be mid-record
      // Re-read: the writer may have completed this segment since.
      if (!ReadAt(fb, kFrameBytes, offset, &got)) got = 0;
      if (got == 0) {
        uint64_t n = 0;
        if (LaterSegment(&n)) OpenSegment(n);
        *advanced = true;
        return Status::kEnd;
      }
      if (got < kFrameBytes) {
        return Corrupt(offset,
                       "record frame cut short (" + std::to_string(got) + " of " +
                           std::to_string(kFrameBytes) + " bytes) in a completed segment",
                       Pending::kSegment, 0, error);
      }
    }
    Frame f;
    switch (DecodeFrame(fb, &f)) {
      case FrameCheck::kOk:
        break;
      case FrameCheck::kBadChecksum:
        return Corrupt(offset, "damaged record frame (checksum mismatch)", Pending::kFrame, 0,
                       error);
      case FrameCheck::kBadLength:
        return Corrupt(offset, "record length " + std::to_string(f.sealed_len) + " out of range",
                       Pending::kFrame, 0, error);
    }
    const uint64_t record_bytes = kFrameBytes + f.sealed_len;
    if (!IsKnownType(f.type)) {
      return Corrupt(offset, "unknown record type " + std::to_string(f.type), Pending::kRecord,
                     record_bytes, error);
    }
    std::string sealed(f.sealed_len, '\0');
    bool complete = ReadAt(sealed.data(), sealed.size(), offset + kFrameBytes, &got) &&
                    got == sealed.size();
    if (!complete) {
      if (!KnownFinal()) return Status::kEnd;
      complete = ReadAt(sealed.data(), sealed.size(), offset + kFrameBytes, &got) &&
                 got == sealed.size();
      if (!complete) {
        return Corrupt(offset,
                       "record cut short (needs " + std::to_string(record_bytes) +
                           " bytes, the completed segment ends at offset " +
                           std::to_string(offset + kFrameBytes + got) + ")",
                       Pending::kSegment, 0, error);
      }
    }
    std::string payload;
    if (!aead->Decrypt(sealed, RecordAad(segment, offset, f.type), &payload)) {
      return Corrupt(offset, "authentication tag mismatch", Pending::kRecord, record_bytes, error);
    }
    out->at = {segment, offset};
    out->next = {segment, offset + record_bytes};
    out->type = static_cast<RecordType>(f.type);
    out->payload = std::move(payload);
    offset += record_bytes;
    return Status::kOk;
  }

  // After a damaged frame: the next offset whose frame checks and whose
  // record decrypts there.  A false frame match (1 in 2^32) cannot also pass
  // the AEAD tag bound to that offset, so nothing is accepted by accident.
  void Resync() {
    KnownFinal();
    constexpr size_t kWindow = 1 << 20;
    std::string win(kWindow, '\0');
    uint64_t base = offset + 1;
    uint64_t eof = base;
    for (;;) {
      size_t got = 0;
      if (!PreadUpTo(fd, win.data(), win.size(), base, &got) || got < kFrameBytes) {
        eof = base + got;
        break;
      }
      for (size_t i = 0; i + kFrameBytes <= got; ++i) {
        Frame f;
        if (DecodeFrame(win.data() + i, &f) != FrameCheck::kOk || !IsKnownType(f.type)) continue;
        const uint64_t at = base + i;
        std::string sealed(f.sealed_len, '\0');
        size_t sealed_got = 0;
        if (!PreadUpTo(fd, sealed.data(), sealed.size(), at + kFrameBytes, &sealed_got)) continue;
        if (sealed_got < sealed.size()) {
          // Maybe a record the live writer is still adding: wait there.
          if (!final) {
            offset = at;
            return;
          }
          continue;
        }
        std::string ignored;
        if (aead->Decrypt(sealed, RecordAad(segment, at, f.type), &ignored)) {
          offset = at;
          return;
        }
      }
      if (got < win.size()) {
        eof = base + got;
        break;
      }
      base += got - kFrameBytes + 1;
    }
    uint64_t n = 0;
    if (final && LaterSegment(&n)) {
      OpenSegment(n);
    } else {
      offset = eof;  // everything present was damaged; wait for what comes next
    }
  }
};

JournalReader::JournalReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JournalReader::~JournalReader() = default;

std::unique_ptr<JournalReader> JournalReader::Open(const std::string& dir, const Keyring& keyring,
                                                   std::string* error) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    *error = "journal " + dir + ": " + std::strerror(errno);
    return nullptr;
  }
  if (!S_ISDIR(st.st_mode)) {
    *error = "journal " + dir + ": not a directory";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->keyring = keyring;
  std::unique_ptr<JournalReader> reader(new JournalReader(std::move(impl)));
  if (!reader->Seek({0, 0}, error)) return nullptr;
  return reader;
}

bool JournalReader::Seek(JournalPosition pos, std::string* error) {
  Impl& r = *impl_;
  std::vector<uint64_t> all;
  if (!ListSegments(r.dir, &all, error)) return false;
  if (pos.segment == 0) {
    r.Close();
    r.segment = 0;
    r.offset = 0;
    r.pending = Impl::Pending::kNone;
    if (!all.empty()) r.OpenSegment(all.front());
    return true;
  }
  bool found = false;
  for (uint64_t s : all) found = found || s == pos.segment;
  if (!found) {
    *error = "journal " + r.dir + ": cannot seek to " + pos.ToString() + ": segment " +
             std::to_string(pos.segment) + " does not exist" +
             (all.empty() ? std::string(" (no segments)")
                          : " (segments " + std::to_string(all.front()) + " to " +
                                std::to_string(all.back()) + " exist)");
    return false;
  }
  r.OpenSegment(pos.segment);
  r.offset = std::max<uint64_t>(pos.offset, kHeaderBytes);
  return true;
}

JournalReader::Status JournalReader::Next(JournalRecord* out, std::string* error) {
  Impl& r = *impl_;
  for (;;) {
    uint64_t n = 0;
    if (r.segment == 0) {
      std::vector<uint64_t> all;
      std::string ignored;
      if (!ListSegments(r.dir, &all, &ignored) || all.empty()) return Status::kEnd;
      r.OpenSegment(all.front());
    }
    if (r.abandoned) {
      if (!r.LaterSegment(&n)) return Status::kEnd;
      r.OpenSegment(n);
    }
    if (!r.header_error.empty()) {
      return r.Corrupt(0, r.header_error, Impl::Pending::kSegment, 0, error);
    }
    bool advanced = false;
    Status s = r.ReadRecord(out, error, &advanced);
    if (!advanced) return s;
  }
}

JournalPosition JournalReader::Skip() {
  Impl& r = *impl_;
  uint64_t n = 0;
  switch (r.pending) {
    case Impl::Pending::kNone:
      break;
    case Impl::Pending::kRecord:
      r.offset += r.pending_bytes;
      break;
    case Impl::Pending::kFrame:
      r.Resync();
      break;
    case Impl::Pending::kSegment:
      if (r.LaterSegment(&n)) {
        r.OpenSegment(n);
      } else {
        r.abandoned = true;
        struct stat st;
        if (r.fd >= 0 && ::fstat(r.fd, &st) == 0) {
          r.offset = std::max<uint64_t>(r.offset, static_cast<uint64_t>(st.st_size));
        }
      }
      break;
  }
  r.pending = Impl::Pending::kNone;
  return position();
}

JournalPosition JournalReader::position() const {
  return impl_->segment == 0 ? JournalPosition{} : JournalPosition{impl_->segment, impl_->offset};
}

}  // namespace callvault
