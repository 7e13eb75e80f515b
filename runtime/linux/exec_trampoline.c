/* The first program every container process runs: a few hundred bytes of static code, no libc,
 * executed by init from a sealed memfd (exec_trampoline.hpp). It only execs the container's
 * program, so the kernel never resolves that program's `#!/proc/self/exe` (CVE-2019-5736) while
 * /proc/self/exe is the host's hippo or shim binary: it is this sealed, unwritable copy.
 *
 * argv: [kMarker, program, program's argv...]; envp: the program's. Run any other way (as a
 * script's interpreter through /proc/self/exe, or by hand), it refuses and exits 126.
 * Being static, it ignores LD_PRELOAD and every other loader variable.
 */

#if defined(__x86_64__)
#define NR_write 1
#define NR_execve 59
#define NR_exit_group 231
static long sys3(long n, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}
__asm__(
    ".text\n.globl _start\n_start:\n xor %rbp,%rbp\n mov %rsp,%rdi\n and $-16,%rsp\n"
    " call trampoline_main\n hlt\n");
#elif defined(__aarch64__)
#define NR_write 64
#define NR_execve 221
#define NR_exit_group 94
static long sys3(long n, long a, long b, long c) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}
__asm__(
    ".text\n.globl _start\n_start:\n mov x29, #0\n mov x30, #0\n mov x0, sp\n"
    " bl trampoline_main\n");
#else
#error "exec trampoline: unsupported architecture"
#endif

/* Must equal kExecTrampolineMarker in exec_trampoline.hpp. */
static const char kMarker[] = "hippo-exec";

static unsigned long length(const char* s) {
  unsigned long n = 0;
  while (s[n]) ++n;
  return n;
}

static void say(const char* s) { sys3(NR_write, 2, (long)s, (long)length(s)); }

static __attribute__((noreturn)) void leave(int code) {
  for (;;) sys3(NR_exit_group, code, 0, 0);
}

/* The texts glibc's strerror gives for what execve can fail with. */
static const char* describe(long err) {
  switch (err) {
    case 1:
      return "Operation not permitted";
    case 2:
      return "No such file or directory";
    case 7:
      return "Argument list too long";
    case 8:
      return "Exec format error";
    case 12:
      return "Cannot allocate memory";
    case 13:
      return "Permission denied";
    case 20:
      return "Not a directory";
    case 21:
      return "Is a directory";
    case 26:
      return "Text file busy";
    case 36:
      return "File name too long";
    case 40:
      return "Too many levels of symbolic links";
    default:
      return "error";
  }
}

__attribute__((used, noreturn)) void trampoline_main(long* sp) {
  const long argc = sp[0];
  char** argv = (char**)(sp + 1);
  char** envp = argv + argc + 1;
  int marked = argc >= 3;
  for (unsigned long i = 0; marked && i < sizeof kMarker; ++i) marked = argv[0][i] == kMarker[i];
  if (!marked) {
    say("hippo: the exec trampoline runs only as hippo starts a container's program\n");
    leave(126);
  }
  const long err = -sys3(NR_execve, (long)argv[1], (long)(argv + 2), (long)envp);
  say("hippo init: exec ");
  say(argv[1]);
  say(": ");
  say(describe(err));
  say("\n");
  leave(1);
}
