/* berth volume create / ls / inspect / rm / prune (engine/volumes/volumes.h) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cli.h"
#include "cli_format.h"
#include "commands.h"
#include "engine/format.h"
#include "engine/volumes/volumes.h"

int cmd_volume_create(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *driver = NULL, *name_flag = NULL;
  cleanup_free const char **labels = NULL, **opts_v = NULL;
  const struct berth_cli_opt opts[] = {
    { "driver", 'd', BERTH_CLI_STRING, &driver, "string", "Specify volume driver name (default \"local\")" },
    { "name", 0, BERTH_CLI_STRING, &name_flag, "string", "Specify volume name" },
    { "label", 0, BERTH_CLI_STRINGS, &labels, "list", "Set metadata for a volume" },
    { "opt", 'o', BERTH_CLI_STRINGS, &opts_v, "map",
      "Set driver specific options (none for the local driver here)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth volume create [OPTIONS] [VOLUME]", "Create a volume", err);
  if (r != 0 || cli_want_args(ctx, 0, 1, "[VOLUME]", err) < 0)
    return r > 0 ? 0 : -1;
  if (name_flag && ctx->argc && strcmp(name_flag, ctx->argv[0]) != 0) { /* Docker's words */
    ctx->usage_error = true;
    return BERTH_ERR(
      err, "%s: conflicting options: either specify --name or provide positional arg, not both", ctx->path);
  }
  struct berth_volume_create_in in = { .name = ctx->argc ? ctx->argv[0] : name_flag,
                                       .driver = driver,
                                       .labels = (char *const *) labels,
                                       .opts = (char *const *) opts_v };
  struct berth_engine *e = NULL;
  cleanup_free char *name = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_volume_create(e, &in, &name, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  puts(name);
  return 0;
}

/* docker/cli's volumeContext: its fields' column titles */
static const struct cli_list_format volume_format = {
  "*formatter.volumeContext",
  "{\"ID\":\"ID\",\"Name\":\"VOLUME NAME\",\"Group\":\"GROUP\",\"Driver\":\"DRIVER\",\"Scope\":\"SCOPE\","
  "\"Availability\":\"AVAILABILITY\",\"Mountpoint\":\"MOUNTPOINT\",\"Labels\":\"LABELS\",\"Links\":\"LINKS\","
  "\"Size\":\"SIZE\",\"Status\":\"STATUS\"}",
};

/* the row of `volume ls --format` (labels: the volume's, an object) */
static json_t *ls_json(const struct berth_db_volume *v, json_t *labels)
{
  cleanup_free char *text = cli_labels_text(labels, true);
  cleanup_free char *links = xasprintf("%lld", (long long) v->users);
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Availability", "N/A", "Driver",
                   v->driver, "Group", "N/A", "Labels", text, "Links", links, "Mountpoint", v->mountpoint,
                   "Name", v->name, "Scope", "local", "Size", "N/A", "Status", "N/A");
}

static int print_volumes(struct cmd_ctx *ctx, struct berth_db_volume *v, size_t n, char *const *filters,
                         bool quiet, const char *format, berth_error_t *err)
{
  bool table = !quiet && cli_format_is_default(format);
  struct berth_table t;
  berth_table_init(&t, 2);
  const char *head[] = { "DRIVER", "VOLUME NAME" };
  berth_table_add(&t, head);
  json_t *rows = json_array(), *labels = json_array();
  for (size_t i = 0; i < n; i++) {
    if (!berth_volume_filter_match(&v[i], filters))
      continue;
    const char *cells[] = { v[i].driver, v[i].name };
    if (table) {
      berth_table_add(&t, cells);
    } else if (quiet) {
      puts(v[i].name);
    } else {
      json_t *l = json_loads(v[i].labels ? v[i].labels : "{}", 0, NULL);
      json_array_append_new(rows, ls_json(&v[i], l));
      json_array_append_new(labels, l ? l : json_object());
    }
  }
  int r = 0;
  if (table)
    berth_table_print(&t, stdout);
  else if (!quiet)
    r = cli_format_list(ctx, format, &volume_format, rows, labels, err);
  berth_table_release(&t);
  json_decref(rows);
  json_decref(labels);
  return r;
}

int cmd_volume_ls(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool quiet = false;
  const char *format = NULL;
  cleanup_free const char **filters = NULL;
  const struct berth_cli_opt opts[] = {
    { "filter", 'f', BERTH_CLI_STRINGS, &filters, "filter",
      "Provide filter values (dangling=, name=, label=, driver=)" },
    { "format", 0, BERTH_CLI_STRING, &format, "string",
      "Format output: table (default), table TEMPLATE, json, or a Go template ({{.Name}})" },
    { "quiet", 'q', BERTH_CLI_BOOL, &quiet, NULL, "Only display volume names" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth volume ls [OPTIONS]", "List volumes", err);
  if (r != 0 || cli_want_args(ctx, 0, 0, "none", err) < 0)
    return r > 0 ? 0 : -1;
  if (berth_volume_filter_check((char *const *) filters, err) < 0) {
    ctx->usage_error = true;
    return berth_error_wrap(err, "%s", ctx->path);
  }
  struct berth_engine *e = NULL;
  struct berth_db_volume *v = NULL;
  size_t n = 0;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_db_volume_list(e->db, &v, &n, err);
  berth_engine_close(e);
  if (r == 0)
    r = print_volumes(ctx, v, n, (char *const *) filters, quiet, format, err);
  berth_db_volume_list_free(v, n);
  return r < 0 ? -1 : 0;
}

int cmd_volume_inspect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *format = NULL;
  const struct berth_cli_opt opts[] = {
    { "format", 'f', BERTH_CLI_STRING, &format, "string", "Format the output using the given Go template" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth volume inspect [OPTIONS] VOLUME [VOLUME...]",
                    "Display detailed information on one or more volumes", err);
  if (r != 0 || cli_want_args(ctx, 1, -1, "VOLUME", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  json_t *all = json_array();
  int status = 0;
  for (int i = 0; i < ctx->argc; i++) {
    struct berth_db_volume v;
    berth_error_t one = NULL;
    if (berth_volume_get(e, ctx->argv[i], &v, &one) < 0) {
      cli_report(&one);
      status = 1;
      continue;
    }
    json_array_append_new(all, berth_volume_json(&v));
    berth_db_volume_release(&v);
  }
  berth_engine_close(e);
  int st = cli_format_inspect(ctx, format, all);
  json_decref(all);
  return st ? st : status;
}

static int remove_volume(struct berth_engine *e, const char *name, void *force, berth_error_t *err)
{
  return berth_volume_remove(e, name, *(bool *) force, err);
}

int cmd_volume_rm(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool force = false;
  const struct berth_cli_opt opts[] = {
    { "force", 'f', BERTH_CLI_BOOL, &force, NULL,
      "Do not error when a volume does not exist (one in use stays)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r =
    cli_parse(ctx, argc, argv, opts, "berth volume rm [OPTIONS] VOLUME [VOLUME...]",
              "Remove one or more volumes. You cannot remove a volume that is in use by a container.", err);
  if (r != 0 || cli_want_args(ctx, 1, -1, "VOLUME", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  int status = cli_each_name(ctx, e, remove_volume, &force);
  berth_engine_close(e);
  return status;
}

int cmd_volume_prune(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool all = false, force = false;
  cleanup_free const char **filters = NULL;
  const struct berth_cli_opt opts[] = {
    { "all", 'a', BERTH_CLI_BOOL, &all, NULL, "Remove all unused volumes, not just anonymous ones" },
    { "filter", 0, BERTH_CLI_STRINGS, &filters, "filter", "Provide filter values (label=, label!=)" },
    { "force", 'f', BERTH_CLI_BOOL, &force, NULL, "Do not prompt for confirmation" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r =
    cli_parse(ctx, argc, argv, opts, "berth volume prune [OPTIONS]", "Remove unused local volumes", err);
  if (r != 0 || cli_want_args(ctx, 0, 0, "none", err) < 0)
    return r > 0 ? 0 : -1;
  cleanup_strv char **labels = NULL, **removed = NULL;
  for (size_t i = 0; filters && filters[i]; i++) {
    bool neg = berth_str_has_prefix(filters[i], "label!=");
    if (!neg && !berth_str_has_prefix(filters[i], "label=")) {
      ctx->usage_error = true;
      return BERTH_ERR(err, "%s: invalid filter `%s` (label=, label!=)", ctx->path, filters[i]);
    }
    cleanup_free char *l = neg ? xasprintf("!%s", filters[i] + 7) : xstrdup(filters[i] + 6);
    labels = berth_strv_append(labels, l);
  }
  if (!force &&
      !cli_confirm(all ? "WARNING! This will remove all local volumes not used by at least one container."
                       : "WARNING! This will remove anonymous local volumes not used by at least one "
                         "container."))
    return 0;
  struct berth_engine *e = NULL;
  uint64_t reclaimed = 0;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_volumes_prune(e, all, labels, &removed, &reclaimed, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  cli_print_pruned("Deleted Volumes:", removed, reclaimed);
  return 0;
}
