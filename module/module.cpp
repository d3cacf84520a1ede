// The C ABI of include/callvault/module.h over callvault::Pipeline.  The hook
// (OnMessage) is the only code here on the host's call path: it checks its
// arguments and hands the bytes to the capture ring, nothing else.
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "include/callvault/module.h"
#include "module/pipeline/pipeline.h"

struct cv_module {
  std::unique_ptr<callvault::Pipeline> pipeline;
  callvault::CaptureRing* ring;  // cached: the hook must not chase pointers it need not
};

namespace {

void CopyError(const std::string& msg, char* err, size_t err_len) {
  if (err && err_len) std::snprintf(err, err_len, "%s", msg.c_str());
}

int Open(const char* config_path, cv_module** out, char* err, size_t err_len) {
  if (!config_path || !out) {
    CopyError("open: config_path and out are required", err, err_len);
    return CV_ERR_ARG;
  }
  std::string error;
  int code = CV_ERR_CONFIG;
  try {
    auto pipeline = callvault::Pipeline::Open(config_path, &error, &code);
    if (!pipeline) {
      CopyError(error, err, err_len);
      return code;
    }
    auto* m = new cv_module{std::move(pipeline), nullptr};
    m->ring = m->pipeline->ring();
    *out = m;
    return CV_OK;
  } catch (const std::exception& e) {
    CopyError(std::string("open failed: ") + e.what(), err, err_len);
    return CV_ERR_IO;
  }
}

int OnMessage(cv_module* m, const cv_msg_meta* meta, const void* bytes, size_t len) {
  if (!m || !meta || (!bytes && len)) return CV_ERR_ARG;
  if (meta->struct_size >= sizeof(cv_msg_meta)) return m->ring->Push(*meta, bytes, len);
  // A host built against an older, shorter meta: the fields it lacks are zero.
  cv_msg_meta full;
  std::memset(&full, 0, sizeof full);
  std::memcpy(&full, meta, meta->struct_size);
  return m->ring->Push(full, bytes, len);
}

int Reload(cv_module* m, char* err, size_t err_len) {
  if (!m) return CV_ERR_ARG;
  std::string error;
  if (!m->pipeline->Reload(&error)) {
    CopyError(error, err, err_len);
    return CV_ERR_CONFIG;
  }
  return CV_OK;
}

int Stats(cv_module* m, cv_stat_fn fn, void* user) {
  if (!m || !fn) return CV_ERR_ARG;
  m->pipeline->Stats([&](std::string_view name, uint64_t value) {
    std::string n(name);
    fn(n.c_str(), value, user);
  });
  return CV_OK;
}

void Close(cv_module* m) { delete m; }

constexpr cv_api kApi = {CV_ABI_VERSION, sizeof(cv_api), Open, OnMessage, Reload, Stats, Close};

}  // namespace

extern "C" __attribute__((visibility("default"))) const cv_api* cv_get_api(void) { return &kApi; }
