/* Single-value parsers of run/create options: sizes, signals, environment variables,
 * env files, ulimits, devices, restart policies, namespace modes, paths. Pure. */
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/cleanup.h"
#include "base/signals.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"
#include "engine/runspec/runopts_internal.h"

/* ---------------- sizes ---------------- */

static int64_t unit_multiplier(char c)
{
  switch (tolower((unsigned char) c)) {
  case 'b': return 1;
  case 'k': return INT64_C(1) << 10;
  case 'm': return INT64_C(1) << 20;
  case 'g': return INT64_C(1) << 30;
  case 't': return INT64_C(1) << 40;
  case 'p': return INT64_C(1) << 50;
  default: return 0;
  }
}

/* go-units RAMInBytes: ^(\d+(\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$ with binary multipliers; false when the
 * text does not match, *bytes may exceed INT64_MAX */
static bool size_bytes(const char *p, unsigned __int128 *bytes)
{
  unsigned __int128 whole = 0, frac = 0, scale = 1;
  if (!isdigit((unsigned char) *p))
    return false;
  for (; isdigit((unsigned char) *p); p++) {
    whole = whole * 10 + (unsigned) (*p - '0');
    if (whole > INT64_MAX)
      whole = (unsigned __int128) INT64_MAX + 1; /* too large whatever follows */
  }
  if (*p == '.') {
    p++;
    if (!isdigit((unsigned char) *p))
      return false;
    for (; isdigit((unsigned char) *p); p++)
      if (scale < UINT64_C(1000000000000000000)) { /* digits past 18 do not change a byte count */
        frac = frac * 10 + (unsigned) (*p - '0');
        scale *= 10;
      }
  }
  if (*p == ' ')
    p++;
  int64_t mult = 1;
  if (*p != '\0' && strchr("kKmMgGtTpP", *p) != NULL)
    mult = unit_multiplier(*p++);
  if (*p == 'i' || *p == 'I')
    p++;
  if (*p == 'b' || *p == 'B')
    p++;
  if (*p != '\0')
    return false;
  *bytes = whole * (unsigned __int128) mult + frac * (unsigned __int128) mult / scale;
  return true;
}

int berth_runopts_parse_size(const char *flag, const char *value, int64_t *out, berth_error_t *err)
{
  unsigned __int128 bytes = 0;
  if (!size_bytes(value, &bytes))
    return BERTH_ERR(err, "%s: invalid size \"%s\"", flag, value);
  if (bytes > INT64_MAX)
    return BERTH_ERR(err, "%s: size \"%s\" is too large", flag, value);
  *out = (int64_t) bytes;
  return 0;
}

/* "1.5" -> 1500000000 (Docker's ParseCPUs: at most 9 decimals) */
int runopts_parse_cpus(const char *flag, const char *value, int64_t *nano, berth_error_t *err)
{
  const char *p = value;
  int64_t whole = 0, frac = 0;
  int digits = 0;
  if (!isdigit((unsigned char) *p) && !(*p == '.' && isdigit((unsigned char) p[1])))
    return BERTH_ERR(err, "%s: must be a positive number, got \"%s\"", flag, value);
  for (; isdigit((unsigned char) *p); p++) {
    whole = whole * 10 + (*p - '0');
    if (whole > INT64_MAX / 1000000000 - 1)
      return BERTH_ERR(err, "%s: \"%s\" is too large", flag, value);
  }
  if (*p == '.') {
    for (p++; isdigit((unsigned char) *p); p++) {
      if (++digits > 9)
        return BERTH_ERR(err, "%s: value \"%s\" is too precise (at most 9 decimals)", flag, value);
      frac = frac * 10 + (*p - '0');
    }
  }
  if (*p != '\0')
    return BERTH_ERR(err, "%s: must be a positive number, got \"%s\"", flag, value);
  for (int i = digits; i < 9; i++)
    frac *= 10;
  *nano = whole * 1000000000 + frac;
  return 0;
}

/* ---------------- signals ---------------- */

int berth_runopts_parse_signal(const char *flag, const char *value, int *sig, berth_error_t *err)
{
  int n = 0;
  if (berth_parse_int(value, &n) == 0 ? n < 1 || n > SIGRTMAX : (n = berth_signal_by_name(value)) < 0)
    return BERTH_ERR(err, "%s: invalid signal \"%s\"", flag, value);
  *sig = n;
  return 0;
}

/* ---------------- environment ---------------- */

int berth_runopts_parse_env(const char *flag, const char *value, const char *(*lookup)(void *, const char *),
                            void *data, char ***env, berth_error_t *err)
{
  const char *eq = strchr(value, '=');
  if (eq == value || value[0] == '\0')
    return BERTH_ERR(err, "%s: invalid environment variable \"%s\"", flag, value);
  if (eq != NULL) {
    *env = berth_strv_append(*env, value);
    return 0;
  }
  const char *v = lookup ? lookup(data, value) : NULL;
  if (v != NULL && !runopts_utf8_valid(v, strlen(v)))
    return BERTH_ERR(err, "%s: the value of `%s` in this environment is not valid UTF-8", flag, value);
  if (v != NULL) {
    cleanup_free char *kv = xasprintf("%s=%s", value, v);
    *env = berth_strv_append(*env, kv);
  } else {
    *env = berth_strv_append(*env, value); /* "K": removes K from the image's environment (Docker) */
  }
  return 0;
}

bool runopts_utf8_valid(const char *text, size_t n)
{
  /* as strict as jansson: no overlong forms, no surrogates, nothing above U+10FFFF */
  const unsigned char *s = (const unsigned char *) text;
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    size_t len = c < 0x80                 ? 1
                 : c >= 0xc2 && c <= 0xdf ? 2
                 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4
                                          : 0;
    if (len == 0 || i + len > n)
      return false;
    unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c == 0xe0)
      lo = 0xa0;
    else if (c == 0xed)
      hi = 0x9f;
    else if (c == 0xf0)
      lo = 0x90;
    else if (c == 0xf4)
      hi = 0x8f;
    if (len > 1 && (s[i + 1] < lo || s[i + 1] > hi))
      return false;
    for (size_t k = 2; k < len; k++)
      if ((s[i + k] & 0xc0) != 0x80)
        return false;
    i += len;
  }
  return true;
}

static BERTH_WUR int env_file_line(const char *file, size_t lineno, char *line,
                                   const char *(*lookup)(void *, const char *), void *data, char ***env,
                                   berth_error_t *err)
{
  while (isspace((unsigned char) *line))
    line++;
  if (*line == '\0' || *line == '#')
    return 0;
  char *eq = strchr(line, '=');
  if (eq != NULL)
    *eq = '\0';
  for (const char *c = line; *c; c++)
    if (isspace((unsigned char) *c))
      return BERTH_ERR(err, "%s: line %zu: variable `%s` contains whitespaces", file, lineno, line);
  if (*line == '\0')
    return BERTH_ERR(err, "%s: line %zu: no variable name", file, lineno);
  if (eq != NULL) {
    *eq = '=';
    *env = berth_strv_append(*env, line);
    return 0;
  }
  const char *v = lookup ? lookup(data, line) : NULL;
  if (v != NULL && !runopts_utf8_valid(v, strlen(v)))
    return BERTH_ERR(err, "%s: line %zu: the value of `%s` in this environment is not valid UTF-8", file,
                     lineno, line);
  cleanup_free char *kv = v ? xasprintf("%s=%s", line, v) : xstrdup(line);
  *env = berth_strv_append(*env, kv);
  return 0;
}

int berth_runopts_parse_env_file(const char *text, size_t len, const char *file,
                                 const char *(*lookup)(void *, const char *), void *data, char ***env,
                                 berth_error_t *err)
{
  cleanup_strv char **out = NULL;
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
    text += 3;
    len -= 3;
  }
  size_t lineno = 0;
  for (size_t pos = 0; pos < len;) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t end = nl ? (size_t) (nl - text) : len;
    size_t n = end - pos;
    lineno++;
    if (n > 0 && text[pos + n - 1] == '\r')
      n--;
    if (memchr(text + pos, '\0', n) != NULL || !runopts_utf8_valid(text + pos, n))
      return BERTH_ERR(err, "%s: line %zu: invalid UTF-8 or a NUL byte", file, lineno);
    cleanup_free char *line = xstrndup(text + pos, n);
    if (env_file_line(file, lineno, line, lookup, data, &out, err) < 0)
      return -1;
    pos = end + 1;
  }
  for (char **p = out; p && *p; p++)
    *env = berth_strv_append(*env, *p);
  return 0;
}

/* ---------------- ulimits ---------------- */

static const struct {
  const char *name;
  int resource;
} ulimits[] = {
  { "core", RLIMIT_CORE },         { "cpu", RLIMIT_CPU },
  { "data", RLIMIT_DATA },         { "fsize", RLIMIT_FSIZE },
  { "locks", RLIMIT_LOCKS },       { "memlock", RLIMIT_MEMLOCK },
  { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
  { "nofile", RLIMIT_NOFILE },     { "nproc", RLIMIT_NPROC },
  { "rss", RLIMIT_RSS },           { "rtprio", RLIMIT_RTPRIO },
  { "rttime", RLIMIT_RTTIME },     { "sigpending", RLIMIT_SIGPENDING },
  { "stack", RLIMIT_STACK },
};

static BERTH_WUR int ulimit_value(const char *flag, const char *s, int64_t *v, berth_error_t *err)
{
  if (berth_parse_i64(s, v) < 0 || *v < -1)
    return BERTH_ERR(err, "%s: invalid limit \"%s\"", flag, s);
  return 0;
}

int berth_runopts_parse_ulimit(const char *flag, const char *value, struct berth_run_ulimit *out,
                               berth_error_t *err)
{
  const char *eq = strchr(value, '=');
  if (eq == NULL)
    return BERTH_ERR(err, "%s: invalid ulimit argument \"%s\" (name=soft[:hard])", flag, value);
  cleanup_free char *name = xstrndup(value, (size_t) (eq - value));
  size_t i = 0;
  while (i < BERTH_N_ELEMENTS(ulimits) && strcmp(ulimits[i].name, name) != 0)
    i++;
  if (i == BERTH_N_ELEMENTS(ulimits))
    return BERTH_ERR(err, "%s: invalid ulimit type \"%s\"", flag, name);
  cleanup_free char *soft = xstrdup(eq + 1);
  char *colon = strchr(soft, ':');
  if (colon != NULL)
    *colon = '\0';
  int64_t s = 0, h = 0;
  if (ulimit_value(flag, soft, &s, err) < 0 || (colon && ulimit_value(flag, colon + 1, &h, err) < 0))
    return -1;
  if (colon == NULL)
    h = s;
  if (h != -1 && (s == -1 || s > h))
    return BERTH_ERR(err, "%s: ulimit soft limit must be less than or equal to hard limit: \"%s\"", flag,
                     value);
  *out = (struct berth_run_ulimit){
    .resource = ulimits[i].resource, .name = ulimits[i].name, .soft = s, .hard = h
  };
  return 0;
}

/* ---------------- devices ---------------- */

static bool device_perms(const char *s, char out[4])
{
  bool r = false, w = false, m = false;
  if (*s == '\0' || strlen(s) > 3)
    return false;
  for (; *s; s++) {
    bool *b = *s == 'r' ? &r : *s == 'w' ? &w : *s == 'm' ? &m : NULL;
    if (b == NULL || *b)
      return false;
    *b = true;
  }
  size_t k = 0;
  if (r)
    out[k++] = 'r';
  if (w)
    out[k++] = 'w';
  if (m)
    out[k++] = 'm';
  out[k] = '\0';
  return true;
}

int berth_runopts_parse_device(const char *flag, const char *value, struct berth_run_device *out,
                               berth_error_t *err)
{
  cleanup_free char *copy = xstrdup(value);
  char *parts[4] = { NULL };
  size_t n = 0;
  for (char *save = NULL, *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
    if (n == 3)
      return BERTH_ERR(err, "%s: invalid device specification \"%s\"", flag, value);
    parts[n++] = tok;
  }
  char perms[4] = "rwm";
  const char *src = parts[0], *dst = NULL;
  if (n == 2 && !device_perms(parts[1], perms))
    dst = parts[1];
  if (n == 3 && !device_perms(parts[2], perms))
    return BERTH_ERR(err, "%s: invalid device mode \"%s\" in \"%s\"", flag, parts[2], value);
  if (n == 3)
    dst = parts[1];
  if (n == 0 || src[0] != '/')
    return BERTH_ERR(err, "%s: device \"%s\": the host path must be absolute", flag, value);
  if (dst != NULL && dst[0] != '/')
    return BERTH_ERR(err, "%s: device \"%s\": the container path must be absolute", flag, value);
  out->host_path = berth_runopts_clean_path(src);
  out->container_path = berth_runopts_clean_path(dst ? dst : src);
  memcpy(out->perms, perms, sizeof perms);
  return 0;
}

/* ---------------- restart policy ---------------- */

int berth_runopts_parse_restart(const char *flag, const char *value, enum berth_restart_policy *policy,
                                int *max_retries, berth_error_t *err)
{
  cleanup_free char *name = xstrdup(value);
  char *colon = strchr(name, ':');
  if (colon != NULL)
    *colon++ = '\0';
  int n = 0;
  enum berth_restart_policy p;
  if (strcmp(name, "") == 0 || strcmp(name, "no") == 0)
    p = BERTH_RESTART_NO;
  else if (strcmp(name, "always") == 0)
    p = BERTH_RESTART_ALWAYS;
  else if (strcmp(name, "unless-stopped") == 0)
    p = BERTH_RESTART_UNLESS_STOPPED;
  else if (strcmp(name, "on-failure") == 0)
    p = BERTH_RESTART_ON_FAILURE;
  else
    return BERTH_ERR(err, "%s: invalid restart policy \"%s\" (no, always, unless-stopped, on-failure[:N])",
                     flag, value);
  if (colon != NULL && p != BERTH_RESTART_ON_FAILURE)
    return BERTH_ERR(err, "%s: maximum retry count cannot be used with restart policy \"%s\"", flag, name);
  if (colon != NULL && (berth_parse_int(colon, &n) < 0 || n < 0))
    return BERTH_ERR(err, "%s: maximum retry count must be a non-negative integer, got \"%s\"", flag, colon);
  *policy = p;
  *max_retries = n;
  return 0;
}

/* ---------------- namespace modes ---------------- */

static BERTH_WUR int ns_container(const char *flag, const char *value, struct berth_ns_opt *out,
                                  berth_error_t *err)
{
  const char *name = value + strlen("container:");
  if (*name == '\0')
    return BERTH_ERR(err, "%s: \"%s\": a container name or id is required", flag, value);
  out->mode = BERTH_NSMODE_CONTAINER;
  out->value = xstrdup(name);
  return 0;
}

static BERTH_WUR int ns_network(const char *flag, const char *v, struct berth_ns_opt *out, berth_error_t *err)
{
  if (strcmp(v, "none") == 0)
    out->mode = BERTH_NSMODE_NONE;
  else if (strcmp(v, "host") == 0)
    out->mode = BERTH_NSMODE_HOST;
  else if (strcmp(v, "bridge") == 0 || strcmp(v, "default") == 0)
    out->mode = BERTH_NSMODE_BRIDGE;
  else if (berth_runopts_network_name_valid(v)) {
    out->mode = BERTH_NSMODE_BRIDGE; /* a berth network by name (checked to exist at create) */
    out->value = xstrdup(v);
  } else if (berth_str_has_prefix(v, "container:"))
    return ns_container(flag, v, out, err);
  else if (berth_str_has_prefix(v, "ns:") && v[3] == '/') {
    out->mode = BERTH_NSMODE_PATH;
    out->value = berth_runopts_clean_path(v + 3);
  } else
    return BERTH_ERR(err,
                     "%s: unknown network mode \"%s\" (none, host, bridge, container:<name>, ns:<path>, or a "
                     "network's name)",
                     flag, v);
  return 0;
}

int berth_runopts_parse_ns(const char *flag, const char *value, struct berth_ns_opt *out, berth_error_t *err)
{
  const struct berth_runopts_flag *f = berth_runopts_flag_find(flag);
  const char *name = f ? f->name : flag;
  *out = (struct berth_ns_opt){ BERTH_NSMODE_DEFAULT, NULL };
  if (strcmp(name, "--network") == 0)
    return ns_network(flag, value, out, err);
  bool is_pid = strcmp(name, "--pid") == 0, is_ipc = strcmp(name, "--ipc") == 0;
  bool is_uts = strcmp(name, "--uts") == 0, is_cg = strcmp(name, "--cgroupns") == 0;
  if (value[0] == '\0' && !is_cg)
    return 0;
  if (strcmp(value, "host") == 0)
    out->mode = BERTH_NSMODE_HOST;
  else if (strcmp(value, "private") == 0)
    out->mode = BERTH_NSMODE_PRIVATE;
  else if (is_ipc && strcmp(value, "shareable") == 0)
    out->mode = BERTH_NSMODE_SHAREABLE;
  else if (is_ipc && strcmp(value, "none") == 0)
    out->mode = BERTH_NSMODE_NONE;
  else if ((is_pid || is_ipc) && berth_str_has_prefix(value, "container:"))
    return ns_container(flag, value, out, err);
  else if (is_pid || is_ipc || is_uts || is_cg)
    return BERTH_ERR(err, "%s: invalid mode \"%s\" (%s)", flag, value,
                     is_pid   ? "host, container:<name>"
                     : is_ipc ? "none, private, shareable, host, container:<name>"
                     : is_uts ? "host"
                              : "host, private");
  else
    return BERTH_ERR(err, "%s: not a namespace flag", flag);
  return 0;
}

/* ---------------- paths ---------------- */

char *berth_runopts_clean_path(const char *path)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  const char *p = path;
  while (*p) {
    while (*p == '/')
      p++;
    const char *end = strchrnul(p, '/');
    size_t n = (size_t) (end - p);
    if (n == 0 || (n == 1 && p[0] == '.')) {
      /* nothing */
    } else if (n == 2 && p[0] == '.' && p[1] == '.') {
      while (b.len > 0 && b.buf[b.len - 1] != '/')
        b.len--;
      if (b.len > 0) { /* above the root stays at the root */
        b.len--;
        b.buf[b.len] = '\0';
      }
    } else {
      berth_strbuf_putc(&b, '/');
      berth_strbuf_append(&b, p, n);
    }
    p = end;
  }
  if (b.len == 0)
    berth_strbuf_putc(&b, '/');
  return berth_strbuf_detach(&b);
}
