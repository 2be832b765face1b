/* Small pure translations between Docker's wire formats and berth's: query booleans, filters,
 * the stream multiplexing header, progress lines, X-Registry-Auth, and docker cp's path stat
 * (X-Docker-Container-Path-Stat) from the first entry of the tar stream the copy engine writes
 * (ustar, with pax 'x' and GNU long-name 'L', 'K' entries before it). Fuzzed with the router. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"

bool berth_api_query_bool(const char *v, bool dflt)
{
  if (v == NULL)
    return dflt;
  if (v[0] == '\0') /* "?stream" alone: Go's strconv.ParseBool("") fails; Docker reads it as false */
    return false;
  return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "t") == 0 || strcmp(v, "T") == 0;
}

static BERTH_WUR int add_value(const char *key, json_t *v, char ***out, berth_error_t *err)
{
  if (!json_is_string(v))
    return BERTH_ERR(err, "invalid filter `%s`: values must be strings", key);
  cleanup_free char *kv = xasprintf("%s=%s", key, json_string_value(v));
  *out = berth_strv_append(*out, kv);
  return 0;
}

int berth_api_filters_parse(const char *text, char ***out, berth_error_t *err)
{
  *out = xcalloc(1, sizeof **out);
  if (text == NULL || text[0] == '\0')
    return 0;
  json_error_t je;
  json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_object(root)) {
    json_decref(root);
    berth_strv_free(steal_ptr(*out));
    return BERTH_ERR(err, "invalid filter: %s", root ? "not a JSON object" : je.text);
  }
  const char *key;
  json_t *vals;
  int r = 0;
  json_object_foreach (root, key, vals) {
    if (r < 0) /* the first bad filter is the error */
      break;
    if (json_is_array(vals)) {
      size_t i;
      json_t *v;
      json_array_foreach (vals, i, v)
        if (r == 0)
          r = add_value(key, v, out, err);
    } else if (json_is_object(vals)) { /* {"status": {"running": true}} (API < 1.22, still sent) */
      const char *k2;
      json_t *on;
      json_object_foreach (vals, k2, on)
        if (r == 0 && json_is_true(on)) {
          json_t *s = json_string(k2);
          r = add_value(key, s, out, err);
          json_decref(s);
        }
    } else {
      r = BERTH_ERR(err, "invalid filter `%s`: expected a list of values", key);
    }
  }
  json_decref(root);
  if (r < 0)
    berth_strv_free(steal_ptr(*out));
  return r;
}

const char **berth_api_filters_get(char *const *filters, const char *key)
{
  size_t n = 0, klen = strlen(key);
  const char **v = xcalloc(berth_strv_len(filters) + 1, sizeof *v);
  for (size_t i = 0; filters && filters[i]; i++)
    if (strncmp(filters[i], key, klen) == 0 && filters[i][klen] == '=')
      v[n++] = filters[i] + klen + 1;
  return v;
}

void berth_api_mux_header(unsigned char out[8], int stream, uint32_t len)
{
  out[0] = (unsigned char) stream;
  out[1] = out[2] = out[3] = 0;
  out[4] = (unsigned char) (len >> 24);
  out[5] = (unsigned char) (len >> 16);
  out[6] = (unsigned char) (len >> 8);
  out[7] = (unsigned char) len;
}

/* berth's plain progress lines: "<id>: <status>" for a layer or a tag ("latest: Pulling from
 * library/busybox"), else a status of its own ("Digest: sha256:...", "Status: ...") */
char *berth_api_progress_json(const char *line, size_t len)
{
  cleanup_free char *s = xstrndup(line, len);
  for (char *p = s; *p; p++)
    if ((unsigned char) *p < 0x20)
      *p = ' ';
  char *colon = strstr(s, ": ");
  json_t *o = NULL;
  static const char *const whole[] = { "Digest", "Status", "Error", "Warning", "Trying to pull", "Copying" };
  bool keep = colon == NULL || colon == s || strchr(s, ' ') < colon;
  for (size_t i = 0; !keep && i < BERTH_N_ELEMENTS(whole); i++)
    keep = strncmp(s, whole[i], strlen(whole[i])) == 0;
  if (keep) {
    o = json_pack("{s:s}", "status", s);
  } else {
    *colon = '\0';
    o = json_pack("{s:s, s:{}, s:s}", "status", colon + 2, "progressDetail", "id", s);
  }
  if (o == NULL) /* not UTF-8 */
    o = json_pack("{s:s}", "status", "?");
  char *text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  cleanup_free char *t = text;
  return xasprintf("%s\n", t);
}

static int b64_value(int c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+' || c == '-')
    return 62;
  if (c == '/' || c == '_')
    return 63;
  return -1;
}

/* base64, standard or URL alphabet, padding optional; NULL when malformed */
static char *base64_decode(const char *in, size_t *len)
{
  size_t n = strlen(in);
  char *out = xmalloc(n / 4 * 3 + 4);
  size_t o = 0;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    if (in[i] == '=')
      break;
    int v = b64_value((unsigned char) in[i]);
    if (v < 0) {
      free(out);
      return NULL;
    }
    acc = (acc << 6) | (unsigned) v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (char) ((acc >> bits) & 0xff);
    }
  }
  out[o] = '\0';
  *len = o;
  return out;
}

static char *base64_encode(const void *data, size_t len)
{
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *p = data;
  char *out = xmalloc((len + 2) / 3 * 4 + 1);
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3) {
    unsigned v =
      (unsigned) p[i] << 16 | (i + 1 < len ? (unsigned) p[i + 1] << 8 : 0) | (i + 2 < len ? p[i + 2] : 0);
    out[o++] = tab[(v >> 18) & 63];
    out[o++] = tab[(v >> 12) & 63];
    out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < len ? tab[v & 63] : '=';
  }
  out[o] = '\0';
  return out;
}

int berth_api_registry_auth(const char *header, char **username, char **password, berth_error_t *err)
{
  *username = *password = NULL;
  if (header == NULL || header[0] == '\0')
    return 0;
  size_t len = 0;
  cleanup_free char *text = base64_decode(header, &len);
  if (text == NULL)
    return BERTH_ERR(err, "X-Registry-Auth: not base64");
  json_t *o = json_loadb(text, len, 0, NULL);
  if (!json_is_object(o)) {
    json_decref(o);
    return BERTH_ERR(err, "X-Registry-Auth: not a JSON object");
  }
  const char *u = json_string_value(json_object_get(o, "username"));
  const char *p = json_string_value(json_object_get(o, "password"));
  const char *tok = json_string_value(json_object_get(o, "identitytoken"));
  if (tok && tok[0]) {
    *username = xstrdup(u && u[0] ? u : "<token>");
    *password = xstrdup(tok);
  } else if (u && u[0]) {
    *username = xstrdup(u);
    *password = xstrdup(p ? p : "");
  }
  json_decref(o);
  return *username ? 1 : 0;
}

/* ---- the path stat of docker cp ---- */
#define BLOCK 512

/* Go's os.FileMode bits */
#define GO_DIR     (1u << 31)
#define GO_SYMLINK (1u << 27)
#define GO_DEVICE  (1u << 26)
#define GO_PIPE    (1u << 25)
#define GO_SETUID  (1u << 23)
#define GO_SETGID  (1u << 22)
#define GO_CHAR    (1u << 21)
#define GO_STICKY  (1u << 20)

/* an octal field (or base-256 when its first byte has the high bit); -1 when malformed */
static int64_t number(const unsigned char *f, size_t len)
{
  if (f[0] & 0x80) {
    uint64_t v = f[0] & 0x3f;
    for (size_t i = 1; i < len; i++) {
      if (v >> 55)
        return -1;
      v = v << 8 | f[i];
    }
    return (int64_t) v;
  }
  int64_t v = 0;
  size_t i = 0;
  while (i < len && f[i] == ' ')
    i++;
  for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
    if (v > (INT64_MAX >> 3))
      return -1;
    v = v * 8 + (f[i] - '0');
  }
  return v;
}

static bool checksum_ok(const unsigned char *h)
{
  int64_t want = number(h + 148, 8);
  uint64_t sum = 0;
  for (size_t i = 0; i < BLOCK; i++)
    sum += (i >= 148 && i < 156) ? ' ' : h[i];
  return want >= 0 && (uint64_t) want == sum;
}

static void set_str(char *dst, size_t cap, const char *src, size_t len)
{
  if (len >= cap)
    len = cap - 1;
  memcpy(dst, src, len);
  dst[len] = '\0';
}

/* pax records "<len> key=value\n" */
static void pax(const unsigned char *d, size_t len, struct berth_api_path_stat *st, bool *has_path,
                bool *has_link)
{
  size_t i = 0;
  while (i < len) {
    size_t rl = 0, j = i;
    while (j < len && d[j] >= '0' && d[j] <= '9' && rl < len)
      rl = rl * 10 + (d[j++] - '0');
    if (rl == 0 || j >= len || d[j] != ' ' || rl > len - i)
      return;
    const char *kv = (const char *) d + j + 1;
    size_t kvlen = i + rl - (j + 1);
    if (kvlen == 0 || kv[kvlen - 1] != '\n')
      return;
    kvlen--;
    const char *eq = memchr(kv, '=', kvlen);
    if (eq) {
      size_t kl = (size_t) (eq - kv), vl = kvlen - kl - 1;
      if (kl == 4 && memcmp(kv, "path", 4) == 0) {
        set_str(st->name, sizeof st->name, eq + 1, vl);
        *has_path = true;
      } else if (kl == 8 && memcmp(kv, "linkpath", 8) == 0) {
        set_str(st->link, sizeof st->link, eq + 1, vl);
        *has_link = true;
      }
    }
    i += rl;
  }
}

static uint32_t go_mode(char type, int64_t mode)
{
  uint32_t m = (uint32_t) (mode & 0777);
  if (mode & 04000)
    m |= GO_SETUID;
  if (mode & 02000)
    m |= GO_SETGID;
  if (mode & 01000)
    m |= GO_STICKY;
  switch (type) {
  case '5': m |= GO_DIR; break;
  case '2': m |= GO_SYMLINK; break;
  case '3': m |= GO_DEVICE | GO_CHAR; break;
  case '4': m |= GO_DEVICE; break;
  case '6': m |= GO_PIPE; break;
  default: break;
  }
  return m;
}

/* the last component of a tar name ("a/b/" -> "b"; "" and "/" stay "/") */
static void base_name(char *name)
{
  size_t n = strlen(name);
  while (n > 1 && name[n - 1] == '/')
    name[--n] = '\0';
  char *slash = strrchr(name, '/');
  if (slash && slash[1])
    memmove(name, slash + 1, strlen(slash + 1) + 1);
  if (name[0] == '\0' || strcmp(name, ".") == 0)
    memcpy(name, "/", 2);
}

int berth_api_tar_stat(const unsigned char *data, size_t len, struct berth_api_path_stat *st)
{
  memset(st, 0, sizeof *st);
  bool has_path = false, has_link = false;
  size_t off = 0;
  for (int guard = 0; guard < 8; guard++) {
    if (len - off < BLOCK)
      return 0;
    const unsigned char *h = data + off;
    if (h[0] == '\0' && h[1] == '\0')
      return -1; /* the end of an empty archive */
    if (!checksum_ok(h))
      return -1;
    char type = (char) h[156];
    int64_t size = number(h + 124, 12);
    if (size < 0)
      return -1;
    size_t body = (size_t) ((size + BLOCK - 1) / BLOCK * BLOCK);
    if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
      if ((uint64_t) size > 1u << 20)
        return -1;
      if (len - off - BLOCK < body)
        return 0;
      const unsigned char *d = h + BLOCK;
      if (type == 'x')
        pax(d, (size_t) size, st, &has_path, &has_link);
      else if (type == 'L' && !has_path)
        set_str(st->name, sizeof st->name, (const char *) d, strnlen((const char *) d, (size_t) size)),
          has_path = true;
      else if (type == 'K' && !has_link)
        set_str(st->link, sizeof st->link, (const char *) d, strnlen((const char *) d, (size_t) size)),
          has_link = true;
      off += BLOCK + body;
      continue;
    }
    if (!has_path) {
      char full[256 + 2];
      size_t pl = strnlen((const char *) h + 345, 155), nl = strnlen((const char *) h, 100);
      bool ustar = memcmp(h + 257, "ustar", 5) == 0;
      if (ustar && pl > 0)
        snprintf(full, sizeof full, "%.*s/%.*s", (int) pl, (const char *) h + 345, (int) nl,
                 (const char *) h);
      else
        snprintf(full, sizeof full, "%.*s", (int) nl, (const char *) h);
      set_str(st->name, sizeof st->name, full, strlen(full));
    }
    if (!has_link)
      set_str(st->link, sizeof st->link, (const char *) h + 157, strnlen((const char *) h + 157, 100));
    base_name(st->name);
    int64_t mode = number(h + 100, 8);
    st->mode = go_mode(type, mode < 0 ? 0 : mode);
    st->size = type == '0' || type == '\0' || type == '7' ? size : type == '5' ? 4096 : 0;
    st->mtime = number(h + 136, 12);
    if (type != '2')
      st->link[0] = '\0';
    return 1;
  }
  return -1;
}

char *berth_api_path_stat_header(const struct berth_api_path_stat *st)
{
  char when[64] = "1970-01-01T00:00:00Z";
  time_t t = (time_t) st->mtime;
  struct tm tm;
  if (gmtime_r(&t, &tm))
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  json_t *o = json_pack("{s:s?, s:I, s:I, s:s, s:s?}", "name", st->name, "size", (json_int_t) st->size,
                        "mode", (json_int_t) st->mode, "mtime", when, "linkTarget", st->link);
  if (o == NULL) /* a name that is not UTF-8 */
    o = json_pack("{s:s, s:I, s:I, s:s, s:s}", "name", "?", "size", (json_int_t) st->size, "mode",
                  (json_int_t) st->mode, "mtime", when, "linkTarget", "");
  cleanup_free char *text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return base64_encode(text, strlen(text));
}
