// Small durable-file primitives shared by everything that persists state
// (checkpoint, downstream cursors, keyring): a crash leaves either the old
// file or the new one, never a torn mix.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>

namespace callvault {

// write(2) until done or a real error (EINTR retried).
bool WriteAll(int fd, std::string_view data);

// Writes data to path.tmp (mode), fsyncs it, renames it over path and fsyncs
// the directory.  On failure *error names the file and the errno text.
bool WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode,
                         std::string* error);

}  // namespace callvault
