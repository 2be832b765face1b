/* Is the container paused? Its cgroup's freezer says so, as it does to the runtime's `state`
 * (and so to inspect): v1, freezer.state of the process's freezer cgroup; v2 (or hybrid without
 * a v1 freezer, as the cgroup library picks), cgroup.freeze of its unified cgroup. Read at each
 * check (two small /proc files and one of the cgroup's): the freezer is the truth whoever froze
 * it — `berth pause`, `commit --pause`, the runtime's own pause — and the monitor, libc only,
 * has no cgroup library to ask. */
#include <stdio.h>
#include <string.h>

#include "monitor.h"

/* controllers "a,b,c" name ctl */
static bool has_ctl(const char *list, size_t len, const char *ctl)
{
  size_t n = strlen(ctl);
  for (const char *p = list, *end = list + len; p < end;) {
    const char *comma = memchr(p, ',', (size_t) (end - p));
    size_t k = comma ? (size_t) (comma - p) : (size_t) (end - p);
    if (k == n && memcmp(p, ctl, n) == 0)
      return true;
    p += k + 1;
  }
  return false;
}

/* the cgroup path (from a /proc/PID/cgroup) of the v1 freezer hierarchy (*v1 true), else the
 * unified one */
static bool cgroup_of(const char *file, char *path, size_t len, bool *v1)
{
  char line[4200];
  FILE *f = fopen(file, "re");
  if (f == NULL)
    return false;
  bool found = false;
  *v1 = false;
  while (!*v1 && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL)
      continue;
    bool freezer = has_ctl(c1 + 1, (size_t) (c2 - c1 - 1), "freezer");
    if (freezer || (c2 == c1 + 1 && strncmp(line, "0:", 2) == 0)) {
      snprintf(path, len, "%s", c2 + 1);
      found = true;
      *v1 = freezer;
    }
  }
  fclose(f);
  return found;
}

/* the mount point and root of the v1 freezer hierarchy (v1) or the cgroup2 one */
static bool mount_of(const char *mountinfo, bool v1, char *point, char *root, size_t len)
{
  FILE *f = fopen(mountinfo, "re");
  if (f == NULL)
    return false;
  char line[8192];
  bool found = false;
  while (!found && fgets(line, sizeof line, f)) {
    /* ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
    char r[4096], p[4096], type[32], super[1024];
    const char *dash = strstr(line, " - ");
    if (dash == NULL || sscanf(line, "%*s %*s %*s %4095s %4095s", r, p) != 2 ||
        sscanf(dash + 3, "%31s %*s %1023s", type, super) != 2)
      continue;
    if (v1 ? strcmp(type, "cgroup") == 0 && has_ctl(super, strlen(super), "freezer")
           : strcmp(type, "cgroup2") == 0) {
      snprintf(point, len, "%s", p);
      snprintf(root, len, "%s", r);
      found = true;
    }
  }
  fclose(f);
  return found;
}

bool mon_frozen_at(const char *proc_cgroup, const char *mountinfo)
{
  char path[4096], point[4096], root[4096], file[12400], state[32] = "";
  bool v1;
  if (!cgroup_of(proc_cgroup, path, sizeof path, &v1) || !mount_of(mountinfo, v1, point, root, sizeof root))
    return false;
  /* a hierarchy mounted from below its root (in a cgroup namespace) shows the path under it */
  size_t n = strlen(root);
  const char *rel = strcmp(root, "/") != 0 && strncmp(path, root, n) == 0 ? path + n : path;
  snprintf(file, sizeof file, "%s%s/%s", point, rel, v1 ? "freezer.state" : "cgroup.freeze");
  FILE *f = fopen(file, "re");
  if (f == NULL)
    return false;
  bool ok = fgets(state, sizeof state, f) != NULL;
  fclose(f);
  /* FREEZING too: a pause under way */
  return ok &&
         (v1 ? strncmp(state, "FROZEN", 6) == 0 || strncmp(state, "FREEZING", 8) == 0 : state[0] == '1');
}

bool mon_frozen(pid_t pid)
{
  char file[64];
  snprintf(file, sizeof file, "/proc/%d/cgroup", (int) pid);
  return pid > 0 && mon_frozen_at(file, "/proc/self/mountinfo");
}
