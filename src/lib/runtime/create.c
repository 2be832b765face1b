#include "runtime/create.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/unixsock.h"
#include "base/fs.h"
#include "base/privdir.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/sync.h"
#include "base/xalloc.h"
#include "json/json.h"
#include "linux/lsm.h"
#include "linux/namespaces.h"
#include "linux/process.h"
#include "linux/rootfs/rootfs.h"
#include "linux/selfexe.h"
#include "oci/spec.h"
#include "runtime/cgroups.h"
#include "runtime/dmz.h"
#include "runtime/hooks.h"
#include "runtime/init.h"
#include "runtime/internal.h"
#include "runtime/notify.h"
#include "runtime/proto.h"

/* State that the parent side of create accumulates and must undo on failure. */
struct create_state {
  const struct berth_create_opts *o;
  berth_spec_t *spec;
  char *bundle;
  char *rootfs;
  char *dir; /* state dir, removed on failure */
  bool dir_made;
  int ns_fds[BERTH_NS__COUNT];
  int console_sock;
  int start_fd;
  int sync[2];
  pid_t pid;
  int pidfd;
  pid_t intermediate;
  int console_master;
  struct berth_seccomp_prog *seccomp;
  int dmz_fd; /* berth-dmz's sealed memfd, or -1 */
  struct berth_container *c;
  berth_cgroup_manager_t *cgroup;
  uint64_t oom_base; /* the cgroup's OOM kills when it was set up (an old leaf may have some) */
};

static void create_state_release(struct create_state *s, bool failed)
{
  if (s->dmz_fd >= 0)
    close(s->dmz_fd);
  if (failed && s->pidfd >= 0)
    syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
  else if (failed && s->pid > 0)
    kill(s->pid, SIGKILL);
  if (failed && s->pid > 0)
    waitpid(s->pid, NULL, __WALL);
  if (s->intermediate > 0)
    waitpid(s->intermediate, NULL, __WALL);
  if (failed && s->cgroup) {
    berth_error_t e = NULL;
    if (berth_cgroup_destroy(s->cgroup, &e) < 0) {
      berth_log_warn("cleanup: %s", e->msg);
      berth_error_release(&e);
    }
  }
  berth_cgroup_manager_free(s->cgroup);
  if (failed && s->dir_made) {
    berth_error_t e = NULL;
    if (berth_rm_rf(s->dir, &e) < 0) {
      berth_log_warn("cleanup: %s", e->msg);
      berth_error_release(&e);
    }
  }
  berth_ns_close_all(s->ns_fds);
  for (int i = 0; i < 2; i++)
    if (s->sync[i] >= 0)
      close(s->sync[i]);
  if (s->console_sock >= 0)
    close(s->console_sock);
  if (s->start_fd >= 0)
    close(s->start_fd);
  if (failed && s->pidfd >= 0)
    close(s->pidfd);
  if (s->console_master >= 0)
    close(s->console_master);
  berth_seccomp_prog_free(s->seccomp);
  berth_container_free(s->c);
  if (s->spec)
    berth_spec_free(s->spec);
  free(s->bundle);
  free(s->rootfs);
  free(s->dir);
}

static BERTH_WUR int resolve_paths(struct create_state *s, berth_error_t *err)
{
  const char *bundle = s->o->bundle ? s->o->bundle : ".";
  char buf[PATH_MAX];
  if (realpath(bundle, buf) == NULL)
    return BERTH_ERR_ERRNO(err, "bundle `%s`", bundle);
  s->bundle = xstrdup(buf);
  if (berth_spec_load(s->bundle, &s->spec, err) < 0)
    return -1;
  const char *root = s->spec->root_path;
  cleanup_free char *joined = root[0] == '/' ? xstrdup(root) : xasprintf("%s/%s", s->bundle, root);
  if (realpath(joined, buf) == NULL)
    return BERTH_ERR_ERRNO(err, "%s/config.json: root.path: `%s`", s->bundle, joined);
  struct stat st;
  if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
    return BERTH_ERR(err, "%s/config.json: root.path: `%s` is not a directory", s->bundle, buf);
  s->rootfs = xstrdup(buf);
  return 0;
}

int berth_start_socket_connect(const char *dir, berth_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/start.sock", dir);
  int fd = berth_unix_connect(path, SOCK_SEQPACKET, err);
  return fd < 0 ? berth_error_wrap(err, "the container's start socket") : fd;
}

static BERTH_WUR int make_start_socket(struct create_state *s, berth_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/start.sock", s->dir);
  cleanup_close int dirfd = -1; /* a state dir too long for sun_path: through its descriptor */
  struct sockaddr_un sa;
  if (berth_unix_addr(path, &sa, &dirfd, err) < 0)
    return -1;
  s->start_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s->start_fd < 0)
    return BERTH_ERR_ERRNO(err, "socket");
  if (bind(s->start_fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    return BERTH_ERR_ERRNO(err, "bind start socket in `%s`", s->dir);
  if (listen(s->start_fd, 1) < 0)
    return BERTH_ERR_ERRNO(err, "listen on start socket");
  return 0;
}

int berth_console_socket_connect(const char *path, berth_error_t *err)
{
  int fd = berth_unix_connect(path, SOCK_STREAM, err);
  return fd < 0 ? berth_error_wrap(err, "console socket") : fd;
}

static BERTH_WUR int connect_console_socket(struct create_state *s, berth_error_t *err)
{
  if (s->o->console_socket == NULL)
    return 0;
  if (!s->spec->process.terminal)
    return BERTH_ERR(err, "--console-socket given but process.terminal is false");
  s->console_sock = berth_console_socket_connect(s->o->console_socket, err);
  return s->console_sock < 0 ? -1 : 0;
}

static BERTH_WUR int write_userns_maps(struct create_state *s, pid_t pid, berth_error_t *err)
{
  const struct berth_spec_linux *l = &s->spec->linux_;
  bool deny = geteuid() != 0;
  if (berth_userns_write_maps(pid, l->uid_mappings, l->n_uid_mappings, l->gid_mappings, l->n_gid_mappings,
                              deny, err) < 0)
    return berth_error_wrap(err, "user namespace of pid %d", (int) pid);
  return 0;
}

static BERTH_WUR int spawn_fast(struct create_state *s, struct berth_init_ctx *ctx, uint64_t new_flags,
                                berth_error_t *err)
{
  ctx->clone_flags = new_flags & ~(uint64_t) CLONE_NEWCGROUP;
  ctx->unshare_flags = new_flags & (uint64_t) CLONE_NEWCGROUP;
  int pidfd = -1;
  pid_t pid = berth_clone3(ctx->clone_flags, &pidfd, SIGCHLD);
  if (pid < 0)
    return BERTH_ERR_ERRNO(err, "clone container process");
  if (pid == 0) {
    close(s->sync[0]);
    ctx->sync_fd = s->sync[1];
    berth_init_main(ctx);
  }
  s->pid = pid;
  s->pidfd = pidfd;
  if (ctx->userns_new && write_userns_maps(s, pid, err) < 0)
    return -1;
  return 0;
}

static BERTH_WUR int spawn_two_stage(struct create_state *s, struct berth_init_ctx *ctx, uint64_t new_flags,
                                     berth_error_t *err)
{
  ctx->clone_flags = 0;
  ctx->unshare_flags = new_flags;
  pid_t pid = berth_clone3(0, NULL, SIGCHLD);
  if (pid < 0)
    return BERTH_ERR_ERRNO(err, "fork intermediate process");
  if (pid == 0) {
    close(s->sync[0]);
    ctx->sync_fd = s->sync[1];
    berth_init_intermediate(ctx);
  }
  s->intermediate = pid;
  struct berth_sync_msg msg;
  for (;;) {
    if (berth_sync_recv(s->sync[0], &msg, NULL, err) < 0)
      return -1;
    if (msg.type == BERTH_MSG_USERNS) {
      if (write_userns_maps(s, pid, err) < 0)
        return -1;
      if (berth_sync_send(s->sync[0], BERTH_MSG_USERNS_DONE, 0, NULL, 0, -1, err) < 0)
        return -1;
      continue;
    }
    if (msg.type != BERTH_MSG_CHILD_PID)
      return BERTH_ERR(err, "unexpected message %u from intermediate process", msg.type);
    break;
  }
  s->pid = (pid_t) msg.value;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  s->intermediate = 0;
  s->pidfd = (int) syscall(SYS_pidfd_open, s->pid, 0);
  if (s->pidfd < 0)
    return BERTH_ERR_ERRNO(err, "pidfd of container process %d", (int) s->pid);
  return 0;
}

static BERTH_WUR int spawn(struct create_state *s, struct berth_init_ctx *ctx, berth_error_t *err)
{
  const berth_spec_t *spec = s->spec;
  uint64_t new_flags = berth_ns_new_flags(spec);
  bool joins = false;
  for (int t = 0; t < BERTH_NS__COUNT; t++)
    joins |= s->ns_fds[t] >= 0;
  ctx->userns_new = (new_flags & CLONE_NEWUSER) != 0;
  ctx->in_userns = spec->linux_.ns[BERTH_NS_USER].present;
  ctx->setgroups_allowed = !ctx->userns_new || geteuid() == 0;
  if (joins || spec->linux_.ns[BERTH_NS_TIME].present)
    return spawn_two_stage(s, ctx, new_flags, err);
  return spawn_fast(s, ctx, new_flags, err);
}

static struct berth_container *new_container(struct create_state *s)
{
  struct berth_container *c = xmalloc0(sizeof *c);
  c->root = xstrdup(s->o->root);
  c->id = xstrdup(s->o->id);
  c->dir = xstrdup(s->dir);
  c->bundle = xstrdup(s->bundle);
  c->rootfs = xstrdup(s->rootfs);
  c->pid = s->pid;
  c->pid_start = berth_proc_start_time(s->pid);
  c->created = berth_rfc3339_now();
  c->owner = geteuid();
  c->has_pidns = s->spec->linux_.ns[BERTH_NS_PID].present;
  json_t *ann = json_object_get(s->spec->doc, "annotations");
  if (json_is_object(ann))
    c->annotations = json_incref(ann);
  c->status = BERTH_STATUS_CREATING;
  return c;
}

static char *state_text(struct berth_container *c, enum berth_status st)
{
  c->status = st;
  json_t *j = berth_container_state_json(c, false);
  char *text = berth_json_dumps(j);
  json_decref(j);
  return text;
}

static BERTH_WUR int run_create_hooks(struct create_state *s, berth_error_t *err)
{
  if (berth_container_save(s->c, err) < 0)
    return -1;
  /* runtime-spec: the container is still being created while createRuntime and
   * createContainer hooks run. The deprecated prestart hooks see "created", what
   * runtime-tools' hooks_stdin checks and what crun passes. */
  cleanup_free char *prestart = state_text(s->c, BERTH_STATUS_CREATED);
  if (berth_hooks_run(s->spec, BERTH_HOOK_PRESTART, prestart, err) < 0)
    return -1;
  cleanup_free char *creating = state_text(s->c, BERTH_STATUS_CREATING);
  if (berth_hooks_run(s->spec, BERTH_HOOK_CREATE_RUNTIME, creating, err) < 0)
    return -1;
  return berth_sync_send(s->sync[0], BERTH_MSG_HOOKS_DONE, 0, creating, strlen(creating), -1, err);
}

static BERTH_WUR int on_console(struct create_state *s, int fd, berth_error_t *err)
{
  if (s->console_sock >= 0) {
    int r = berth_send_fd(s->console_sock, fd, "/dev/console", err);
    close(fd);
    return r;
  }
  if (s->console_master >= 0)
    close(s->console_master);
  s->console_master = fd;
  return 0;
}

/* The container process died during its setup: when the memory cgroup's OOM killer did
 * it, say so and name the limit, rather than only that the process went away. */
static BERTH_WUR int explain_oom(struct create_state *s, berth_error_t *err)
{
  uint64_t kills = 0;
  berth_error_t ignore = NULL;
  if (s->cgroup == NULL || berth_cgroup_oom_kill_count(s->cgroup, &kills, &ignore) < 0 || kills == 0) {
    berth_error_release(&ignore);
    return -1;
  }
  /* the container process must be the one killed: SIGKILL when it is our child to look at
   * (nothing else kills it during setup), else kills since the cgroup was set up (a leaf that
   * existed before may carry old ones) */
  siginfo_t si = { 0 };
  int w = -1;
  for (int tries = 0; tries < 100; tries++) { /* its end of the socket closes just before it is a zombie */
    w = waitid(P_PID, (id_t) s->pid, &si, WEXITED | WNOHANG | WNOWAIT);
    if (w < 0 || si.si_pid != 0)
      break;
    usleep(1000);
  }
  if (w == 0) {
    if (!(si.si_pid == s->pid && si.si_code == CLD_KILLED && si.si_status == SIGKILL))
      return -1;
  } else if (kills <= s->oom_base) {
    return -1;
  }
  const struct berth_opt_i64 *limit = &s->spec->linux_.resources.memory.limit;
  berth_error_release(err);
  if (limit->set)
    return BERTH_ERR(err,
                     "%s/config.json: linux.resources.memory.limit: %lld bytes is too little: the container "
                     "process was killed by the OOM killer during its setup",
                     s->bundle, (long long) limit->v);
  return BERTH_ERR(err,
                   "%s/config.json: linux.resources.memory: the container process was killed by the OOM "
                   "killer during its setup",
                   s->bundle);
}

/* MOUNT_TREE: a bind the container process cannot make itself, made here as root
 * (berth_rootfs_host_tree); a failure goes back to the process, which names the mount. */
static BERTH_WUR int on_mount_tree(struct create_state *s, const struct berth_sync_msg *msg,
                                   berth_error_t *err)
{
  uint32_t flags = 0;
  berth_error_t e = NULL;
  int tree = -1;
  if (msg->value < 0 || (size_t) msg->value >= s->spec->n_mounts || msg->len != sizeof flags)
    return BERTH_ERR(err, "malformed mount request from container process");
  memcpy(&flags, msg->data, sizeof flags);
  tree = berth_rootfs_host_tree(s->pid, &s->spec->mounts[msg->value], flags, &e);
  if (tree < 0) {
    berth_sync_send_error(s->sync[0], &e);
    return 0;
  }
  int r = berth_sync_send(s->sync[0], BERTH_MSG_MOUNT_TREE_DONE, 0, NULL, 0, tree, err);
  close(tree);
  return r;
}

/* Drive the container process through its setup until it waits for `start`. */
static BERTH_WUR int parent_loop(struct create_state *s, berth_error_t *err)
{
  for (;;) {
    struct berth_sync_msg msg;
    int fd = -1;
    if (berth_sync_recv(s->sync[0], &msg, &fd, err) < 0)
      return -1;
    switch (msg.type) {
    case BERTH_MSG_CONSOLE:
      if (fd < 0)
        return BERTH_ERR(err, "console message without a descriptor");
      if (on_console(s, fd, err) < 0)
        return -1;
      break;
    case BERTH_MSG_HOOKS:
      if (run_create_hooks(s, err) < 0)
        return -1;
      break;
    case BERTH_MSG_MOUNT_TREE:
      if (on_mount_tree(s, &msg, err) < 0)
        return -1;
      break;
    case BERTH_MSG_READY: return 0;
    default:
      if (fd >= 0)
        close(fd);
      return BERTH_ERR(err, "unexpected message %u from container process", msg.type);
    }
  }
}

/* runc's rule: a sysctl must belong to a namespace the container has its own of, so that
 * writing it cannot change the host. */
static BERTH_WUR int check_sysctl(const berth_spec_t *spec, const char *file, berth_error_t *err)
{
  const struct berth_spec_linux *l = &spec->linux_;
  static const char *const ipc_keys[] = { "kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                          "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                          "kernel.shmmni", "kernel.shm_rmid_forced" };
  for (size_t i = 0; i < l->n_sysctl; i++) {
    const char *k = l->sysctl_keys[i];
    enum berth_ns_type need = BERTH_NS__COUNT;
    if (berth_str_has_prefix(k, "net."))
      need = BERTH_NS_NETWORK;
    else if (berth_str_has_prefix(k, "fs.mqueue."))
      need = BERTH_NS_IPC;
    else if (strcmp(k, "kernel.hostname") == 0 || strcmp(k, "kernel.domainname") == 0)
      need = BERTH_NS_UTS;
    for (size_t j = 0; j < BERTH_N_ELEMENTS(ipc_keys); j++)
      if (strcmp(k, ipc_keys[j]) == 0)
        need = BERTH_NS_IPC;
    if (need == BERTH_NS__COUNT)
      return BERTH_ERR(err, "%s: linux.sysctl.%s: not a namespaced sysctl; it would change the host", file,
                       k);
    if (!l->ns[need].present)
      return BERTH_ERR(err, "%s: linux.sysctl.%s: needs a %s namespace of the container's own", file, k,
                       berth_ns_type_name(need));
  }
  return 0;
}

static BERTH_WUR int setup_cgroup(struct create_state *s, berth_error_t *err)
{
  if (berth_container_cgroup_setup(s->spec, (enum berth_cgroup_kind) s->o->cgroup_kind, s->o->root, s->o->id,
                                   s->o->rootless, s->pid, &s->cgroup, err) < 0)
    return -1;
  s->c->cgroup = berth_cgroup_manager_to_json(s->cgroup);
  berth_ignore(berth_cgroup_oom_kill_count(s->cgroup, &s->oom_base, BERTH_IGNORED));
  if (berth_sync_send(s->sync[0], BERTH_MSG_CGROUP_DONE, 0, NULL, 0, -1, err) == 0)
    return 0;
  /* the container process died meanwhile: its own error says why */
  struct berth_sync_msg msg;
  berth_error_t child = NULL;
  if (berth_sync_recv(s->sync[0], &msg, NULL, &child) < 0 && child != NULL) {
    berth_error_release(err);
    *err = child;
  } else {
    berth_error_release(&child);
  }
  return -1;
}

/* Cross-field checks the pure parser cannot make (they depend on how we run). */
static BERTH_WUR int check_spec(struct create_state *s, berth_error_t *err)
{
  const berth_spec_t *spec = s->spec;
  const struct berth_spec_linux *l = &spec->linux_;
  cleanup_free char *file = xasprintf("%s/config.json", s->bundle);
  if ((spec->hostname || spec->domainname) && !l->ns[BERTH_NS_UTS].present)
    return BERTH_ERR(err, "%s: hostname: setting it needs a uts namespace (new or joined)", file);
  if (spec->process.terminal && s->o->console_socket == NULL && !s->o->keep_console)
    return BERTH_ERR(err, "%s: process.terminal is true: --console-socket is required when detached", file);
  if (check_sysctl(spec, file, err) < 0)
    return -1;
  berth_lsm_warn_unsupported(spec->has_process ? &spec->process : NULL, NULL);
  if ((l->time_monotonic.present || l->time_boottime.present) &&
      !(l->ns[BERTH_NS_TIME].present && l->ns[BERTH_NS_TIME].path == NULL))
    return BERTH_ERR(err, "%s: linux.timeOffsets: needs a new time namespace", file);
  /* runc refuses it where resctrl is missing; berth does not implement it (features says so) */
  if (l->intel_rdt != NULL && !json_is_null(l->intel_rdt))
    return BERTH_ERR(err, "%s: linux.intelRdt: Intel RDT (resctrl) is not supported by berth-runtime", file);
  return 0;
}

int berth_write_pid_file(const char *path, pid_t pid, berth_error_t *err)
{
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%d", (int) pid);
  char abs[PATH_MAX];
  /* write next to the final name, then rename (readers never see a partial pid) */
  if (path[0] != '/' && getcwd(abs, sizeof abs) != NULL) {
    cleanup_free char *full = xasprintf("%s/%s", abs, path);
    return berth_write_file_atomic(full, buf, (size_t) n, 0644, err);
  }
  return berth_write_file_atomic(path, buf, (size_t) n, 0644, err);
}

/* the config as create saw it: later commands (start, exec, delete) must not see edits made
 * to the bundle since (the bytes as read, no re-serialization) */
static BERTH_WUR int save_config_copy(struct create_state *s, berth_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/config.json", s->dir);
  cleanup_free char *dumped = NULL;
  const char *text = s->spec->text;
  size_t len = s->spec->text_len;
  if (text == NULL) {
    text = dumped = json_dumps(s->spec->doc, JSON_COMPACT);
    if (dumped == NULL)
      return BERTH_ERR(err, "serialize config");
    len = strlen(dumped);
  }
  return berth_write_file_atomic(path, text, len, 0600, err);
}

/* `run` without the protected re-exec: berth-dmz when the config fits, else ask for the
 * re-exec (nothing is made yet) */
static int choose_dmz(struct create_state *s)
{
  const char *why = NULL;
  if (berth_dmz_fits(s->spec, &why)) {
    berth_error_t e = NULL;
    s->dmz_fd = berth_selfexe_blob_memfd("berth-dmz", s->o->dmz, s->o->dmz_len, &e);
    if (s->dmz_fd >= 0)
      return 0;
    berth_log_debug("berth-dmz: %s", e->msg);
    berth_error_release(&e);
    why = "no executable memfd for berth-dmz";
  }
  berth_log_debug("run: re-executing from a protected copy: %s", why);
  return BERTH_CREATE_REEXEC;
}

static BERTH_WUR int create_steps(struct create_state *s, struct berth_create_result *res,
                                  struct berth_container_handle *keep, berth_error_t *err)
{
  const struct berth_create_opts *o = s->o;
  if (!berth_container_id_valid(o->id))
    return BERTH_ERR(err, "invalid container id `%s`", o->id);
  if (resolve_paths(s, err) < 0 || check_spec(s, err) < 0)
    return -1;
  if (o->dmz && choose_dmz(s) == BERTH_CREATE_REEXEC)
    return BERTH_CREATE_REEXEC;
  if (s->spec->linux_.seccomp.present) {
    cleanup_free char *cache = xasprintf("%s/.seccomp", o->root);
    if (berth_seccomp_compile(&s->spec->linux_.seccomp, cache, &s->seccomp, err) < 0)
      return berth_error_wrap(err, "linux.seccomp");
  }
  /* the caller's alone: never a root another user made first (a rootless /tmp/berth-UID) */
  if (berth_privdir_ensure(o->root, 0700, err) < 0)
    return berth_error_wrap(err, "state root");
  s->dir = berth_state_dir(o->root, o->id);
  if (mkdir(s->dir, 0711) < 0) {
    if (errno == EEXIST)
      return berth_error_make(err, EEXIST, "container `%s` already exists", o->id);
    return BERTH_ERR_ERRNO(err, "mkdir `%s`", s->dir);
  }
  s->dir_made = true;
  if (berth_notify_host() && berth_notify_spec(&s->spec, s->dir, err) < 0)
    return -1;
  if (berth_ns_open_joined(s->spec, s->ns_fds, err) < 0 || connect_console_socket(s, err) < 0 ||
      make_start_socket(s, err) < 0 || berth_sync_pair(s->sync, err) < 0 || save_config_copy(s, err) < 0)
    return -1;

  struct berth_init_ctx ctx = {
    .spec = s->spec,
    .opts = o,
    .rootfs = s->rootfs,
    .start_fd = s->start_fd,
    .seccomp = s->seccomp,
    .dmz_fd = s->dmz_fd,
    .has_prestart_hooks = s->spec->hooks.n[BERTH_HOOK_PRESTART] +
                            s->spec->hooks.n[BERTH_HOOK_CREATE_RUNTIME] +
                            s->spec->hooks.n[BERTH_HOOK_CREATE_CONTAINER] >
                          0,
  };
  memcpy(ctx.ns_fds, s->ns_fds, sizeof ctx.ns_fds);
  /* always a subreaper: a container process whose intermediate has exited comes back to us
   * (to be waited for by `run`, or reaped when create fails); when we exit, it moves on to
   * the next subreaper above us (a containerd shim, conmon) or init */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
    return BERTH_ERR_ERRNO(err, "become child subreaper");
  if (spawn(s, &ctx, err) < 0)
    return -1;
  close(s->sync[1]);
  s->sync[1] = -1;
  s->c = new_container(s);
  if (s->spec->process.has_oom_score_adj &&
      berth_oom_score_adj_apply(s->pid, s->spec->process.oom_score_adj, err) < 0)
    return -1;
  /* the container process sets up its filesystem while we make its cgroup */
  if (berth_sync_send(s->sync[0], BERTH_MSG_GO, 0, NULL, 0, -1, err) < 0 || setup_cgroup(s, err) < 0 ||
      parent_loop(s, err) < 0)
    return explain_oom(s, err);
  s->c->status = BERTH_STATUS_CREATED;
  if (berth_container_save(s->c, err) < 0)
    return -1;
  if (o->pid_file && berth_write_pid_file(o->pid_file, s->pid, err) < 0)
    return -1;
  res->pid = s->pid;
  res->pidfd = steal_fd(s->pidfd);
  res->console_master = steal_fd(s->console_master);
  res->dmz = s->dmz_fd >= 0;
  if (keep) {
    keep->c = steal_ptr(s->c);
    keep->spec = steal_ptr(s->spec);
    keep->cgroup = steal_ptr(s->cgroup);
  }
  return 0;
}

int berth_container_create(const struct berth_create_opts *o, struct berth_create_result *res,
                           struct berth_container_handle *keep, berth_error_t *err)
{
  struct create_state s = { .o = o,
                            .console_sock = -1,
                            .start_fd = -1,
                            .sync = { -1, -1 },
                            .pidfd = -1,
                            .console_master = -1,
                            .dmz_fd = -1 };
  for (int t = 0; t < BERTH_NS__COUNT; t++)
    s.ns_fds[t] = -1;
  res->pid = 0;
  res->pidfd = -1;
  res->console_master = -1;
  res->dmz = false;
  int r = create_steps(&s, res, keep, err);
  if (r == -1)
    berth_error_wrap(err, "create container `%s`", o->id);
  create_state_release(&s, r < 0);
  return r;
}
