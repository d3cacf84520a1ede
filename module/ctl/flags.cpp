#include "module/ctl/flags.h"

namespace callvault::ctl {

Flags::Flags(const Args& args, std::set<std::string> valued, std::set<std::string> switches) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    if (switches.count(name)) {
      values_.insert_or_assign(name, std::string{});
    } else if (valued.count(name)) {
      if (i + 1 >= args.size()) {
        error_ = "flag --" + name + " needs a value";
        return;
      }
      values_[name] = args[++i];
    } else {
      error_ = "unknown flag --" + name;
      return;
    }
  }
}

bool Flags::has(const std::string& name) const { return values_.count(name) != 0; }

std::string Flags::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

}  // namespace callvault::ctl
