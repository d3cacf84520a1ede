// Loads libcallvault.so the way any foreign host would: dlopen, dlsym
// "cv_get_api", check the ABI version, open() with the module's config.
// Only include/callvault/module.h is shared with the module; nothing of the
// callvault libraries is linked into the proxy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "include/callvault/module.h"

namespace callvault::proxy {

class ModuleHost {
 public:
  // Loads `library` and opens it with `config_path`.  On failure returns
  // nullptr and sets *error to a message naming the library or the module's
  // own error text (which names file and key, never data).
  static std::unique_ptr<ModuleHost> Load(const std::string& library,
                                          const std::string& config_path, std::string* error);

  // close() then dlclose().  Must not run concurrently with OnMessage().
  ~ModuleHost();
  ModuleHost(const ModuleHost&) = delete;
  ModuleHost& operator=(const ModuleHost&) = delete;

  // The hook.  Returns CV_OK, CV_DROPPED_FULL or CV_DROPPED_TOO_LARGE.
  int OnMessage(const cv_msg_meta& meta, const void* bytes, size_t len) const {
    return api_->on_message(module_, &meta, bytes, len);
  }

  // Reports every module counter.
  void Stats(const std::function<void(const char* name, uint64_t value)>& fn) const;

  uint32_t abi_version() const { return api_->abi_version; }

 private:
  ModuleHost(void* handle, const cv_api* api, cv_module* module)
      : handle_(handle), api_(api), module_(module) {}

  void* handle_;
  const cv_api* api_;
  cv_module* module_;
};

}  // namespace callvault::proxy
