/* -u user[:group] resolved against the image's /etc/passwd and /etc/group texts, with runc's
 * rules (libcontainer/user GetExecUser) and Docker's --group-add. Pure. */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"
#include "engine/runspec/runopts_internal.h"

#define ID_MAX 2147483647u /* runc: uids and gids must be in range 0-2147483647 */

/* fields of one colon-separated line (at most n, the last one keeps the rest); returns how many */
static size_t split_line(char *line, char **f, size_t n)
{
  size_t k = 0;
  f[k++] = line;
  for (char *p = line; *p && k < n; p++)
    if (*p == ':') {
      *p = '\0';
      f[k++] = p + 1;
    }
  return k;
}

static bool parse_id(const char *s, uint32_t *out)
{
  uint64_t v = 0;
  if (berth_parse_u64(s, &v) < 0 || v > ID_MAX)
    return false;
  *out = (uint32_t) v;
  return true;
}

/* Calls fn for each well-formed line of the file text (trimmed, comments skipped) until it
 * returns true; returns whether one did. */
static bool scan(const char *text, size_t nfields, bool (*fn)(char **f, size_t n, void *data), void *data)
{
  for (const char *p = text; p && *p;) {
    const char *nl = strchrnul(p, '\n');
    cleanup_free char *line = xstrndup(p, (size_t) (nl - p));
    p = *nl ? nl + 1 : nl;
    char *s = line;
    while (*s == ' ' || *s == '\t')
      s++;
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
      s[--len] = '\0';
    if (*s == '\0' || *s == '#' || !runopts_utf8_valid(s, len))
      continue; /* what cannot go into JSON is no entry */
    char *f[8] = { NULL };
    size_t n = split_line(s, f, nfields);
    if (fn(f, n, data))
      return true;
  }
  return false;
}

struct user_match {
  const char *name; /* match by name, or */
  bool by_uid;
  uint32_t uid; /* by uid */
  struct berth_user *out;
};

static bool match_user(char **f, size_t n, void *data)
{
  struct user_match *m = data;
  uint32_t uid, gid = 0;
  if (n < 3 || !parse_id(f[2], &uid))
    return false;
  if (m->by_uid ? uid != m->uid : strcmp(f[0], m->name) != 0)
    return false;
  if (n >= 4 && !parse_id(f[3], &gid))
    gid = 0;
  m->out->uid = uid;
  m->out->gid = gid;
  m->out->name = xstrdup(f[0]);
  free(m->out->home);
  m->out->home = xstrdup(n >= 6 && f[5][0] ? f[5] : "/");
  return true;
}

struct group_match {
  const char *name; /* a group by name, or */
  bool by_gid;
  uint32_t gid;       /* by gid, or */
  const char *member; /* every group listing this user (collect) */
  uint32_t found;
  struct berth_user *out;
};

static bool is_member(const char *list, const char *user)
{
  size_t n = strlen(user);
  for (const char *p = list; *p;) {
    const char *end = strchrnul(p, ',');
    const char *a = p, *b = end;
    while (a < b && *a == ' ')
      a++;
    while (b > a && b[-1] == ' ')
      b--;
    if ((size_t) (b - a) == n && strncmp(a, user, n) == 0)
      return true;
    p = *end ? end + 1 : end;
  }
  return false;
}

static void add_gid(struct berth_user *u, uint32_t gid)
{
  for (size_t i = 0; i < u->n_gids; i++)
    if (u->gids[i] == gid)
      return;
  u->gids = xreallocarray(u->gids, u->n_gids + 1, sizeof *u->gids);
  u->gids[u->n_gids++] = gid;
}

static bool match_group(char **f, size_t n, void *data)
{
  struct group_match *m = data;
  uint32_t gid;
  if (n < 3 || !parse_id(f[2], &gid))
    return false;
  if (m->member != NULL) {
    if (n >= 4 && is_member(f[3], m->member))
      add_gid(m->out, gid);
    return false; /* keep collecting */
  }
  if (m->by_gid ? gid != m->gid : strcmp(f[0], m->name) != 0)
    return false;
  m->found = gid;
  return true;
}

/* a group by name or number; numbers need no entry */
static BERTH_WUR int lookup_group(const char *group_text, const char *g, uint32_t *gid, berth_error_t *err)
{
  struct group_match m = { .name = g };
  m.by_gid = parse_id(g, &m.gid);
  if (group_text && scan(group_text, 4, match_group, &m)) {
    *gid = m.found;
    return 0;
  }
  if (m.by_gid) {
    *gid = m.gid;
    return 0;
  }
  if (g[0] >= '0' && g[0] <= '9')
    return BERTH_ERR(err, "group id `%s` is out of range [0, %u]", g, ID_MAX);
  return BERTH_ERR(
    err, "unable to find group `%s`: no matching entries in group file (the image's /etc/group)", g);
}

static BERTH_WUR int resolve_user(const char *user_arg, const char *passwd, struct berth_user *out,
                                  berth_error_t *err)
{
  struct user_match m = { .name = user_arg, .out = out };
  if (user_arg[0] == '\0') { /* no user: root's entry when there is one */
    m.by_uid = true;
    m.uid = 0;
  } else {
    m.by_uid = parse_id(user_arg, &m.uid);
  }
  if (passwd && scan(passwd, 7, match_user, &m))
    return 0;
  if (user_arg[0] == '\0' || m.by_uid) {
    out->uid = m.uid; /* numbers pass through */
    out->gid = 0;
    return 0;
  }
  if (user_arg[0] >= '0' && user_arg[0] <= '9')
    return BERTH_ERR(err, "user id `%s` is out of range [0, %u]", user_arg, ID_MAX);
  return BERTH_ERR(
    err, "unable to find user `%s`: no matching entries in passwd file (the image's /etc/passwd)", user_arg);
}

int berth_ctrspec_user(const char *spec, const char *passwd, const char *group, char *const *group_add,
                       struct berth_user *out, berth_error_t *err)
{
  struct berth_user u = { .home = xstrdup("/") };
  cleanup_free char *copy = xstrdup(spec ? spec : "");
  char *group_arg = strchr(copy, ':');
  if (group_arg != NULL)
    *group_arg++ = '\0';
  int r = resolve_user(copy, passwd, &u, err);
  if (r == 0 && group_arg != NULL && group_arg[0] != '\0') {
    r = lookup_group(group, group_arg, &u.gid, err);
  } else if (r == 0 && u.name != NULL && group != NULL) {
    /* supplementary groups only in the implicit form (runc) */
    struct group_match m = { .member = u.name, .out = &u };
    scan(group, 4, match_group, &m);
  }
  for (size_t i = 0; r == 0 && group_add && group_add[i]; i++) {
    uint32_t gid = 0;
    r = lookup_group(group, group_add[i], &gid, err);
    if (r < 0)
      berth_error_wrap(err, "--group-add");
    else
      add_gid(&u, gid);
  }
  if (r < 0) {
    berth_user_release(&u);
    return -1;
  }
  *out = u;
  return 0;
}

void berth_user_release(struct berth_user *u)
{
  free(u->gids);
  free(u->home);
  free(u->name);
  *u = (struct berth_user){ 0 };
}
