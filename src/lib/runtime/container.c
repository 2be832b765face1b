#include "runtime/container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cgroup/cgroup.h"
#include "json/json.h"

static const char *const status_names[] = { "creating", "created", "running", "paused", "stopped" };

const char *berth_status_name(enum berth_status s) { return status_names[s]; }

char *berth_state_dir(const char *root, const char *id) { return xasprintf("%s/%s", root, id); }

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *) a, *(char *const *) b); }

char **berth_container_ids(const char *root, berth_error_t *err)
{
  cleanup_dir DIR *d = opendir(root);
  char **ids = xcalloc(1, sizeof *ids);
  if (d == NULL) {
    if (errno == ENOENT)
      return ids;
    free(ids);
    BERTH_ERR_ERRNO(err, "open state directory `%s`", root);
    return NULL;
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (de->d_name[0] != '.' && berth_container_id_valid(de->d_name))
      ids = berth_strv_append(ids, de->d_name);
  qsort(ids, berth_strv_len(ids), sizeof *ids, cmp_str);
  return ids;
}

char *berth_container_path(const struct berth_container *c, const char *name)
{
  return xasprintf("%s/%s", c->dir, name);
}

char *berth_default_root(void)
{
  if (geteuid() == 0)
    return xstrdup("/run/berth");
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  if (xdg && *xdg)
    return xasprintf("%s/berth", xdg);
  return xasprintf("/tmp/berth-%u", (unsigned) geteuid());
}

char *berth_rfc3339_now(void)
{
  struct timespec ts;
  struct tm tm;
  char buf[64];
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
  return xstrdup(buf);
}

uint64_t berth_proc_start_time(pid_t pid)
{
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = berth_read_all(fd, buf, sizeof buf - 1);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* comm may contain spaces and ')': fields start after the last ')' */
  char *p = strrchr(buf, ')');
  if (p == NULL)
    return 0;
  p++;
  /* p now at " S ppid ..." : state is field 3, starttime is field 22 */
  int field = 2;
  char *save = NULL;
  for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    field++;
    if (field == 3 && tok[0] == 'Z')
      return 0; /* a zombie is not running */
    if (field == 22) {
      uint64_t v;
      return berth_parse_u64(tok, &v) == 0 ? v : 0;
    }
  }
  return 0;
}

bool berth_container_alive(const struct berth_container *c)
{
  if (c->pid <= 0)
    return false;
  uint64_t st = berth_proc_start_time(c->pid);
  return st != 0 && st == c->pid_start;
}

int berth_container_pidfd(const struct berth_container *c, berth_error_t *err)
{
  int fd = (int) syscall(SYS_pidfd_open, c->pid, 0);
  if (fd < 0)
    return BERTH_ERR(err, "container `%s` is not running", c->id);
  /* the pidfd pins the process: re-check identity after opening it */
  if (!berth_container_alive(c)) {
    close(fd);
    return BERTH_ERR(err, "container `%s` is not running", c->id);
  }
  return fd;
}

static enum berth_status derive_status(const struct berth_container *c)
{
  if (!berth_container_alive(c))
    return BERTH_STATUS_STOPPED;
  cleanup_free char *sock = berth_container_path(c, "start.sock");
  if (access(sock, F_OK) == 0)
    return BERTH_STATUS_CREATED;
  if (c->cgroup != NULL) {
    /* paused: the cgroup freezer says so */
    berth_error_t e = NULL;
    berth_cgroup_manager_t *m = NULL;
    enum berth_cgroup_freezer_state fs = BERTH_CGROUP_THAWED;
    if (berth_cgroup_manager_from_json(c->cgroup, &m, &e) == 0 &&
        berth_cgroup_freezer_state(m, &fs, &e) == 0 && fs != BERTH_CGROUP_THAWED) {
      berth_cgroup_manager_free(m);
      return BERTH_STATUS_PAUSED;
    }
    berth_error_release(&e);
    berth_cgroup_manager_free(m);
  }
  return BERTH_STATUS_RUNNING;
}

static char *dup_member(json_t *o, const char *key)
{
  const char *s = json_string_value(json_object_get(o, key));
  return s ? xstrdup(s) : NULL;
}

int berth_container_load(const char *root, const char *id, struct berth_container **out, berth_error_t *err)
{
  if (!berth_container_id_valid(id))
    return BERTH_ERR(err, "invalid container id `%s`", id);
  cleanup_free char *dir = berth_state_dir(root, id);
  cleanup_free char *path = xasprintf("%s/state.json", dir);
  if (access(dir, F_OK) < 0 && errno == ENOENT)
    return berth_error_make(err, ENOENT, "container `%s` does not exist", id);
  berth_error_t jerr = NULL;
  json_t *doc = berth_json_load_file(path, NULL, &jerr);
  if (doc == NULL) {
    /* a container whose create has not finished yet has no state.json */
    berth_error_release(&jerr);
    return berth_error_make(err, ENOENT, "container `%s` does not exist (no state yet)", id);
  }
  struct berth_container *c = xmalloc0(sizeof *c);
  c->root = xstrdup(root);
  c->id = xstrdup(id);
  c->dir = steal_ptr(dir);
  c->bundle = dup_member(doc, "bundle");
  c->rootfs = dup_member(doc, "rootfs");
  c->created = dup_member(doc, "created");
  json_t *cg = json_object_get(doc, "cgroup");
  if (json_is_object(cg))
    c->cgroup = json_incref(cg);
  c->pid = (pid_t) json_integer_value(json_object_get(doc, "pid"));
  c->pid_start = (uint64_t) json_integer_value(json_object_get(doc, "pidStartTime"));
  c->owner = (uid_t) json_integer_value(json_object_get(doc, "owner"));
  c->has_pidns = json_is_true(json_object_get(doc, "pidNamespace"));
  json_t *ann = json_object_get(doc, "annotations");
  if (json_is_object(ann))
    c->annotations = json_incref(ann);
  json_decref(doc);
  c->status = derive_status(c);
  *out = c;
  return 0;
}

json_t *berth_container_state_json(const struct berth_container *c, bool extended)
{
  json_t *o = json_object();
  json_object_set_new(o, "ociVersion", json_string(BERTH_OCI_SPEC_VERSION));
  json_object_set_new(o, "id", json_string(c->id));
  json_object_set_new(o, "status", json_string(berth_status_name(c->status)));
  bool show_pid = c->status != BERTH_STATUS_STOPPED;
  json_object_set_new(o, "pid", json_integer(show_pid ? c->pid : 0));
  json_object_set_new(o, "bundle", json_string(c->bundle ? c->bundle : ""));
  if (extended) {
    json_object_set_new(o, "rootfs", json_string(c->rootfs ? c->rootfs : ""));
    json_object_set_new(o, "created", json_string(c->created ? c->created : ""));
    json_object_set_new(o, "owner", json_string(""));
  }
  if (c->annotations && json_object_size(c->annotations) > 0)
    json_object_set(o, "annotations", c->annotations);
  return o;
}

int berth_container_save(const struct berth_container *c, berth_error_t *err)
{
  json_t *o = json_object();
  json_object_set_new(o, "ociVersion", json_string(BERTH_OCI_SPEC_VERSION));
  json_object_set_new(o, "id", json_string(c->id));
  json_object_set_new(o, "pid", json_integer(c->pid));
  json_object_set_new(o, "pidStartTime", json_integer((json_int_t) c->pid_start));
  json_object_set_new(o, "bundle", json_string(c->bundle ? c->bundle : ""));
  json_object_set_new(o, "rootfs", json_string(c->rootfs ? c->rootfs : ""));
  json_object_set_new(o, "created", json_string(c->created ? c->created : ""));
  json_object_set_new(o, "owner", json_integer(c->owner));
  json_object_set_new(o, "pidNamespace", json_boolean(c->has_pidns));
  if (c->cgroup)
    json_object_set(o, "cgroup", c->cgroup);
  if (c->annotations)
    json_object_set(o, "annotations", c->annotations);
  cleanup_free char *text = berth_json_dumps(o);
  json_decref(o);
  cleanup_free char *path = berth_container_path(c, "state.json");
  return berth_write_file_atomic(path, text, strlen(text), 0600, err);
}

void berth_container_free(struct berth_container *c)
{
  if (c == NULL)
    return;
  free(c->root);
  free(c->id);
  free(c->dir);
  free(c->bundle);
  free(c->rootfs);
  free(c->created);
  if (c->cgroup)
    json_decref(c->cgroup);
  if (c->annotations)
    json_decref(c->annotations);
  free(c);
}

bool berth_same_pidns_as_self(pid_t pid)
{
  char path[64], a[64], b[64];
  snprintf(path, sizeof path, "/proc/%d/ns/pid", (int) pid);
  ssize_t n = readlink(path, a, sizeof a - 1);
  ssize_t m = readlink("/proc/self/ns/pid", b, sizeof b - 1);
  if (n < 0 || m < 0)
    return true; /* unknown: assume the worst */
  a[n] = b[m] = '\0';
  return strcmp(a, b) == 0;
}
