/* Messages on the sync channel between the runtime (parent), the intermediate process and
 * the container process, and on the start socket. Internal to runtime/. */
#ifndef BERTH_RUNTIME_PROTO_H
#define BERTH_RUNTIME_PROTO_H

enum {
  BERTH_MSG_USERNS = 1,  /* intermediate → parent: made a user namespace, write maps */
  BERTH_MSG_USERNS_DONE, /* parent → intermediate */
  BERTH_MSG_CHILD_PID,   /* intermediate → parent: value = container pid */
  BERTH_MSG_GO,          /* parent → container: id maps written, set up */
  BERTH_MSG_CGROUP_DONE, /* parent → container: in its cgroup (needed before cgroupns/READY) */
  BERTH_MSG_HOOKS,       /* container → parent: run prestart/createRuntime hooks */
  BERTH_MSG_HOOKS_DONE,  /* parent → container: data = state JSON for createContainer */
  BERTH_MSG_CONSOLE,     /* container → parent: fd = pty master */
  BERTH_MSG_READY,       /* container → parent: waiting for start */
  /* start socket */
  BERTH_MSG_START,         /* start → container: data = state JSON */
  BERTH_MSG_LISTENER,      /* container → start: value = the seccomp notify listener's descriptor
                            * number (written with write(2), taken with pidfd_getfd), or fd = it
                            * (after LISTENER_SEND) */
  BERTH_MSG_LISTENER_DONE, /* start → container (read with read(2)) */
  BERTH_MSG_LISTENER_SEND, /* start → container: pidfd_getfd was refused, send the descriptor */
  /* sync channel again (appended: the values above stay what running containers expect) */
  BERTH_MSG_MOUNT_TREE, /* container → parent: value = index in mounts, data = BERTH_MOUNT_F_* (uint32) */
  BERTH_MSG_MOUNT_TREE_DONE, /* parent → container: fd = the detached tree (berth_rootfs_host_tree) */
};

#endif
