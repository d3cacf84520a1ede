// Minimal "--name value" / "--switch" parsing shared by every callvaultctl
// command, so each command states its flags once and errors read the same.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "module/ctl/commands.h"

namespace callvault::ctl {

class Flags {
 public:
  // valued: flags that take a value; switches: flags that do not.
  // Positional arguments (not starting with --) are collected in order.
  Flags(const Args& args, std::set<std::string> valued, std::set<std::string> switches = {});

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }  // e.g. "unknown flag --foo"
  bool has(const std::string& name) const;
  std::string get(const std::string& name, const std::string& fallback = "") const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
  std::string error_;
};

}  // namespace callvault::ctl
