/* Typed values of instruction flags: RUN --mount specs, --chmod, --checksum, --network, booleans
 * and HEALTHCHECK durations. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "build/instr.h"

bool berth_build_has_var(const char *s) { return s && strchr(s, '$') != NULL; }

int berth_build_bool_parse(const char *flag, const char *v, bool *out, berth_error_t *err)
{
  if (v == NULL || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0) {
    *out = true;
    return 0;
  }
  if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0) {
    *out = false;
    return 0;
  }
  return BERTH_ERR(err, "--%s: expected a boolean, got `%s`", flag, v);
}

static BERTH_WUR int parse_u32(const char *key, const char *v, int base, uint32_t *out, berth_error_t *err)
{
  char *end = NULL;
  errno = 0;
  unsigned long n = strtoul(v, &end, base);
  if (*v == '\0' || *end || errno || n > UINT32_MAX || *v == '-' || *v == '+')
    return BERTH_ERR(err, "--mount: invalid %s `%s`", key, v);
  *out = (uint32_t) n;
  return 0;
}

/* one CSV field: quotes around (parts of) it removed, "" inside quotes is a quote */
static char *csv_field(const char **p)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  const char *s = *p;
  bool q = false;
  for (; *s && (q || *s != ','); s++) {
    if (*s == '"') {
      if (q && s[1] == '"') {
        berth_strbuf_putc(&b, '"');
        s++;
      } else {
        q = !q;
      }
      continue;
    }
    berth_strbuf_putc(&b, *s);
  }
  *p = *s == ',' ? s + 1 : s;
  return b.buf ? berth_strbuf_detach(&b) : xstrdup("");
}

static BERTH_WUR int mount_type(const char *v, enum berth_build_mount_type *t, berth_error_t *err)
{
  static const char *const names[] = { "bind", "cache", "tmpfs", "secret", "ssh" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(names); i++)
    if (strcasecmp(v, names[i]) == 0) {
      *t = (enum berth_build_mount_type) i;
      return 0;
    }
  return BERTH_ERR(err, "--mount: unknown type `%s` (bind, cache, tmpfs, secret or ssh)", v);
}

static BERTH_WUR int mount_sharing(const char *v, enum berth_build_sharing *s, berth_error_t *err)
{
  if (strcasecmp(v, "shared") == 0)
    *s = BERTH_BUILD_SHARING_SHARED;
  else if (strcasecmp(v, "private") == 0)
    *s = BERTH_BUILD_SHARING_PRIVATE;
  else if (strcasecmp(v, "locked") == 0)
    *s = BERTH_BUILD_SHARING_LOCKED;
  else
    return BERTH_ERR(err, "--mount: unknown sharing `%s` (shared, private or locked)", v);
  return 0;
}

static void set_str(char **dst, const char *v)
{
  free(*dst);
  *dst = xstrdup(v);
}

/* one key=value of a spec (the type is known already) */
static BERTH_WUR int mount_key(struct berth_build_mount *m, const char *k, const char *v, berth_error_t *err)
{
  bool b;
  if (strcmp(k, "target") == 0 || strcmp(k, "dst") == 0 || strcmp(k, "destination") == 0)
    set_str(&m->target, v);
  else if (strcmp(k, "source") == 0 || strcmp(k, "src") == 0)
    set_str(&m->source, v);
  else if (strcmp(k, "from") == 0)
    set_str(&m->from, v);
  else if (strcmp(k, "id") == 0)
    set_str(&m->id, v);
  else if (strcmp(k, "env") == 0)
    set_str(&m->env, v);
  else if (strcmp(k, "readonly") == 0 || strcmp(k, "ro") == 0) {
    if (berth_build_bool_parse("mount readonly", *v ? v : NULL, &b, err) < 0)
      return -1;
    m->readonly = b;
  } else if (strcmp(k, "readwrite") == 0 || strcmp(k, "rw") == 0) {
    if (berth_build_bool_parse("mount readwrite", *v ? v : NULL, &b, err) < 0)
      return -1;
    m->readonly = !b;
  } else if (strcmp(k, "required") == 0) {
    if (berth_build_bool_parse("mount required", *v ? v : NULL, &m->required, err) < 0)
      return -1;
  } else if (strcmp(k, "sharing") == 0)
    return mount_sharing(v, &m->sharing, err);
  else if (strcmp(k, "mode") == 0) {
    m->has_mode = true;
    return parse_u32(k, v, 8, &m->mode, err);
  } else if (strcmp(k, "uid") == 0) {
    m->has_uid = true;
    return parse_u32(k, v, 10, &m->uid, err);
  } else if (strcmp(k, "gid") == 0) {
    m->has_gid = true;
    return parse_u32(k, v, 10, &m->gid, err);
  } else if (strcmp(k, "size") == 0 || strcmp(k, "tmpfs-size") == 0) {
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (*v == '\0' || *v == '-' || errno || (*end && strchr("kKmMgG", *end) == NULL) || (*end && end[1]))
      return BERTH_ERR(err, "--mount: invalid size `%s`", v);
    m->size = n << (*end == 'k' || *end == 'K' ? 10 : *end == 'm' || *end == 'M' ? 20 : *end ? 30 : 0);
  } else
    return BERTH_ERR(err, "--mount: unknown key `%s`", k);
  return 0;
}

static char *base_name(const char *p)
{
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/')
    n--;
  size_t b = n;
  while (b > 0 && p[b - 1] != '/')
    b--;
  return xstrndup(p + b, n - b);
}

/* what a spec left out, and what its type requires */
static BERTH_WUR int mount_finish(struct berth_build_mount *m, berth_error_t *err)
{
  if (m->type == BERTH_BUILD_MOUNT_SECRET) {
    if (m->id == NULL && m->target)
      m->id = base_name(m->target);
    if (m->id == NULL || *m->id == '\0')
      return BERTH_ERR(err, "--mount: type=secret needs an id or a target");
    if (m->target == NULL && m->env == NULL)
      m->target = xasprintf("/run/secrets/%s", m->id);
    return 0;
  }
  if (m->type == BERTH_BUILD_MOUNT_SSH) {
    if (m->id == NULL)
      m->id = xstrdup("default");
    if (m->target == NULL)
      m->target = xstrdup("/run/buildkit/ssh_agent.0");
    return 0;
  }
  if (m->target == NULL || *m->target == '\0')
    return BERTH_ERR(err, "--mount: a target is required (target=/path)");
  if (m->type == BERTH_BUILD_MOUNT_CACHE && m->id == NULL)
    m->id = xstrdup(m->target);
  return 0;
}

int berth_build_mount_parse(const char *spec, struct berth_build_mount *out, berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  out->type = BERTH_BUILD_MOUNT_BIND;
  cleanup_strv char **keys = xcalloc(1, sizeof(char *)), **vals = xcalloc(1, sizeof(char *));
  for (const char *p = spec; *p;) {
    cleanup_free char *f = csv_field(&p);
    char *eq = strchr(f, '=');
    if (eq)
      *eq = '\0';
    keys = berth_strv_append(keys, f);
    vals = berth_strv_append(vals, eq ? eq + 1 : "");
    for (char *c = keys[berth_strv_len(keys) - 1]; *c; c++)
      *c = (char) tolower((unsigned char) *c);
  }
  int rc = 0;
  for (size_t i = 0; keys[i] && rc == 0; i++)
    if (strcmp(keys[i], "type") == 0)
      rc = mount_type(vals[i], &out->type, err);
  out->readonly = out->type == BERTH_BUILD_MOUNT_BIND;
  out->required = false;
  if (out->type == BERTH_BUILD_MOUNT_SECRET || out->type == BERTH_BUILD_MOUNT_SSH)
    out->mode = 0400;
  for (size_t i = 0; keys[i] && rc == 0; i++)
    if (strcmp(keys[i], "type") != 0)
      rc = mount_key(out, keys[i], vals[i], err);
  if (rc == 0)
    rc = mount_finish(out, err);
  if (rc < 0) {
    berth_build_mount_release(out);
    return berth_error_wrap(err, "invalid mount `%s`", spec);
  }
  return 0;
}

void berth_build_mount_release(struct berth_build_mount *m)
{
  free(m->target);
  free(m->source);
  free(m->from);
  free(m->id);
  free(m->env);
  memset(m, 0, sizeof *m);
}

/* ---- --chmod ---- */

static bool symbolic_clause_ok(const char *s, size_t n)
{
  size_t i = 0;
  while (i < n && strchr("ugoa", s[i]))
    i++;
  if (i == n)
    return false;
  while (i < n) {
    if (!strchr("+-=", s[i]))
      return false;
    i++;
    while (i < n && strchr("rwxXst", s[i]))
      i++;
  }
  return true;
}

int berth_build_chmod_parse(const char *s, uint32_t *mode, bool *symbolic, berth_error_t *err)
{
  *symbolic = false;
  if (s && *s && strspn(s, "01234567") == strlen(s)) {
    unsigned long v = strtoul(s, NULL, 8);
    if (strlen(s) > 4 || v > 07777)
      return BERTH_ERR(err, "--chmod: invalid mode `%s`", s);
    *mode = (uint32_t) v;
    return 0;
  }
  for (const char *p = s; p && *p;) {
    size_t n = strcspn(p, ",");
    if (!symbolic_clause_ok(p, n))
      return BERTH_ERR(err, "--chmod: invalid mode `%s` (octal, or symbolic as chmod takes it)", s);
    p += n + (p[n] == ',');
  }
  if (s == NULL || *s == '\0')
    return BERTH_ERR(err, "--chmod: a mode is required");
  *symbolic = true;
  return 0;
}

static uint32_t who_mask(const char *who, size_t n)
{
  uint32_t m = 0;
  for (size_t i = 0; i < n; i++)
    m |= who[i] == 'u' ? 04700u : who[i] == 'g' ? 02070u : who[i] == 'o' ? 01007u : 07777u;
  return n ? m : 07777u;
}

uint32_t berth_build_chmod_apply(const char *s, uint32_t mode, bool dir)
{
  for (const char *p = s; *p;) {
    size_t n = strcspn(p, ",");
    size_t w = 0;
    while (w < n && strchr("ugoa", p[w]))
      w++;
    uint32_t mask = who_mask(p, w);
    for (size_t i = w; i < n;) {
      char op = p[i++];
      uint32_t bits = 0;
      for (; i < n && strchr("rwxXst", p[i]); i++) {
        char c = p[i];
        bits |= c == 'r'   ? 0444u
                : c == 'w' ? 0222u
                : c == 'x' ? 0111u
                : c == 's' ? 06000u
                : c == 't' ? 01000u
                           : 0;
        if (c == 'X' && (dir || (mode & 0111u)))
          bits |= 0111u;
      }
      bits &= mask;
      if (op == '+')
        mode |= bits;
      else if (op == '-')
        mode &= ~bits;
      else
        mode = (mode & ~(mask & 07777u)) | bits;
    }
    p += n + (p[n] == ',');
  }
  return mode & 07777u;
}

int berth_build_checksum_parse(const char *s, berth_error_t *err)
{
  if (s == NULL || strncmp(s, "sha256:", 7) != 0)
    return BERTH_ERR(err, "--checksum: expected sha256:<64 hex digits>, got `%s`", s ? s : "");
  const char *h = s + 7;
  if (strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64)
    return BERTH_ERR(err, "--checksum: invalid sha256 digest `%s`", s);
  return 0;
}

int berth_build_network_parse(const char *s, enum berth_build_network *out, berth_error_t *err)
{
  if (s == NULL || strcmp(s, "default") == 0)
    *out = BERTH_BUILD_NET_DEFAULT;
  else if (strcmp(s, "none") == 0)
    *out = BERTH_BUILD_NET_NONE;
  else if (strcmp(s, "host") == 0)
    *out = BERTH_BUILD_NET_HOST;
  else
    return BERTH_ERR(err, "--network: `%s` is not default, none or host", s);
  return 0;
}

int berth_build_duration_parse(const char *flag, const char *s, int64_t *ns, berth_error_t *err)
{
  static const struct {
    const char *unit;
    int64_t ns;
  } units[] = { { "ns", 1 },         { "us", 1000 },       { "µs", 1000 },        { "ms", 1000000 },
                { "s", 1000000000 }, { "m", 60000000000 }, { "h", 3600000000000 } };
  double total = 0;
  const char *p = s;
  if (s == NULL || *s == '\0')
    return BERTH_ERR(err, "--%s: a duration is required", flag);
  if (strcmp(s, "0") == 0) {
    *ns = 0;
    return 0;
  }
  while (*p) {
    char *end = NULL;
    if (!isdigit((unsigned char) *p) && *p != '.')
      return BERTH_ERR(err, "--%s: invalid duration `%s`", flag, s);
    double v = strtod(p, &end);
    size_t best = 0;
    int64_t mult = 0;
    for (size_t i = 0; i < BERTH_N_ELEMENTS(units); i++) {
      size_t n = strlen(units[i].unit);
      if (strncmp(end, units[i].unit, n) == 0 && n > best) {
        best = n;
        mult = units[i].ns;
      }
    }
    if (best == 0)
      return BERTH_ERR(err, "--%s: invalid duration `%s` (a unit is missing: 30s, 1m30s, 500ms)", flag, s);
    total += v * (double) mult;
    p = end + best;
  }
  if (total > 9.2e18)
    return BERTH_ERR(err, "--%s: duration `%s` is too long", flag, s);
  *ns = (int64_t) total;
  return 0;
}
