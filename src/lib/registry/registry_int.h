/* Shared by the files of registry/ only. */
#ifndef BERTH_REGISTRY_INT_H
#define BERTH_REGISTRY_INT_H

#include <pthread.h>

#include "base/clock.h"
#include "base/strbuf.h"
#include "registry/curl_dl.h"
#include "registry/registry.h"

#define REG_MAX_MANIFEST (4u << 20) /* the distribution spec's limit for manifests */

struct reg_token {
  char *scope;
  char *token;
  int64_t expires; /* monotonic ms */
};

struct berth_registry {
  char *name;      /* "127.0.0.1:5000", "docker.io" */
  char *base;      /* "https://host:port" (no trailing slash) */
  bool base_fixed; /* decided: no more https -> http fallback */
  bool insecure;
  bool verify; /* verify the peer's certificate */
  struct berth_registry_opts o;
  struct berth_credentials creds;
  bool creds_known; /* looked up (or given) */
  bool have_creds;
  /* TLS: CA bundle (system + certs.d), client certificate */
  char *ca_pem;
  size_t ca_len;
  char *client_cert, *client_key;
  /* auth: the registry's challenge once known, and the tokens by scope */
  char *chal_scheme; /* "basic", "bearer" or NULL: not asked yet / anonymous works */
  char *chal_realm, *chal_service;
  struct reg_token *tokens;
  size_t ntokens;
  pthread_mutex_t lock; /* tokens, challenge, base (parallel pushes) */
};

/* one HTTP request and its response */
struct reg_req {
  const char *method; /* "GET", "HEAD", "PUT", "POST", "PATCH", "DELETE" */
  char *url;          /* absolute */
  char *scope;        /* "repository:a/b:pull" or NULL */
  struct curl_slist *headers;
  struct curl_slist *sent; /* what the last easy handle sends (headers + Authorization) */
  const char *send;        /* upload from memory */
  size_t send_len;
  int body_fd; /* upload from a file (pread), -1: none */
  uint64_t body_off, body_size, body_pos;
  uint64_t *upload_progress; /* receives body_off + bytes sent so far, or NULL */
  size_t max_body;           /* keep at most this much of the response body (beyond: body_too_big) */
  /* stream a 2xx body here instead (returns n, CURL_WRITEFUNC_PAUSE, or anything else to abort) */
  size_t (*sink)(void *ctx, const char *data, size_t n);
  void *sink_ctx;
  /* response */
  long status;
  char *content_type, *docker_digest, *location, *www_auth, *retry_after, *content_range, *link;
  char *last_modified;
  int64_t content_length;
  struct berth_strbuf body;
  bool body_too_big;
  CURLcode rc;
  char errbuf[CURL_ERROR_SIZE];
  bool no_auth; /* send no Authorization of the registry's (token requests) */
};

void reg_req_init(struct reg_req *q, const char *method, char *url);
/* forget the previous response (before another attempt) */
void reg_req_reset_response(struct reg_req *q);
void reg_req_release(struct reg_req *q);
void reg_req_header(struct reg_req *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* a configured easy handle for q (authorization of q->scope included) */
CURL *reg_easy_new(struct berth_registry *r, struct reg_req *q);
/* after the transfer: status and the rest into q */
void reg_easy_done(struct reg_req *q, CURL *h, CURLcode rc);
/* One attempt over a multi handle of its own: 0 when a response arrived (any status), -1 on a
 * transport error (q->rc). */
int reg_perform(struct berth_registry *r, struct reg_req *q, berth_error_t *err) BERTH_WUR;
/* With authentication (401: challenge, token, once more) and retries (transport errors, 5xx,
 * 429 with Retry-After): 0 when a final response arrived (the caller judges the status). */
int reg_request(struct berth_registry *r, struct reg_req *q, berth_error_t *err) BERTH_WUR;
/* "<what>: <status> <CODE>: <message>" from a registry's error response */
int reg_status_error(const struct reg_req *q, const char *what, berth_error_t *err);
/* transport error text of q (curl's, never the URL's credentials: there are none in URLs) */
int reg_transport_error(const struct reg_req *q, const char *what, berth_error_t *err);
/* the URL of a path under /v2/ ("<base>/v2/<repo>/manifests/<ref>") */
char *reg_url(struct berth_registry *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* resolve a Location header against the base */
char *reg_resolve_location(struct berth_registry *r, const char *loc);
/* pick https or http (insecure registries): the first request does it */
int reg_ensure_base(struct berth_registry *r, berth_error_t *err) BERTH_WUR;

/* ---- auth (auth.c) ---- */
/* the Authorization header value for a scope (or NULL): a cached token, or Basic */
char *reg_auth_header(struct berth_registry *r, const char *scope);
/* after a 401: learn the challenge, fetch a token; 0: try again, -1: give up (bad credentials) */
int reg_auth_handle(struct berth_registry *r, struct reg_req *q, berth_error_t *err) BERTH_WUR;
void reg_auth_release(struct berth_registry *r);
/* a 401 after authenticating as the challenge asked: the error to give */
int reg_auth_refused(struct berth_registry *r, const struct reg_req *q, berth_error_t *err) BERTH_WUR;
/* credentials looked up once (files, helpers) */
int reg_creds(struct berth_registry *r, berth_error_t *err) BERTH_WUR;

/* ---- TLS (tls.c) ---- */
/* load certs.d/<host> (or --cert-dir): CA bundle and client certificate */
int reg_tls_load(struct berth_registry *r, berth_error_t *err) BERTH_WUR;
void reg_tls_apply(struct berth_registry *r, CURL *h);
void reg_tls_release(struct berth_registry *r);

/* "repository:<repo>:pull" / "...:pull,push" (malloc'd) */
char *reg_scope(const char *repo, bool push);

#endif
