/* linux.cgroupsPath → the container's directory in every hierarchy (runc's cgroupfs rules). */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cgroup/internal.h"

char *cg_clean_path(const char *path)
{
  if (path == NULL || path[0] == '\0')
    return xstrdup("");
  bool abs = path[0] == '/';
  cleanup_free char *copy = xstrdup(path);
  size_t n = 0, cap = strlen(path) / 2 + 2;
  cleanup_free const char **parts = xcalloc(cap, sizeof *parts);
  char *save = NULL;
  for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
    if (strcmp(t, ".") == 0)
      continue;
    if (strcmp(t, "..") == 0) {
      if (n > 0)
        n--; /* above the start: dropped, for relative paths too */
      continue;
    }
    parts[n++] = t;
  }
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  for (size_t i = 0; i < n; i++) {
    if (abs || i > 0)
      berth_strbuf_putc(&b, '/');
    berth_strbuf_puts(&b, parts[i]);
  }
  if (abs && n == 0)
    berth_strbuf_putc(&b, '/');
  return berth_strbuf_detach(&b);
}

static char *join(const char *a, const char *b)
{
  if (strcmp(a, "/") == 0 || a[0] == '\0')
    return xasprintf("/%s", b);
  return xasprintf("%s/%s", a, b);
}

/* <mountpoint><inner>, inner absolute ("/" only for the start itself) */
static char *dir_path(const char *mountpoint, const char *inner)
{
  if (strcmp(inner, "/") == 0)
    return xstrdup(mountpoint);
  return xasprintf("%s%s", mountpoint, inner);
}

static void add_dir(berth_cgroup_manager_t *m, const struct berth_cgroup_hierarchy *h, bool unified,
                    const char *inner, bool abs)
{
  cleanup_free char *in = abs ? xstrdup(inner) : join(h->self ? h->self : "/", inner);
  m->dirs = xreallocarray(m->dirs, m->n_dirs + 1, sizeof *m->dirs);
  m->dirs[m->n_dirs++] = (struct cg_dir){ .path = dir_path(h->mountpoint, in),
                                          .mountpoint = xstrdup(h->mountpoint),
                                          .controllers = unified ? 0 : h->controllers,
                                          .name = h->name ? xstrdup(h->name) : NULL,
                                          .unified = unified };
  if (m->path == NULL)
    m->path = steal_ptr(in);
}

int cg_resolve_dirs(const struct berth_cgroup_layout *l, const char *cgroups_path, const char *id,
                    bool relative_to_self, berth_cgroup_manager_t *m, berth_error_t *err)
{
  cleanup_free char *inner = NULL;
  if (cgroups_path == NULL || cgroups_path[0] == '\0') {
    if (id == NULL || !berth_container_id_valid(id))
      return BERTH_ERR(err, "cgroup path: no linux.cgroupsPath and no valid container id to default to");
    inner = xstrdup(id); /* the id, relative (runc's default) */
  } else {
    inner = cg_clean_path(cgroups_path);
    if (strcmp(inner, "/") == 0)
      return BERTH_ERR(err, "linux.cgroupsPath `%s`: refusing to use the root cgroup", cgroups_path);
    if (inner[0] == '\0')
      return BERTH_ERR(err, "linux.cgroupsPath `%s`: resolves to the runtime's own cgroup", cgroups_path);
  }
  json_t *utf8 = json_string(inner); /* the path goes into state.json */
  if (utf8 == NULL)
    return BERTH_ERR(err, "linux.cgroupsPath: not valid UTF-8");
  json_decref(utf8);
  if (inner[0] != '/' && !relative_to_self) {
    /* root: a relative path starts at the hierarchy's root, never inside whatever cgroup the
     * caller happens to run in (a session scope, another manager's cgroup) */
    char *rooted = xasprintf("/%s", inner);
    free(inner);
    inner = rooted;
  }
  bool abs = inner[0] == '/';
  /* the unified dir first when it is the main one (v2), so m->path names it */
  if (l->mode == BERTH_CGROUP_MODE_V2)
    add_dir(m, &l->unified, true, inner, abs);
  for (size_t i = 0; l->mode != BERTH_CGROUP_MODE_V2 && i < l->n_v1; i++)
    add_dir(m, &l->v1[i], false, inner, abs);
  if (l->mode == BERTH_CGROUP_MODE_HYBRID)
    add_dir(m, &l->unified, true, inner, abs);
  for (size_t i = 0; i < m->n_dirs; i++) {
    json_t *s = json_string(m->dirs[i].path);
    if (s == NULL)
      return BERTH_ERR(err, "cgroup `%s`: not valid UTF-8 (it must go into state.json)", m->dirs[i].path);
    json_decref(s);
  }
  return 0;
}
