// The on-disk format of journal segments, shared by the writer and the
// reader (internal to module/journal).
//
// Segment file <dir>/seg-<20-digit n>.cvj, all integers little-endian:
//   header (84 bytes, written once via tmp + fsync + rename, so never torn):
//     "CVJ1" | u32 format version (1) | u64 n | u32 KEK version |
//     u32 wrapped-key length (60) | WrapKey(KEK, data key, "journal-segment:<n>")
//   records, from offset 84 to the end of the file:
//     u32 sealed length | u8 type | u32 CRC-32C of the previous 5 bytes | sealed
//   sealed = Aead(data key) nonce||ct||tag, aad "cvj1:<n>:<record offset>:<type>".
//
// Why a CRC on the frame: the AEAD tag covers the payload but not the length
// that says where the next record starts.  With the CRC a damaged length is
// detected before it is believed, so (a) the writer can tell a torn tail
// (valid frame, record cut short by a crash: truncate) from damage in the
// middle (never truncate), and (b) the reader can skip a record whose tag
// fails by its trusted length and resynchronise after a damaged frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "module/crypto/aead.h"
#include "module/crypto/keyring.h"
#include "module/journal/journal.h"

namespace callvault::journal_format {

inline constexpr char kMagic[4] = {'C', 'V', 'J', '1'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kDataKeyBytes = 32;
inline constexpr size_t kWrappedKeyBytes = kDataKeyBytes + Aead::kOverhead;
inline constexpr uint64_t kHeaderBytes = 4 + 4 + 8 + 4 + 4 + kWrappedKeyBytes;
inline constexpr size_t kFrameBytes = 4 + 1 + 4;
inline constexpr size_t kMaxPayloadBytes = JournalWriter::kMaxPayloadBytes;
inline constexpr size_t kMaxSealedBytes = kMaxPayloadBytes + Aead::kOverhead;

std::string SegmentFileName(uint64_t n);  // "seg-00000000000000000042.cvj"
bool ParseSegmentFileName(std::string_view name, uint64_t* n);
std::string SegmentPath(const std::string& dir, uint64_t n);
// Ascending segment numbers present in dir.
bool ListSegments(const std::string& dir, std::vector<uint64_t>* out, std::string* error);

struct SegmentHeader {
  uint64_t segment = 0;
  uint32_t kek_version = 0;
  std::string wrapped_key;
};
std::string EncodeHeader(const SegmentHeader& h);
// False with *what ("bad magic", ...) if bytes is not a header for segment n.
bool DecodeHeader(std::string_view bytes, uint64_t n, SegmentHeader* out, std::string* what);
std::string WrapAad(uint64_t segment);
// Unwraps the segment's data key; *what names the KEK version on failure.
std::unique_ptr<Aead> OpenDataKey(const SegmentHeader& h, const Keyring& keyring,
                                  std::string* what);

std::string RecordAad(uint64_t segment, uint64_t offset, uint8_t type);
bool IsKnownType(uint8_t type);

struct Frame {
  uint32_t sealed_len = 0;
  uint8_t type = 0;
};
void EncodeFrame(uint32_t sealed_len, uint8_t type, char out[kFrameBytes]);
enum class FrameCheck { kOk, kBadChecksum, kBadLength };
FrameCheck DecodeFrame(const char in[kFrameBytes], Frame* out);

uint32_t Crc32c(const void* data, size_t n);

// Reads up to n bytes at off; *got < n only at end of file.  False on error.
bool PreadUpTo(int fd, void* buf, size_t n, uint64_t off, size_t* got);
bool PwriteAll(int fd, const void* buf, size_t n, uint64_t off);
bool FsyncDir(const std::string& dir);

}  // namespace callvault::journal_format
