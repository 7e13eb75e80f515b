#include "runtime/seccomp_agent.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "runtime/linux/unique_fd.hpp"

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
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (listener_path.size() >= sizeof addr.sun_path)
    return fail(what + ": path too long for a unix socket");
  std::memcpy(addr.sun_path, listener_path.c_str(), listener_path.size() + 1);
  linux::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return fail_errno(what + ": socket");
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return fail_errno(what + ": connect");
  }
  iovec iov{const_cast<char*>(process_state_json.data()), process_state_json.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &listener_fd, sizeof(int));
  const ssize_t n = ::sendmsg(sock.get(), &msg, MSG_NOSIGNAL);
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
