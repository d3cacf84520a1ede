# Build-time step: turns migrations/NNNN_name.sql into a C++ table so that
# callvaultctl carries its schema and needs no repo files at run time.
# Usage: cmake -DSQL_DIR=dir -DOUT=file.cpp -P embed_migrations.cmake
file(GLOB sql_files "${SQL_DIR}/*.sql")
list(SORT sql_files)
set(body "")
set(last_version 0)
foreach(f ${sql_files})
  get_filename_component(name ${f} NAME_WE)
  if(NOT name MATCHES "^([0-9][0-9][0-9][0-9])_([a-z0-9_]+)$")
    message(FATAL_ERROR "${f}: migration files are named NNNN_lower_case_name.sql")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")  # drops leading zeros
  set(label ${CMAKE_MATCH_2})
  math(EXPR expected "${last_version} + 1")
  if(NOT version EQUAL expected)
    message(FATAL_ERROR "${f}: version ${version} follows ${last_version}; versions must be consecutive")
  endif()
  set(last_version ${version})
  file(READ ${f} sql)
  string(FIND "${sql}" ")cvsql\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${f}: contains the raw-string delimiter )cvsql\"")
  endif()
  string(APPEND body "    {${version}, \"${label}\", R\"cvsql(${sql})cvsql\"},\n")
endforeach()
set(content "// Generated from ${SQL_DIR} by embed_migrations.cmake; do not edit.
#include \"module/store/migrations.h\"

namespace callvault {

const std::vector<Migration>& EmbeddedMigrations() {
  static const std::vector<Migration> kMigrations = {
${body}  };
  return kMigrations;
}

}  // namespace callvault
")
# Rewrite only on change so an unchanged schema does not relink everything.
if(EXISTS ${OUT})
  file(READ ${OUT} old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE ${OUT} "${content}")
