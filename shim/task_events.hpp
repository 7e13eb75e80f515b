#pragma once
// The events the Task service publishes, each with its topic and message type, in one table
// (containerd's runtime/v2 topics: /tasks/create … /tasks/delete), and the type URLs of the
// JSON payloads the Task API carries.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace hippo::shim {

enum class TaskEvent : uint8_t {
  kCreate,
  kStart,
  kDelete,
  kExit,
  kOom,
  kExecAdded,
  kExecStarted,
  kPaused,
  kResumed,
};

struct TaskEventName {
  TaskEvent event;
  std::string_view topic;
  std::string_view type_url;  // the bare message name the Publisher wraps in an Any
};

inline constexpr TaskEventName kTaskEvents[] = {
    {TaskEvent::kCreate, "/tasks/create", "containerd.events.TaskCreate"},
    {TaskEvent::kStart, "/tasks/start", "containerd.events.TaskStart"},
    {TaskEvent::kDelete, "/tasks/delete", "containerd.events.TaskDelete"},
    {TaskEvent::kExit, "/tasks/exit", "containerd.events.TaskExit"},
    {TaskEvent::kOom, "/tasks/oom", "containerd.events.TaskOOM"},
    {TaskEvent::kExecAdded, "/tasks/exec-added", "containerd.events.TaskExecAdded"},
    {TaskEvent::kExecStarted, "/tasks/exec-started", "containerd.events.TaskExecStarted"},
    {TaskEvent::kPaused, "/tasks/paused", "containerd.events.TaskPaused"},
    {TaskEvent::kResumed, "/tasks/resumed", "containerd.events.TaskResumed"},
};

constexpr const TaskEventName& task_event_name(TaskEvent e) {
  return kTaskEvents[static_cast<size_t>(e)];
}
static_assert(
    [] {
      for (size_t i = 0; i < std::size(kTaskEvents); ++i) {
        if (static_cast<size_t>(kTaskEvents[i].event) != i) return false;
      }
      return true;
    }(),
    "kTaskEvents is indexed by TaskEvent");

// Payloads of Exec and Update: OCI runtime-spec JSON.
inline constexpr std::string_view kSpecProcessUrl =
    "types.containerd.io/opencontainers/runtime-spec/1/Process";
inline constexpr std::string_view kResourcesUrl =
    "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";

}  // namespace hippo::shim
