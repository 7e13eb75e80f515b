#pragma once
// Which Linux security modules the host runs, and the files through which a process asks for
// its label at the next execve.

namespace hippo::os {

bool apparmor_enabled();  // /sys/module/apparmor/parameters/enabled is "Y"
bool selinux_enabled();   // selinuxfs is mounted at /sys/fs/selinux

}  // namespace hippo::os
