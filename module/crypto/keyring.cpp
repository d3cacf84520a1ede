#include "module/crypto/keyring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "module/crypto/aead.h"
#include "module/crypto/base64.h"
#include "module/util/file_io.h"

namespace callvault {
namespace {

constexpr char kMagic[] = "callvault-keyring";
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kMaxFileBytes = 1 << 20;

// Owns a string holding key material in text form and wipes it on exit.
class WipedString {
 public:
  ~WipedString() {
    if (!s_.empty()) OPENSSL_cleanse(s_.data(), s_.size());
  }
  std::string& get() { return s_; }

 private:
  std::string s_;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

bool ParseVersion(std::string_view s, uint32_t* out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v == 0 || v > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

bool ValidSecretName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::string_view> Tokens(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// Reads the whole file after checking, on the opened descriptor (no race
// with a rename in between), that it is a regular file private to its owner.
bool ReadPrivateFile(const std::string& path, std::string* content, std::string* error) {
  // O_NONBLOCK: opening a FIFO planted at the path must not hang the loader;
  // fstat then refuses it.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    *error = Errno("keyring " + path + ": cannot open");
    return false;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    *error = Errno("keyring " + path + ": cannot stat");
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = "keyring " + path + ": not a regular file";
    return false;
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    const char* how = (st.st_mode & 044) ? "readable" : (st.st_mode & 022) ? "writable" : "usable";
    *error = "keyring " + path + ": mode " + mode + " is " + how +
             " by group or others; chmod 600 it";
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes) {
    *error = "keyring " + path + ": larger than 1 MiB, not a keyring";
    return false;
  }
  content->resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < content->size()) {
    ssize_t n = ::read(fd.get(), content->data() + got, content->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = Errno("keyring " + path + ": read failed");
      return false;
    }
    if (n == 0) break;  // shrank while reading; parse what is there
    got += static_cast<size_t>(n);
  }
  content->resize(got);
  return true;
}

}  // namespace

bool Keyring::Parse(const std::string& path, std::string_view text, Keyring* out,
                    std::string* error) {
  Keyring ring;
  bool seen_magic = false;
  uint32_t active = 0;
  size_t active_line = 0;
  size_t line_no = 0;
  auto fail = [&](const std::string& what) {
    *error = "keyring " + path + ": line " + std::to_string(line_no) + ": " + what;
    return false;
  };

  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::vector<std::string_view> t = Tokens(line);
    if (t.empty() || t[0][0] == '#') continue;

    if (!seen_magic) {
      if (t[0] != kMagic || t.size() != 2) {
        return fail("expected 'callvault-keyring 1' as the first entry");
      }
      uint32_t v = 0;
      if (!ParseVersion(t[1], &v) || v != kFormatVersion) {
        return fail("unsupported keyring format version (this build reads version 1)");
      }
      seen_magic = true;
      continue;
    }

    if (t[0] == "kek") {
      uint32_t v = 0;
      if (t.size() != 3) return fail("kek needs a version and a base64 key");
      if (!ParseVersion(t[1], &v)) return fail("bad kek version (expected a positive integer)");
      const std::string name = "kek " + std::to_string(v);
      if (ring.kek(v) != nullptr) return fail("duplicate " + name);
      SecretBytes key;
      if (!Base64Decode(t[2], &key)) return fail("bad base64 in " + name);
      if (key.size() != Keyring::kKekBytes) {
        return fail(name + " is " + std::to_string(key.size()) + " bytes, expected 32");
      }
      ring.keks_.emplace(v, std::move(key));
    } else if (t[0] == "active-kek") {
      if (t.size() != 2) return fail("active-kek needs one version");
      if (active_line != 0) return fail("duplicate active-kek");
      if (!ParseVersion(t[1], &active)) {
        return fail("bad active-kek version (expected a positive integer)");
      }
      active_line = line_no;
    } else if (t[0] == "secret") {
      if (t.size() != 3) return fail("secret needs a name and a base64 value");
      if (!ValidSecretName(t[1])) return fail("bad secret name (expected [a-z0-9._-]+)");
      const std::string name(t[1]);
      if (ring.secret(name) != nullptr) return fail("duplicate secret " + name);
      SecretBytes value;
      if (!Base64Decode(t[2], &value)) return fail("bad base64 in secret " + name);
      if (value.size() < Keyring::kMinSecretBytes || value.size() > Keyring::kMaxSecretBytes) {
        return fail("secret " + name + " is " + std::to_string(value.size()) +
                    " bytes, expected 16 to 64");
      }
      ring.SetSecret(name, std::move(value));
    } else {
      // The token itself is not quoted: a stray line may be key material.
      return fail("unknown entry (expected kek, active-kek or secret)");
    }
  }

  if (!seen_magic) {
    *error = "keyring " + path + ": empty (no 'callvault-keyring 1' line)";
    return false;
  }
  if (active_line == 0) {
    *error = "keyring " + path + ": no active-kek line";
    return false;
  }
  if (ring.kek(active) == nullptr) {
    line_no = active_line;
    return fail("active-kek " + std::to_string(active) + " names no kek in this file");
  }
  ring.active_kek_ = active;
  *out = std::move(ring);
  return true;
}

namespace {

bool FsyncDir(const std::string& dir, std::string* error) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    *error = Errno("cannot fsync directory " + dir);
    return false;
  }
  return true;
}

}  // namespace

bool Keyring::Load(const std::string& path, Keyring* out, std::string* error) {
  WipedString content;
  if (!ReadPrivateFile(path, &content.get(), error)) return false;
  return Parse(path, content.get(), out, error);
}

std::string Keyring::Invalid() const {
  if (kek(active_kek_) == nullptr) return "active KEK version " + std::to_string(active_kek_) +
                                          " is not in the keyring";
  for (const auto& [version, key] : keks_) {
    if (version == 0 || key.size() != kKekBytes) {
      return "kek " + std::to_string(version) + " is not a 32-byte key with a positive version";
    }
  }
  for (const auto& [name, value] : secrets_) {
    if (!ValidSecretName(name)) return "a secret name is not [a-z0-9._-]+";
    if (value.size() < kMinSecretBytes || value.size() > kMaxSecretBytes) {
      return "secret " + name + " is " + std::to_string(value.size()) +
             " bytes, expected 16 to 64";
    }
  }
  return "";
}

bool Keyring::Save(const std::string& path, std::string* error, SaveMode mode) const {
  if (std::string why = Invalid(); !why.empty()) {
    *error = "keyring " + path + ": not saved: " + why;
    return false;
  }
  // Built piecewise into one buffer reserved up front: a temporary string
  // or a reallocation would leave unwiped copies of key text on the heap.
  WipedString text;
  std::string& t = text.get();
  t.reserve(256 + 192 * (keks_.size() + secrets_.size()));
  t += "# callvault keyring: key-encryption keys and named secrets. Keep mode 0600.\n";
  t += kMagic;
  t += ' ';
  t += std::to_string(kFormatVersion);
  t += '\n';
  auto entry = [&t](std::string_view kind, const std::string& id, const SecretBytes& value) {
    WipedString b64;
    b64.get() = Base64Encode(value.view());
    t += kind;
    t += ' ';
    t += id;
    t += ' ';
    t += b64.get();
    t += '\n';
  };
  for (const auto& [version, key] : keks_) entry("kek", std::to_string(version), key);
  t += "active-kek ";
  t += std::to_string(active_kek_);
  t += '\n';
  for (const auto& [name, value] : secrets_) entry("secret", name, value);

  std::filesystem::path target(path);
  std::string dir = target.parent_path().string();
  if (dir.empty()) dir = ".";
  std::string tmp = path + ".tmp-XXXXXX";
  Fd fd(::mkstemp(tmp.data()));  // creates the file 0600 before any byte is written
  if (fd.get() < 0) {
    *error = Errno("keyring " + path + ": cannot create temporary file");
    return false;
  }
  auto fail = [&](const std::string& what) {
    *error = Errno("keyring " + path + ": " + what);
    ::unlink(tmp.c_str());
    return false;
  };
  if (::fchmod(fd.get(), 0600) != 0) return fail("cannot chmod 600");
  if (!WriteAll(fd.get(), t)) return fail("write failed");
  if (::fsync(fd.get()) != 0) return fail("fsync failed");
  if (::close(fd.release()) != 0) return fail("close failed");
  if (mode == SaveMode::kCreateNew) {
    // link() fails if the target exists, atomically; rename() would replace it.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      if (errno == EEXIST) {
        ::unlink(tmp.c_str());
        *error = "keyring " + path + ": already exists; refusing to overwrite it";
        return false;
      }
      return fail("cannot create");
    }
    ::unlink(tmp.c_str());
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail("cannot replace");
  }
  return FsyncDir(dir, error);
}

Keyring Keyring::Generate() {
  Keyring ring;
  ring.AddKek();
  for (const char* name : {kSecretBlindIndex, kSecretPseudonym, kSecretLi}) {
    ring.SetSecret(name, SecretBytes::Random(32));
  }
  return ring;
}

uint32_t Keyring::AddKek() {
  uint32_t version = keks_.empty() ? 1 : keks_.rbegin()->first + 1;
  keks_.emplace(version, SecretBytes::Random(kKekBytes));
  active_kek_ = version;
  return version;
}

const SecretBytes* Keyring::kek(uint32_t version) const {
  auto it = keks_.find(version);
  return it == keks_.end() ? nullptr : &it->second;
}

const SecretBytes* Keyring::secret(const std::string& name) const {
  auto it = secrets_.find(name);
  return it == secrets_.end() ? nullptr : &it->second;
}

void Keyring::SetSecret(const std::string& name, SecretBytes value) {
  secrets_[name] = std::move(value);
}

bool Keyring::RemoveSecret(const std::string& name) { return secrets_.erase(name) != 0; }

bool WrapKey(const SecretBytes& kek, const SecretBytes& data_key, std::string_view aad,
             std::string* wrapped) {
  // A fresh Aead per wrap: KEKs seal a handful of data keys, far below the
  // per-key encryption limit, so no shared counter is needed.
  auto aead = Aead::Create(kek);
  if (!aead || data_key.empty()) return false;
  std::string out;
  if (!aead->Encrypt(data_key.view(), aad, &out)) return false;
  *wrapped = std::move(out);
  return true;
}

bool UnwrapKey(const SecretBytes& kek, std::string_view wrapped, std::string_view aad,
               SecretBytes* data_key) {
  auto aead = Aead::Create(kek);
  if (!aead) return false;
  WipedString plain;
  if (!aead->Decrypt(wrapped, aad, &plain.get()) || plain.get().empty()) return false;
  *data_key = SecretBytes(plain.get().data(), plain.get().size());
  return true;
}

std::string HmacSha256(const SecretBytes& key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // HMAC() reads a null key as "reuse the previous key"; an empty key is a
  // valid (if useless) HMAC key, so give it a non-null pointer.
  static const unsigned char kNoKey = 0;
  if (HMAC(EVP_sha256(), key.empty() ? &kNoKey : key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len) == nullptr) {
    return std::string();
  }
  return std::string(reinterpret_cast<const char*>(mac), len);
}

}  // namespace callvault
