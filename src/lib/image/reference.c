/* Docker's reference grammar (github.com/distribution/reference):
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain '/'] path-component ['/' path-component]*
 *   domain     := host [':' port]; host := domain-name | '[' IPv6 ']'
 *   path-component := [a-z0-9]+ (separator [a-z0-9]+)*; separator := [._] | "__" | [-]+
 *   tag        := [\w][\w.-]{0,127}
 * and its normalization (ParseNormalizedNamed): a first component is a registry when it
 * contains '.' or ':', is "localhost", or has upper case; otherwise the registry is
 * docker.io; "index.docker.io" is docker.io; single-component names on docker.io live in
 * "library/". The repository path is at most 255 characters. Only sha256 digests are
 * accepted (the only algorithm the store keeps). */
#include "image/reference.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "image/digest.h"

#define DEFAULT_DOMAIN  "docker.io"
#define LEGACY_DOMAIN   "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define PATH_MAX_LEN    255
#define TAG_MAX_LEN     128

static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

static bool is_word(char c) { return isalnum((unsigned char) c) || c == '_'; }

/* path-component, exactly [a-z0-9]+ (separator [a-z0-9]+)* over s[0..n) */
static bool valid_path_component(const char *s, size_t n)
{
  size_t i = 0;
  for (;;) {
    size_t start = i;
    while (i < n && is_lower_alnum(s[i]))
      i++;
    if (i == start)
      return false;
    if (i == n)
      return true;
    if (s[i] == '.')
      i++;
    else if (s[i] == '_')
      i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
    else if (s[i] == '-')
      while (i < n && s[i] == '-')
        i++;
    else
      return false;
  }
}

static bool valid_path(const char *s)
{
  if (*s == '\0')
    return false;
  for (;;) {
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t) (slash - s) : strlen(s);
    if (!valid_path_component(s, n))
      return false;
    if (slash == NULL)
      return true;
    s = slash + 1;
  }
}

/* domain-component: [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool valid_domain_name(const char *s, size_t n)
{
  size_t i = 0;
  for (;;) {
    size_t start = i;
    while (i < n && (isalnum((unsigned char) s[i]) || s[i] == '-'))
      i++;
    if (i == start || s[start] == '-' || s[i - 1] == '-')
      return false;
    if (i == n)
      return true;
    if (s[i] != '.')
      return false;
    i++;
  }
}

static bool valid_port(const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

static bool valid_domain(const char *d)
{
  if (d[0] == '[') {
    const char *close = strchr(d, ']');
    if (close == NULL || close == d + 1)
      return false;
    for (const char *p = d + 1; p < close; p++)
      if (!isxdigit((unsigned char) *p) && *p != ':')
        return false;
    return close[1] == '\0' || (close[1] == ':' && valid_port(close + 2));
  }
  const char *colon = strchr(d, ':');
  size_t n = colon ? (size_t) (colon - d) : strlen(d);
  return valid_domain_name(d, n) && (colon == NULL || valid_port(colon + 1));
}

static bool valid_tag(const char *t)
{
  size_t n = strlen(t);
  if (n == 0 || n > TAG_MAX_LEN || t[0] == '.' || t[0] == '-')
    return false;
  for (size_t i = 0; i < n; i++)
    if (!is_word(t[i]) && t[i] != '.' && t[i] != '-')
      return false;
  return true;
}

/* digest-algorithm ":" [[:xdigit:]]{32,} — the shape Docker's grammar accepts */
static bool digest_shaped(const char *d)
{
  const char *colon = strchr(d, ':');
  if (colon == NULL || colon == d || !isalpha((unsigned char) d[0]))
    return false;
  for (const char *p = d; p < colon; p++) {
    bool sep = *p == '-' || *p == '_' || *p == '+' || *p == '.';
    if (!isalnum((unsigned char) *p) && !sep)
      return false;
    if (sep && (p + 1 == colon || !isalpha((unsigned char) p[1])))
      return false;
  }
  size_t n = strlen(colon + 1);
  if (n < 32)
    return false;
  for (const char *p = colon + 1; *p; p++)
    if (!isxdigit((unsigned char) *p))
      return false;
  return true;
}

static bool is_identifier(const char *s)
{
  if (strlen(s) != 64)
    return false;
  for (; *s; s++)
    if ((*s < '0' || *s > '9') && (*s < 'a' || *s > 'f'))
      return false;
  return true;
}

static bool has_upper(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] >= 'A' && s[i] <= 'Z')
      return true;
  return false;
}

/* splitDockerDomain: *domain and *rest are malloc'd */
static void split_domain(const char *s, char **domain, char **rest)
{
  const char *slash = strchr(s, '/');
  if (slash == NULL) {
    *domain = xstrdup(DEFAULT_DOMAIN);
    *rest = xasprintf(OFFICIAL_PREFIX "%s", s);
    return;
  }
  size_t n = (size_t) (slash - s);
  char *first = xstrndup(s, n);
  if (strcmp(first, "localhost") == 0 || strpbrk(first, ".:") != NULL || has_upper(first, n)) {
    *domain = first;
    *rest = xstrdup(slash + 1);
  } else {
    free(first);
    *domain = xstrdup(DEFAULT_DOMAIN);
    *rest = xstrdup(s);
  }
  if (strcmp(*domain, LEGACY_DOMAIN) == 0) {
    free(*domain);
    *domain = xstrdup(DEFAULT_DOMAIN);
  }
  if (strcmp(*domain, DEFAULT_DOMAIN) == 0 && strchr(*rest, '/') == NULL) {
    char *r = xasprintf(OFFICIAL_PREFIX "%s", *rest);
    free(*rest);
    *rest = r;
  }
}

/* rest is "path[:tag][@digest]" (modified in place) */
static BERTH_WUR int parse_rest(const char *input, char *rest, struct berth_ref *out, berth_error_t *err)
{
  char *at = strchr(rest, '@');
  if (at != NULL) {
    *at = '\0';
    const char *d = at + 1;
    if (!digest_shaped(d))
      return BERTH_ERR(err, "invalid reference `%s`: invalid digest format", input);
    if (berth_digest_validate(d, err) < 0)
      return berth_error_wrap(err, "invalid reference `%s`", input);
    out->digest = xstrdup(d);
  }
  char *last_slash = strrchr(rest, '/');
  char *colon = strrchr(last_slash ? last_slash : rest, ':');
  if (colon != NULL) {
    *colon = '\0';
    if (!valid_tag(colon + 1))
      return BERTH_ERR(err, "invalid reference `%s`: invalid tag format `%s`", input, colon + 1);
    out->tag = xstrdup(colon + 1);
  }
  if (!valid_path(rest)) {
    cleanup_free char *lower = xstrdup(rest);
    for (char *p = lower; *p; p++)
      *p = (char) tolower((unsigned char) *p);
    if (valid_path(lower))
      return BERTH_ERR(err, "invalid reference `%s`: repository name must be lowercase", input);
    return BERTH_ERR(err, "invalid reference format `%s`", input);
  }
  if (strlen(rest) > PATH_MAX_LEN)
    return BERTH_ERR(err, "invalid reference `%s`: repository name must not be more than %d characters",
                     input, PATH_MAX_LEN);
  out->repository = xstrdup(rest);
  if (out->tag == NULL && out->digest == NULL)
    out->tag = xstrdup("latest");
  return 0;
}

int berth_ref_parse(const char *s, struct berth_ref *out, berth_error_t *err)
{
  if (s == NULL || *s == '\0')
    return BERTH_ERR(err, "invalid reference format: empty reference");
  if (is_identifier(s))
    return BERTH_ERR(err, "invalid repository name `%s`: cannot specify 64-byte hexadecimal strings", s);
  cleanup_free char *domain = NULL;
  cleanup_free char *rest = NULL;
  split_domain(s, &domain, &rest);
  size_t remote_len = strcspn(rest, ":");
  if (has_upper(rest, remote_len))
    return BERTH_ERR(err, "invalid reference `%s`: repository name `%.*s` must be lowercase", s,
                     (int) remote_len, rest);
  if (!valid_domain(domain))
    return BERTH_ERR(err, "invalid reference format `%s`: bad registry `%s`", s, domain);
  struct berth_ref r = { 0 };
  if (parse_rest(s, rest, &r, err) < 0) {
    berth_ref_release(&r);
    return -1;
  }
  r.registry = steal_ptr(domain);
  *out = r;
  return 0;
}

void berth_ref_release(struct berth_ref *r)
{
  if (r == NULL)
    return;
  free(r->registry);
  free(r->repository);
  free(r->tag);
  free(r->digest);
  memset(r, 0, sizeof *r);
}

static char *with_suffix(const struct berth_ref *r, char *name)
{
  char *s = xasprintf("%s%s%s%s%s", name, r->tag ? ":" : "", r->tag ? r->tag : "", r->digest ? "@" : "",
                      r->digest ? r->digest : "");
  free(name);
  return s;
}

char *berth_ref_name(const struct berth_ref *r) { return xasprintf("%s/%s", r->registry, r->repository); }

char *berth_ref_string(const struct berth_ref *r) { return with_suffix(r, berth_ref_name(r)); }

char *berth_ref_familiar(const struct berth_ref *r)
{
  if (!berth_str_eq(r->registry, DEFAULT_DOMAIN))
    return berth_ref_string(r);
  const char *path = r->repository;
  if (berth_str_has_prefix(path, OFFICIAL_PREFIX) && strchr(path + strlen(OFFICIAL_PREFIX), '/') == NULL)
    path += strlen(OFFICIAL_PREFIX);
  return with_suffix(r, xstrdup(path));
}
