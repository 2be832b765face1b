/* The request loop: authentication on 401 and retries with backoff, and the errors made from
 * registry responses. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "json/json.h"
#include "registry/registry_int.h"

static bool transport_retriable(CURLcode rc)
{
  switch (rc) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_PARTIAL_FILE:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_WEIRD_SERVER_REPLY: return true;
  default: return false;
  }
}

static void sleep_ms(int64_t ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
  while (nanosleep(&ts, &ts) < 0)
    ;
}

int reg_request(struct berth_registry *r, struct reg_req *q, berth_error_t *err)
{
  if (reg_ensure_base(r, err) < 0)
    return -1;
  bool auth_tried = false;
  for (int attempt = 1;; attempt++) {
    berth_error_t terr = NULL;
    int pr = reg_perform(r, q, &terr);
    if (pr == 0 && q->status == 401) {
      if (auth_tried) /* refused with what the challenge asked for: final, no storm */
        return reg_auth_refused(r, q, err);
      auth_tried = true;
      if (reg_auth_handle(r, q, err) < 0)
        return -1;
      attempt--;
      continue;
    }
    if (pr < 0 && !transport_retriable(q->rc)) {
      *err = steal_ptr(terr);
      return -1;
    }
    struct berth_retry_input in = { attempt, pr < 0 ? 0 : q->status, pr < 0, q->retry_after,
                                    (int64_t) time(NULL) };
    int64_t delay = berth_retry_plan(&r->o.retry, &in);
    if (delay < 0) {
      if (pr < 0) {
        *err = steal_ptr(terr);
        return berth_error_wrap(err, "after %d attempts", attempt);
      }
      return 0;
    }
    berth_log_debug("%s %s: %s, attempt %d, retrying in %lld ms", q->method, q->url,
                    pr < 0 ? terr->msg : "server error", attempt, (long long) delay);
    berth_error_release(&terr);
    sleep_ms(delay);
  }
}

/* the first error of a registry error body: "CODE: message" (malloc'd) or NULL */
static char *error_body(const struct reg_req *q)
{
  if (q->body.len == 0)
    return NULL;
  json_error_t je;
  json_t *j = json_loadb(q->body.buf, q->body.len, 0, &je);
  json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
  const char *code = json_string_value(json_object_get(e0, "code"));
  const char *msg = json_string_value(json_object_get(e0, "message"));
  char *out = NULL;
  if (code != NULL)
    out = msg ? xasprintf("%s: %s", code, msg) : xstrdup(code);
  json_decref(j);
  return out;
}

int reg_status_error(const struct reg_req *q, const char *what, berth_error_t *err)
{
  cleanup_free char *detail = error_body(q);
  const char *reason = q->status == 401   ? "unauthorized"
                       : q->status == 403 ? "denied"
                       : q->status == 404 ? "not found"
                       : q->status == 429 ? "too many requests"
                       : q->status >= 500 ? "server error"
                                          : "unexpected status";
  if (detail != NULL)
    return BERTH_ERR(err, "%s: %s (HTTP %ld, %s)", what, reason, q->status, detail);
  return BERTH_ERR(err, "%s: %s (HTTP %ld)", what, reason, q->status);
}

int reg_transport_error(const struct reg_req *q, const char *what, berth_error_t *err)
{
  const char *msg = q->errbuf[0] ? q->errbuf : curl_easy_strerror(q->rc);
  if (q->rc == CURLE_TOO_MANY_REDIRECTS)
    return BERTH_ERR(err, "%s: too many redirects (a redirect loop?)", what);
  if (q->rc == CURLE_WRITE_ERROR && q->body_too_big)
    return BERTH_ERR(err, "%s: response larger than %zu bytes", what, q->max_body);
  return BERTH_ERR(err, "%s: %s", what, msg);
}

char *reg_url(struct berth_registry *r, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *path = NULL;
  if (vasprintf(&path, fmt, ap) < 0)
    berth_oom();
  va_end(ap);
  char *url = xasprintf("%s/v2/%s", r->base, path);
  free(path);
  return url;
}

char *reg_resolve_location(struct berth_registry *r, const char *loc)
{
  if (strncmp(loc, "http://", 7) == 0 || strncmp(loc, "https://", 8) == 0)
    return xstrdup(loc);
  if (loc[0] == '/') {
    /* base is scheme://host[:port][/prefix]: keep scheme://host[:port] */
    const char *p = strstr(r->base, "://");
    size_t n = p ? (size_t) (strchrnul(p + 3, '/') - r->base) : strlen(r->base);
    return xasprintf("%.*s%s", (int) n, r->base, loc);
  }
  return xasprintf("%s/%s", r->base, loc);
}

char *reg_scope(const char *repo, bool push)
{
  return xasprintf("repository:%s:%s", repo, push ? "pull,push" : "pull");
}
