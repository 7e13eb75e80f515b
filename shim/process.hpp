#pragma once
// One process the shim runs for containerd: a container's init or one of its execs. Its state
// moves only through the transition table (process_state.hpp); its exit is recorded once and
// reported to whoever waits on it.

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "oci-spec/spec.hpp"
#include "shim/process_state.hpp"
#include "shim/relay.hpp"
#include "shim/stdio.hpp"

namespace hippo::shim {

struct Process {
  std::string container_id;
  std::string exec_id;  // empty for init
  ProcessState state = ProcessState::kCreated;
  pid_t pid = 0;
  os::UniqueFd pidfd;  // the shim's child: reaped through it, never by the orphan reaper
  uint32_t exit_status = 0;
  std::chrono::system_clock::time_point exited_at{};
  StdioUris uris;
  Stdio stdio;
  os::UniqueFd pty;  // the terminal's master (resize); the relays hold their own copies
  std::unique_ptr<Relay> terminal_output, terminal_input;
  std::optional<spec::Process> exec_spec;  // until Start
  // Called once, when the process's exit has been reported (a pending Wait is state); dropped
  // when the ttrpc connection that asked goes away first.
  struct Waiter {
    uint64_t connection = 0;
    uint32_t stream = 0;  // the Wait's, for node mode's adoption record
    std::function<void(const Process&)> done;
  };
  std::vector<Waiter> waiters;
  // Node mode's adoption (shim/snapshot.hpp): reaped, its exit held until the output is read;
  std::optional<siginfo_t> reaped;
  // a dead daemon's process, now the keeper's child: the keeper reaps it and says how it ended.
  bool adopted = false;

  bool is_init() const { return exec_id.empty(); }
  // "container c1" or "exec e1 in container c1": the context of this process's errors.
  std::string name() const;
  // Moves the state by `verb` through the table; the error names the process.
  Result<void> apply(Verb verb);
  // The exit as waitid reported it: code, or 128 + signal, as containerd reports it.
  void record_exit(const siginfo_t& info);
};

// The exit status containerd reports: the code, or 128 + the signal.
uint32_t exit_code(const siginfo_t& info);

}  // namespace hippo::shim
