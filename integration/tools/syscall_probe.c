// syscall-probe NR...: calls each syscall number with zero arguments and prints "NR:ERRNO"
// (ENOSYS, EPERM ... or "ok"), one a line. Static, so it runs in any rootfs; seccomp.bats copies
// it into a busybox container to see what the filter answers for numbers busybox never calls.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const long nr = strtol(argv[i], NULL, 0);
    errno = 0;
    const long rc = syscall(nr, 0, 0, 0, 0, 0, 0);
    const char* name = rc >= 0 ? "ok" : strerrorname_np(errno);
    printf("%ld:%s\n", nr, name ? name : "?");
  }
  return 0;
}
