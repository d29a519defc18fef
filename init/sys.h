// Small system helpers shared by guest init's files (riscv64 guest only): whole reads that
// survive EINTR and short transfers (writes: base/fd.h), and the debug log to the console.
#pragma once

#include <string>
#include <string_view>

#include "base/fd.h"

namespace c2w::init {

// Where --debug-image logs go: hvc0 (the kernel console), opened O_CLOEXEC by init so the
// container never inherits it. -1 until init opens it.
extern int g_console_fd;
extern bool g_debug;

bool read_file(const std::string& path, std::string* out);
// "what: strerror(errno)" for messages.
std::string sys_error(std::string_view what);
// Writes "c2w-init: text" to the console when debugging.
void debug_log(std::string_view text);

// One file descriptor over a unix socket (SCM_RIGHTS) with a one-byte message.
bool send_fd(int socket, int fd);
// The descriptor received (O_CLOEXEC), -1 at end of stream or on error.
int recv_fd(int socket);

}  // namespace c2w::init
