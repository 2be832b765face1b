/* POST /build: the classic builder's endpoint (the Docker CLI without buildx, docker-py,
 * docker-compose). The body is the tar context, streamed to a job that runs it through the
 * build module (engine/builds) from the start of the upload; the job writes Docker's JSON
 * messages — {"stream": "Step 1/3 : FROM bb\n"}, the RUN output, " ---> <id>", then
 * {"aux": {"ID": ...}}, "Successfully built", "Successfully tagged" — which the response
 * streams as they come, and an {"error": ...} message when the build fails. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/handlers/handlers_internal.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/builds/builds.h"
#include "engine/images/images.h"

struct build_job {
  char **tags, **build_args, **labels, **cache_from;
  char *dockerfile, *target, *network;
  bool no_cache, pull, quiet;
  int out; /* in the job: where the messages go */
};

static void build_job_free(void *p)
{
  struct build_job *j = p;
  berth_strv_free(j->tags);
  berth_strv_free(j->build_args);
  berth_strv_free(j->labels);
  berth_strv_free(j->cache_from);
  free(j->dockerfile);
  free(j->target);
  free(j->network);
  free(j);
}

static void say(struct build_job *j, const char *key, json_t *v)
{
  json_t *o = json_pack("{s:o}", key, v);
  char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  if (text == NULL)
    return;
  cleanup_free char *line = xasprintf("%s\n", text);
  free(text);
  (void) !berth_write_all(j->out, line, strlen(line));
}

static void stream(struct build_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void stream(struct build_job *j, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  json_t *v = json_stringn_nocheck(s, (size_t) n);
  free(s);
  say(j, "stream", v);
}

static const char *short_id(const char *image)
{
  const char *h = image && strncmp(image, "sha256:", 7) == 0 ? image + 7 : image;
  return h ? h : "";
}

static void progress(void *data, const struct berth_builds_event *ev)
{
  struct build_job *j = data;
  if (j->quiet && ev->kind != BERTH_BUILDS_EV_IMAGE)
    return;
  const char *text = ev->text ? ev->text : "";
  switch (ev->kind) {
  case BERTH_BUILDS_EV_STEP: {
    const char *in = text[0] == '[' ? strstr(text, "] ") : NULL; /* "[2/5] RUN ..." */
    stream(j, "Step %zu/%zu : %.*s\n", ev->step, ev->nsteps, (int) (in ? strlen(in + 2) : ev->len),
           in ? in + 2 : text);
    break;
  }
  case BERTH_BUILDS_EV_CACHED: stream(j, " ---> Using cache\n ---> %.12s\n", short_id(ev->image)); break;
  case BERTH_BUILDS_EV_OUTPUT: stream(j, "%.*s", (int) ev->len, text); break;
  case BERTH_BUILDS_EV_DONE: stream(j, " ---> %.12s\n", short_id(ev->image)); break;
  case BERTH_BUILDS_EV_ERROR: break; /* the job's error ends the stream */
  case BERTH_BUILDS_EV_WARNING: stream(j, "[WARNING]: %.*s\n", (int) ev->len, text); break;
  case BERTH_BUILDS_EV_IMAGE:
    if (ev->text == NULL) {
      say(j, "aux", json_pack("{s:s}", "ID", ev->image));
      if (j->quiet) /* what `docker build -q` prints */
        stream(j, "%s\n", ev->image);
      else
        stream(j, "Successfully built %.12s\n", short_id(ev->image));
    } else if (!j->quiet) {
      stream(j, "Successfully tagged %.*s\n", (int) ev->len, text);
    }
    break;
  }
}

static BERTH_WUR int build_run(struct berth_engine *e, void *data, int in, int out, berth_error_t *err)
{
  struct build_job *j = data;
  j->out = out;
  /* a relative dockerfile= names a file of the context, never one of the service's cwd */
  cleanup_free char *empty = api_state_dir(e, "build");
  if (chdir(empty) < 0)
    return BERTH_ERR_ERRNO(err, "build: chdir `%s`", empty);
  struct berth_registry_conf conf;
  memset(&conf, 0, sizeof conf);
  if (berth_registry_conf_load(NULL, &conf, err) < 0)
    return -1;
  struct berth_transfer_opts t = { .reg = { .conf = &conf, .tls_verify = -1 },
                                   .progress_fd = j->quiet ? -1 : out,
                                   .width = 80 };
  struct berth_builds_opts o = { .context_fd = in,
                                 .dockerfile = j->dockerfile,
                                 .tags = j->tags,
                                 .build_args = j->build_args,
                                 .labels = j->labels,
                                 .cache_from = j->cache_from,
                                 .target = j->target,
                                 .network = j->network,
                                 .no_cache = j->no_cache,
                                 .pull = j->pull,
                                 .source_date_epoch = -1,
                                 .transfer = &t,
                                 .progress = progress,
                                 .progress_data = j };
  berth_digest_t id;
  int r = berth_builds_run(e, &o, id, err);
  berth_registry_conf_release(&conf);
  return r;
}

static enum MHD_Result collect_tags(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  char ***v = cls;
  (void) kind;
  if (strcmp(key, "t") == 0 && value && value[0])
    *v = berth_strv_append(*v, value);
  return MHD_YES;
}

/* buildargs={"K":"V"} and labels={"K":"V"} as "K=V" strings (a null value: "K", the builder's
 * own environment is the service's and is not used) */
static BERTH_WUR int json_pairs(const char *key, const char *text, char ***out, berth_error_t *err)
{
  if (text == NULL || text[0] == '\0')
    return 0;
  json_error_t je;
  json_t *o = json_loads(text, 0, &je);
  if (!json_is_object(o)) {
    json_decref(o);
    return BERTH_ERR(err, "%s: expected a JSON object of strings", key);
  }
  const char *k;
  json_t *v;
  json_object_foreach (o, k, v) {
    if (!json_is_string(v) && !json_is_null(v)) {
      json_decref(o);
      return BERTH_ERR(err, "%s.%s: expected a string", key, k);
    }
    if (json_is_string(v)) {
      cleanup_free char *kv = xasprintf("%s=%s", k, json_string_value(v));
      *out = berth_strv_append(*out, kv);
    }
  }
  json_decref(o);
  return 0;
}

/* cachefrom=["image", ...] (Docker's: a JSON array of references) */
static BERTH_WUR int json_strings(const char *key, const char *text, char ***out, berth_error_t *err)
{
  if (text == NULL || text[0] == '\0')
    return 0;
  json_error_t je;
  json_t *a = json_loads(text, 0, &je);
  size_t i;
  json_t *v;
  json_array_foreach (a, i, v) {
    if (!json_is_string(v)) {
      json_decref(a);
      return BERTH_ERR(err, "%s[%zu]: expected a string", key, i);
    }
    *out = berth_strv_append(*out, json_string_value(v));
  }
  bool ok = json_is_array(a);
  json_decref(a);
  return ok ? 0 : BERTH_ERR(err, "%s: expected a JSON array of image references", key);
}

/* platform=: the host's is accepted (the docker CLI sends it with --platform), others refused */
static BERTH_WUR int check_platform(const char *plat, berth_error_t *err)
{
  if (plat == NULL || plat[0] == '\0')
    return 0;
  struct berth_platform_want w, host;
  if (berth_platform_want_parse(plat, &w, err) < 0)
    return -1;
  berth_platform_want_host(&host);
  if (strcmp(w.os, host.os) == 0 && strcmp(w.arch, host.arch) == 0 &&
      (w.variant[0] == '\0' || strcmp(w.variant, host.variant) == 0))
    return 0;
  cleanup_free char *h = berth_platform_want_string(&host);
  return BERTH_ERR(
    err, "platform: `%s`: builds for another platform than the host's (%s) are not supported by berth", plat,
    h);
}

static char *query_dup(struct api_req *r, const char *key)
{
  const char *v = api_query(r, key);
  return v && v[0] ? xstrdup(v) : NULL;
}

int api_begin_BUILD(struct api_req *r, berth_error_t *err)
{
  struct build_job *j = xcalloc(1, sizeof *j);
  r->data = j;
  r->data_free = build_job_free;
  MHD_get_connection_values(r->mc, MHD_GET_ARGUMENT_KIND, collect_tags, &j->tags);
  r->upload_status = 400; /* the parameters are the client's */
  if (json_pairs("buildargs", api_query(r, "buildargs"), &j->build_args, err) < 0 ||
      json_pairs("labels", api_query(r, "labels"), &j->labels, err) < 0 ||
      json_strings("cachefrom", api_query(r, "cachefrom"), &j->cache_from, err) < 0 ||
      check_platform(api_query(r, "platform"), err) < 0)
    return -1;
  const char *remote = api_query(r, "remote");
  if (remote && remote[0]) {
    r->upload_status = 501;
    return BERTH_ERR(err,
                     "remote: a context from a URL is not supported by berth; send the context as the body");
  }
  j->dockerfile = query_dup(r, "dockerfile");
  j->target = query_dup(r, "target");
  j->no_cache = api_query_bool(r, "nocache", false);
  j->pull = api_query_bool(r, "pull", false);
  j->quiet = api_query_bool(r, "q", false);
  const char *net = api_query(r, "networkmode");
  if (net && net[0] && strcmp(net, "default") != 0) {
    if (strcmp(net, "host") != 0 && strcmp(net, "none") != 0)
      return BERTH_ERR(err, "networkmode: `%s` is not host or none", net);
    j->network = xstrdup(net);
  }
  r->upload_status = 0;
  int *outfd = xmalloc(sizeof *outfd);
  *outfd = -1;
  int rc = api_job_start(r, build_run, j, &r->upload_fd, outfd, &r->job, err);
  /* the job has its copy of j: r keeps the output end instead */
  build_job_free(j);
  r->data = outfd;
  r->data_free = free;
  return rc;
}

enum MHD_Result api_h_BUILD(struct api_req *r)
{
  int *outfd = r->data;
  int fd = *outfd;
  *outfd = -1;
  enum MHD_Result res = api_reply_json_lines(r, fd, &r->job);
  r->job.pid = -1; /* the stream's now */
  r->job.sock = -1;
  return res;
}
