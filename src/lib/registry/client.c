/* The client of one registry: where it is (https, or http for an insecure registry whose https
 * does not answer), its TLS material and credentials. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "registry/registry_int.h"

/* the host[:port] a base URL ("https://mirror:5000/path") connects to (malloc'd) */
static char *url_host(const char *url)
{
  const char *p = strstr(url, "://");
  p = p ? p + 3 : url;
  return xstrndup(p, strcspn(p, "/"));
}

int berth_registry_new(const char *registry, const char *base_url, const struct berth_registry_opts *o,
                       struct berth_registry **out, berth_error_t *err)
{
  cleanup_free char *contacted = base_url ? url_host(base_url) : xstrdup(registry);
  if (berth_registry_is_blocked(o->conf, contacted))
    return berth_error_make(err, EACCES,
                            "registry `%s` is blocked (blocked-registries in the registries configuration)",
                            contacted);
  if (berth_curl_load(err) < 0)
    return -1;
  struct berth_registry *r = xmalloc0(sizeof *r);
  pthread_mutex_init(&r->lock, NULL);
  r->o = *o;
  r->name = xstrdup(registry);
  r->insecure = berth_registry_is_insecure(o->conf, registry);
  /* an insecure registry (Docker's sense: configured, or loopback) accepts any certificate
   * unless --tls-verify=true; not loading the CA store also saves its probe ~15 ms */
  r->verify = o->tls_verify == 1 || (o->tls_verify < 0 && !r->insecure);
  if (base_url != NULL) {
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
      n--;
    if (strncmp(base_url, "http://", 7) == 0 || strncmp(base_url, "https://", 8) == 0)
      r->base = xstrndup(base_url, n);
    else
      r->base = xasprintf("https://%.*s", (int) n, base_url);
    r->base_fixed = strncmp(r->base, "http://", 7) == 0 || !r->insecure || o->tls_verify == 1;
  } else {
    cleanup_free char *host = berth_registry_wire_host(registry);
    r->base = xasprintf("https://%s", host);
    r->base_fixed = !r->insecure || o->tls_verify == 1;
  }
  if (o->creds != NULL) {
    r->creds.username = xstrdup(o->creds->username);
    r->creds.password = xstrdup(o->creds->password);
    r->creds_known = r->have_creds = true;
  }
  if (reg_tls_load(r, err) < 0) {
    berth_registry_free(r);
    return -1;
  }
  *out = r;
  return 0;
}

void berth_registry_free(struct berth_registry *r)
{
  if (r == NULL)
    return;
  reg_auth_release(r);
  reg_tls_release(r);
  berth_credentials_release(&r->creds);
  free(r->name);
  free(r->base);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

const char *berth_registry_name(const struct berth_registry *r) { return r->name; }

/* TLS handshakes that fail against a plain-HTTP server or an unknown certificate */
static bool tls_failure(CURLcode rc)
{
  return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
         rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING;
}

/* Docker's way with an insecure registry: https first; a certificate it cannot verify is
 * accepted; a server that does not speak TLS is spoken to in plain http. */
int reg_ensure_base(struct berth_registry *r, berth_error_t *err)
{
  pthread_mutex_lock(&r->lock);
  bool fixed = r->base_fixed;
  pthread_mutex_unlock(&r->lock);
  if (fixed)
    return 0;
  struct reg_req q;
  reg_req_init(&q, "GET", xasprintf("%s/v2/", r->base));
  berth_error_t e = NULL;
  int pr = reg_perform(r, &q, &e);
  if (pr < 0 && q.rc == CURLE_PEER_FAILED_VERIFICATION && r->verify) {
    berth_log_debug("registry %s: certificate not verified (insecure registry)", r->name);
    berth_error_release(&e);
    r->verify = false;
    pr = reg_perform(r, &q, &e);
  }
  if (pr < 0 && tls_failure(q.rc)) {
    berth_log_debug("registry %s: no TLS (%s), using http", r->name, e->msg);
    berth_error_release(&e);
    char *plain = xasprintf("http://%s", r->base + 8);
    free(r->base);
    r->base = plain;
  } else if (pr < 0) {
    *err = steal_ptr(e);
    reg_req_release(&q);
    return berth_error_wrap(err, "registry %s", r->name);
  }
  r->base_fixed = true;
  reg_req_release(&q);
  return 0;
}

int berth_registry_check_login(struct berth_registry *r, berth_error_t *err)
{
  struct reg_req q;
  reg_req_init(&q, "GET", NULL);
  if (reg_ensure_base(r, err) < 0)
    return -1;
  q.url = xasprintf("%s/v2/", r->base);
  int rc = reg_request(r, &q, err);
  if (rc == 0 && q.status != 200)
    rc = reg_status_error(&q, "log in", err);
  reg_req_release(&q);
  if (rc < 0)
    return berth_error_wrap(err, "registry %s", r->name);
  return 0;
}
