#include "module/pipeline/checkpoint.h"

#include <fstream>
#include <sstream>

#include "module/crypto/aead.h"
#include "module/util/file_io.h"

namespace callvault {
namespace {

constexpr char kMagic[] = "cvcp1";

void PutU64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(static_cast<char>(v >> (8 * i)));
}

bool GetU64(std::string_view* s, uint64_t* v) {
  if (s->size() < 8) return false;
  *v = 0;
  for (int i = 0; i < 8; ++i) *v = (*v << 8) | static_cast<uint8_t>((*s)[i]);
  s->remove_prefix(8);
  return true;
}

std::string Aad(const std::string& node_id, uint32_t kek_version) {
  return "checkpoint:" + node_id + ":" + std::to_string(kek_version);
}

}  // namespace

bool WriteCheckpoint(const std::string& path, const std::string& node_id, const Keyring& keyring,
                     const Checkpoint& cp, std::string* error) {
  const uint32_t kek_version = keyring.active_kek_version();
  const SecretBytes* kek = keyring.kek(kek_version);
  if (!kek) {
    *error = "checkpoint: keyring has no active KEK";
    return false;
  }
  SecretBytes data_key = SecretBytes::Random(Aead::kKeyBytes);
  const std::string aad = Aad(node_id, kek_version);
  std::string wrapped;
  if (!WrapKey(*kek, data_key, aad, &wrapped)) {
    *error = "checkpoint: cannot wrap data key";
    return false;
  }
  std::string plain;
  PutU64(&plain, cp.ring_generation);
  PutU64(&plain, cp.ring_pos);
  PutU64(&plain, cp.journal_end.segment);
  PutU64(&plain, cp.journal_end.offset);
  plain += cp.tracker_snapshot;
  std::string sealed;
  auto aead = Aead::Create(data_key);
  bool ok = aead && aead->Encrypt(plain, aad, &sealed);
  std::fill(plain.begin(), plain.end(), '\0');
  if (!ok) {
    *error = "checkpoint: encryption failed";
    return false;
  }

  std::string file = std::string(kMagic) + " " + std::to_string(kek_version) + "\n";
  PutU64(&file, wrapped.size());
  file += wrapped;
  file += sealed;

  if (!WriteFileAtomically(path, file, 0600, error)) {
    *error = "checkpoint " + *error;
    return false;
  }
  return true;
}

bool ReadCheckpoint(const std::string& path, const std::string& node_id, const Keyring& keyring,
                    Checkpoint* cp, bool* found, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *found = false;
    return true;
  }
  *found = true;
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string file = ss.str();
  auto fail = [&](const std::string& what) {
    *error = "checkpoint " + path + ": " + what;
    return false;
  };
  const size_t nl = file.find('\n');
  if (nl == std::string::npos || file.compare(0, sizeof(kMagic) - 1, kMagic) != 0) {
    return fail("not a callvault checkpoint");
  }
  uint32_t kek_version = 0;
  try {
    kek_version = static_cast<uint32_t>(std::stoul(file.substr(sizeof(kMagic), nl)));
  } catch (...) {
    return fail("bad header");
  }
  const SecretBytes* kek = keyring.kek(kek_version);
  if (!kek) return fail("sealed under KEK version " + std::to_string(kek_version) +
                        ", which the keyring does not have");
  std::string_view rest(file);
  rest.remove_prefix(nl + 1);
  uint64_t wrapped_len;
  if (!GetU64(&rest, &wrapped_len) || rest.size() < wrapped_len) return fail("truncated");
  const std::string aad = Aad(node_id, kek_version);
  SecretBytes data_key;
  if (!UnwrapKey(*kek, rest.substr(0, wrapped_len), aad, &data_key)) {
    return fail("data key does not unwrap (wrong keyring or node id, or tampered)");
  }
  rest.remove_prefix(wrapped_len);
  std::string plain;
  auto aead = Aead::Create(data_key);
  if (!aead || !aead->Decrypt(rest, aad, &plain)) return fail("authentication failed (tampered)");
  std::string_view p(plain);
  uint64_t gen, seg, off;
  if (!GetU64(&p, &gen) || !GetU64(&p, &cp->ring_pos) || !GetU64(&p, &seg) || !GetU64(&p, &off)) {
    return fail("truncated body");
  }
  cp->ring_generation = static_cast<uint32_t>(gen);
  cp->journal_end = {seg, off};
  cp->tracker_snapshot.assign(p);
  std::fill(plain.begin(), plain.end(), '\0');
  return true;
}

}  // namespace callvault
