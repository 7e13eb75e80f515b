#include <algorithm>

#include "runtime/cli/commands.hpp"

namespace hippo::cli {
namespace {

// Flag tables follow runc 1.1's commands so that scripts and engines written for runc work.
constexpr FlagSpec kCreateFlags[] = {
    {"bundle", 'b', true, false,
     "path to the root of the bundle directory, defaults to the current directory"},
    {"console-socket", 0, true, false,
     "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of "
     "the console's pseudoterminal"},
    {"pid-file", 0, true, false, "specify the file to write the process id to"},
    {"no-pivot", 0, false, false, "do not use pivot root to jail process inside rootfs"},
    {"no-new-keyring", 0, false, false, "do not create a new session keyring for the container"},
    {"preserve-fds", 0, true, false,
     "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"},
};

constexpr FlagSpec kRunFlags[] = {
    {"bundle", 'b', true, false,
     "path to the root of the bundle directory, defaults to the current directory"},
    {"console-socket", 0, true, false,
     "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of "
     "the console's pseudoterminal"},
    {"detach", 'd', false, false, "detach from the container's process"},
    {"keep", 0, false, false, "do not delete the container after it exits"},
    {"pid-file", 0, true, false, "specify the file to write the process id to"},
    {"no-subreaper", 0, false, false,
     "disable the use of the subreaper used to reap reparented processes"},
    {"no-pivot", 0, false, false, "do not use pivot root to jail process inside rootfs"},
    {"no-new-keyring", 0, false, false, "do not create a new session keyring for the container"},
    {"preserve-fds", 0, true, false,
     "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"},
};

constexpr FlagSpec kKillFlags[] = {
    {"all", 'a', false, false, "send the specified signal to all processes inside the container"},
};

constexpr FlagSpec kDeleteFlags[] = {
    {"force", 'f', false, false,
     "forcibly delete the container if it is still running (uses SIGKILL)"},
};

constexpr FlagSpec kListFlags[] = {
    {"format", 'f', true, false, "select one of: table or json (default: \"table\")"},
    {"quiet", 'q', false, false, "display only container IDs"},
};

constexpr FlagSpec kPsFlags[] = {
    {"format", 'f', true, false, "select one of: table or json (default: \"table\")"},
};

constexpr FlagSpec kExecFlags[] = {
    {"console-socket", 0, true, false,
     "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of "
     "the console's pseudoterminal"},
    {"cwd", 0, true, false, "current working directory in the container"},
    {"env", 'e', true, true, "set environment variables"},
    {"tty", 't', false, false, "allocate a pseudo-TTY"},
    {"user", 'u', true, false, "UID (format: <uid>[:<gid>])"},
    {"additional-gids", 'g', true, true, "additional gids"},
    {"process", 'p', true, false, "path to the process.json"},
    {"detach", 'd', false, false, "detach from the container's process"},
    {"pid-file", 0, true, false, "specify the file to write the process id to"},
    {"process-label", 0, true, false,
     "set the asm process label for the process commonly used with selinux"},
    {"apparmor", 0, true, false, "set the apparmor profile for the process"},
    {"no-new-privs", 0, false, false, "set the no new privileges value for the process"},
    {"cap", 'c', true, true, "add a capability to the bounding set for the process"},
    {"preserve-fds", 0, true, false,
     "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"},
    {"cgroup", 0, true, true,
     "run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>."},
    {"ignore-paused", 0, false, false, "allow exec in a paused container"},
};

constexpr FlagSpec kUpdateFlags[] = {
    {"resources", 'r', true, false,
     "path to the file containing the resources to update or '-' to read from the standard input"},
    {"blkio-weight", 0, true, false, "specifies per cgroup weight, range is from 10 to 1000"},
    {"cpu-period", 0, true, false,
     "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default"},
    {"cpu-quota", 0, true, false,
     "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period"},
    {"cpu-share", 0, true, false, "CPU shares (relative weight vs. other containers)"},
    {"cpu-shares", 0, true, false, "alias of --cpu-share"},
    {"cpu-rt-period", 0, true, false,
     "CPU realtime period to be used for hardcapping (in usecs). 0 to use system default"},
    {"cpu-rt-runtime", 0, true, false,
     "CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period"},
    {"cpuset-cpus", 0, true, false, "CPU(s) to use"},
    {"cpuset-mems", 0, true, false, "Memory node(s) to use"},
    {"kernel-memory", 0, true, false, "(obsoleted; do not use)"},
    {"kernel-memory-tcp", 0, true, false, "(obsoleted; do not use)"},
    {"memory", 0, true, false, "Memory limit (in bytes)"},
    {"memory-reservation", 0, true, false, "Memory reservation or soft_limit (in bytes)"},
    {"memory-swap", 0, true, false,
     "Total memory usage (memory + swap); set '-1' to enable unlimited swap"},
    {"pids-limit", 0, true, false, "Maximum number of pids allowed in the container"},
    {"l3-cache-schema", 0, true, false, "The string of Intel RDT/CAT L3 cache schema"},
    {"mem-bw-schema", 0, true, false, "The string of Intel RDT/MBA memory bandwidth schema"},
};

constexpr FlagSpec kEventsFlags[] = {
    {"interval", 0, true, false, "set the stats collection interval (default: 5s)"},
    {"stats", 0, false, false, "display the container's stats then exit"},
};

constexpr FlagSpec kSpecFlags[] = {
    {"bundle", 'b', true, false, "path to the root of the bundle directory"},
    {"rootless", 0, false, false, "generate a configuration for a rootless container"},
};

constexpr FlagSpec kValidateFlags[] = {
    {"bundle", 'b', true, false,
     "path to the root of the bundle directory, defaults to the current directory"},
    {"print", 0, false, false, "print the config as hippo reads it (normalized JSON)"},
};

constexpr FlagSpec kCdiFlags[] = {
    {"format", 'f', true, false, "select one of: table or json (default: \"table\")"},
};

constexpr std::span<const FlagSpec> kNone{};

constexpr Command kCommands[] = {
    {"cdi", "list", "list the CDI devices of the spec files in cdi_spec_dirs (hippo only)",
     kCdiFlags, 1, 1, false, run_cdi},
    {"checkpoint", "<container-id>", "checkpoint a running container (not supported)", kNone, 0, -1,
     true, run_not_implemented},
    {"create", "<container-id>", "create a container", kCreateFlags, 1, 1, false, run_create},
    {"delete", "<container-id>",
     "delete any resources held by the container often used with detached container", kDeleteFlags,
     1, 1, false, run_delete},
    {"events", "<container-id>",
     "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
     kEventsFlags, 1, 1, false, run_events},
    {"exec", "<container-id> <command> [command options]",
     "execute new process inside the container", kExecFlags, 1, -1, true, run_exec, 255},
    {"features", "", "show the enabled features", kNone, 0, 0, false, run_features},
    {"kill", "<container-id> [signal]",
     "kill sends the specified signal (default: SIGTERM) to the container's init process",
     kKillFlags, 1, 2, false, run_kill},
    {"list", "", "lists containers started by hippo with the given root", kListFlags, 0, 0, false,
     run_list},
    {"pause", "<container-id>", "pause suspends all processes inside the container", kNone, 1, 1,
     false, run_pause},
    {"ps", "<container-id> [ps options]", "ps displays the processes running inside a container",
     kPsFlags, 1, -1, true, run_ps},  // as runc: what follows the id is ps(1)'s
    {"restore", "<container-id>", "restore a container from a previous checkpoint (not supported)",
     kNone, 0, -1, true, run_not_implemented},
    {"resume", "<container-id>", "resumes all processes that have been previously paused", kNone, 1,
     1, false, run_resume},
    {"run", "<container-id>", "create and run a container", kRunFlags, 1, 1, false, run_run},
    {"spec", "", "create a new specification file", kSpecFlags, 0, 0, false, run_spec},
    {"start", "<container-id>", "executes the user defined process in a created container", kNone,
     1, 1, false, run_start},
    {"state", "<container-id>", "output the state of a container", kNone, 1, 1, false, run_state},
    {"update", "<container-id>", "update container resource constraints", kUpdateFlags, 1, 1, false,
     run_update},
    {"validate", "", "check a bundle's config.json the way create reads it (hippo only)",
     kValidateFlags, 0, 0, false, run_validate},
};

}  // namespace

std::span<const Command> commands() { return kCommands; }

const Command* find_command(std::string_view name) {
  auto it = std::ranges::find(kCommands, name, &Command::name);
  return it == std::end(kCommands) ? nullptr : &*it;
}

Result<int> run_not_implemented(const Context& ctx, const ParsedFlags&) {
  if (ctx.command == "checkpoint" || ctx.command == "restore") {
    return fail(std::string(ctx.command) + ": not supported by hippo (no CRIU integration)");
  }
  return fail(std::string(ctx.command) +
              ": not implemented yet: this hippo build checks the command, its flags and the "
              "bundle, but the native runtime that carries it out is not built yet");
}

}  // namespace hippo::cli
