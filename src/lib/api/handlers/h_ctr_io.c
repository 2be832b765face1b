/* A container's output and files as streams: logs (follow, since, until, timestamps, tail),
 * export, and the archive endpoints of docker cp (HEAD and GET: a path's stat and its tar;
 * PUT: a tar extracted into a directory). Each runs as a job (job.c) writing to a pipe. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/handlers/handlers_internal.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/cp/cp.h"

/* ---- logs ---- */
struct logs_job {
  char *id;
  struct berth_ctr_logs_opts o;
  bool out, err, ts, tty;
  int fd;
};

static int logs_sink(void *data, const struct berth_log_record *rec)
{
  struct logs_job *j = data;
  if (!(rec->stream == BERTH_LOG_STDERR ? j->err : j->out))
    return 0;
  char ts[BERTH_LOG_TS_LEN + 2] = "";
  if (j->ts) {
    berth_log_format_ts(rec->time, ts);
    ts[BERTH_LOG_TS_LEN] = ' ';
    ts[BERTH_LOG_TS_LEN + 1] = '\0';
  }
  size_t tl = strlen(ts), len = tl + rec->len + !rec->partial;
  cleanup_free char *buf = xmalloc(len + 8);
  size_t off = j->tty ? 0 : 8;
  if (!j->tty)
    berth_api_mux_header((unsigned char *) buf, rec->stream == BERTH_LOG_STDERR ? 2 : 1, (uint32_t) len);
  memcpy(buf + off, ts, tl);
  memcpy(buf + off + tl, rec->data, rec->len);
  if (!rec->partial)
    buf[off + len - 1] = '\n';
  return berth_write_all(j->fd, buf, off + len);
}

static BERTH_WUR int logs_run(struct berth_engine *e, void *data, int in, int out, berth_error_t *err)
{
  struct logs_job *j = data;
  (void) in;
  j->fd = out;
  return berth_ctr_logs(e, j->id, &j->o, logs_sink, j, err);
}

/* since/until: unix seconds with an optional fraction ("1700000000.123456789"); 0: none */
static BERTH_WUR int time_param(struct api_req *r, const char *key, int64_t *ns, berth_error_t *err)
{
  const char *v = api_query(r, key);
  *ns = 0;
  if (v == NULL || v[0] == '\0')
    return 0;
  char *end = NULL;
  errno = 0;
  long long s = strtoll(v, &end, 10);
  int64_t frac = 0;
  if (end && *end == '.') {
    int digits = 0;
    for (end++; *end >= '0' && *end <= '9'; end++, digits++)
      if (digits < 9)
        frac = frac * 10 + (*end - '0');
    for (; digits < 9; digits++)
      frac *= 10;
  }
  if (errno || end == v || *end != '\0' || s < 0 || s > 100000000000LL)
    return BERTH_ERR(err, "invalid value for `%s`: `%s` (unix seconds)", key, v);
  *ns = (int64_t) s * 1000000000 + frac;
  return 0;
}

enum MHD_Result api_h_CTR_LOGS(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct berth_ctr c;
  struct logs_job j = { .o.tail = -1,
                        .out = api_query_bool(r, "stdout", false),
                        .err = api_query_bool(r, "stderr", false),
                        .ts = api_query_bool(r, "timestamps", false) };
  j.o.follow = api_query_bool(r, "follow", false);
  const char *tail = api_query(r, "tail");
  if (tail && tail[0] && strcmp(tail, "all") != 0 && (berth_parse_i64(tail, &j.o.tail) < 0 || j.o.tail < 0))
    return api_reply_error(r, 400, "invalid value for `tail`: `%s`", tail);
  if (time_param(r, "since", &j.o.since, &err) < 0 || time_param(r, "until", &j.o.until, &err) < 0)
    return api_reply_err_status(r, 400, &err);
  if (!j.out && !j.err)
    return api_reply_error(r, 400, "you must choose at least one stream");
  if (api_ctr_get(r, &e, &c, &err) < 0)
    return api_reply_err(r, &err);
  j.tty = json_is_true(json_object_get(c.config, "Tty"));
  j.id = c.row.id;
  struct api_job job;
  int fd = -1;
  int rc = api_job_start(r, logs_run, &j, NULL, &fd, &job, &err);
  bool tty = j.tty;
  berth_ctr_release(&c);
  if (rc < 0)
    return api_reply_err(r, &err);
  struct api_stream_opts so = { .ctype = api_stream_ctype(r, tty), .kill_job = true };
  return api_reply_stream(r, 200, fd, &job, &so);
}

/* ---- export ---- */
static BERTH_WUR int export_run(struct berth_engine *e, void *data, int in, int out, berth_error_t *err)
{
  (void) in;
  return berth_ctr_export(e, data, out, err);
}

/* a job whose output only starts once it succeeded: its first bytes, or its error */
static BERTH_WUR int first_bytes(struct api_job *job, int fd, char *buf, size_t want, size_t *got,
                                 berth_error_t *err)
{
  *got = 0;
  while (*got < want) {
    ssize_t n = read(fd, buf + *got, want - *got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    *got += (size_t) n;
  }
  if (*got == 0)
    return api_job_wait(job, err) < 0 ? -1 : 0;
  return 0;
}

enum MHD_Result api_h_CTR_EXPORT(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct berth_ctr c;
  if (api_ctr_get(r, &e, &c, &err) < 0)
    return api_reply_err(r, &err);
  struct api_job job;
  int fd = -1;
  int rc = api_job_start(r, export_run, c.row.id, NULL, &fd, &job, &err);
  berth_ctr_release(&c);
  if (rc < 0)
    return api_reply_err(r, &err);
  char buf[512];
  size_t got = 0;
  if (first_bytes(&job, fd, buf, 1, &got, &err) < 0) {
    close(fd);
    return api_reply_err(r, &err);
  }
  struct api_stream_opts so = { .ctype = "application/x-tar", .prefix = buf, .prefix_len = got };
  return api_reply_stream(r, 200, fd, &job, &so);
}

/* ---- archive ---- */
struct cp_job {
  const char *container, *path;
};

static BERTH_WUR int archive_out_run(struct berth_engine *e, void *data, int in, int out, berth_error_t *err)
{
  struct cp_job *j = data;
  (void) in;
  struct berth_ctr_cp_request req = {
    .container = j->container, .to_container = false, .src = j->path, .dst = "-", .stream_fd = out
  };
  return berth_ctr_cp(e, &req, NULL, err);
}

/* the tar's first entry, read ahead: the stat header; *prefix holds what was read */
static BERTH_WUR int stat_ahead(struct api_job *job, int fd, char **prefix, size_t *len,
                                struct berth_api_path_stat *st, berth_error_t *err)
{
  size_t cap = 64 * 1024;
  char *buf = xmalloc(cap);
  size_t got = 0;
  int parsed = 0;
  while (parsed == 0 && got < cap) {
    ssize_t n = read(fd, buf + got, cap - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t) n;
    parsed = berth_api_tar_stat((const unsigned char *) buf, got, st);
  }
  *prefix = buf;
  *len = got;
  if (parsed == 1)
    return 0;
  if (api_job_wait(job, err) < 0)
    return -1;
  return BERTH_ERR(err, "copy: the archive of the path could not be read");
}

static enum MHD_Result archive_get(struct api_req *r, bool head)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct berth_ctr c;
  const char *path = api_query(r, "path");
  if (path == NULL || path[0] == '\0')
    return api_reply_error(r, 400, "a path is needed (?path=)");
  if (api_ctr_get(r, &e, &c, &err) < 0)
    return api_reply_err(r, &err);
  struct cp_job j = { c.row.id, path };
  struct api_job job;
  int fd = -1;
  int rc = api_job_start(r, archive_out_run, &j, NULL, &fd, &job, &err);
  cleanup_free char *prefix = NULL;
  size_t len = 0;
  struct berth_api_path_stat st;
  if (rc == 0 && stat_ahead(&job, fd, &prefix, &len, &st, &err) < 0)
    rc = -1;
  berth_ctr_release(&c);
  if (rc < 0) {
    if (fd >= 0)
      close(fd);
    api_job_end(&job, true);
    if (err && strstr(err->msg, "No such file or directory")) /* Docker's words: docker cp shows them */
      return api_reply_error(r, 404, "Could not find the file %s in container %s", path, r->m.arg[0]);
    return api_reply_err(r, &err);
  }
  cleanup_free char *hdr = berth_api_path_stat_header(&st);
  if (head) {
    close(fd);
    api_job_end(&job, true);
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "X-Docker-Container-Path-Stat", hdr);
    MHD_add_response_header(resp, "Content-Type", "application/x-tar");
    enum MHD_Result res = MHD_queue_response(r->mc, 200, resp);
    MHD_destroy_response(resp);
    return res;
  }
  struct api_stream_opts so = { .ctype = "application/x-tar",
                                .prefix = prefix,
                                .prefix_len = len,
                                .kill_job = true,
                                .extra_header = "X-Docker-Container-Path-Stat",
                                .extra_value = hdr };
  return api_reply_stream(r, 200, fd, &job, &so);
}

enum MHD_Result api_h_CTR_ARCHIVE_HEAD(struct api_req *r) { return archive_get(r, true); }
enum MHD_Result api_h_CTR_ARCHIVE_GET(struct api_req *r) { return archive_get(r, false); }

struct put_job {
  char *container, *path;
};

static void put_job_free(void *p)
{
  struct put_job *j = p;
  free(j->container);
  free(j->path);
  free(j);
}

static BERTH_WUR int archive_in_run(struct berth_engine *e, void *data, int in, int out, berth_error_t *err)
{
  struct put_job *j = data;
  (void) out;
  struct berth_ctr_cp_request req = {
    .container = j->container, .to_container = true, .src = "-", .dst = j->path, .stream_fd = in
  };
  int rc = berth_ctr_cp(e, &req, NULL, err);
  char drain[4096]; /* what the tar had after its end: read, so that the client's upload finishes */
  while (read(in, drain, sizeof drain) > 0)
    ;
  return rc;
}

int api_begin_CTR_ARCHIVE_PUT(struct api_req *r, berth_error_t *err)
{
  const char *path = api_query(r, "path");
  if (path == NULL || path[0] == '\0')
    return BERTH_ERR(err, "a path is needed (?path=)");
  struct put_job *j = xcalloc(1, sizeof *j);
  j->container = xstrdup(r->m.arg[0]);
  j->path = xstrdup(path);
  r->data = j;
  r->data_free = put_job_free;
  return api_job_start(r, archive_in_run, j, &r->upload_fd, NULL, &r->job, err);
}

enum MHD_Result api_h_CTR_ARCHIVE_PUT(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  if (api_job_wait(&r->job, &err) < 0) {
    unsigned s = api_status_of(err->msg);
    return api_reply_err_status(r, s == 500 && strstr(err->msg, "not a directory") ? 400 : s, &err);
  }
  return api_reply_empty(r, 200);
}
