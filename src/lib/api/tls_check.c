/* Who a tcp:// address may serve, how the TLS flags go together, and what a PEM file holds:
 * the pure parts of the service's TLS (api.h; tls.c does the handshakes), checked before
 * anything listens and unit-tested (tests/unit/test_api_tls.c). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "api/api.h"

bool berth_api_host_is_loopback(const char *host)
{
  struct in_addr a4;
  struct in6_addr a6;
  if (strcmp(host, "localhost") == 0)
    return true;
  if (inet_pton(AF_INET, host, &a4) == 1)
    return (ntohl(a4.s_addr) >> 24) == 127;
  if (inet_pton(AF_INET6, host, &a6) != 1)
    return false;
  if (IN6_IS_ADDR_V4MAPPED(&a6)) /* ::ffff:127.0.0.1 */
    return a6.s6_addr[12] == 127;
  return IN6_IS_ADDR_LOOPBACK(&a6);
}

bool berth_api_tls_on(const struct berth_api_tls_opts *t)
{
  return t->tls || t->verify || t->cacert || t->cert || t->key;
}

int berth_api_tls_opts_check(const struct berth_api_tls_opts *t, berth_error_t *err)
{
  if (!berth_api_tls_on(t))
    return 0;
  if (t->cert == NULL && t->key == NULL)
    return BERTH_ERR(err, "TLS needs the server's certificate and key: --tlscert FILE --tlskey FILE");
  if (t->cert == NULL || t->key == NULL)
    return BERTH_ERR(
      err, "--tlscert and --tlskey go together (the server's certificate and its key): %s is missing",
      t->cert ? "--tlskey" : "--tlscert");
  if (t->verify && t->cacert == NULL)
    return BERTH_ERR(err, "--tlsverify needs --tlscacert FILE: the CA that signed the clients' certificates");
  if (t->cacert && !t->verify)
    return BERTH_ERR(err, "--tlscacert is used only with --tlsverify: without it no client certificate is "
                          "asked for");
  return 0;
}

int berth_api_tcp_allowed(const char *shown, const char *host, const struct berth_api_opts *o,
                          berth_error_t *err)
{
  bool tls = berth_api_tls_on(&o->tls);
  if (o->tls.verify)
    return 0; /* the client's certificate is the access check */
  if (!berth_api_host_is_loopback(host))
    return BERTH_ERR(err,
                     "address `%s`: %s; berth serves a non-loopback address only with TLS client "
                     "authentication (--tlsverify --tlscacert FILE --tlscert FILE --tlskey FILE)",
                     shown, tls ? "TLS without --tlsverify does not authenticate clients" : "no TLS");
  if (!o->tcp_insecure_loopback)
    return BERTH_ERR(err,
                     "address `%s`: anyone on this host could drive berth through it%s; pass "
                     "--tlsverify with client certificates, or --insecure-loopback to mean it",
                     shown, tls ? " (TLS without --tlsverify does not authenticate clients)" : "");
  return 0;
}

/* the label of a "-----BEGIN X-----" or "-----END X-----" line (start..end: the line) */
static bool pem_line(const char *line, const char *end, const char *what, const char **label, size_t *len)
{
  size_t wl = strlen(what);
  while (end > line && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
    end--;
  if ((size_t) (end - line) < wl + 6 || memcmp(line, what, wl) != 0 || memcmp(end - 5, "-----", 5) != 0)
    return false;
  *label = line + wl;
  *len = (size_t) (end - 5 - *label);
  return true;
}

static bool label_is(const char *l, size_t len, const char *s)
{
  return len == strlen(s) && memcmp(l, s, len) == 0;
}

static void pem_count(struct berth_api_pem_info *pi, const char *l, size_t len, bool encrypted)
{
  pi->blocks++;
  if (label_is(l, len, "CERTIFICATE") || label_is(l, len, "X509 CERTIFICATE") ||
      label_is(l, len, "TRUSTED CERTIFICATE"))
    pi->certs++;
  else if (label_is(l, len, "ENCRYPTED PRIVATE KEY") ||
           (encrypted && len >= 11 && memcmp(l + len - 11, "PRIVATE KEY", 11) == 0))
    pi->encrypted_keys++;
  else if (label_is(l, len, "PRIVATE KEY") || label_is(l, len, "RSA PRIVATE KEY") ||
           label_is(l, len, "EC PRIVATE KEY") || label_is(l, len, "DSA PRIVATE KEY"))
    pi->keys++;
}

void berth_api_pem_scan(const char *data, size_t len, struct berth_api_pem_info *pi)
{
  memset(pi, 0, sizeof *pi);
  const char *p = data, *end = data + len, *label = NULL;
  size_t label_len = 0;
  bool encrypted = false;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t) (end - p));
    const char *eol = nl ? nl : end;
    const char *l;
    size_t ll;
    if (label == NULL && pem_line(p, eol, "-----BEGIN ", &l, &ll)) {
      label = l, label_len = ll, encrypted = false;
    } else if (label && pem_line(p, eol, "-----END ", &l, &ll)) {
      if (ll == label_len && memcmp(l, label, ll) == 0)
        pem_count(pi, label, label_len, encrypted);
      else
        pi->unterminated = true;
      label = NULL;
    } else if (label && (size_t) (eol - p) >= 22 && memcmp(p, "Proc-Type: 4,ENCRYPTED", 22) == 0) {
      encrypted = true;
    }
    p = nl ? nl + 1 : end;
  }
  if (label)
    pi->unterminated = true;
}

int berth_api_pem_check(const char *flag, const char *path, const char *data, size_t len,
                        enum berth_api_pem_kind kind, berth_error_t *err)
{
  struct berth_api_pem_info pi;
  berth_api_pem_scan(data, len, &pi);
  if (pi.unterminated)
    return BERTH_ERR(err, "%s `%s`: a PEM block without its matching -----END line", flag, path);
  if (pi.blocks == 0)
    return BERTH_ERR(err, "%s `%s`: not a PEM file (no -----BEGIN ...----- line)", flag, path);
  switch (kind) {
  case BERTH_API_PEM_CERT:
    if (pi.certs == 0)
      return BERTH_ERR(err, "%s `%s`: no certificate in it", flag, path);
    break;
  case BERTH_API_PEM_CA:
    if (pi.certs == 0)
      return BERTH_ERR(err, "%s `%s`: no CA certificate in it", flag, path);
    break;
  case BERTH_API_PEM_KEY:
    if (pi.encrypted_keys > 0)
      return BERTH_ERR(err,
                       "%s `%s`: the private key is encrypted; berth takes an unencrypted key (as dockerd)",
                       flag, path);
    if (pi.keys == 0)
      return BERTH_ERR(err, "%s `%s`: no private key in it", flag, path);
    if (pi.keys > 1)
      return BERTH_ERR(err, "%s `%s`: %u private keys in it; berth takes one", flag, path, pi.keys);
    break;
  }
  return 0;
}
