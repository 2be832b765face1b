/* Which cgroup hierarchies are mounted where: /proc/self/mountinfo and /proc/self/cgroup. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cgroup/internal.h"

static const char *const ctl_names[BERTH_CGROUP_CTL__COUNT] = {
  [BERTH_CGROUP_CTL_CPU] = "cpu",
  [BERTH_CGROUP_CTL_CPUACCT] = "cpuacct",
  [BERTH_CGROUP_CTL_CPUSET] = "cpuset",
  [BERTH_CGROUP_CTL_MEMORY] = "memory",
  [BERTH_CGROUP_CTL_DEVICES] = "devices",
  [BERTH_CGROUP_CTL_FREEZER] = "freezer",
  [BERTH_CGROUP_CTL_BLKIO] = "blkio",
  [BERTH_CGROUP_CTL_IO] = "io",
  [BERTH_CGROUP_CTL_PIDS] = "pids",
  [BERTH_CGROUP_CTL_HUGETLB] = "hugetlb",
  [BERTH_CGROUP_CTL_NET_CLS] = "net_cls",
  [BERTH_CGROUP_CTL_NET_PRIO] = "net_prio",
  [BERTH_CGROUP_CTL_PERF_EVENT] = "perf_event",
  [BERTH_CGROUP_CTL_RDMA] = "rdma",
  [BERTH_CGROUP_CTL_MISC] = "misc",
};

const char *berth_cgroup_ctl_name(enum berth_cgroup_ctl c)
{
  return c < BERTH_CGROUP_CTL__COUNT ? ctl_names[c] : "cgroup";
}

int berth_cgroup_ctl_from_name(const char *name)
{
  for (int i = 0; i < BERTH_CGROUP_CTL__COUNT; i++)
    if (strcmp(ctl_names[i], name) == 0)
      return i;
  return -1;
}

const char *berth_cgroup_mode_name(enum berth_cgroup_mode m)
{
  switch (m) {
  case BERTH_CGROUP_MODE_V1: return "v1";
  case BERTH_CGROUP_MODE_V2: return "v2";
  case BERTH_CGROUP_MODE_HYBRID: return "hybrid";
  default: return "none";
  }
}

uint32_t cg_parse_controllers(const char *list, char sep)
{
  uint32_t bits = 0;
  const char *p = list;
  while (*p) {
    size_t len = strcspn(p, (char[]){ sep, ' ', '\n', '\0' });
    char name[32];
    if (len > 0 && len < sizeof name) {
      memcpy(name, p, len);
      name[len] = '\0';
      int c = berth_cgroup_ctl_from_name(name);
      if (c >= 0)
        bits |= BERTH_CGROUP_CTL_BIT(c);
    }
    p += len;
    while (*p == sep || *p == ' ' || *p == '\n')
      p++;
  }
  return bits;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
  char *o = s;
  for (char *i = s; *i; i++) {
    if (i[0] == '\\' && i[1] >= '0' && i[1] <= '3' && i[2] >= '0' && i[2] <= '7' && i[3] >= '0' &&
        i[3] <= '7') {
      *o++ = (char) (((i[1] - '0') << 6) | ((i[2] - '0') << 3) | (i[3] - '0'));
      i += 3;
    } else {
      *o++ = *i;
    }
  }
  *o = '\0';
}

struct mount_line {
  char *root, *mountpoint, *fstype, *super;
};

/* split one mountinfo line in place; false when malformed */
static bool split_line(char *line, struct mount_line *m)
{
  char *fields[6], *save = NULL, *tok = strtok_r(line, " ", &save);
  size_t n = 0;
  while (tok && n < 6) {
    fields[n++] = tok;
    tok = strtok_r(NULL, " ", &save);
  }
  while (tok && strcmp(tok, "-") != 0) /* optional fields */
    tok = strtok_r(NULL, " ", &save);
  if (n < 6 || tok == NULL)
    return false;
  m->root = fields[3];
  m->mountpoint = fields[4];
  m->fstype = strtok_r(NULL, " ", &save);
  strtok_r(NULL, " ", &save); /* source */
  m->super = strtok_r(NULL, " \n", &save);
  if (m->fstype == NULL || m->super == NULL)
    return false;
  unescape(m->root);
  unescape(m->mountpoint);
  return true;
}

/* the length of root without its trailing slashes ("/" stays 1) */
static size_t root_len(const char *root)
{
  size_t n = strlen(root);
  while (n > 1 && root[n - 1] == '/')
    n--;
  return n;
}

static bool under(const char *path, const char *root)
{
  size_t n = root_len(root);
  return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/' || n == 1);
}

/* controllers and name= of a v1 mount's super options; false if neither */
static bool v1_options(const char *super, uint32_t *bits, char **name)
{
  *bits = cg_parse_controllers(super, ',');
  *name = NULL;
  const char *n = strstr(super, "name=");
  if (n && (n == super || n[-1] == ','))
    *name = xstrndup(n + 5, strcspn(n + 5, ","));
  if (*name && strcmp(*name, "systemd") != 0 && *bits == 0) {
    free(*name); /* other named hierarchies are not ours to manage */
    *name = NULL;
  }
  return *bits != 0 || *name != NULL;
}

static void add_v1(struct berth_cgroup_layout *l, const struct mount_line *m)
{
  uint32_t bits;
  char *name;
  if (!v1_options(m->super, &bits, &name))
    return;
  for (size_t i = 0; i < l->n_v1; i++)
    if (l->v1[i].controllers == bits && berth_str_eq(l->v1[i].name, name) == (name != NULL)) {
      free(name); /* the same hierarchy mounted twice: keep the first */
      return;
    }
  l->v1 = xreallocarray(l->v1, l->n_v1 + 1, sizeof *l->v1);
  l->v1[l->n_v1++] = (struct berth_cgroup_hierarchy){
    .mountpoint = xstrdup(m->mountpoint), .mount_root = xstrdup(m->root), .name = name, .controllers = bits
  };
}

static BERTH_WUR int parse_mountinfo(const char *root, const char *path, struct berth_cgroup_layout *l,
                                     berth_error_t *err)
{
  cleanup_fclose FILE *f = fopen(path, "re");
  if (f == NULL)
    return BERTH_ERR_ERRNO(err, "open `%s`", path);
  cleanup_free char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    struct mount_line m;
    if (!split_line(line, &m) || !under(m.mountpoint, root))
      continue;
    if (strcmp(m.fstype, "cgroup2") == 0 && !l->has_unified) {
      l->has_unified = true;
      l->unified =
        (struct berth_cgroup_hierarchy){ .mountpoint = xstrdup(m.mountpoint), .mount_root = xstrdup(m.root) };
    } else if (strcmp(m.fstype, "cgroup") == 0) {
      add_v1(l, &m);
    }
  }
  return 0;
}

/* the path of our cgroup in hierarchy h, relative to what is mounted */
static void set_self(struct berth_cgroup_hierarchy *h, const char *path)
{
  const char *rel = path;
  size_t n = root_len(h->mount_root); /* "//" is the root too: never skip more than matched */
  if (n > 1) {
    rel = under(path, h->mount_root) ? path + n : "/";
    if (*rel == '\0')
      rel = "/";
  }
  free(h->self);
  h->self = cg_clean_path(rel); /* the kernel never says "..", but nothing may climb out */
  if (h->self[0] != '/') {
    free(h->self);
    h->self = xstrdup("/");
  }
}

static void parse_self_cgroup(const char *path, struct berth_cgroup_layout *l)
{
  cleanup_fclose FILE *f = fopen(path, "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  while (f && getline(&line, &cap, f) > 0) {
    line[strcspn(line, "\n")] = '\0';
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL)
      continue;
    *c1 = *c2 = '\0';
    const char *list = c1 + 1, *cg = c2 + 1;
    if (*list == '\0' && strcmp(line, "0") == 0) {
      if (l->has_unified)
        set_self(&l->unified, cg);
      continue;
    }
    uint32_t bits = cg_parse_controllers(list, ',');
    const char *name = strstr(list, "name=");
    for (size_t i = 0; i < l->n_v1; i++) {
      struct berth_cgroup_hierarchy *h = &l->v1[i];
      bool same =
        h->name ? (name && strcmp(name + 5, h->name) == 0) : (bits == h->controllers && name == NULL);
      if (same)
        set_self(h, cg);
    }
  }
  for (size_t i = 0; i < l->n_v1; i++)
    if (l->v1[i].self == NULL)
      l->v1[i].self = xstrdup("/");
  if (l->has_unified && l->unified.self == NULL)
    l->unified.self = xstrdup("/");
}

int berth_cgroup_detect(const char *root, const char *mountinfo, const char *self_cgroup,
                        struct berth_cgroup_layout *out, berth_error_t *err)
{
  root = root ? root : "/sys/fs/cgroup";
  struct berth_cgroup_layout l = { 0 };
  if (parse_mountinfo(root, mountinfo ? mountinfo : "/proc/self/mountinfo", &l, err) < 0) {
    berth_cgroup_layout_free(&l);
    return berth_error_wrap(err, "detect cgroups");
  }
  if (l.has_unified && strcmp(l.unified.mountpoint, root) == 0 && l.n_v1 > 0) {
    berth_cgroup_layout_free(&l);
    return BERTH_ERR(err, "detect cgroups: cgroup v1 hierarchies mounted inside the cgroup2 mount `%s`",
                     root);
  }
  if (l.n_v1 == 0 && !l.has_unified) {
    berth_cgroup_layout_free(&l);
    return BERTH_ERR(err, "detect cgroups: no cgroup hierarchy is mounted under `%s`", root);
  }
  l.mode = l.n_v1 == 0     ? BERTH_CGROUP_MODE_V2
           : l.has_unified ? BERTH_CGROUP_MODE_HYBRID
                           : BERTH_CGROUP_MODE_V1;
  if (l.has_unified) {
    cleanup_free char *p = xasprintf("%s/cgroup.controllers", l.unified.mountpoint);
    cleanup_free char *text = NULL;
    berth_error_t ignored = NULL;
    if (berth_read_file(p, 4096, &text, NULL, &ignored) == 0)
      l.unified.controllers = cg_parse_controllers(text, ' ');
    berth_error_release(&ignored);
  }
  parse_self_cgroup(self_cgroup ? self_cgroup : "/proc/self/cgroup", &l);
  *out = l;
  return 0;
}

static void hierarchy_free(struct berth_cgroup_hierarchy *h)
{
  free(h->mountpoint);
  free(h->mount_root);
  free(h->name);
  free(h->self);
}

void berth_cgroup_layout_free(struct berth_cgroup_layout *l)
{
  for (size_t i = 0; i < l->n_v1; i++)
    hierarchy_free(&l->v1[i]);
  free(l->v1);
  if (l->has_unified)
    hierarchy_free(&l->unified);
  *l = (struct berth_cgroup_layout){ 0 };
}
