/* cgroupfs plumbing every backend shares: file access, mkdir -p with ownership tracking,
 * joining, listing processes, teardown. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cgroup/internal.h"

const struct cg_dir *cg_dir_ctl(const berth_cgroup_manager_t *m, enum berth_cgroup_ctl ctl)
{
  for (size_t i = 0; i < m->n_dirs; i++)
    if (!m->dirs[i].unified && (m->dirs[i].controllers & BERTH_CGROUP_CTL_BIT(ctl)))
      return &m->dirs[i];
  return NULL;
}

const struct cg_dir *cg_dir_unified(const berth_cgroup_manager_t *m)
{
  for (size_t i = 0; i < m->n_dirs; i++)
    if (m->dirs[i].unified)
      return &m->dirs[i];
  return NULL;
}

const struct cg_dir *cg_dir_primary(const berth_cgroup_manager_t *m)
{
  const struct cg_dir *d = cg_dir_unified(m);
  static const enum berth_cgroup_ctl prefer[] = { BERTH_CGROUP_CTL_PIDS, BERTH_CGROUP_CTL_FREEZER,
                                                  BERTH_CGROUP_CTL_MEMORY, BERTH_CGROUP_CTL_CPU };
  for (size_t i = 0; d == NULL && i < BERTH_N_ELEMENTS(prefer); i++)
    d = cg_dir_ctl(m, prefer[i]);
  return d ? d : m->n_dirs > 0 ? &m->dirs[0] : NULL;
}

void cg_sleep_ms(unsigned ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

int cg_write(const char *dir, const char *file, const char *value)
{
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  cleanup_close int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -1;
  size_t len = strlen(value);
  ssize_t n;
  do /* one write(2): cgroup files parse each write on its own */
    n = write(fd, value, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  if ((size_t) n != len) {
    errno = EIO;
    return -1;
  }
  return 0;
}

bool cg_exists(const char *dir, const char *file)
{
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  return access(path, F_OK) == 0;
}

int cg_read(const char *dir, const char *file, char **out, berth_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  return berth_read_file(path, 0, out, NULL, err);
}

int cg_read_u64(const char *dir, const char *file, uint64_t *out, berth_error_t *err)
{
  cleanup_free char *text = NULL;
  if (cg_read(dir, file, &text, err) < 0)
    return -1;
  text[strcspn(text, " \n")] = '\0';
  if (strcmp(text, "max") == 0) {
    *out = UINT64_MAX;
    return 0;
  }
  if (berth_parse_u64(text, out) < 0)
    return BERTH_ERR(err, "read `%s/%s`: `%s` is not a number", dir, file, text);
  return 0;
}

int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *out, berth_error_t *err)
{
  cleanup_free char *text = NULL;
  if (cg_read(dir, file, &text, err) < 0)
    return -1;
  size_t klen = strlen(key);
  for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (strncmp(line, key, klen) != 0 || line[klen] != ' ')
      continue;
    char *v = line + klen + 1;
    v[strcspn(v, "\n")] = '\0';
    if (berth_parse_u64(v, out) < 0)
      return BERTH_ERR(err, "read `%s/%s`: %s `%s` is not a number", dir, file, key, v);
    return 0;
  }
  return 1;
}

void cg_warn(struct berth_cgroup_warnings *w, const char *fmt, ...)
{
  if (w == NULL)
    return;
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  berth_strbuf_vprintf(&b, fmt, ap);
  va_end(ap);
  w->msgs = xreallocarray(w->msgs, w->n + 1, sizeof *w->msgs);
  w->msgs[w->n++] = berth_strbuf_detach(&b);
}

void berth_cgroup_warnings_free(struct berth_cgroup_warnings *w)
{
  for (size_t i = 0; i < w->n; i++)
    free(w->msgs[i]);
  free(w->msgs);
  w->msgs = NULL;
  w->n = 0;
}

static int cmp_pid(const void *a, const void *b)
{
  pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
  return (x > y) - (x < y);
}

static BERTH_WUR int procs_walk(const char *dir, pid_t **pids, size_t *n, berth_error_t *err)
{
  cleanup_free char *text = NULL;
  if (cg_read(dir, "cgroup.procs", &text, err) < 0)
    return -1;
  for (char *save = NULL, *t = strtok_r(text, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
    int pid;
    if (berth_parse_int(t, &pid) < 0 || pid <= 0)
      continue;
    *pids = xreallocarray(*pids, *n + 1, sizeof **pids);
    (*pids)[(*n)++] = pid;
  }
  cleanup_dir DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : BERTH_ERR_ERRNO(err, "list cgroup `%s`", dir);
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    cleanup_free char *sub = xasprintf("%s/%s", dir, e->d_name);
    if (procs_walk(sub, pids, n, err) < 0)
      return -1;
  }
  return 0;
}

int cg_procs_recursive(const char *dir, pid_t **pids, size_t *n, berth_error_t *err)
{
  cleanup_free pid_t *list = NULL;
  size_t count = 0;
  if (procs_walk(dir, &list, &count, err) < 0)
    return -1;
  if (count > 1)
    qsort(list, count, sizeof *list, cmp_pid);
  size_t k = 0;
  for (size_t i = 0; i < count; i++)
    if (k == 0 || list[k - 1] != list[i])
      list[k++] = list[i];
  *pids = count ? steal_ptr(list) : xcalloc(1, sizeof **pids);
  *n = k;
  return 0;
}

int cg_signal_pids(const char *dir, int sig, berth_error_t *err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (cg_procs_recursive(dir, &pids, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (kill(pids[i], sig) < 0 && errno != ESRCH)
      return BERTH_ERR_ERRNO(err, "signal %d to pid %d", sig, (int) pids[i]);
  return 0;
}

int cg_fs_pids(berth_cgroup_manager_t *m, pid_t **pids, size_t *n, berth_error_t *err)
{
  const struct cg_dir *d = cg_dir_primary(m);
  if (d == NULL || access(d->path, F_OK) < 0) {
    *pids = xcalloc(1, sizeof **pids);
    *n = 0;
    return 0;
  }
  return cg_procs_recursive(d->path, pids, n, err);
}

int cg_fs_join(berth_cgroup_manager_t *m, pid_t pid, berth_error_t *err)
{
  char value[24];
  snprintf(value, sizeof value, "%d", (int) pid);
  for (size_t i = 0; i < m->n_dirs; i++)
    if (cg_write(m->dirs[i].path, "cgroup.procs", value) < 0)
      return BERTH_ERR_ERRNO(err, "join cgroup `%s`: write cgroup.procs = %s", m->dirs[i].path, value);
  return 0;
}
