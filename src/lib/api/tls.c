/* TLS of the service (api/tls.h): the PEM files read and checked before anything listens, the
 * credentials, and a connection's handshake with the client's certificate verified. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/conn.h"
#include "api/tls_int.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/xalloc.h"

#define PEM_MAX (1u << 20) /* a certificate chain or a CA bundle: far less */
/* TLS 1.2 and 1.3 (dockerd's minimum is 1.2) with GnuTLS's default ciphers */
#define PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

void api_tls_release(struct api_tls *t)
{
  if (t->key)
    explicit_bzero(t->key, t->key_len);
  free(t->cert);
  free(t->key);
  free(t->ca);
  memset(t, 0, sizeof *t);
}

static BERTH_WUR int read_pem(const char *flag, const char *path, enum berth_api_pem_kind kind, char **out,
                              size_t *len, berth_error_t *err)
{
  if (berth_read_file(path, PEM_MAX, out, len, err) < 0)
    return berth_error_wrap(err, "%s", flag);
  return berth_api_pem_check(flag, path, *out, *len, kind, err);
}

static void crts_free(gnutls_x509_crt_t *crts, unsigned n)
{
  for (unsigned i = 0; i < n; i++)
    gnutls_x509_crt_deinit(crts[i]);
  if (crts)
    gnutls_free(crts);
}

/* the server's certificate chain and key into cred; check: warn when the certificate expired */
static BERTH_WUR int creds_key(const struct api_tls *t, gnutls_certificate_credentials_t cred, bool check,
                               berth_error_t *err)
{
  gnutls_datum_t cd = { (unsigned char *) t->cert, (unsigned) t->cert_len };
  gnutls_datum_t kd = { (unsigned char *) t->key, (unsigned) t->key_len };
  gnutls_x509_crt_t *crts = NULL;
  unsigned n = 0;
  int r = gnutls_x509_crt_list_import2(&crts, &n, &cd, GNUTLS_X509_FMT_PEM, GNUTLS_X509_CRT_LIST_SORT);
  if (r < 0)
    return BERTH_ERR(err, "--tlscert `%s`: %s", t->cert_path, gnutls_strerror(r));
  gnutls_x509_privkey_t key = NULL;
  if (gnutls_x509_privkey_init(&key) < 0 ||
      (r = gnutls_x509_privkey_import2(key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
    r = BERTH_ERR(err, "--tlskey `%s`: %s", t->key_path, gnutls_strerror(r));
  } else if ((r = gnutls_certificate_set_x509_key(cred, crts, n, key)) < 0) {
    r =
      r == GNUTLS_E_CERTIFICATE_KEY_MISMATCH
        ? BERTH_ERR(err, "--tlskey `%s` is not the key of --tlscert `%s`", t->key_path, t->cert_path)
        : BERTH_ERR(err, "--tlscert `%s`, --tlskey `%s`: %s", t->cert_path, t->key_path, gnutls_strerror(r));
  } else {
    r = 0;
    time_t until = gnutls_x509_crt_get_expiration_time(crts[0]);
    if (check && until != (time_t) -1 && until < time(NULL))
      berth_log_warn("--tlscert `%s`: the certificate has expired: clients will refuse it", t->cert_path);
  }
  if (key)
    gnutls_x509_privkey_deinit(key);
  crts_free(crts, n);
  return r;
}

static BERTH_WUR int creds_ca(const struct api_tls *t, gnutls_certificate_credentials_t cred,
                              berth_error_t *err)
{
  gnutls_datum_t d = { (unsigned char *) t->ca, (unsigned) t->ca_len };
  gnutls_x509_crt_t *crts = NULL;
  unsigned n = 0;
  int r = gnutls_x509_crt_list_import2(&crts, &n, &d, GNUTLS_X509_FMT_PEM, 0);
  if (r < 0)
    return BERTH_ERR(err, "--tlscacert `%s`: %s", t->ca_path, gnutls_strerror(r));
  if (n == 0)
    r = BERTH_ERR(err, "--tlscacert `%s`: no CA certificate in it", t->ca_path);
  else if ((r = gnutls_certificate_set_x509_trust(cred, crts, (int) n)) < 0)
    r = BERTH_ERR(err, "--tlscacert `%s`: %s", t->ca_path, gnutls_strerror(r));
  else
    r = 0;
  crts_free(crts, n);
  return r;
}

static int verify_client(gnutls_session_t gs);

static BERTH_WUR int creds_make(const struct api_tls *t, bool check, gnutls_certificate_credentials_t *out,
                                berth_error_t *err)
{
  gnutls_certificate_credentials_t cred = NULL;
  if (berth_gnutls_load(err) < 0)
    return -1;
  if (gnutls_certificate_allocate_credentials(&cred) < 0)
    return BERTH_ERR(err, "TLS: cannot allocate credentials");
  if (creds_key(t, cred, check, err) < 0 || (t->verify && creds_ca(t, cred, err) < 0)) {
    gnutls_certificate_free_credentials(cred);
    return -1;
  }
  if (t->verify)
    gnutls_certificate_set_verify_function(cred, verify_client);
  *out = cred;
  return 0;
}

/* GnuTLS loaded in a forked child, so that the listener never maps it: 0, or its error */
static BERTH_WUR int check_in_child(const struct api_tls *t, berth_error_t *err)
{
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return BERTH_ERR_ERRNO(err, "pipe");
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    berth_error_t e = NULL;
    gnutls_certificate_credentials_t cred = NULL;
    if (creds_make(t, true, &cred, &e) < 0) {
      berth_ignore(berth_write_all(p[1], e->msg, strlen(e->msg)));
      _exit(1);
    }
    gnutls_certificate_free_credentials(cred);
    _exit(0);
  }
  close(p[1]);
  char msg[1024];
  ssize_t n = pid < 0 ? -1 : berth_read_all(p[0], msg, sizeof msg - 1);
  close(p[0]);
  int st = 0;
  if (pid < 0)
    return BERTH_ERR_ERRNO(err, "fork");
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
    return 0;
  msg[n > 0 ? n : 0] = '\0';
  return BERTH_ERR(err, "%s", msg[0] ? msg : "TLS: the check of the certificate files failed");
}

int api_tls_load(const struct berth_api_tls_opts *o, struct api_tls *t, berth_error_t *err)
{
  memset(t, 0, sizeof *t);
  if (!berth_api_tls_on(o))
    return 0;
  if (berth_api_tls_opts_check(o, err) < 0)
    return -1;
  t->verify = o->verify;
  t->cert_path = o->cert, t->key_path = o->key, t->ca_path = o->cacert;
  if (read_pem("--tlscert", o->cert, BERTH_API_PEM_CERT, &t->cert, &t->cert_len, err) < 0 ||
      read_pem("--tlskey", o->key, BERTH_API_PEM_KEY, &t->key, &t->key_len, err) < 0 ||
      (o->verify && read_pem("--tlscacert", o->cacert, BERTH_API_PEM_CA, &t->ca, &t->ca_len, err) < 0) ||
      check_in_child(t, err) < 0) {
    api_tls_release(t);
    return -1;
  }
  return 0;
}

/* during the handshake (--tlsverify): the client's certificate chains to the CA, is in its
 * validity period, and may be used by a TLS client (its extended key usage, when it has one) */
static int verify_client(gnutls_session_t gs)
{
  struct api_tls_session *ts = gnutls_session_get_ptr(gs);
  gnutls_typed_vdata_st purpose = { .type = GNUTLS_DT_KEY_PURPOSE_OID,
                                    .data = (unsigned char *) GNUTLS_KP_TLS_WWW_CLIENT };
  unsigned status = 0;
  int r = gnutls_certificate_verify_peers(gs, &purpose, 1, &status);
  if (r < 0) {
    snprintf(ts->refused, sizeof ts->refused, "no client certificate (%s)", gnutls_strerror(r));
    return GNUTLS_E_CERTIFICATE_ERROR;
  }
  if (status == 0)
    return 0;
  gnutls_datum_t out = { NULL, 0 };
  if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0) {
    snprintf(ts->refused, sizeof ts->refused, "client certificate refused: %s", (char *) out.data);
    gnutls_free(out.data);
  } else {
    snprintf(ts->refused, sizeof ts->refused, "client certificate refused (status 0x%x)", status);
  }
  return GNUTLS_E_CERTIFICATE_ERROR;
}

void api_tls_session_free(struct api_tls_session *ts)
{
  if (ts == NULL)
    return;
  if (ts->s)
    gnutls_deinit(ts->s);
  if (ts->cred)
    gnutls_certificate_free_credentials(ts->cred);
  free(ts);
}

/* after the handshake, the client's FIN ends what it sends, not the session: docker's hijack
 * half-closes the TCP connection (no close_notify) when its stdin ends, and the output must
 * still go out */
static ssize_t pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
  struct api_tls_session *ts = p;
  ssize_t n = recv(ts->fd, buf, len, 0);
  if (n == 0 && ts->relaying) {
    ts->eof = true;
    errno = EAGAIN;
    return -1;
  }
  return n;
}

static int pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
  struct api_tls_session *ts = p;
  struct pollfd pf = { .fd = ts->fd, .events = POLLIN };
  return poll(&pf, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int) ms);
}

/* wait for the first byte: plain HTTP on the TLS port gets Go's answer, as from dockerd */
static BERTH_WUR int plain_http(struct api_tls_session *ts, int64_t deadline)
{
  struct pollfd pf = { .fd = ts->fd, .events = POLLIN };
  int64_t left = deadline - berth_mono_ms();
  unsigned char c = 0;
  if (left <= 0 || poll(&pf, 1, (int) left) <= 0 || recv(ts->fd, &c, 1, MSG_PEEK) != 1)
    return 0; /* the handshake says why */
  if (c < 'A' || c > 'Z')
    return 0;
  static const char reply[] = "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                              "Connection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";
  berth_ignore(send(ts->fd, reply, sizeof reply - 1, MSG_NOSIGNAL));
  berth_log_warn("api: TLS: %s sent plain HTTP to the TLS port: refused", ts->peer);
  return -1;
}

static BERTH_WUR int handshake(struct api_tls_session *ts, int64_t deadline)
{
  for (;;) {
    int r = gnutls_handshake(ts->s);
    if (r == 0)
      return 0;
    if (gnutls_error_is_fatal(r)) {
      if (ts->refused[0])
        berth_log_warn("api: TLS: %s refused: %s", ts->peer, ts->refused);
      else if (r == GNUTLS_E_FATAL_ALERT_RECEIVED && gnutls_alert_get_name(gnutls_alert_get(ts->s)))
        berth_log_warn("api: TLS: %s ended the handshake: %s", ts->peer,
                       gnutls_alert_get_name(gnutls_alert_get(ts->s)));
      else
        berth_log_warn("api: TLS: handshake with %s failed: %s", ts->peer, gnutls_strerror(r));
      berth_ignore(gnutls_alert_send_appropriate(ts->s, r));
      return -1;
    }
    int64_t left = deadline - berth_mono_ms();
    struct pollfd pf = { .fd = ts->fd, .events = gnutls_record_get_direction(ts->s) ? POLLOUT : POLLIN };
    if (left <= 0) {
      berth_log_warn("api: TLS: %s did not finish its handshake in time: dropped", ts->peer);
      return -1;
    }
    berth_ignore(poll(&pf, 1, (int) left));
  }
}

struct api_tls_session *api_tls_handshake(const struct api_tls *t, int fd, int64_t deadline, const char *peer)
{
  berth_error_t err = NULL;
  struct api_tls_session *ts = xcalloc(1, sizeof *ts);
  ts->fd = fd;
  ts->peer = peer;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || creds_make(t, false, &ts->cred, &err) < 0 ||
      gnutls_init(&ts->s, GNUTLS_SERVER) < 0) {
    berth_log_error("api: TLS: %s", err ? err->msg : strerror(errno));
    berth_error_release(&err);
    api_tls_session_free(ts);
    return NULL;
  }
  gnutls_session_set_ptr(ts->s, ts);
  if (gnutls_priority_set_direct(ts->s, PRIORITY, NULL) < 0 ||
      gnutls_credentials_set(ts->s, GNUTLS_CRD_CERTIFICATE, ts->cred) < 0) {
    berth_log_error("api: TLS: cannot set up a session");
    api_tls_session_free(ts);
    return NULL;
  }
  gnutls_certificate_server_set_request(ts->s, t->verify ? GNUTLS_CERT_REQUIRE : GNUTLS_CERT_IGNORE);
  gnutls_transport_set_int2(ts->s, fd, fd);
  if (plain_http(ts, deadline) < 0 || handshake(ts, deadline) < 0) {
    api_tls_session_free(ts);
    return NULL;
  }
  /* from here the client's FIN is a half-close (pull); sends go on through the socket */
  ts->relaying = true;
  gnutls_transport_set_ptr2(ts->s, ts, (gnutls_transport_ptr_t) (intptr_t) fd);
  gnutls_transport_set_pull_function(ts->s, pull);
  gnutls_transport_set_pull_timeout_function(ts->s, pull_timeout);
  return ts;
}
