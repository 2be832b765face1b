/* Is the container paused? Its cgroup's freezer says so, as it does to the runtime's `state`
 * (and so to inspect): v1, freezer.state of the process's freezer cgroup; v2 (or hybrid without
 * a v1 freezer, as the cgroup library picks), cgroup.freeze of its unified cgroup, or
 * cgroup.events' "frozen 1" when an ancestor was frozen (an init moved into a child cgroup).
 * The cgroup is found once per start (/proc/PID/cgroup and mountinfo); its state file is read
 * at each check. The freezer is the truth whoever froze it — `berth pause`, `commit --pause`,
 * the runtime's own pause — and the monitor, libc only, has no cgroup library to ask. */
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

/* the cgroup path (from a /proc/PID/cgroup) in the v1 freezer hierarchy (v1) or the unified one */
static bool cgroup_of(const char *file, bool v1, char *path, size_t len)
{
  char line[4200];
  FILE *f = fopen(file, "re");
  if (f == NULL)
    return false;
  bool found = false;
  while (!found && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL)
      continue;
    if (v1 ? has_ctl(c1 + 1, (size_t) (c2 - c1 - 1), "freezer")
           : c2 == c1 + 1 && strncmp(line, "0:", 2) == 0) {
      snprintf(path, len, "%s", c2 + 1);
      found = true;
    }
  }
  fclose(f);
  return found;
}

/* the mount point and root of the v1 freezer hierarchy (v1) or the cgroup2 one, under UNDER
 * (/sys/fs/cgroup, where the cgroup library looks: a stray mount elsewhere is not the one it
 * froze) */
static bool mount_of(const char *mountinfo, const char *under, bool v1, char *point, char *root, size_t len)
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
    size_t u = strlen(under);
    if (strncmp(p, under, u) != 0 || (p[u] != '\0' && p[u] != '/'))
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

/* the directory of the process's cgroup in that hierarchy: false when there is none */
static bool cg_dir(const char *proc_cgroup, const char *mountinfo, const char *under, bool v1, char *dir,
                   size_t len)
{
  char path[4096], point[4096], root[4096];
  if (!cgroup_of(proc_cgroup, v1, path, sizeof path) ||
      !mount_of(mountinfo, under, v1, point, root, sizeof root))
    return false;
  /* a hierarchy mounted from below its root (in a cgroup namespace) shows the path under it */
  size_t n = strlen(root);
  bool below = strcmp(root, "/") != 0 && strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == '\0');
  snprintf(dir, len, "%s%s", point, below ? path + n : path);
  return true;
}

/* does a line of DIR/NAME start with WANT (any line when WANT is NULL: *line gets the first) */
static bool file_has(const char *dir, const char *name, const char *want, char *line, size_t len)
{
  char file[sizeof((struct mon_freezer *) 0)->dir + 32];
  snprintf(file, sizeof file, "%s/%s", dir, name);
  FILE *f = fopen(file, "re");
  if (f == NULL)
    return false;
  bool found = false;
  while (!found && fgets(line, (int) len, f))
    found = want == NULL || strncmp(line, want, strlen(want)) == 0;
  fclose(f);
  return found;
}

bool mon_freezer_find(const char *proc_cgroup, const char *mountinfo, const char *under,
                      struct mon_freezer *fz)
{
  /* the v1 freezer when there is one (the cgroup library's pick on hybrid hosts), else v2 */
  char line[64];
  fz->v1 = true;
  if (cg_dir(proc_cgroup, mountinfo, under, true, fz->dir, sizeof fz->dir) &&
      file_has(fz->dir, "freezer.state", NULL, line, sizeof line))
    return true;
  fz->v1 = false;
  return cg_dir(proc_cgroup, mountinfo, under, false, fz->dir, sizeof fz->dir);
}

bool mon_freezer_frozen(const struct mon_freezer *fz)
{
  char line[256];
  /* FREEZING too: a pause under way */
  if (fz->v1)
    return file_has(fz->dir, "freezer.state", NULL, line, sizeof line) &&
           (strncmp(line, "FROZEN", 6) == 0 || strncmp(line, "FREEZING", 8) == 0);
  /* its own cgroup.freeze, or an ancestor's freeze (cgroup.events says frozen) */
  return file_has(fz->dir, "cgroup.freeze", "1", line, sizeof line) ||
         file_has(fz->dir, "cgroup.events", "frozen 1", line, sizeof line);
}

bool mon_frozen(struct mon_freezer *fz, pid_t pid)
{
  if (fz->dir[0] == '\0') { /* the cgroup of a container does not change: looked up once */
    char file[64];
    snprintf(file, sizeof file, "/proc/%d/cgroup", (int) pid);
    if (pid <= 0 || !mon_freezer_find(file, "/proc/self/mountinfo", "/sys/fs/cgroup", fz)) {
      fz->dir[0] = '\0';
      return false;
    }
  }
  return mon_freezer_frozen(fz);
}
