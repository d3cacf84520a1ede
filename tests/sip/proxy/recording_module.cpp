// A minimal callvault module for testing the proxy's host side of the ABI:
// it records every hook call so hook_capture_test.sh can check what the
// proxy reports (wire bytes, direction, transport, addresses, trunks).
//
// Config file: the first line is a directory.  For message number N the
// module writes N.sip (the exact bytes) and appends to index.txt:
//   N DIR TRANSPORT SRC_FAMILY SRC_PORT DST_FAMILY DST_PORT INGRESS EGRESS LEN
// with DIR r (received) or s (sent) and "-" for an absent trunk.  Files are
// written on the calling thread: this is a test fixture, not the real hook.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "include/callvault/module.h"

// Built a second time with another version to test the host's ABI check.
#ifndef RECORDING_ABI_VERSION
#define RECORDING_ABI_VERSION CV_ABI_VERSION
#endif

struct cv_module {
  std::string dir;
  std::FILE* index = nullptr;
  uint64_t messages = 0;
  uint64_t bad_meta = 0;
};

namespace {

int Open(const char* config_path, cv_module** out, char* err, size_t err_len) {
  if (config_path == nullptr || out == nullptr) return CV_ERR_ARG;
  std::ifstream in(config_path);
  std::string dir;
  if (!in || !std::getline(in, dir) || dir.empty()) {
    std::snprintf(err, err_len, "%s: first line must name the output directory", config_path);
    return CV_ERR_CONFIG;
  }
  auto* m = new cv_module;
  m->dir = dir;
  m->index = std::fopen((dir + "/index.txt").c_str(), "w");
  if (m->index == nullptr) {
    std::snprintf(err, err_len, "%s: output directory is not writable", config_path);
    delete m;
    return CV_ERR_IO;
  }
  *out = m;
  return CV_OK;
}

int OnMessage(cv_module* m, const cv_msg_meta* meta, const void* bytes, size_t len) {
  if (m == nullptr || meta == nullptr || bytes == nullptr) return CV_ERR_ARG;
  if (meta->struct_size != sizeof(cv_msg_meta) || meta->wall_ns <= 0 || meta->mono_ns <= 0) {
    ++m->bad_meta;
  }
  const uint64_t n = ++m->messages;
  const std::string path = m->dir + "/" + std::to_string(n) + ".sip";
  if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(bytes, 1, len, f);
    std::fclose(f);
  }
  std::fprintf(m->index, "%llu %c %u %u %u %u %u %s %s %zu\n",
               static_cast<unsigned long long>(n), meta->direction == CV_DIR_RECEIVED ? 'r' : 's',
               meta->transport, meta->src.family, meta->src.port, meta->dst.family,
               meta->dst.port, meta->ingress_trunk ? meta->ingress_trunk : "-",
               meta->egress_trunk ? meta->egress_trunk : "-", len);
  std::fflush(m->index);
  return CV_OK;
}

int Reload(cv_module*, char*, size_t) { return CV_OK; }

int Stats(cv_module* m, cv_stat_fn fn, void* user) {
  fn("recording.messages", m->messages, user);
  fn("recording.bad_meta", m->bad_meta, user);
  return CV_OK;
}

void Close(cv_module* m) {
  if (m == nullptr) return;
  std::fclose(m->index);
  delete m;
}

const cv_api kApi = {RECORDING_ABI_VERSION, sizeof(cv_api), Open, OnMessage, Reload, Stats, Close};

}  // namespace

extern "C" __attribute__((visibility("default"))) const cv_api* cv_get_api(void) { return &kApi; }
