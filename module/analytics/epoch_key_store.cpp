#include "module/analytics/epoch_key_store.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "module/analytics/epoch.h"
#include "module/crypto/base64.h"

namespace callvault {
namespace {

constexpr char kHeader[] = "callvault-analytics-epochs 1";
constexpr size_t kSaltBytes = 32;

std::string Aad(const std::string& epoch_id) { return "analytics-epoch:" + epoch_id; }

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

struct EpochFile {
  struct Live {
    uint32_t kek_version = 0;
    std::string wrapped;
  };
  std::map<std::string, Live> live;
  std::map<std::string, int64_t> retired;
};

// Holds an exclusive flock on "<path>.lock" for its lifetime.
class WriterLock {
 public:
  bool Acquire(const std::string& path, std::string* error) {
    const std::string lock_path = path + ".lock";
    fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      *error = Errno(lock_path);
      return false;
    }
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        *error = Errno(lock_path + ": flock");
        return false;
      }
    }
    return true;
  }
  ~WriterLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

 private:
  int fd_ = -1;
};

bool ReadAll(int fd, std::string* out) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out->append(buf, static_cast<size_t>(n));
  }
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads and parses the file.  *exists=false (and an empty file) if absent.
bool ReadFile(const std::string& path, EpochFile* file, bool* exists, std::string* error) {
  *file = EpochFile();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) {
      *exists = false;
      return true;
    }
    *error = Errno(path);
    return false;
  }
  *exists = true;
  struct stat st;
  std::string text;
  bool ok = ::fstat(fd, &st) == 0;
  if (ok && !S_ISREG(st.st_mode)) {
    ::close(fd);
    *error = path + ": not a regular file";
    return false;
  }
  if (ok && (st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    *error = path + ": mode " + mode + " lets group or others at it; must be 0600";
    return false;
  }
  ok = ok && ReadAll(fd, &text);
  ::close(fd);
  if (!ok) {
    *error = Errno(path + ": read");
    return false;
  }
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (line.empty() || line[0] == '#') continue;
    if (!header) {
      if (line != kHeader) {
        *error = where + "expected header '" + kHeader + "'";
        return false;
      }
      header = true;
      continue;
    }
    std::istringstream fields(line);
    std::string kind, id, extra;
    fields >> kind >> id;
    if (!IsValidEpochId(id)) {
      *error = where + "bad epoch id";
      return false;
    }
    if (kind == "epoch") {
      EpochFile::Live live;
      std::string b64;
      if (!(fields >> live.kek_version >> b64) || (fields >> extra) ||
          !Base64Decode(b64, &live.wrapped)) {
        *error = where + "expected 'epoch <id> <kek version> <base64>'";
        return false;
      }
      if (file->live.count(id) || file->retired.count(id)) {
        *error = where + "epoch " + id + " listed twice";
        return false;
      }
      file->live[id] = std::move(live);
    } else if (kind == "retired") {
      int64_t when = 0;
      if (!(fields >> when) || (fields >> extra)) {
        *error = where + "expected 'retired <id> <unix seconds>'";
        return false;
      }
      if (file->live.count(id)) {
        *error = where + "epoch " + id + " is both live and retired";
        return false;
      }
      file->retired[id] = when;
    } else {
      *error = where + "unknown entry '" + kind + "'";
      return false;
    }
  }
  if (!header && !text.empty()) {
    *error = path + ": missing header";
    return false;
  }
  return true;
}

// Replaces the file atomically, then overwrites the replaced file's blocks
// through a descriptor kept open across the rename, so a retired salt does
// not linger on disk (best effort on copy-on-write and flash media, where
// the wrapping KEK is what protects stale copies; see docs).
bool WriteFile(const std::string& path, const EpochFile& file, std::string* error) {
  std::string text = std::string(kHeader) + "\n";
  for (const auto& [id, live] : file.live) {
    text += "epoch " + id + " " + std::to_string(live.kek_version) + " " +
            Base64Encode(live.wrapped) + "\n";
  }
  for (const auto& [id, when] : file.retired) {
    text += "retired " + id + " " + std::to_string(when) + "\n";
  }
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    *error = Errno(tmp);
    return false;
  }
  const bool ok = ::fchmod(fd, 0600) == 0 && WriteAll(fd, text.data(), text.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  OPENSSL_cleanse(text.data(), text.size());
  if (!ok) {
    *error = Errno(tmp + ": write");
    ::unlink(tmp.c_str());
    return false;
  }
  const int old_fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = Errno(path + ": rename");
    if (old_fd >= 0) ::close(old_fd);
    ::unlink(tmp.c_str());
    return false;
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  if (old_fd >= 0) {
    struct stat st;
    if (::fstat(old_fd, &st) == 0 && st.st_size > 0) {
      const std::string zeros(static_cast<size_t>(st.st_size), '\0');
      if (::pwrite(old_fd, zeros.data(), zeros.size(), 0) == st.st_size) ::fsync(old_fd);
    }
    ::close(old_fd);
  }
  return true;
}

}  // namespace

std::string EpochKeyFile(const Config& config) {
  const std::string& dir =
      config.capture.state_dir.empty() ? config.journal.dir : config.capture.state_dir;
  return (std::filesystem::path(dir) / "analytics-epochs").string();
}

std::unique_ptr<EpochKeyStore> EpochKeyStore::Open(const std::string& path,
                                                   const Keyring& keyring, std::string* error) {
  const SecretBytes* master = keyring.secret(kPseudonymSecret);
  if (master == nullptr || master->size() < 32) {
    *error = std::string("keyring: secret '") + kPseudonymSecret + "' is missing or shorter than 32 bytes";
    return nullptr;
  }
  if (keyring.kek(keyring.active_kek_version()) == nullptr) {
    *error = "keyring: no active KEK";
    return nullptr;
  }
  std::unique_ptr<EpochKeyStore> store(new EpochKeyStore());
  store->path_ = path;
  store->keyring_ = keyring;
  EpochFile file;
  bool exists = false;
  if (!ReadFile(path, &file, &exists, error)) return nullptr;
  store->retired_ = std::move(file.retired);
  store->last_check_ = std::chrono::steady_clock::time_point{};
  return store;
}

EpochKeyStore::~EpochKeyStore() = default;

EpochKeyStore::Status EpochKeyStore::Key(const std::string& epoch_id, SecretBytes* key,
                                         std::string* error) {
  if (auto it = keys_.find(epoch_id); it != keys_.end()) {
    *key = it->second;
    return Status::kOk;
  }
  if (retired_.count(epoch_id)) return Status::kRetired;
  if (!IsValidEpochId(epoch_id)) {
    *error = path_ + ": bad epoch id";
    return Status::kError;
  }
  WriterLock lock;
  if (!lock.Acquire(path_, error)) return Status::kError;
  EpochFile file;
  bool exists = false;
  if (!ReadFile(path_, &file, &exists, error)) return Status::kError;
  retired_ = file.retired;
  if (retired_.count(epoch_id)) return Status::kRetired;

  SecretBytes salt;
  auto it = file.live.find(epoch_id);
  if (it != file.live.end()) {
    const SecretBytes* kek = keyring_.kek(it->second.kek_version);
    if (kek == nullptr || !UnwrapKey(*kek, it->second.wrapped, Aad(epoch_id), &salt) ||
        salt.size() != kSaltBytes) {
      *error = path_ + ": epoch " + epoch_id + ": cannot unwrap its salt under KEK version " +
               std::to_string(it->second.kek_version) + " (wrong keyring or damaged entry)";
      return Status::kError;
    }
  } else {
    salt = SecretBytes::Random(kSaltBytes);
    EpochFile::Live live;
    live.kek_version = keyring_.active_kek_version();
    if (!WrapKey(*keyring_.kek(live.kek_version), salt, Aad(epoch_id), &live.wrapped)) {
      *error = path_ + ": epoch " + epoch_id + ": cannot wrap a new salt";
      return Status::kError;
    }
    file.live[epoch_id] = std::move(live);
    if (!WriteFile(path_, file, error)) return Status::kError;
    last_check_ = std::chrono::steady_clock::time_point{};  // pick up our own write's stamp
  }

  std::string input = "callvault-analytics-epoch:" + epoch_id;
  input.push_back('\0');
  input.append(salt.view());
  std::string derived = HmacSha256(*keyring_.secret(kPseudonymSecret), input);
  OPENSSL_cleanse(input.data(), input.size());
  if (derived.size() != 32) {
    OPENSSL_cleanse(derived.data(), derived.size());
    *error = path_ + ": epoch " + epoch_id + ": key derivation failed";
    return Status::kError;
  }
  SecretBytes derived_key(derived.data(), derived.size());
  OPENSSL_cleanse(derived.data(), derived.size());
  *key = derived_key;
  keys_[epoch_id] = std::move(derived_key);
  return Status::kOk;
}

uint64_t EpochKeyStore::Refresh() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_check_ < kRefreshInterval) return generation_;
  last_check_ = now;
  Stamp stamp;
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0) {
    stamp.ino = st.st_ino;
    stamp.size = static_cast<uint64_t>(st.st_size);
    stamp.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  }
  if (stamp == stamp_) return generation_;
  EpochFile file;
  bool exists = false;
  std::string error;
  if (!ReadFile(path_, &file, &exists, &error)) {
    // A file that no longer reads gives no keys: forget them all rather than
    // keep using keys whose retirement we cannot see.
    file = EpochFile();
  } else {
    stamp_ = stamp;
  }
  retired_ = std::move(file.retired);
  bool forgot = false;
  for (auto it = keys_.begin(); it != keys_.end();) {
    if (file.live.count(it->first) == 0) {
      it = keys_.erase(it);  // SecretBytes wipes itself
      forgot = true;
    } else {
      ++it;
    }
  }
  if (forgot) ++generation_;
  return generation_;
}

bool EpochKeyStore::Retire(const std::string& path, const std::string& epoch_id,
                           int64_t now_unix_s, RetireResult* result, std::string* error) {
  *result = RetireResult();
  if (!IsValidEpochId(epoch_id)) {
    *error = "epoch id '" + epoch_id + "' is not YYYY-MM, YYYY-Www or YYYY-MM-DD";
    return false;
  }
  WriterLock lock;
  if (!lock.Acquire(path, error)) return false;
  EpochFile file;
  bool exists = false;
  if (!ReadFile(path, &file, &exists, error)) return false;
  if (file.retired.count(epoch_id)) {
    result->already_retired = true;
    return true;
  }
  auto it = file.live.find(epoch_id);
  if (it != file.live.end()) {
    OPENSSL_cleanse(it->second.wrapped.data(), it->second.wrapped.size());
    file.live.erase(it);
    result->had_key = true;
  }
  file.retired[epoch_id] = now_unix_s;
  return WriteFile(path, file, error);
}

bool EpochKeyStore::List(const std::string& path, Listing* out, std::string* error) {
  EpochFile file;
  bool exists = false;
  if (!ReadFile(path, &file, &exists, error)) return false;
  *out = Listing();
  for (const auto& [id, live] : file.live) out->live.push_back(id);
  for (const auto& [id, when] : file.retired) out->retired.emplace_back(id, when);
  return true;
}

}  // namespace callvault
