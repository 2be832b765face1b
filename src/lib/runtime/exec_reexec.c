/* exec's process re-executes itself from the protected copy (CVE-2019-5736), as the container
 * process of create does (init_reexec.c): its context, the container's config and the process
 * object cross execve in a memfd. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/sync.h"
#include "base/xalloc.h"
#include "json/json.h"
#include "runtime/exec_int.h"

static int write_all3(int fd, const char *a, size_t la, const char *b, size_t lb, const char *c, size_t lc)
{
  return berth_write_all(fd, a, la) < 0 || berth_write_all(fd, "\n", 1) < 0 || berth_write_all(fd, b, lb) < 0 ||
             berth_write_all(fd, c, lc) < 0
           ? -1
           : 0;
}

static int context_fd(struct exec_state *s, berth_error_t *err)
{
  cleanup_free char *dumped = NULL;
  const char *cfg = s->spec->text;
  size_t cfg_len = s->spec->text_len;
  if (cfg == NULL) {
    cfg = dumped = berth_json_dumps(s->spec->doc);
    cfg_len = strlen(dumped);
  }
  cleanup_free char *proc = berth_json_dumps(s->o->process);
  json_t *o = json_pack("{s:i, s:b, s:I, s:i}", "preserveFds", s->copts.preserve_fds, "goDone", s->go_done,
                        "configLen", (json_int_t) cfg_len, "mntFd", s->mnt_fd);
  if (s->seccomp_cache)
    json_object_set_new(o, "seccompCache", json_string(s->seccomp_cache));
  cleanup_free char *line = berth_json_dumps(o);
  json_decref(o);
  int fd = (int) syscall(SYS_memfd_create, "berth-exec-context", MFD_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "memfd for the exec context");
  if (write_all3(fd, line, strlen(line), cfg, cfg_len, proc, strlen(proc)) < 0) {
    close(fd);
    return BERTH_ERR_ERRNO(err, "write the exec context");
  }
  return fd;
}

int berth_exec_reexec(struct exec_state *s, int sync_fd, berth_error_t *err)
{
  /* in a user namespace: become its root first, or execve would drop our capabilities */
  bool userns = s->spec->linux_.ns[BERTH_NS_USER].present;
  if (userns && berth_exec_child_go(sync_fd, true, err) < 0)
    return -1;
  s->go_done = userns;
  cleanup_close int cfd = context_fd(s, err);
  if (cfd < 0)
    return -1;
  int fl = fcntl(sync_fd, F_GETFD);
  if (fl < 0 || fcntl(sync_fd, F_SETFD, fl & ~FD_CLOEXEC) < 0 || fcntl(cfd, F_SETFD, 0) < 0 ||
      fcntl(s->mnt_fd, F_SETFD, 0) < 0)
    return BERTH_ERR_ERRNO(err, "keep descriptors across the re-exec");
  char sync[16], cx[16];
  snprintf(sync, sizeof sync, "%d", sync_fd);
  snprintf(cx, sizeof cx, "%d", cfd);
  char *argv[] = { (char *) "berth-runtime", (char *) "__exec-init", sync, cx, NULL };
  extern char **environ;
  syscall(SYS_execveat, s->exe_fd, "", argv, environ, AT_EMPTY_PATH);
  return BERTH_ERR_ERRNO(err, "re-exec the exec process from a protected copy");
}

static int rebuild(char *text, size_t len, struct exec_state *s, berth_error_t *err)
{
  char *nl = memchr(text, '\n', len);
  if (nl == NULL)
    return BERTH_ERR(err, "exec context: malformed");
  json_t *ctx = berth_json_parse(text, (size_t) (nl - text), "exec context", err);
  if (ctx == NULL)
    return -1;
  size_t cfg_len = (size_t) json_integer_value(json_object_get(ctx, "configLen"));
  char *cfg = nl + 1;
  s->copts.preserve_fds = (int) json_integer_value(json_object_get(ctx, "preserveFds"));
  s->go_done = json_is_true(json_object_get(ctx, "goDone"));
  s->mnt_fd = (int) json_integer_value(json_object_get(ctx, "mntFd"));
  const char *cache = json_string_value(json_object_get(ctx, "seccompCache"));
  s->seccomp_cache = cache ? xstrdup(cache) : NULL;
  json_decref(ctx);
  if (cfg + cfg_len > text + len)
    return BERTH_ERR(err, "exec context: truncated");
  if (berth_spec_parse(cfg, cfg_len, "config.json", &s->spec, err) < 0)
    return -1;
  char *ptext = cfg + cfg_len;
  s->process_doc = berth_json_parse(ptext, len - (size_t) (ptext - text), "exec process", err);
  if (s->process_doc == NULL || berth_spec_parse_process(s->process_doc, "exec process", &s->proc, err) < 0)
    return -1;
  s->proc_parsed = true;
  s->xspec = *s->spec;
  s->xspec.process = s->proc;
  s->xspec.has_process = true;
  if (s->spec->linux_.seccomp.present &&
      berth_seccomp_compile(&s->spec->linux_.seccomp, s->seccomp_cache, &s->seccomp, err) < 0)
    return berth_error_wrap(err, "linux.seccomp");
  /* now, protected, the container's mount namespace (root and cwd become its root) */
  if (fcntl(s->mnt_fd, F_SETFD, FD_CLOEXEC) < 0 || setns(s->mnt_fd, CLONE_NEWNS) < 0)
    return BERTH_ERR_ERRNO(err, "join the mount namespace of the container");
  close(s->mnt_fd);
  s->mnt_fd = -1;
  return 0;
}

void berth_exec_reexec_main(int argc, char **argv)
{
  static struct exec_state s;
  berth_error_t err = NULL;
  int sync_fd = -1, cfd = -1;
  s.exe_fd = s.mnt_fd = s.master = s.pidfd = s.console_sock = s.init_pidfd = -1;
  if (argc != 4 || berth_parse_int(argv[2], &sync_fd) < 0 || berth_parse_int(argv[3], &cfd) < 0) {
    BERTH_ERR(&err, "__exec-init: internal command, not for users");
  } else if (fcntl(sync_fd, F_SETFD, FD_CLOEXEC) < 0) {
    BERTH_ERR_ERRNO(&err, "mark descriptors close-on-exec");
  } else {
    cleanup_free char *path = xasprintf("/proc/self/fd/%d", cfd);
    cleanup_free char *text = NULL;
    size_t len = 0;
    if (berth_read_file(path, 0, &text, &len, &err) == 0)
      (void) rebuild(text, len, &s, &err);
    close(cfd);
  }
  if (err != NULL) {
    if (sync_fd >= 0)
      berth_sync_send_error(sync_fd, &err);
    _exit(1);
  }
  berth_exec_child(&s, sync_fd);
}
