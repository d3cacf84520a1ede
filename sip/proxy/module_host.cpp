#include "sip/proxy/module_host.h"

#include <dlfcn.h>

namespace callvault::proxy {

std::unique_ptr<ModuleHost> ModuleHost::Load(const std::string& library,
                                             const std::string& config_path,
                                             std::string* error) {
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    *error = "module " + library + ": cannot be loaded: " + (why ? why : "unknown error");
    return nullptr;
  }
  auto get_api = reinterpret_cast<cv_get_api_fn>(dlsym(handle, "cv_get_api"));
  if (get_api == nullptr) {
    *error = "module " + library + ": does not export cv_get_api";
    dlclose(handle);
    return nullptr;
  }
  const cv_api* api = get_api();
  if (api == nullptr) {
    *error = "module " + library + ": cv_get_api returned no function table";
    dlclose(handle);
    return nullptr;
  }
  const uint32_t major = api->abi_version >> 16;
  const uint32_t minor = api->abi_version & 0xFFFFu;
  // Same major, and major.minor at least ours: with the major equal, the
  // packed version compares like the minor.
  if (major != CV_ABI_MAJOR || api->abi_version < CV_ABI_VERSION) {
    *error = "module " + library + ": ABI version " + std::to_string(major) + "." +
             std::to_string(minor) + " is incompatible; this host needs " +
             std::to_string(CV_ABI_MAJOR) + "." + std::to_string(CV_ABI_MINOR) + " or a later minor";
    dlclose(handle);
    return nullptr;
  }
  if (api->struct_size < sizeof(cv_api) || api->open == nullptr || api->on_message == nullptr ||
      api->stats == nullptr || api->close == nullptr) {
    *error = "module " + library + ": function table is incomplete";
    dlclose(handle);
    return nullptr;
  }
  char err[512] = {0};
  cv_module* module = nullptr;
  const int rc = api->open(config_path.c_str(), &module, err, sizeof err);
  if (rc != CV_OK || module == nullptr) {
    err[sizeof err - 1] = '\0';
    *error = "module open failed (code " + std::to_string(rc) + "): " +
             (err[0] ? err : "no reason given");
    dlclose(handle);
    return nullptr;
  }
  return std::unique_ptr<ModuleHost>(new ModuleHost(handle, api, module));
}

ModuleHost::~ModuleHost() {
  api_->close(module_);
  dlclose(handle_);
}

void ModuleHost::Stats(const std::function<void(const char* name, uint64_t value)>& fn) const {
  api_->stats(
      module_,
      [](const char* name, uint64_t value, void* user) {
        (*static_cast<const std::function<void(const char*, uint64_t)>*>(user))(name, value);
      },
      const_cast<std::function<void(const char*, uint64_t)>*>(&fn));
}

}  // namespace callvault::proxy
