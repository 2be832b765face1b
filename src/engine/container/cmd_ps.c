/* berth ps / container ls / container list */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cli_format.h"
#include "container_cmd.h"
#include "engine/format.h"

/* Go's time.Time.String() in the local zone */
static char *go_time(int64_t ns)
{
  time_t t = (time_t) (ns / 1000000000);
  struct tm tm;
  localtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  return xstrdup(buf);
}

static char *labels_text(json_t *labels)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  const char *k;
  json_t *v;
  json_object_foreach (labels, k, v)
    berth_strbuf_printf(&b, "%s%s=%s", b.len ? "," : "", k, json_is_string(v) ? json_string_value(v) : "");
  return berth_strbuf_detach(&b);
}

/* the image as the container was created with it while that name still means its image; else
 * (removed, untagged, the tag moved) its id, as Docker shows it */
static char *image_text(struct berth_engine *e, const struct berth_ctr *c, bool no_trunc)
{
  berth_digest_t id;
  berth_error_t none = NULL;
  if (berth_engine_resolve(e, c->row.image, id, NULL, &none) == 0 && strcmp(id, c->row.image_id) == 0)
    return xstrdup(c->row.image);
  berth_error_release(&none);
  const char *hex = strncmp(c->row.image_id, "sha256:", 7) == 0 ? c->row.image_id + 7 : c->row.image_id;
  return no_trunc ? xstrdup(c->row.image_id) : xstrndup(hex, 12);
}

/* the row as Docker's `ps --format json` object (also what --format templates see) */
static json_t *row_json(struct berth_engine *e, const struct berth_ctr *c, bool no_trunc, int64_t now)
{
  cleanup_free char *image = image_text(e, c, no_trunc);
  cleanup_free char *cmd = berth_ctr_command_text(c->config, no_trunc);
  cleanup_free char *created = go_time(c->row.created),
                    *since = berth_fmt_since(c->row.created / 1000000000, now / 1000000000);
  cleanup_free char *status =
    berth_ctr_status_text(c->state, c->row.exit_code, c->row.started_at, c->row.finished_at, now);
  const char *health = json_string_value(json_object_get(c->health, "Status"));
  if (health && c->state == BERTH_CTR_RUNNING) { /* Docker's "Up 2 minutes (healthy)" */
    char *with = xasprintf("%s (%s%s)", status, strcmp(health, "starting") == 0 ? "health: " : "", health);
    free(status);
    status = with;
  }
  cleanup_free char *labels = labels_text(json_object_get(c->config, "Labels"));
  char id[16];
  snprintf(id, sizeof id, "%.12s", c->row.id);
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Command", cmd,
                   "CreatedAt", created, "ID", no_trunc ? c->row.id : id, "Image", image, "Labels", labels,
                   "LocalVolumes", "0", "Mounts", "", "Names", c->row.name, "Networks", "", "Ports", "",
                   "RunningFor", since, "Size", "0B", "State", berth_ctr_state_name(c->state), "Status",
                   status);
}

static void print_table(json_t *rows)
{
  struct berth_table t;
  berth_table_init(&t, 7);
  const char *head[] = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES" };
  berth_table_add(&t, head);
  size_t i;
  json_t *r;
  json_array_foreach (rows, i, r) {
    const char *keys[] = { "ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names" };
    const char *cells[7];
    for (size_t k = 0; k < 7; k++)
      cells[k] = json_string_value(json_object_get(r, keys[k]));
    berth_table_add(&t, cells);
  }
  berth_table_print(&t, stdout);
  berth_table_release(&t);
}

/* the image and its parents (ancestor= matches any of them) */
static char **image_chain(struct berth_engine *e, const char *id)
{
  char **v = berth_strv_append(NULL, id);
  for (int depth = 0; depth < 128; depth++) {
    struct berth_db_image img;
    berth_error_t ignore = NULL;
    if (berth_db_image_get(e->db, v[berth_strv_len(v) - 1], &img, &ignore) <= 0) {
      berth_error_release(&ignore);
      break;
    }
    bool more = img.parent[0] != '\0';
    if (more)
      v = berth_strv_append(v, img.parent);
    berth_db_image_release(&img);
    if (!more)
      break;
  }
  return v;
}

static int resolve_ancestors(struct berth_engine *e, const struct berth_ctr_filter *f, char ***out,
                             berth_error_t *err)
{
  const char *const *names = berth_ctr_filter_ancestors(f);
  char **v = xcalloc(1, sizeof *v);
  for (size_t i = 0; names && names[i]; i++) {
    berth_digest_t id;
    berth_error_t none = NULL;
    if (berth_engine_resolve(e, names[i], id, NULL, &none) == 0)
      v = berth_strv_append(v, id);
    berth_error_release(&none); /* Docker: an unknown image matches nothing */
  }
  *out = v;
  return 0;
}

struct ps_opts {
  bool all, quiet, no_trunc, latest;
  const char *format;
  int64_t last;
};

/* docker/cli's ContainerContext: its fields' column titles */
static const struct cli_list_format ps_format = {
  "*formatter.ContainerContext",
  "{\"ID\":\"CONTAINER ID\",\"Names\":\"NAMES\",\"Image\":\"IMAGE\",\"Command\":\"COMMAND\","
  "\"CreatedAt\":\"CREATED AT\",\"RunningFor\":\"CREATED\",\"Ports\":\"PORTS\",\"State\":\"STATE\","
  "\"Status\":\"STATUS\",\"Size\":\"SIZE\",\"Labels\":\"LABELS\",\"Mounts\":\"MOUNTS\","
  "\"LocalVolumes\":\"LOCAL VOLUMES\",\"Networks\":\"NETWORKS\",\"Platform\":\"PLATFORM\","
  "\"HealthStatus\":\"HEALTH STATUS\"}",
};

/* the rows, and each row's labels (for .Label "key") in *labels */
static json_t *select_rows(struct berth_engine *e, const struct ps_opts *po, const struct berth_ctr_filter *f,
                           json_t *labels, berth_error_t *err)
{
  struct berth_ctr *v = NULL;
  size_t n = 0;
  cleanup_strv char **ancestors = NULL;
  if (resolve_ancestors(e, f, &ancestors, err) < 0 || berth_ctr_list(e, &v, &n, err) < 0)
    return NULL;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t now = (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
  int64_t limit = po->latest ? 1 : po->last;
  bool all = po->all || limit > 0 || berth_ctr_filter_implies_all(f);
  json_t *rows = json_array();
  for (size_t i = 0; i < n && (limit <= 0 || (int64_t) json_array_size(rows) < limit); i++) {
    bool shown = all || berth_ctr_state_kept(v[i].state);
    cleanup_strv char **chain = shown ? image_chain(e, v[i].row.image_id) : NULL;
    if (shown && berth_ctr_filter_match(f, &v[i], chain, ancestors)) {
      json_array_append_new(rows, row_json(e, &v[i], po->no_trunc, now));
      json_t *l = json_object_get(v[i].config, "Labels");
      json_array_append_new(labels, json_is_object(l) ? json_incref(l) : json_object());
    }
  }
  berth_ctr_list_free(v, n);
  return rows;
}

static int print_rows(struct cmd_ctx *ctx, json_t *rows, json_t *labels, const struct ps_opts *po,
                      berth_error_t *err)
{
  size_t i;
  json_t *r;
  if (po->quiet) { /* -q wins over --format, as in Docker */
    json_array_foreach (rows, i, r)
      puts(json_string_value(json_object_get(r, "ID")));
    return 0;
  }
  if (cli_format_is_default(po->format)) {
    print_table(rows);
    return 0;
  }
  return cli_format_list(ctx, po->format, &ps_format, rows, labels, err);
}

int cmd_ps(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  struct ps_opts po = { 0 };
  const char *last = NULL;
  cleanup_free const char **filters = NULL;
  const struct berth_cli_opt opts[] = {
    { "all", 'a', BERTH_CLI_BOOL, &po.all, NULL, "Show all containers (default shows just running)" },
    { "filter", 'f', BERTH_CLI_STRINGS, &filters, "filter",
      "Filter output (status=, name=, label=, ancestor=, id=, exited=)" },
    { "format", 0, BERTH_CLI_STRING, &po.format, "string",
      "table (default), json, or a template ({{.Names}})" },
    { "last", 'n', BERTH_CLI_STRING, &last, "int", "Show n last created containers (includes all states)" },
    { "latest", 'l', BERTH_CLI_BOOL, &po.latest, NULL,
      "Show the latest created container (includes all states)" },
    { "no-trunc", 0, BERTH_CLI_BOOL, &po.no_trunc, NULL, "Don't truncate output" },
    { "quiet", 'q', BERTH_CLI_BOOL, &po.quiet, NULL, "Only display container IDs" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth ps [OPTIONS]", "List containers", err);
  if (r != 0 || cli_want_args(ctx, 0, 0, "none", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_ctr_filter *f = NULL;
  if ((last && berth_parse_i64(last, &po.last) < 0) ||
      berth_ctr_filter_parse((char *const *) filters, &f, err) < 0) {
    ctx->usage_error = true;
    return *err ? berth_error_wrap(err, "%s", ctx->path)
                : BERTH_ERR(err, "%s: --last: expected a number", ctx->path);
  }
  struct berth_engine *e = NULL;
  json_t *rows = NULL, *labels = json_array();
  cleanup_strv char **notes = NULL;
  if (cli_open_engine(ctx, &e, err) == 0 && berth_ctr_settle_orphans(e, &notes, err) == 0 &&
      berth_ctr_filter_resolve(e, f, err) == 0)
    rows = select_rows(e, &po, f, labels, err);
  for (char **n = notes; n && *n; n++) /* a container whose monitor was killed: stopped, and said so */
    fprintf(stderr, "berth: %s\n", *n);
  berth_engine_close(e);
  berth_ctr_filter_free(f);
  r = rows ? print_rows(ctx, rows, labels, &po, err) : -1;
  json_decref(rows);
  json_decref(labels);
  return r;
}
