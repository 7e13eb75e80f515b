#include "runtime/seccomp_agent.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "base/syscalls.hpp"
#include "base/unique_fd.hpp"

namespace hippo::runtime {

std::string container_process_state(const spec::OciState& state, pid_t pid,
                                    const std::string& metadata) {
  spec::Json j;
  j["ociVersion"] = state.ociVersion;
  j["fds"] = spec::Json::array({"seccompFd"});
  j["pid"] = pid;
  if (!metadata.empty()) j["metadata"] = metadata;
  j["state"] = spec::to_json(state);
  return j.dump();
}

Result<void> send_to_seccomp_agent(const std::string& listener_path, int listener_fd,
                                   const std::string& process_state_json) {
  const std::string what = "linux.seccomp.listenerPath \"" + listener_path + "\"";
  // runc's words, which users and tools grep for, then where hippo looked and what failed.
  const std::string no_agent =
      "failed to connect with seccomp agent specified in the seccomp "
      "profile: " +
      what;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (listener_path.size() >= sizeof addr.sun_path)
    return fail(no_agent + ": path too long for a unix socket");
  std::memcpy(addr.sun_path, listener_path.c_str(), listener_path.size() + 1);
  os::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return fail_errno(no_agent + ": socket");
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return fail_errno(no_agent + ": connect");
  }
  const ssize_t n = os::sys::send_fd(sock.get(), listener_fd, process_state_json.data(),
                                     process_state_json.size());
  if (n < 0) return fail_errno(what + ": send the seccomp listener");
  // The rest of a long state, if the first sendmsg took only part of it.
  for (size_t done = static_cast<size_t>(n); done < process_state_json.size();) {
    const ssize_t w = ::send(sock.get(), process_state_json.data() + done,
                             process_state_json.size() - done, MSG_NOSIGNAL);
    if (w <= 0) return fail_errno(what + ": send the container state");
    done += static_cast<size_t>(w);
  }
  return {};
}

}  // namespace hippo::runtime
