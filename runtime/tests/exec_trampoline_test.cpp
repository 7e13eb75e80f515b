// The exec trampoline (runtime/linux/exec_trampoline.*): run for real from its sealed memfd.
#include "runtime/linux/exec_trampoline.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace hippo::os {
namespace {

struct Outcome {
  int status = -1;  // exit status, or -1 when it did not exit normally
  std::string output;
};

// Execs the trampoline from `fd` in a child with `argv`/`env`, collecting stdout and stderr.
Outcome run_trampoline(int fd, std::vector<std::string> argv, std::vector<std::string> env) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return {};  // dup2 onto stdout/stderr clears the flag
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> av, ev;
    for (auto& a : argv) av.push_back(a.data());
    av.push_back(nullptr);
    for (auto& e : env) ev.push_back(e.data());
    ev.push_back(nullptr);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::syscall(SYS_execveat, fd, "", av.data(), ev.data(), AT_EMPTY_PATH);
    ::_exit(99);
  }
  ::close(out[1]);
  Outcome o;
  char buf[512];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) o.output.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) o.status = WEXITSTATUS(status);
  return o;
}

TEST(ExecTrampoline, IsSealedAgainstEveryChange) {
  auto fd = sealed_exec_trampoline();
  ASSERT_TRUE(fd) << fd.error().message;
  const int seals = ::fcntl(fd->get(), F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL),
            F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
  // What a container would try with the fd of /proc/<pid>/exe: reopen it for writing.
  const std::string path = "/proc/self/fd/" + std::to_string(fd->get());
  const int w = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(w, 0);
  EXPECT_EQ(::write(w, "x", 1), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::ftruncate(w, 0), -1);
  EXPECT_EQ(::fcntl(w, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), -1);
  ::close(w);
  EXPECT_EQ(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

TEST(ExecTrampoline, ExecsTheProgramWithItsArgvAndEnvironment) {
  auto fd = sealed_exec_trampoline();
  ASSERT_TRUE(fd);
  const auto o = run_trampoline(
      fd->get(), {kExecTrampolineMarker, "/bin/sh", "name0", "-c", "echo $X $0 $1", "a0", "a1"},
      {"X=env-seen"});
  EXPECT_EQ(o.status, 0) << o.output;
  EXPECT_EQ(o.output, "env-seen a0 a1\n");
}

TEST(ExecTrampoline, RefusesToBeAScriptsInterpreter) {
  auto fd = sealed_exec_trampoline();
  ASSERT_TRUE(fd);
  char dir[] = "/tmp/hippo-trampoline-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string script = std::string(dir) + "/evil";
  const int s = ::open(script.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
  ASSERT_GE(s, 0);
  const char text[] = "#!/proc/self/exe\n";
  ASSERT_EQ(::write(s, text, sizeof text - 1), static_cast<ssize_t>(sizeof text - 1));
  ::close(s);
  // The kernel resolves the interpreter in the process that execs the script: the trampoline.
  const auto o = run_trampoline(fd->get(), {kExecTrampolineMarker, script, "evil"}, {});
  ::unlink(script.c_str());
  ::rmdir(dir);
  EXPECT_EQ(o.status, 126) << o.output;
  EXPECT_NE(o.output.find("exec trampoline runs only as hippo starts"), std::string::npos)
      << o.output;
}

TEST(ExecTrampoline, SaysWhyAnExecFailedInWords) {
  auto fd = sealed_exec_trampoline();
  ASSERT_TRUE(fd);
  const auto o =
      run_trampoline(fd->get(), {kExecTrampolineMarker, "/nonexistent/prog", "prog"}, {});
  EXPECT_EQ(o.status, 1);
  EXPECT_EQ(o.output, "hippo init: exec /nonexistent/prog: No such file or directory\n");
}

TEST(ExecTrampoline, RefusesWithoutItsMarker) {
  auto fd = sealed_exec_trampoline();
  ASSERT_TRUE(fd);
  const auto o = run_trampoline(fd->get(), {"/bin/sh", "/bin/sh", "sh"}, {});
  EXPECT_EQ(o.status, 126);
}

}  // namespace
}  // namespace hippo::os
