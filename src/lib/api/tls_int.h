/* An established TLS session of a connection process (tls.c makes it, tls_relay.c relays it). */
#ifndef BERTH_API_TLS_INT_H
#define BERTH_API_TLS_INT_H

#include <stdbool.h>

#include "api/gnutls_dl.h"
#include "api/tls.h"

struct api_tls_session {
  gnutls_session_t s;
  gnutls_certificate_credentials_t cred;
  int fd;            /* the client's TCP socket (non-blocking) */
  bool relaying;     /* after the handshake: the client's FIN is a half-close, not an error */
  bool eof;          /* the client's FIN (or close_notify) came */
  const char *peer;  /* "127.0.0.1:40000" (messages) */
  char refused[512]; /* why the client's certificate was refused */
};

#endif
