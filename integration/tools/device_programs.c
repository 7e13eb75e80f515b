// device-programs DIR: prints the ids of the eBPF device programs attached to the cgroup v2
// directory DIR, one a line (BPF_PROG_QUERY; no bpftool on the test machines).
// device-update.bats compares them across updates: one program, replaced, never accumulated.
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: device-programs CGROUP_DIR\n");
    return 2;
  }
  int dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    fprintf(stderr, "device-programs: open %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  __u32 ids[64];
  union bpf_attr query;
  memset(&query, 0, sizeof(query));
  query.query.target_fd = (__u32)dir;
  query.query.attach_type = BPF_CGROUP_DEVICE;
  query.query.prog_ids = (__u64)(unsigned long)ids;
  query.query.prog_cnt = 64;
  if (syscall(SYS_bpf, BPF_PROG_QUERY, &query, sizeof(query)) != 0) {
    fprintf(stderr, "device-programs: query %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  for (__u32 i = 0; i < query.query.prog_cnt; ++i) printf("%u\n", ids[i]);
  return 0;
}
