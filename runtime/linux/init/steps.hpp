#pragma once
// The steps of the container's init between clone and execve, one file per concern, called in
// order by run_init (init_child.cpp). Private to hippo_linux.
//
// Every function here runs in the cloned child. Rules: no allocation, no locks, no exceptions, no
// logging library: raw system calls over the pre-built plan; a failed step reports {errno, what} to
// the parent and _exits. Fixed-size buffers live on the stack.

#include <sys/types.h>

#include <climits>
#include <cstddef>
#include <string>

#include "runtime/linux/init_plan.hpp"

namespace hippo::os::init {

// --- report.cpp: fixed-size text, failure reports, whole writes -----------------------------

// Appends C strings into a fixed buffer, truncating; no allocation.
struct Text {
  char buf[PATH_MAX + 64];
  size_t len = 0;
  Text() { buf[0] = '\0'; }
  Text& add(const char* s) {
    if (s == nullptr) s = "(unknown error)";
    while (*s && len + 1 < sizeof buf) buf[len++] = *s++;
    buf[len] = '\0';
    return *this;
  }
  Text& add(unsigned long v) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v && n < 24);
    while (n && len + 1 < sizeof buf) buf[len++] = digits[--n];
    buf[len] = '\0';
    return *this;
  }
};

// Where a failure is told, set by run_init as the child goes through its phases. Each cloned
// child has its own copy (no CLONE_VM).
extern int g_sync_fd;
extern int g_fifo_fd;  // once `start` opened the exec fifo, failures are told there
extern int g_trampoline_fd;
extern pid_t g_host_pid;  // from kGo: the pid the hooks' state shows

// Reports {err, what + detail} to whoever listens (the parent's sync socket, `start` through
// the exec fifo, or stderr) and _exits.
[[noreturn]] void die_with(int err, const char* what, const char* detail = "");
// errno is read before anything else runs in die().
[[noreturn]] void die(const char* what, const char* detail = "");
[[noreturn]] void die(const std::string& what, const char* detail = "");

void proc_fd_path(Text& t, int fd);
void write_file(const char* path, const std::string& value, const char* what);
void write_all(int fd, const char* s, size_t n, const char* what);

// --- hooks.cpp: the trampoline exec and the hooks init runs itself ---------------------------

// Execs `argv` = [marker, program, program's argv...] through the sealed trampoline
// (exec_trampoline.hpp), never the program itself. Returns only on failure, with errno set.
void exec_through_trampoline(int trampoline_fd, char* const* argv, char* const* envp);
void run_hook(const HookRun& h, const std::string& head, const std::string& tail);
// Mounts are done and the host's root is still reachable: the parent runs prestart and
// createRuntime now, then init runs createContainer in the container's namespaces.
void run_creation_hooks(const InitPlan& plan);

// --- rootfs.cpp: mounts, devices, pivot_root, sysctls, masked and read-only paths ------------

// Mounts, devices and symlinks in the rootfs, the creation hooks, then pivot_root (or chroot).
void setup_rootfs(const InitPlan& plan);
// After the console: sysctls, read-only and masked paths, a read-only root.
void finish_rootfs(const InitPlan& plan);

// --- console.cpp -----------------------------------------------------------------------------

// The pty comes from the container's own devpts instance (/dev/ptmx -> pts/ptmx), as in runc.
void setup_console(const InitPlan& plan);

// --- credentials.cpp: user, capabilities, LSM labels, seccomp --------------------------------

// setgroups, gid, uid; with capabilities to apply, the permitted set survives the uid change
// (keep-caps) and the five sets are set right after it.
void switch_user(const InitPlan& plan);
// The label the next execve gives this thread.
void set_exec_label(const char* name, const std::string& value, const char* what);
// Returns the notify listener fd, or -1 when the filter has no SCMP_ACT_NOTIFY rule.
int load_seccomp(const SeccompProgram& p);

}  // namespace hippo::os::init
