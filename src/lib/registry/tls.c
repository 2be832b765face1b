/* TLS per registry: the system CAs plus the *.crt files of certs.d/<host[:port]>, and a client certificate
 * (*.cert with its *.key), from /etc/containers/certs.d and /etc/docker/certs.d (or
 * $BERTH_CERTS_D, or --cert-dir). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "registry/registry_int.h"

#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static BERTH_WUR int load_dir(struct berth_registry *r, const char *dir, struct berth_strbuf *ca, bool *found,
                              berth_error_t *err)
{
  cleanup_dir DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT || errno == ENOTDIR ? 0 : BERTH_ERR_ERRNO(err, "certs.d `%s`", dir);
  *found = true;
  for (struct dirent *de; (de = readdir(d)) != NULL;) {
    cleanup_free char *path = xasprintf("%s/%s", dir, de->d_name);
    if (berth_str_has_suffix(de->d_name, ".crt")) {
      cleanup_free char *pem = NULL;
      size_t len = 0;
      if (berth_read_file(path, 4 << 20, &pem, &len, err) < 0)
        return -1;
      berth_strbuf_append(ca, "\n", 1);
      berth_strbuf_append(ca, pem, len);
    } else if (berth_str_has_suffix(de->d_name, ".cert")) {
      cleanup_free char *key = xasprintf("%.*s.key", (int) (strlen(path) - 5), path);
      if (access(key, R_OK) != 0)
        return BERTH_ERR(err, "certs.d: client certificate `%s` without its key `%s`", path, key);
      free(r->client_cert), free(r->client_key);
      r->client_cert = steal_ptr(path);
      r->client_key = steal_ptr(key);
    }
  }
  return 0;
}

int reg_tls_load(struct berth_registry *r, berth_error_t *err)
{
  struct berth_strbuf ca = BERTH_STRBUF_INIT;
  bool found = false;
  int rc = 0;
  if (r->o.cert_dir != NULL) {
    rc = load_dir(r, r->o.cert_dir, &ca, &found, err);
  } else {
    const char *roots = r->o.certs_d ? r->o.certs_d : getenv("BERTH_CERTS_D");
    if (roots == NULL || roots[0] == '\0')
      roots = "/etc/containers/certs.d:/etc/docker/certs.d";
    cleanup_free char *copy = xstrdup(roots);
    char *save = NULL;
    for (char *root = strtok_r(copy, ":", &save); root && rc == 0; root = strtok_r(NULL, ":", &save)) {
      cleanup_free char *dir = xasprintf("%s/%s", root, r->name);
      rc = load_dir(r, dir, &ca, &found, err);
    }
  }
  if (rc == 0 && ca.len > 0) {
    cleanup_free char *sys = NULL;
    size_t len = 0;
    berth_error_t ignored = NULL;
    if (berth_read_file(SYSTEM_BUNDLE, 8 << 20, &sys, &len, &ignored) == 0)
      berth_strbuf_append(&ca, sys, len);
    berth_error_release(&ignored);
    r->ca_len = ca.len;
    r->ca_pem = berth_strbuf_detach(&ca);
  }
  berth_strbuf_release(&ca);
  if (rc < 0)
    return berth_error_wrap(err, "registry %s", r->name);
  return 0;
}

void reg_tls_apply(struct berth_registry *r, CURL *h)
{
  if (r->ca_pem != NULL) {
    struct curl_blob blob = { r->ca_pem, r->ca_len, CURL_BLOB_NOCOPY };
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (r->client_cert != NULL) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, r->client_cert);
    curl_easy_setopt(h, CURLOPT_SSLKEY, r->client_key);
  }
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, r->verify ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, r->verify ? 2L : 0L);
}

void reg_tls_release(struct berth_registry *r)
{
  free(r->ca_pem);
  free(r->client_cert);
  free(r->client_key);
  r->ca_pem = r->client_cert = r->client_key = NULL;
}
