/* WWW-Authenticate (RFC 7235 §4.1): challenges = challenge *( "," challenge ),
 * challenge = scheme [ 1*SP ( token68 / auth-param *( "," auth-param ) ) ],
 * auth-param = token BWS "=" BWS ( token / quoted-string ). Pure: no I/O. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "registry/registry.h"

struct scan {
  const char *s;
  size_t i;
};

static bool is_tchar(char c)
{
  return c != '\0' && (isalnum((unsigned char) c) || strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void skip_ws(struct scan *sc)
{
  while (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t')
    sc->i++;
}

/* a token at the cursor (malloc'd) or NULL */
static char *scan_token(struct scan *sc)
{
  size_t start = sc->i;
  while (is_tchar(sc->s[sc->i]))
    sc->i++;
  return sc->i > start ? xstrndup(sc->s + start, sc->i - start) : NULL;
}

static BERTH_WUR int scan_quoted(struct scan *sc, char **out, berth_error_t *err)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  size_t start = sc->i++;
  for (;;) {
    char c = sc->s[sc->i];
    if (c == '\0')
      return BERTH_ERR(err, "www-authenticate: unterminated quoted string at offset %zu", start);
    sc->i++;
    if (c == '"')
      break;
    if (c == '\\') {
      c = sc->s[sc->i];
      if (c == '\0')
        return BERTH_ERR(err, "www-authenticate: unterminated quoted string at offset %zu", start);
      sc->i++;
    }
    berth_strbuf_putc(&b, c);
  }
  *out = berth_strbuf_detach(&b);
  return 0;
}

static void set_param(struct berth_auth_challenge *c, const char *key, char *value)
{
  char **slot = NULL;
  if (strcasecmp(key, "realm") == 0)
    slot = &c->realm;
  else if (strcasecmp(key, "service") == 0)
    slot = &c->service;
  else if (strcasecmp(key, "scope") == 0)
    slot = &c->scope;
  else if (strcasecmp(key, "error") == 0)
    slot = &c->error;
  if (slot != NULL && *slot == NULL)
    *slot = value;
  else
    free(value);
}

/* after a comma: is the next thing a new challenge ("scheme" then space or end, not "=")? */
static bool at_new_challenge(const struct scan *sc)
{
  struct scan t = *sc;
  cleanup_free char *tok = scan_token(&t);
  if (tok == NULL)
    return false;
  skip_ws(&t);
  return t.s[t.i] != '=';
}

/* the params of one challenge; stops before a comma that starts the next challenge */
static BERTH_WUR int scan_params(struct scan *sc, struct berth_auth_challenge *c, berth_error_t *err)
{
  for (;;) {
    skip_ws(sc);
    while (sc->s[sc->i] == ',') { /* empty list elements are allowed */
      sc->i++;
      skip_ws(sc);
      if (at_new_challenge(sc))
        return 0;
    }
    if (sc->s[sc->i] == '\0')
      return 0;
    size_t at = sc->i;
    cleanup_free char *key = scan_token(sc);
    if (key == NULL)
      return BERTH_ERR(err, "www-authenticate: expected a parameter at offset %zu", at);
    skip_ws(sc);
    if (sc->s[sc->i] != '=')
      return BERTH_ERR(err, "www-authenticate: expected `=` after `%s` at offset %zu", key, sc->i);
    sc->i++;
    while (sc->s[sc->i] == '=') /* token68 padding */
      sc->i++;
    skip_ws(sc);
    char *value = NULL;
    if (sc->s[sc->i] == '"') {
      if (scan_quoted(sc, &value, err) < 0)
        return -1;
    } else if ((value = scan_token(sc)) == NULL) {
      value = xstrdup(""); /* "key=" at the end of a token68 */
    }
    set_param(c, key, value);
    skip_ws(sc);
    if (sc->s[sc->i] != ',' && sc->s[sc->i] != '\0')
      return BERTH_ERR(err, "www-authenticate: expected `,` at offset %zu", sc->i);
  }
}

static BERTH_WUR int scan_challenge(struct scan *sc, struct berth_auth_challenge *c, berth_error_t *err)
{
  skip_ws(sc);
  size_t at = sc->i;
  char *scheme = scan_token(sc);
  if (scheme == NULL)
    return BERTH_ERR(err, "www-authenticate: expected an auth scheme at offset %zu", at);
  for (char *p = scheme; *p; p++)
    *p = (char) tolower((unsigned char) *p);
  c->scheme = scheme;
  if (sc->s[sc->i] != ' ' && sc->s[sc->i] != '\t' && sc->s[sc->i] != ',' && sc->s[sc->i] != '\0')
    return BERTH_ERR(err, "www-authenticate: unexpected `%c` at offset %zu", sc->s[sc->i], sc->i);
  return scan_params(sc, c, err);
}

int berth_auth_challenges_parse(const char *header, struct berth_auth_challenge **out, size_t *n,
                                berth_error_t *err)
{
  struct scan sc = { header, 0 };
  struct berth_auth_challenge *v = NULL;
  size_t count = 0;
  for (;;) {
    skip_ws(&sc);
    while (sc.s[sc.i] == ',') {
      sc.i++;
      skip_ws(&sc);
    }
    if (sc.s[sc.i] == '\0')
      break;
    v = xreallocarray(v, count + 1, sizeof *v);
    memset(&v[count], 0, sizeof *v);
    count++;
    if (scan_challenge(&sc, &v[count - 1], err) < 0) {
      berth_auth_challenges_free(v, count);
      return -1;
    }
  }
  if (count == 0)
    return BERTH_ERR(err, "www-authenticate: no challenge in `%s`", header);
  *out = v;
  *n = count;
  return 0;
}

void berth_auth_challenges_free(struct berth_auth_challenge *c, size_t n)
{
  for (size_t i = 0; c != NULL && i < n; i++) {
    free(c[i].scheme);
    free(c[i].realm);
    free(c[i].service);
    free(c[i].scope);
    free(c[i].error);
  }
  free(c);
}
