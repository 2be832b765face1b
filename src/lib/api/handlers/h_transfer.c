/* Images in and out: pull (POST /images/create?fromImage=) and push with Docker's JSON progress
 * stream, import (fromSrc=-), save (GET /images/{name}/get, /images/get?names=) and load
 * (POST /images/load), and the registry login of /auth. Each runs as a job; pull and push
 * write berth's plain progress lines, which the stream turns into Docker's JSON messages. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/handlers/handlers_internal.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/images/images.h"

char *api_registry_host(const char *server)
{
  if (server == NULL || server[0] == '\0' || strstr(server, "index.docker.io") || strstr(server, "docker.io"))
    return xstrdup("docker.io");
  const char *p = strstr(server, "://");
  p = p ? p + 3 : server;
  return xstrndup(p, strcspn(p, "/"));
}

int api_registry_login(const char *registry, const struct berth_credentials *creds, berth_error_t *err)
{
  struct berth_registry_conf conf;
  memset(&conf, 0, sizeof conf);
  if (berth_registry_conf_load(NULL, &conf, err) < 0)
    return -1;
  struct berth_registry_opts o = { .conf = &conf, .creds = creds, .tls_verify = -1 };
  struct berth_registry *reg = NULL;
  int r = berth_registry_new(registry, NULL, &o, &reg, err) < 0 ? -1 : berth_registry_check_login(reg, err);
  berth_registry_free(reg);
  berth_registry_conf_release(&conf);
  return r;
}

/* ---- pull, push: a job writes plain progress lines; the stream makes them JSON ---- */
struct transfer {
  bool push;
  char *ref;
  char *platform;
  char *user, *pass; /* X-Registry-Auth */
};

static void transfer_free(struct transfer *t)
{
  free(t->ref);
  free(t->platform);
  free(t->user);
  free(t->pass);
}

static BERTH_WUR int transfer_run(struct berth_engine *e, void *data, int in, int out, berth_error_t *err)
{
  struct transfer *t = data;
  (void) in;
  struct berth_registry_conf conf;
  memset(&conf, 0, sizeof conf);
  if (berth_registry_conf_load(NULL, &conf, err) < 0)
    return -1;
  struct berth_credentials creds = { .username = t->user, .password = t->pass };
  struct berth_transfer_opts o = {
    .reg = { .conf = &conf, .creds = t->user ? &creds : NULL, .tls_verify = -1 },
    .platform = t->platform,
    .progress_fd = out,
    .width = 80
  };
  int r;
  if (t->push) {
    berth_digest_t digest;
    r = berth_images_push(e, t->ref, &o, digest, err);
  } else {
    struct berth_pull_result res = { 0 };
    r = berth_images_pull(e, t->ref, &o, &res, err);
    berth_pull_result_release(&res);
  }
  berth_registry_conf_release(&conf);
  return r;
}

struct progress {
  struct api_conn *conn;
  int fd;
  struct api_job job;
  struct berth_strbuf line;
  char *pending; /* JSON text ready to go out */
  size_t plen, poff;
  bool eof, done;
  bool json_lines; /* the job writes JSON messages itself (a build), not plain progress lines */
};

static void progress_free(void *p)
{
  struct progress *g = p;
  close(g->fd);
  api_job_end(&g->job, false); /* a pull the client stopped watching finishes */
  berth_strbuf_release(&g->line);
  free(g->pending);
  free(g);
}

static void set_pending(struct progress *g, char *text)
{
  free(g->pending);
  g->pending = text;
  g->plen = strlen(text);
  g->poff = 0;
}

/* one line of the job as a JSON message: a build's own messages as they are, its pulls'
 * progress lines (and a pull's or push's) made into Docker's */
static char *message(const struct progress *g, const char *line, size_t n)
{
  if (g->json_lines && n > 0 && line[0] == '{')
    return xasprintf("%.*s\n", (int) n, line);
  return berth_api_progress_json(line, n);
}

/* the next JSON message: a whole line from the job, or at its end the job's error */
static bool next_message(struct progress *g)
{
  for (;;) {
    char *nl = g->line.buf ? memchr(g->line.buf, '\n', g->line.len) : NULL;
    if (nl) {
      size_t n = (size_t) (nl - g->line.buf);
      set_pending(g, message(g, g->line.buf, n));
      memmove(g->line.buf, nl + 1, g->line.len - n - 1);
      g->line.len -= n + 1;
      return true;
    }
    if (g->eof)
      break;
    char buf[4096];
    struct pollfd pf[2] = { { .fd = g->fd, .events = POLLIN }, { .fd = g->conn->fd, .events = POLLRDHUP } };
    if (poll(pf, 2, -1) < 0 && errno != EINTR)
      return false;
    if (pf[1].revents & (POLLRDHUP | POLLHUP | POLLERR))
      return false;
    ssize_t r = pf[0].revents ? read(g->fd, buf, sizeof buf) : -1;
    if (r > 0)
      berth_strbuf_append(&g->line, buf, (size_t) r);
    else if (r == 0 || (errno != EINTR && errno != EAGAIN))
      g->eof = true;
  }
  if (g->line.len > 0) {
    set_pending(g, message(g, g->line.buf, g->line.len));
    g->line.len = 0;
    return true;
  }
  if (g->done)
    return false;
  g->done = true;
  berth_error_t err = NULL;
  if (api_job_wait(&g->job, &err) == 0)
    return false;
  json_t *o = json_pack("{s:{s:s}, s:s}", "errorDetail", "message", err->msg, "error", err->msg);
  berth_error_release(&err);
  char *text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  cleanup_free char *t = text;
  set_pending(g, xasprintf("%s\n", t ? t : "{\"error\":\"?\"}"));
  return true;
}

static ssize_t progress_next(void *data, char *buf, size_t max)
{
  struct progress *g = data;
  if (g->poff >= g->plen && !next_message(g))
    return g->eof ? -1 : -2;
  size_t n = g->plen - g->poff < max ? g->plen - g->poff : max;
  memcpy(buf, g->pending + g->poff, n);
  g->poff += n;
  return (ssize_t) n;
}

enum MHD_Result api_reply_json_lines(struct api_req *r, int fd, const struct api_job *job)
{
  struct progress *g = xcalloc(1, sizeof *g);
  g->conn = r->c;
  g->fd = fd;
  g->job = *job;
  g->json_lines = true;
  return api_reply_gen(r, 200, "application/json", progress_next, g, progress_free);
}

static enum MHD_Result transfer(struct api_req *r, struct transfer *t)
{
  cleanup_error berth_error_t err = NULL;
  if (berth_api_registry_auth(api_header(r, "X-Registry-Auth"), &t->user, &t->pass, &err) < 0) {
    transfer_free(t);
    return api_reply_err_status(r, 400, &err);
  }
  struct progress *g = xcalloc(1, sizeof *g);
  g->conn = r->c;
  int rc = api_job_start(r, transfer_run, t, NULL, &g->fd, &g->job, &err);
  transfer_free(t);
  if (rc < 0) {
    free(g);
    return api_reply_err(r, &err);
  }
  return api_reply_gen(r, 200, "application/json", progress_next, g, progress_free);
}

/* ---- import (fromSrc=-: the body is a rootfs tarball) ---- */
struct import_job {
  char *repo, *message;
  char **changes;
};

static void import_free(void *p)
{
  struct import_job *j = p;
  free(j->repo);
  free(j->message);
  berth_strv_free(j->changes);
  free(j);
}

static BERTH_WUR int import_run(struct berth_engine *e, void *data, int in, int out, berth_error_t *err)
{
  struct import_job *j = data;
  (void) out;
  struct berth_import_opts o = {
    .source = "-", .message = j->message, .changes = j->changes, .reference = j->repo
  };
  berth_digest_t id;
  return berth_images_import(e, in, &o, id, err);
}

static enum MHD_Result collect_changes(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  char ***v = cls;
  (void) kind;
  if (strcmp(key, "changes") == 0 && value)
    *v = berth_strv_append(*v, value);
  return MHD_YES;
}

int api_begin_IMG_CREATE(struct api_req *r, berth_error_t *err)
{
  const char *src = api_query(r, "fromSrc");
  if (src == NULL)
    return 0; /* a pull: the body is empty */
  if (strcmp(src, "-") != 0)
    return BERTH_ERR(err, "fromSrc: only `-` (the body) is supported, not a URL");
  struct import_job *j = xcalloc(1, sizeof *j);
  const char *repo = api_query(r, "repo"), *tag = api_query(r, "tag"), *msg = api_query(r, "message");
  if (repo && repo[0])
    j->repo = tag && tag[0] ? xasprintf("%s:%s", repo, tag) : xstrdup(repo);
  j->message = msg && msg[0] ? xstrdup(msg) : NULL;
  MHD_get_connection_values(r->mc, MHD_GET_ARGUMENT_KIND, collect_changes, &j->changes);
  r->data = j;
  r->data_free = import_free;
  return api_job_start(r, import_run, j, &r->upload_fd, NULL, &r->job, err);
}

enum MHD_Result api_h_IMG_CREATE(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  if (api_query(r, "fromSrc")) {
    if (api_job_wait(&r->job, &err) < 0)
      return api_reply_err(r, &err);
    return api_reply_json(r, 200, json_pack("{s:s}", "status", "imported"));
  }
  const char *img = api_query(r, "fromImage"), *tag = api_query(r, "tag");
  if (img == NULL || img[0] == '\0')
    return api_reply_error(r, 400, "fromImage or fromSrc is needed");
  struct transfer t = { .push = false };
  if (tag && tag[0])
    t.ref = xasprintf("%s%s%s", img, strncmp(tag, "sha256:", 7) == 0 ? "@" : ":", tag);
  else
    t.ref = xstrdup(img);
  const char *platform = api_query(r, "platform");
  t.platform = platform && platform[0] ? xstrdup(platform) : NULL;
  return transfer(r, &t);
}

enum MHD_Result api_h_IMG_PUSH(struct api_req *r)
{
  const char *tag = api_query(r, "tag");
  struct transfer t = { .push = true };
  t.ref = tag && tag[0] ? xasprintf("%s:%s", r->m.arg[0], tag) : xstrdup(r->m.arg[0]);
  return transfer(r, &t);
}

/* ---- save and load ---- */
static BERTH_WUR int save_run(struct berth_engine *e, void *data, int in, int out, berth_error_t *err)
{
  (void) in;
  return berth_images_save(e, data, BERTH_SAVE_DOCKER_ARCHIVE, out, NULL, err);
}

static enum MHD_Result collect_names(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  char ***v = cls;
  (void) kind;
  if (strcmp(key, "names") == 0 && value && value[0])
    *v = berth_strv_append(*v, value);
  return MHD_YES;
}

static enum MHD_Result save(struct api_req *r, char **names)
{
  cleanup_error berth_error_t err = NULL;
  cleanup_strv char **v = names;
  if (v == NULL || v[0] == NULL)
    return api_reply_error(r, 400, "no image named (?names=)");
  struct api_job job;
  int fd = -1;
  if (api_job_start(r, save_run, v, NULL, &fd, &job, &err) < 0)
    return api_reply_err(r, &err);
  char first[1];
  ssize_t n;
  while ((n = read(fd, first, 1)) < 0 && errno == EINTR)
    ;
  if (n <= 0) {
    close(fd);
    if (api_job_wait(&job, &err) < 0)
      return api_reply_err(r, &err);
    return api_reply_error(r, 500, "save: empty archive");
  }
  struct api_stream_opts so = {
    .ctype = "application/x-tar", .prefix = first, .prefix_len = 1, .kill_job = true
  };
  return api_reply_stream(r, 200, fd, &job, &so);
}

enum MHD_Result api_h_IMG_GET(struct api_req *r) { return save(r, berth_strv_append(NULL, r->m.arg[0])); }

enum MHD_Result api_h_IMG_GET_ALL(struct api_req *r)
{
  char **names = NULL;
  MHD_get_connection_values(r->mc, MHD_GET_ARGUMENT_KIND, collect_names, &names);
  return save(r, names);
}

struct load_job {
  int out;
};

static BERTH_WUR int load_run(struct berth_engine *e, void *data, int in, int out, berth_error_t *err)
{
  (void) data;
  struct berth_load_result res = { 0 };
  int r = berth_images_load(e, NULL, in, &res, err);
  char drain[4096];
  while (read(in, drain, sizeof drain) > 0)
    ;
  for (size_t i = 0; r == 0 && res.names && res.names[i]; i++) {
    cleanup_free char *l = xasprintf("Loaded image: %s\n", res.names[i]);
    (void) !berth_write_all(out, l, strlen(l));
  }
  for (size_t i = 0; r == 0 && res.untagged && res.untagged[i]; i++) {
    cleanup_free char *l = xasprintf("Loaded image ID: %s\n", res.untagged[i]);
    (void) !berth_write_all(out, l, strlen(l));
  }
  berth_load_result_release(&res);
  return r;
}

int api_begin_IMG_LOAD(struct api_req *r, berth_error_t *err)
{
  int *outfd = xmalloc(sizeof *outfd);
  *outfd = -1;
  r->data = outfd;
  r->data_free = free;
  return api_job_start(r, load_run, NULL, &r->upload_fd, outfd, &r->job, err);
}

enum MHD_Result api_h_IMG_LOAD(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  int *outfd = r->data;
  cleanup_strbuf struct berth_strbuf text = BERTH_STRBUF_INIT;
  char buf[4096];
  ssize_t n;
  while ((n = read(*outfd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      berth_strbuf_append(&text, buf, (size_t) n);
  close(*outfd);
  *outfd = -1;
  if (api_job_wait(&r->job, &err) < 0)
    return api_reply_err_status(r, api_status_of(err->msg) == 500 ? 400 : api_status_of(err->msg), &err);
  cleanup_strbuf struct berth_strbuf out = BERTH_STRBUF_INIT;
  for (char *line = text.buf, *nl; line && (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
    *nl = '\0';
    json_t *o = json_pack("{s:s++}", "stream", line, "\n", "");
    cleanup_free char *j = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (j)
      berth_strbuf_printf(&out, "%s\n", j);
  }
  return api_reply_raw(r, 200, "application/json", out.buf ? out.buf : "", out.len);
}
