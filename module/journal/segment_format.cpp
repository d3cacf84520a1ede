#include "module/journal/segment_format.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "module/journal/journal.h"

namespace callvault::journal_format {
namespace {

constexpr std::string_view kPrefix = "seg-";
constexpr std::string_view kSuffix = ".cvj";
constexpr size_t kDigits = 20;

void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void PutU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78.
constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

}  // namespace

std::string SegmentFileName(uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "seg-%020" PRIu64 ".cvj", n);
  return buf;
}

bool ParseSegmentFileName(std::string_view name, uint64_t* n) {
  if (name.size() != kPrefix.size() + kDigits + kSuffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix)) {
    return false;
  }
  uint64_t v = 0;
  for (char c : name.substr(kPrefix.size(), kDigits)) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;  // beyond uint64_t
    v = v * 10 + d;
  }
  *n = v;
  return true;
}

std::string SegmentPath(const std::string& dir, uint64_t n) {
  return dir + "/" + SegmentFileName(n);
}

bool ListSegments(const std::string& dir, std::vector<uint64_t>* out, std::string* error) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    *error = "journal " + dir + ": cannot list: " + std::strerror(errno);
    return false;
  }
  out->clear();
  while (struct dirent* e = ::readdir(d)) {
    uint64_t n = 0;
    if (ParseSegmentFileName(e->d_name, &n)) out->push_back(n);
  }
  ::closedir(d);
  std::sort(out->begin(), out->end());
  return true;
}

std::string EncodeHeader(const SegmentHeader& h) {
  std::string out(kHeaderBytes - h.wrapped_key.size(), '\0');
  char* p = out.data();
  std::memcpy(p, kMagic, 4);
  PutU32(p + 4, kFormatVersion);
  PutU64(p + 8, h.segment);
  PutU32(p + 16, h.kek_version);
  PutU32(p + 20, static_cast<uint32_t>(h.wrapped_key.size()));
  out += h.wrapped_key;
  return out;
}

bool DecodeHeader(std::string_view bytes, uint64_t n, SegmentHeader* out, std::string* what) {
  if (bytes.size() < kHeaderBytes) {
    *what = "segment header is cut short (" + std::to_string(bytes.size()) + " of " +
            std::to_string(kHeaderBytes) + " bytes)";
    return false;
  }
  const char* p = bytes.data();
  if (std::memcmp(p, kMagic, 4) != 0) {
    *what = "not a journal segment (bad magic)";
    return false;
  }
  if (uint32_t v = GetU32(p + 4); v != kFormatVersion) {
    *what = "unsupported segment format version " + std::to_string(v);
    return false;
  }
  if (uint64_t s = GetU64(p + 8); s != n) {
    *what = "header names segment " + std::to_string(s) + ", not " + std::to_string(n);
    return false;
  }
  if (GetU32(p + 20) != kWrappedKeyBytes) {
    *what = "bad wrapped data key length";
    return false;
  }
  out->segment = n;
  out->kek_version = GetU32(p + 16);
  out->wrapped_key.assign(p + 24, kWrappedKeyBytes);
  return true;
}

std::string WrapAad(uint64_t segment) { return "journal-segment:" + std::to_string(segment); }

std::unique_ptr<Aead> OpenDataKey(const SegmentHeader& h, const Keyring& keyring,
                                  std::string* what) {
  const SecretBytes* kek = keyring.kek(h.kek_version);
  if (kek == nullptr) {
    *what = "KEK version " + std::to_string(h.kek_version) + " is not in the keyring";
    return nullptr;
  }
  SecretBytes data_key;
  if (!UnwrapKey(*kek, h.wrapped_key, WrapAad(h.segment), &data_key)) {
    *what = "cannot unwrap the data key with KEK version " + std::to_string(h.kek_version) +
            " (wrong keyring or damaged header)";
    return nullptr;
  }
  auto aead = Aead::Create(data_key);
  if (!aead) *what = "unwrapped data key has the wrong size";
  return aead;
}

std::string RecordAad(uint64_t segment, uint64_t offset, uint8_t type) {
  return "cvj1:" + std::to_string(segment) + ":" + std::to_string(offset) + ":" +
         std::to_string(type);
}

bool IsKnownType(uint8_t type) { return type == static_cast<uint8_t>(RecordType::kCdr); }

uint32_t Crc32c(const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) c = kCrcTable[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void EncodeFrame(uint32_t sealed_len, uint8_t type, char out[kFrameBytes]) {
  PutU32(out, sealed_len);
  out[4] = static_cast<char>(type);
  PutU32(out + 5, Crc32c(out, 5));
}

FrameCheck DecodeFrame(const char in[kFrameBytes], Frame* out) {
  if (GetU32(in + 5) != Crc32c(in, 5)) return FrameCheck::kBadChecksum;
  out->sealed_len = GetU32(in);
  out->type = static_cast<uint8_t>(in[4]);
  if (out->sealed_len < Aead::kOverhead || out->sealed_len > kMaxSealedBytes) {
    return FrameCheck::kBadLength;
  }
  return FrameCheck::kOk;
}

bool PreadUpTo(int fd, void* buf, size_t n, uint64_t off, size_t* got) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, static_cast<char*>(buf) + done, n - done,
                        static_cast<off_t>(off + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return false;
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  *got = done;
  return true;
}

bool PwriteAll(int fd, const void* buf, size_t n, uint64_t off) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pwrite(fd, static_cast<const char*>(buf) + done, n - done,
                         static_cast<off_t>(off + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

bool FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace callvault::journal_format
