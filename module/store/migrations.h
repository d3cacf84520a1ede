// The schema migrations compiled into the binary (from migrations/*.sql by
// embed_migrations.cmake), in version order 1..N with no gaps.
#pragma once

#include <string_view>
#include <vector>

namespace callvault {

struct Migration {
  int version;
  std::string_view name;  // from the file name, e.g. "cdr_store"
  std::string_view sql;
};

const std::vector<Migration>& EmbeddedMigrations();

}  // namespace callvault
