/* The registries configuration (aliases, mirrors, insecure registries) and what it does to
 * references. Parsing and normalising are pure; berth_registry_conf_load reads the file. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "json/json.h"
#include "registry/registry.h"

#define DEFAULT_CONF "/etc/berth/registries.json"

static void add_mirrors(struct berth_registry_conf *c, const char *registry, const char **v, size_t n)
{
  c->mirrors = xreallocarray(c->mirrors, c->n_mirrors + 1, sizeof *c->mirrors);
  struct berth_registry_mirror_set *m = &c->mirrors[c->n_mirrors++];
  m->registry = xstrdup(registry);
  m->mirrors = xcalloc(n + 1, sizeof(char *));
  for (size_t i = 0; i < n; i++)
    m->mirrors[i] = xstrdup(v[i]);
}

static BERTH_WUR int parse_mirror_map(struct berth_jctx *jc, json_t *root, struct berth_registry_conf *c,
                                      berth_error_t *err)
{
  json_t *map = NULL;
  int r = berth_json_get_object(jc, root, "mirrors", &map, err);
  if (r <= 0)
    return r;
  size_t mark = berth_jctx_push_key(jc, "mirrors");
  const char *key;
  json_t *val;
  json_object_foreach (map, key, val) {
    cleanup_free const char **v = NULL;
    size_t n = 0;
    if (berth_json_get_strv(jc, map, key, &v, &n, err) < 0)
      return -1;
    add_mirrors(c, key, v, n);
  }
  berth_jctx_pop(jc, mark);
  return 0;
}

static BERTH_WUR int parse_doc(struct berth_jctx *jc, json_t *root, struct berth_registry_conf *c,
                               berth_error_t *err)
{
  if (!json_is_object(root))
    return berth_jctx_error(jc, NULL, err, "expected an object, got %s", berth_json_type_name(root));
  cleanup_free const char **keys = NULL, **vals = NULL, **mir = NULL, **ins = NULL;
  size_t n = 0, nm = 0, ni = 0;
  if (berth_json_get_string_map(jc, root, "aliases", &keys, &vals, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    struct berth_ref probe;
    berth_error_t perr = NULL;
    if (berth_ref_parse(vals[i], &probe, &perr) < 0) {
      berth_jctx_push_key(jc, "aliases");
      int r = berth_jctx_error(jc, keys[i], err, "%s", perr->msg);
      berth_error_release(&perr);
      return r;
    }
    berth_ref_release(&probe);
    berth_strmap_set(&c->aliases, keys[i], vals[i]);
  }
  if (berth_json_get_strv(jc, root, "registry-mirrors", &mir, &nm, err) < 0)
    return -1;
  if (nm > 0)
    add_mirrors(c, "docker.io", mir, nm);
  if (parse_mirror_map(jc, root, c, err) < 0)
    return -1;
  if (berth_json_get_strv(jc, root, "insecure-registries", &ins, &ni, err) < 0)
    return -1;
  c->insecure = xcalloc(ni + 1, sizeof(char *));
  for (size_t i = 0; i < ni; i++)
    c->insecure[i] = xstrdup(ins[i]);
  cleanup_free const char **blk = NULL;
  size_t nb = 0;
  if (berth_json_get_strv(jc, root, "blocked-registries", &blk, &nb, err) < 0)
    return -1;
  c->blocked = xcalloc(nb + 1, sizeof(char *));
  for (size_t i = 0; i < nb; i++)
    c->blocked[i] = xstrdup(blk[i]);
  return 0;
}

int berth_registry_conf_parse(const char *data, size_t len, const char *name, struct berth_registry_conf *out,
                              berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  json_t *root = berth_json_parse(data, len, name, err);
  if (root == NULL)
    return -1;
  struct berth_jctx jc;
  berth_jctx_init(&jc, name);
  int r = parse_doc(&jc, root, out, err);
  json_decref(root);
  if (r < 0)
    berth_registry_conf_release(out);
  return r < 0 ? -1 : 0;
}

int berth_registry_conf_load(const char *path, struct berth_registry_conf *out, berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  if (path == NULL)
    path = getenv("BERTH_REGISTRIES_CONF");
  if (path == NULL || path[0] == '\0')
    path = DEFAULT_CONF;
  cleanup_free char *data = NULL;
  size_t len = 0;
  berth_error_t rerr = NULL;
  if (berth_read_file(path, 1 << 20, &data, &len, &rerr) < 0) {
    if (rerr->errnum == ENOENT) {
      berth_error_release(&rerr);
      return 0;
    }
    *err = steal_ptr(rerr);
    return -1;
  }
  return berth_registry_conf_parse(data, len, path, out, err);
}

void berth_registry_conf_release(struct berth_registry_conf *c)
{
  berth_strmap_release(&c->aliases);
  for (size_t i = 0; i < c->n_mirrors; i++) {
    free(c->mirrors[i].registry);
    berth_strv_free(c->mirrors[i].mirrors);
  }
  free(c->mirrors);
  berth_strv_free(c->insecure);
  berth_strv_free(c->blocked);
  memset(c, 0, sizeof *c);
}

/* does the user's input name a registry in its first component (Docker's rule)? */
static bool names_registry(const char *input)
{
  const char *slash = strchr(input, '/');
  if (slash == NULL)
    return false;
  size_t n = (size_t) (slash - input);
  return memchr(input, '.', n) != NULL || memchr(input, ':', n) != NULL ||
         (n == 9 && strncmp(input, "localhost", 9) == 0);
}

/* the alias of a short name, applied: "alpine:3" -> "docker.io/library/alpine:3" (malloc'd) or NULL */
static char *apply_alias(const struct berth_registry_conf *c, const char *input)
{
  if (c == NULL || c->aliases.n == 0 || names_registry(input))
    return NULL;
  size_t n = strcspn(input, ":@");
  cleanup_free char *name = xstrndup(input, n);
  const char *full = berth_strmap_get(&c->aliases, name);
  if (full == NULL)
    return NULL;
  return xasprintf("%s%s", full, input + n);
}

int berth_registry_normalize(const struct berth_registry_conf *c, const char *input, struct berth_ref *out,
                             berth_error_t *err)
{
  cleanup_free char *aliased = apply_alias(c, input);
  if (aliased == NULL)
    return berth_ref_parse(input, out, err);
  if (berth_ref_parse(aliased, out, err) < 0)
    return berth_error_wrap(err, "alias `%.*s`", (int) strcspn(input, ":@"), input);
  return 0;
}

char *berth_registry_wire_host(const char *registry)
{
  if (strcmp(registry, "docker.io") == 0 || strcmp(registry, "index.docker.io") == 0)
    return xstrdup("registry-1.docker.io");
  return xstrdup(registry);
}

/* the host of "host[:port]" / "[v6]:port" (malloc'd) */
static char *host_of(const char *registry)
{
  if (registry[0] == '[') {
    const char *end = strchr(registry, ']');
    return end ? xstrndup(registry + 1, (size_t) (end - registry - 1)) : xstrdup(registry);
  }
  return xstrndup(registry, strcspn(registry, ":"));
}

static bool on_loopback(const char *registry)
{
  cleanup_free char *host = host_of(registry);
  if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
    return true;
  struct in_addr a;
  return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

bool berth_registry_is_insecure(const struct berth_registry_conf *c, const char *registry)
{
  for (char **p = c ? c->insecure : NULL; p && *p; p++)
    if (strcmp(*p, registry) == 0)
      return true;
  return on_loopback(registry);
}

bool berth_registry_is_blocked(const struct berth_registry_conf *c, const char *registry)
{
  cleanup_free char *wire = berth_registry_wire_host(registry);
  for (char **p = c ? c->blocked : NULL; p && *p; p++) {
    if (strcmp(*p, "*") == 0 && !on_loopback(registry))
      return true;
    cleanup_free char *pw = berth_registry_wire_host(*p);
    if (strcmp(*p, registry) == 0 || strcmp(pw, wire) == 0)
      return true;
  }
  return false;
}

bool berth_registry_auth_key_matches(const char *key, const char *registry)
{
  const char *k = key;
  if (berth_str_has_prefix(k, "https://"))
    k += 8;
  else if (berth_str_has_prefix(k, "http://"))
    k += 7;
  size_t n = strcspn(k, "/");
  if (strlen(registry) == n && strncmp(k, registry, n) == 0)
    return true;
  if (strcmp(registry, "docker.io") == 0)
    return (n == 15 && strncmp(k, "index.docker.io", n) == 0) ||
           (n == 20 && strncmp(k, "registry-1.docker.io", n) == 0);
  return false;
}

char *const *berth_registry_mirrors(const struct berth_registry_conf *c, const char *registry)
{
  for (size_t i = 0; c != NULL && i < c->n_mirrors; i++)
    if (strcmp(c->mirrors[i].registry, registry) == 0)
      return c->mirrors[i].mirrors;
  return NULL;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *berth_base64_encode(const void *data, size_t len)
{
  const unsigned char *p = data;
  char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v =
      (uint32_t) p[i] << 16 | (i + 1 < len ? (uint32_t) p[i + 1] << 8 : 0) | (i + 2 < len ? p[i + 2] : 0);
    *o++ = b64[v >> 18 & 63];
    *o++ = b64[v >> 12 & 63];
    *o++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
    *o++ = i + 2 < len ? b64[v & 63] : '=';
  }
  *o = '\0';
  return out;
}

void *berth_base64_decode(const char *s, size_t *len)
{
  size_t n = strlen(s);
  if (n % 4 != 0)
    return NULL;
  unsigned char *out = xmalloc(n / 4 * 3 + 1);
  size_t o = 0;
  for (size_t i = 0; i < n; i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (int k = 0; k < 4; k++) {
      const char *c = s[i + k] ? strchr(b64, s[i + k]) : NULL;
      if (s[i + k] == '=' && i + 4 == n && k >= 2) {
        pad++;
        v <<= 6;
        continue;
      }
      if (c == NULL || pad > 0) {
        free(out);
        return NULL;
      }
      v = v << 6 | (uint32_t) (c - b64);
    }
    out[o++] = (unsigned char) (v >> 16);
    if (pad < 2)
      out[o++] = (unsigned char) (v >> 8);
    if (pad < 1)
      out[o++] = (unsigned char) v;
  }
  out[o] = '\0';
  *len = o;
  return out;
}
