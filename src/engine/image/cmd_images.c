/* berth images / berth image ls */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cli.h"
#include "cli_format.h"
#include "commands.h"
#include "engine/format.h"
#include "engine/images/images.h"

/* Go's time.Time.String() in the local zone: "2006-01-02 15:04:05 -0700 MST" */
static char *go_time(int64_t secs)
{
  time_t t = (time_t) secs;
  struct tm tm;
  localtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  return xstrdup(buf);
}

static const char *short_hex(const char *id, bool no_trunc, char buf[16])
{
  if (no_trunc)
    return id;
  snprintf(buf, 16, "%.12s", berth_str_has_prefix(id, "sha256:") ? id + 7 : id);
  return buf;
}

/* docker/cli's imageContext: the row templates see, its fields' column titles */
static const struct cli_list_format images_format = {
  "*formatter.imageContext",
  "{\"ID\":\"IMAGE ID\",\"Repository\":\"REPOSITORY\",\"Tag\":\"TAG\",\"Digest\":\"DIGEST\","
  "\"CreatedSince\":\"CREATED\",\"CreatedAt\":\"CREATED AT\",\"Size\":\"SIZE\",\"Containers\":\"CONTAINERS\","
  "\"SharedSize\":\"SHARED SIZE\",\"UniqueSize\":\"UNIQUE SIZE\"}",
};

static json_t *row_json(const struct berth_image_row *r, int64_t now, bool no_trunc)
{
  char idbuf[16];
  cleanup_free char *created = go_time(r->created), *since = berth_fmt_since(r->created, now);
  cleanup_free char *size = berth_fmt_size(r->size);
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers", "N/A",
                   "CreatedAt", created, "CreatedSince", since, "Digest", r->digest, "ID",
                   short_hex(r->id, no_trunc, idbuf), "Repository", r->repository, "SharedSize", "N/A",
                   "Size", size, "Tag", r->tag, "UniqueSize", "N/A", "VirtualSize", size);
}

static void print_table(const struct berth_image_row *rows, size_t n, bool digests, bool no_trunc,
                        int64_t now)
{
  struct berth_table t;
  berth_table_init(&t, digests ? 6 : 5);
  const char *head[] = { "REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE" };
  const char *head5[] = { "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE" };
  berth_table_add(&t, digests ? head : head5);
  for (size_t i = 0; i < n; i++) {
    char idbuf[16];
    cleanup_free char *since = berth_fmt_since(rows[i].created, now), *size = berth_fmt_size(rows[i].size);
    const char *id = short_hex(rows[i].id, no_trunc, idbuf);
    const char *c6[] = { rows[i].repository, rows[i].tag, rows[i].digest, id, since, size };
    const char *c5[] = { rows[i].repository, rows[i].tag, id, since, size };
    berth_table_add(&t, digests ? c6 : c5);
  }
  berth_table_print(&t, stdout);
  berth_table_release(&t);
}

/* -f: Docker's dangling=true|false, reference=<glob>, before=/since=<image>, label=k[=v] */
struct img_filter {
  int dangling; /* -1: any */
  char **refs, **labels;
  const char *before, *since;
  int64_t before_created, since_created; /* resolved (unix seconds) */
};

static int parse_filters(const char **filters, struct img_filter *f, berth_error_t *err)
{
  f->dangling = -1;
  for (const char **p = filters; p && *p; p++) {
    const char *v = strchr(*p, '=');
    size_t k = v ? (size_t) (v - *p) : 0;
    if (v)
      v++;
    if (strcmp(*p, "dangling=true") == 0 || strcmp(*p, "dangling=1") == 0)
      f->dangling = 1;
    else if (strcmp(*p, "dangling=false") == 0 || strcmp(*p, "dangling=0") == 0)
      f->dangling = 0;
    else if (v && k == 9 && strncmp(*p, "reference", k) == 0)
      f->refs = berth_strv_append(f->refs, v);
    else if (v && k == 5 && strncmp(*p, "label", k) == 0)
      f->labels = berth_strv_append(f->labels, v);
    else if (v && *v && k == 6 && strncmp(*p, "before", k) == 0)
      f->before = v;
    else if (v && *v && k == 5 && strncmp(*p, "since", k) == 0)
      f->since = v;
    else
      return BERTH_ERR(
        err, "invalid filter `%s` (supported: dangling=true|false, reference=, before=, since=, label=)", *p);
  }
  return 0;
}

static int created_of(struct berth_engine *e, const char *what, int64_t *out, berth_error_t *err)
{
  json_t *o = berth_images_inspect(e, what, err);
  if (o == NULL)
    return -1;
  struct tm tm = { 0 };
  const char *c = json_string_value(json_object_get(o, "Created"));
  *out = c && strptime(c, "%Y-%m-%dT%H:%M:%S", &tm) ? (int64_t) timegm(&tm) : 0;
  json_decref(o);
  return 0;
}

static bool labels_match(struct berth_engine *e, const struct berth_image_row *r, char *const *labels)
{
  if (labels == NULL)
    return true;
  berth_error_t ignore = NULL;
  json_t *o = berth_images_inspect(e, r->id, &ignore);
  berth_error_release(&ignore);
  json_t *l = json_object_get(json_object_get(o, "Config"), "Labels");
  bool ok = true;
  for (size_t i = 0; ok && labels[i]; i++) {
    const char *eq = strchr(labels[i], '=');
    cleanup_free char *key = eq ? xstrndup(labels[i], (size_t) (eq - labels[i])) : xstrdup(labels[i]);
    json_t *v = json_object_get(l, key);
    ok = json_is_string(v) && (eq == NULL || strcmp(json_string_value(v), eq + 1) == 0);
  }
  json_decref(o);
  return ok;
}

static bool refs_match(const struct berth_image_row *r, char *const *refs)
{
  if (refs == NULL)
    return true;
  cleanup_free char *full = xasprintf("%s:%s", r->repository, r->tag);
  for (size_t i = 0; refs[i]; i++)
    if (strcmp(r->repository, "<none>") != 0 &&
        (fnmatch(refs[i], r->repository, FNM_PATHNAME) == 0 || fnmatch(refs[i], full, FNM_PATHNAME) == 0))
      return true;
  return false;
}

static bool filter_match(struct berth_engine *e, const struct img_filter *f, const struct berth_image_row *r)
{
  return (f->dangling < 0 || r->dangling == (f->dangling == 1)) &&
         (!f->before || r->created < f->before_created) && (!f->since || r->created > f->since_created) &&
         refs_match(r, f->refs) && labels_match(e, r, f->labels);
}

static void img_filter_release(struct img_filter *f)
{
  berth_strv_free(f->refs);
  berth_strv_free(f->labels);
}
#define cleanup_img_filter __attribute__((cleanup(img_filter_release)))

int cmd_images(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool all = false, quiet = false, digests = false, no_trunc = false;
  const char *format = NULL;
  cleanup_free const char **filters = NULL;
  const struct berth_cli_opt opts[] = {
    { "all", 'a', BERTH_CLI_BOOL, &all, NULL, "Show all images (default hides intermediate images)" },
    { "digests", 0, BERTH_CLI_BOOL, &digests, NULL, "Show digests" },
    { "filter", 'f', BERTH_CLI_STRINGS, &filters, "filter",
      "Filter output (dangling=, reference=, before=, since=, label=)" },
    { "format", 0, BERTH_CLI_STRING, &format, "string",
      "Format output: table (default), table TEMPLATE, json, or a Go template ({{.Repository}})" },
    { "no-trunc", 0, BERTH_CLI_BOOL, &no_trunc, NULL, "Don't truncate output" },
    { "quiet", 'q', BERTH_CLI_BOOL, &quiet, NULL, "Only show image IDs" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth images [OPTIONS] [REPOSITORY[:TAG]]", "List images", err);
  cleanup_img_filter struct img_filter f = { .dangling = -1 };
  if (r != 0 || cli_want_args(ctx, 0, 1, "[REPOSITORY[:TAG]]", err) < 0)
    return r > 0 ? 0 : -1;
  if (parse_filters(filters, &f, err) < 0) {
    ctx->usage_error = true;
    return berth_error_wrap(err, "%s: --filter", ctx->path);
  }
  struct berth_engine *e = NULL;
  struct berth_image_row *rows = NULL;
  size_t n = 0;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = (f.before && created_of(e, f.before, &f.before_created, err) < 0) ||
          (f.since && created_of(e, f.since, &f.since_created, err) < 0)
        ? -1
        : berth_images_list(e, all, ctx->argc ? ctx->argv[0] : NULL, &rows, &n, err);
  size_t kept = 0;
  for (size_t i = 0; r == 0 && i < n; i++) /* filter in place (rows keep their own strings) */
    if (filter_match(e, &f, &rows[i])) {
      struct berth_image_row tmp = rows[kept];
      rows[kept++] = rows[i];
      rows[i] = tmp;
    }
  berth_engine_close(e);
  if (r < 0)
    return -1;
  int64_t now = (int64_t) time(NULL);
  if (quiet) { /* -q wins over --format, as in Docker */
    for (size_t i = 0; i < kept; i++) {
      char idbuf[16];
      puts(short_hex(rows[i].id, no_trunc, idbuf));
    }
  } else if (cli_format_is_default(format)) {
    print_table(rows, kept, digests, no_trunc, now);
  } else {
    json_t *v = json_array();
    for (size_t i = 0; i < kept; i++)
      json_array_append_new(v, row_json(&rows[i], now, no_trunc));
    r = cli_format_list(ctx, format, &images_format, v, NULL, err);
    json_decref(v);
  }
  berth_image_rows_free(rows, n);
  return r < 0 ? -1 : 0;
}
