/* TLS on the service's tcp:// address (docs/design/api.md, "TLS"). The listener reads the PEM
 * files once, before it listens, and has a forked checker load them into GnuTLS (so that the
 * listener itself never maps GnuTLS); each connection process then does the handshake on the
 * accepted socket — within the request deadline, counted against --max-connections like any
 * connection — verifies the client's certificate (--tlsverify), and relays the decrypted bytes
 * to a socketpair whose other end a forked child serves as an ordinary connection (conn.c): the
 * HTTP side, hijacked attach and exec included, never sees TLS. */
#ifndef BERTH_API_TLS_H
#define BERTH_API_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "api/api.h"
#include "base/error.h"

struct api_tls {
  bool verify;      /* clients present a certificate that chains to ca */
  char *cert, *key; /* PEM, as read */
  char *ca;         /* NULL without verify */
  size_t cert_len, key_len, ca_len;
  const char *cert_path, *key_path, *ca_path; /* the flags' values (messages) */
};

/* read and check t's files (each error names the flag and the file); 0 and out unset when TLS
 * is off */
int api_tls_load(const struct berth_api_tls_opts *t, struct api_tls *out, berth_error_t *err) BERTH_WUR;
void api_tls_release(struct api_tls *t);

/* the connection process of a TLS service (server.c forks it): the handshake on fd, then the
 * relay, with the HTTP side in a child; returns the process's exit code. t (this process's copy)
 * is wiped after the handshake. */
int api_tls_serve(const struct berth_api_opts *o, struct api_tls *t, int fd, const struct sockaddr *sa,
                  socklen_t len);

/* ---- tls.c, for tls_relay.c ---- */
struct api_tls_session;
/* the handshake on fd (made non-blocking) by deadline_ms (monotonic): NULL when it failed or
 * the client was refused (logged, naming peer) */
struct api_tls_session *api_tls_handshake(const struct api_tls *t, int fd, int64_t deadline_ms,
                                          const char *peer);
void api_tls_session_free(struct api_tls_session *s);

#endif
