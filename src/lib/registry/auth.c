/* Authentication: anonymous until the registry answers 401; then its WWW-Authenticate says
 * Basic (the credentials on every request) or Bearer (a token for the request's scope from the
 * realm, with the credentials if any, cached until it expires). A 401 after fresh credentials
 * or a fresh token is final: one clear error, no retry storm. Secrets go into headers only,
 * never into messages or logs. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "json/json.h"
#include "registry/registry_int.h"

int reg_creds(struct berth_registry *r, berth_error_t *err)
{
  pthread_mutex_lock(&r->lock);
  int found = 0;
  if (!r->creds_known) {
    found = berth_credentials_lookup(&r->o.auth, r->name, &r->creds, err);
    if (found >= 0) {
      r->creds_known = true;
      r->have_creds = found > 0;
    }
  }
  pthread_mutex_unlock(&r->lock);
  if (found < 0)
    return berth_error_wrap(err, "credentials for %s", r->name);
  return 0;
}

static char *basic_value(const struct berth_credentials *c)
{
  cleanup_free char *plain = xasprintf("%s:%s", c->username, c->password);
  char *enc = berth_base64_encode(plain, strlen(plain));
  explicit_bzero(plain, strlen(plain));
  cleanup_free char *v = xasprintf("Basic %s", enc);
  explicit_bzero(enc, strlen(enc));
  free(enc);
  return steal_ptr(v);
}

static struct reg_token *find_token(struct berth_registry *r, const char *scope)
{
  for (size_t i = 0; i < r->ntokens; i++)
    if (strcmp(r->tokens[i].scope, scope ? scope : "") == 0 && r->tokens[i].expires > berth_mono_ms())
      return &r->tokens[i];
  return NULL;
}

char *reg_auth_header(struct berth_registry *r, const char *scope)
{
  char *v = NULL;
  pthread_mutex_lock(&r->lock);
  if (r->chal_scheme != NULL && strcmp(r->chal_scheme, "bearer") == 0) {
    struct reg_token *t = find_token(r, scope);
    if (t != NULL)
      v = xasprintf("Bearer %s", t->token);
  } else if (r->chal_scheme != NULL && strcmp(r->chal_scheme, "basic") == 0 && r->have_creds) {
    v = basic_value(&r->creds);
  }
  pthread_mutex_unlock(&r->lock);
  return v;
}

void reg_auth_release(struct berth_registry *r)
{
  for (size_t i = 0; i < r->ntokens; i++) {
    explicit_bzero(r->tokens[i].token, strlen(r->tokens[i].token));
    free(r->tokens[i].token);
    free(r->tokens[i].scope);
  }
  free(r->tokens);
  r->tokens = NULL;
  r->ntokens = 0;
  free(r->chal_scheme), free(r->chal_realm), free(r->chal_service);
  r->chal_scheme = r->chal_realm = r->chal_service = NULL;
}

static bool same_str(const char *a, const char *b)
{
  return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* learn the challenge of a 401 (bearer preferred) */
static BERTH_WUR int learn_challenge(struct berth_registry *r, const struct reg_req *q, berth_error_t *err)
{
  if (q->www_auth == NULL)
    return BERTH_ERR(err, "registry %s: 401 without a WWW-Authenticate challenge", r->name);
  struct berth_auth_challenge *c = NULL;
  size_t n = 0;
  if (berth_auth_challenges_parse(q->www_auth, &c, &n, err) < 0)
    return berth_error_wrap(err, "registry %s", r->name);
  struct berth_auth_challenge *pick = NULL;
  for (size_t i = 0; i < n && pick == NULL; i++)
    if (strcmp(c[i].scheme, "bearer") == 0 && c[i].realm != NULL)
      pick = &c[i];
  for (size_t i = 0; i < n && pick == NULL; i++)
    if (strcmp(c[i].scheme, "basic") == 0)
      pick = &c[i];
  int rc = 0;
  if (pick == NULL) {
    rc = BERTH_ERR(err, "registry %s: unsupported authentication scheme `%s`", r->name, c[0].scheme);
  } else {
    pthread_mutex_lock(&r->lock);
    /* the same challenge again (the usual case, from parallel push workers too): kept as it is,
     * so that no other thread ever reads freed strings */
    if (!same_str(r->chal_scheme, pick->scheme) || !same_str(r->chal_realm, pick->realm) ||
        !same_str(r->chal_service, pick->service)) {
      free(r->chal_scheme), free(r->chal_realm), free(r->chal_service);
      r->chal_scheme = xstrdup(pick->scheme);
      r->chal_realm = pick->realm ? xstrdup(pick->realm) : NULL;
      r->chal_service = pick->service ? xstrdup(pick->service) : NULL;
    }
    pthread_mutex_unlock(&r->lock);
  }
  berth_auth_challenges_free(c, n);
  return rc;
}

static char *escape(CURL *h, const char *s)
{
  char *e = curl_easy_escape(h, s, 0);
  char *out = xstrdup(e ? e : "");
  curl_free(e);
  return out;
}

/* the token endpoint's URL for a scope */
static char *token_url(struct berth_registry *r, const char *scope)
{
  CURL *h = curl_easy_init();
  pthread_mutex_lock(&r->lock); /* another push worker may learn the challenge meanwhile */
  cleanup_free char *realm = xstrdup(r->chal_realm ? r->chal_realm : "");
  cleanup_free char *service = r->chal_service ? xstrdup(r->chal_service) : NULL;
  pthread_mutex_unlock(&r->lock);
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_puts(&b, realm);
  char sep = strchr(realm, '?') ? '&' : '?';
  if (service != NULL) {
    cleanup_free char *s = escape(h, service);
    berth_strbuf_printf(&b, "%cservice=%s", sep, s);
    sep = '&';
  }
  cleanup_free char *scopes = scope ? xstrdup(scope) : NULL;
  char *save = NULL;
  for (char *one = scopes ? strtok_r(scopes, " ", &save) : NULL; one; one = strtok_r(NULL, " ", &save)) {
    cleanup_free char *s = escape(h, one);
    berth_strbuf_printf(&b, "%cscope=%s", sep, s);
    sep = '&';
  }
  curl_easy_cleanup(h);
  return berth_strbuf_detach(&b);
}

static BERTH_WUR int parse_token(struct berth_registry *r, const struct reg_req *q, char **token,
                                 int64_t *ttl_ms, berth_error_t *err)
{
  json_error_t je;
  json_t *j = json_loadb(q->body.buf ? q->body.buf : "", q->body.len, 0, &je);
  const char *t = json_string_value(json_object_get(j, "token"));
  if (t == NULL || t[0] == '\0')
    t = json_string_value(json_object_get(j, "access_token"));
  json_int_t exp = json_integer_value(json_object_get(j, "expires_in"));
  int rc = 0;
  if (t == NULL || t[0] == '\0')
    rc = BERTH_ERR(err, "registry %s: the token server's answer has no token", r->name);
  else {
    *token = xstrdup(t);
    *ttl_ms = (exp >= 60 ? exp : 60) * 1000;
  }
  json_decref(j);
  return rc;
}

static BERTH_WUR int fetch_token(struct berth_registry *r, const char *scope, berth_error_t *err)
{
  if (reg_creds(r, err) < 0)
    return -1;
  struct reg_req q;
  reg_req_init(&q, "GET", token_url(r, scope));
  q.max_body = 1 << 20;
  if (r->have_creds) {
    cleanup_free char *b = basic_value(&r->creds);
    reg_req_header(&q, "Authorization: %s", b);
    explicit_bzero(b, strlen(b));
  }
  q.no_auth = true; /* the token server gets the Basic above and nothing else */
  int rc = reg_perform(r, &q, err);
  if (rc == 0 && (q.status == 401 || q.status == 403))
    rc = BERTH_ERR(err, "registry %s: %s", r->name,
                   r->have_creds ? "authentication failed: bad username or password"
                                 : "authentication required (berth login)");
  else if (rc == 0 && q.status != 200)
    rc = reg_status_error(&q, "get a token", err);
  char *token = NULL;
  int64_t ttl = 0;
  if (rc == 0)
    rc = parse_token(r, &q, &token, &ttl, err);
  reg_req_release(&q);
  if (rc < 0)
    return rc;
  pthread_mutex_lock(&r->lock);
  r->tokens = xreallocarray(r->tokens, r->ntokens + 1, sizeof *r->tokens);
  r->tokens[r->ntokens++] =
    (struct reg_token){ xstrdup(scope ? scope : ""), token, berth_mono_ms() + ttl - 10000 };
  pthread_mutex_unlock(&r->lock);
  return 0;
}

int reg_auth_handle(struct berth_registry *r, struct reg_req *q, berth_error_t *err)
{
  bool had_auth = false;
  for (struct curl_slist *p = q->sent; p; p = p->next)
    if (strncasecmp(p->data, "Authorization:", 14) == 0)
      had_auth = true;
  if (learn_challenge(r, q, err) < 0)
    return -1;
  if (strcmp(r->chal_scheme, "basic") == 0) {
    if (reg_creds(r, err) < 0)
      return -1;
    if (!r->have_creds)
      return BERTH_ERR(err, "registry %s: authentication required (berth login)", r->name);
    if (had_auth)
      return BERTH_ERR(err, "registry %s: authentication failed: bad username or password", r->name);
    return 0;
  }
  if (had_auth) /* a token we fetched is refused: expired early, or not enough */
    berth_log_debug("registry %s: token refused, asking for a new one", r->name);
  pthread_mutex_lock(&r->lock);
  for (size_t i = 0; i < r->ntokens; i++)
    if (strcmp(r->tokens[i].scope, q->scope ? q->scope : "") == 0)
      r->tokens[i].expires = 0;
  pthread_mutex_unlock(&r->lock);
  return fetch_token(r, q->scope, err);
}

int reg_auth_refused(struct berth_registry *r, const struct reg_req *q, berth_error_t *err)
{
  bool had_auth = false;
  for (struct curl_slist *p = q->sent; p; p = p->next)
    if (strncasecmp(p->data, "Authorization:", 14) == 0)
      had_auth = true;
  if (!r->have_creds || !had_auth)
    return BERTH_ERR(err, "registry %s: authentication required (berth login)", r->name);
  if (r->chal_scheme != NULL && strcmp(r->chal_scheme, "basic") == 0)
    return BERTH_ERR(err, "registry %s: authentication failed: bad username or password", r->name);
  return BERTH_ERR(err, "registry %s: access to `%s` denied to user `%s`", r->name, q->scope ? q->scope : "",
                   r->creds.username);
}
