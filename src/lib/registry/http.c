/* HTTP over libcurl: one request's easy handle (headers, TLS, callbacks), one attempt over a
 * multi handle, and the request loop with authentication and retries. */
#include <ctype.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "registry/registry_int.h"

void reg_req_init(struct reg_req *q, const char *method, char *url)
{
  memset(q, 0, sizeof *q);
  q->method = method;
  q->url = url;
  q->body_fd = -1;
  q->content_length = -1;
}

void reg_req_reset_response(struct reg_req *q)
{
  free(q->content_type), free(q->docker_digest), free(q->location), free(q->www_auth);
  free(q->retry_after), free(q->content_range), free(q->link), free(q->last_modified);
  q->content_type = q->docker_digest = q->location = q->www_auth = NULL;
  q->retry_after = q->content_range = q->link = q->last_modified = NULL;
  berth_strbuf_release(&q->body);
  q->status = 0;
  q->content_length = -1;
  q->body_too_big = false;
  q->rc = CURLE_OK;
  q->errbuf[0] = '\0';
}

void reg_req_release(struct reg_req *q)
{
  reg_req_reset_response(q);
  free(q->url);
  free(q->scope);
  curl_slist_free_all(q->headers);
  curl_slist_free_all(q->sent);
  q->url = q->scope = NULL;
  q->headers = q->sent = NULL;
}

void reg_req_header(struct reg_req *q, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *h = NULL;
  if (vasprintf(&h, fmt, ap) < 0)
    berth_oom();
  va_end(ap);
  q->headers = curl_slist_append(q->headers, h);
  free(h);
}

static char *trimmed(const char *v, size_t n)
{
  while (n > 0 && (*v == ' ' || *v == '\t'))
    v++, n--;
  while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
    n--;
  return xstrndup(v, n);
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
  struct reg_req *q = ud;
  size_t n = size * nitems;
  if (n > 5 && strncmp(buf, "HTTP/", 5) == 0) { /* a new response (after a redirect or 100) */
    reg_req_reset_response(q);
    return n;
  }
  static const struct {
    const char *name;
    size_t off;
  } keep[] = {
    { "content-type", offsetof(struct reg_req, content_type) },
    { "docker-content-digest", offsetof(struct reg_req, docker_digest) },
    { "location", offsetof(struct reg_req, location) },
    { "www-authenticate", offsetof(struct reg_req, www_auth) },
    { "retry-after", offsetof(struct reg_req, retry_after) },
    { "content-range", offsetof(struct reg_req, content_range) },
    { "link", offsetof(struct reg_req, link) },
    { "last-modified", offsetof(struct reg_req, last_modified) },
  };
  const char *colon = memchr(buf, ':', n);
  if (colon == NULL)
    return n;
  size_t klen = (size_t) (colon - buf);
  for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
    if (strlen(keep[i].name) == klen && strncasecmp(buf, keep[i].name, klen) == 0) {
      char **slot = (char **) ((char *) q + keep[i].off);
      if (*slot == NULL)
        *slot = trimmed(colon + 1, n - klen - 1);
    }
  if (klen == 14 && strncasecmp(buf, "content-length", 14) == 0) {
    cleanup_free char *v = trimmed(colon + 1, n - klen - 1);
    q->content_length = strtoll(v, NULL, 10);
  }
  return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
  struct reg_req *q = ud;
  size_t n = size * nmemb;
  if (q->sink != NULL && q->status >= 200 && q->status < 300)
    return q->sink(q->sink_ctx, data, n);
  if (q->body.len + n > (q->max_body ? q->max_body : 64 << 10)) {
    q->body_too_big = true;
    return q->max_body ? 0 : n; /* a buffered document too large: abort; an error body: cut */
  }
  berth_strbuf_append(&q->body, data, n);
  return n;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
  struct reg_req *q = ud;
  size_t want = size * nitems;
  if (q->body_fd < 0) {
    size_t left = q->send_len - q->body_pos;
    size_t n = left < want ? left : want;
    memcpy(buf, q->send + q->body_pos, n);
    q->body_pos += n;
    return n;
  }
  uint64_t left = q->body_size - q->body_pos;
  size_t n = left < want ? (size_t) left : want;
  if (n == 0)
    return 0;
  ssize_t got = pread(q->body_fd, buf, n, (off_t) (q->body_off + q->body_pos));
  if (got <= 0)
    return CURL_READFUNC_ABORT;
  q->body_pos += (uint64_t) got;
  if (q->upload_progress != NULL)
    __atomic_store_n(q->upload_progress, q->body_off + q->body_pos, __ATOMIC_RELAXED);
  return (size_t) got;
}

/* the response status as soon as the headers are in (so that on_body knows where to go) */
static size_t on_header_status(char *buf, size_t size, size_t nitems, void *ud)
{
  struct reg_req *q = ud;
  size_t n = on_header(buf, size, nitems, ud);
  if (size * nitems > 9 && strncmp(buf, "HTTP/", 5) == 0) {
    const char *sp = memchr(buf, ' ', size * nitems);
    if (sp != NULL)
      q->status = strtol(sp + 1, NULL, 10);
  }
  return n;
}

static void set_method(CURL *h, struct reg_req *q)
{
  bool upload = q->send != NULL || q->body_fd >= 0;
  if (strcmp(q->method, "HEAD") == 0) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (strcmp(q->method, "PUT") == 0 || strcmp(q->method, "PATCH") == 0 ||
             strcmp(q->method, "POST") == 0) {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, q);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                     (curl_off_t) (!upload           ? 0
                                   : q->body_fd >= 0 ? q->body_size
                                                     : q->send_len));
    if (strcmp(q->method, "PUT") != 0)
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
  } else if (strcmp(q->method, "GET") != 0) {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
  }
}

CURL *reg_easy_new(struct berth_registry *r, struct reg_req *q)
{
  CURL *h = curl_easy_init();
  if (h == NULL)
    berth_oom();
  q->body_pos = 0;
  curl_easy_setopt(h, CURLOPT_URL, q->url);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L); /* a stalled transfer: 60 s without a byte */
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, q->errbuf);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header_status);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, q);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, q);
  curl_easy_setopt(h, CURLOPT_USERAGENT, r->o.user_agent ? r->o.user_agent : "berth/" BERTH_VERSION);
  curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L << 10);
  curl_easy_setopt(h, CURLOPT_PRIVATE, q);
  reg_tls_apply(r, h);
  set_method(h, q);
  struct curl_slist *hdrs = NULL;
  for (struct curl_slist *p = q->headers; p; p = p->next)
    hdrs = curl_slist_append(hdrs, p->data);
  cleanup_free char *auth = q->no_auth ? NULL : reg_auth_header(r, q->scope);
  if (auth != NULL) {
    cleanup_free char *line = xasprintf("Authorization: %s", auth);
    hdrs = curl_slist_append(hdrs, line);
    explicit_bzero(line, strlen(line));
    explicit_bzero(auth, strlen(auth));
  }
  if (q->send != NULL || q->body_fd >= 0)
    hdrs = curl_slist_append(hdrs, "Expect:");
  curl_slist_free_all(q->sent);
  q->sent = hdrs; /* lives as long as the handle */
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  return h;
}

void reg_easy_done(struct reg_req *q, CURL *h, CURLcode rc)
{
  q->rc = rc;
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  q->status = status;
}

int reg_perform(struct berth_registry *r, struct reg_req *q, berth_error_t *err)
{
  reg_req_reset_response(q);
  CURL *h = reg_easy_new(r, q);
  CURLcode rc = curl_easy_perform(h);
  reg_easy_done(q, h, rc);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK)
    return reg_transport_error(q, q->method, err);
  return 0;
}
