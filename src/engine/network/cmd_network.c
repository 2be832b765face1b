/* berth network create / ls / inspect / rm / prune / connect / disconnect, and berth port
 * (engine/networks/networks.h, engine/containers/containers.h) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cli.h"
#include "cli_format.h"
#include "commands.h"
#include "engine/containers/containers.h"
#include "engine/format.h"
#include "engine/networks/networks.h"

int cmd_network_create(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  struct berth_network_create o = { 0 };
  cleanup_free const char **subnets = NULL, **gateways = NULL, **ranges = NULL, **labels = NULL,
                          **opts_v = NULL;
  cleanup_free const char **dns = NULL;
  const char *driver = NULL;
  const struct berth_cli_opt opts[] = {
    { "driver", 'd', BERTH_CLI_STRING, &driver, "string", "Driver to manage the Network (bridge)" },
    { "subnet", 0, BERTH_CLI_STRINGS, &subnets, "strings", "Subnet in CIDR format (one per address family)" },
    { "gateway", 0, BERTH_CLI_STRINGS, &gateways, "strings", "IPv4 or IPv6 Gateway for the master subnet" },
    { "ip-range", 0, BERTH_CLI_STRINGS, &ranges, "strings", "Allocate container ip from a sub-range" },
    { "internal", 0, BERTH_CLI_BOOL, &o.internal, NULL, "Restrict external access to the network" },
    { "ipv6", 0, BERTH_CLI_BOOL, &o.ipv6, NULL, "Enable IPv6 networking" },
    { "label", 0, BERTH_CLI_STRINGS, &labels, "list", "Set metadata on a network" },
    { "opt", 'o', BERTH_CLI_STRINGS, &opts_v, "map",
      "Set driver specific options (mtu=, com.docker.network.*)" },
    { "dns", 0, BERTH_CLI_STRINGS, &dns, "list",
      "DNS servers the network's resolver forwards to (ADDR[:PORT])" },
    { "disable-dns", 0, BERTH_CLI_BOOL, &o.no_dns, NULL, "No resolver of container names on this network" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth network create [OPTIONS] NETWORK", "Create a network", err);
  if (r != 0 || cli_want_args(ctx, 1, 1, "NETWORK", err) < 0)
    return r > 0 ? 0 : -1;
  o.name = ctx->argv[0];
  o.driver = driver;
  o.subnets = (char **) subnets;
  o.gateways = (char **) gateways;
  o.ip_ranges = (char **) ranges;
  o.labels = (char **) labels;
  o.options = (char **) opts_v;
  o.dns = (char **) dns;
  struct berth_engine *e = NULL;
  berth_network_id_t id;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_networks_create(e, &o, id, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  puts(id);
  return 0;
}

/* what `ls` filters: name=, id= (prefixes as Docker), driver=, label=k[=v] */
static bool match(const struct berth_network *n, char *const *filters)
{
  for (size_t i = 0; filters && filters[i]; i++) {
    const char *f = filters[i];
    if (berth_str_has_prefix(f, "name=") && strstr(n->row.name, f + 5) == NULL)
      return false;
    if (berth_str_has_prefix(f, "id=") && !berth_str_has_prefix(n->row.id, f + 3))
      return false;
    if (berth_str_has_prefix(f, "driver=") && strcmp(n->row.driver, f + 7) != 0)
      return false;
    if (berth_str_has_prefix(f, "label=")) {
      cleanup_free char *k = xstrdup(f + 6);
      char *eq = strchr(k, '=');
      if (eq)
        *eq++ = '\0';
      json_t *l = json_loads(n->row.labels, 0, NULL);
      const char *v = json_string_value(json_object_get(l, k));
      bool ok = v != NULL && (eq == NULL || strcmp(v, eq) == 0);
      json_decref(l);
      if (!ok)
        return false;
    }
  }
  return true;
}

static int check_filters(struct cmd_ctx *ctx, char *const *filters, berth_error_t *err)
{
  static const char *const keys[] = { "name=", "id=", "driver=", "label=" };
  for (size_t i = 0; filters && filters[i]; i++) {
    bool ok = false;
    for (size_t k = 0; k < BERTH_N_ELEMENTS(keys) && !ok; k++)
      ok = berth_str_has_prefix(filters[i], keys[k]);
    if (!ok) {
      ctx->usage_error = true;
      return BERTH_ERR(err, "%s: invalid filter `%s` (name=, id=, driver=, label=)", ctx->path, filters[i]);
    }
  }
  return 0;
}

/* docker/cli's networkContext: its fields' column titles */
static const struct cli_list_format network_format = {
  "*network.networkContext",
  "{\"ID\":\"NETWORK ID\",\"Name\":\"NAME\",\"Driver\":\"DRIVER\",\"Scope\":\"SCOPE\",\"IPv4\":\"IPV4\","
  "\"IPv6\":\"IPV6\",\"Internal\":\"INTERNAL\",\"Labels\":\"LABELS\",\"CreatedAt\":\"CREATED AT\"}",
};

/* the row of `network ls --format` (labels: the network's, an object) */
static json_t *ls_json(const struct berth_network *n, bool no_trunc, json_t *labels)
{
  cleanup_free char *created = berth_fmt_rfc3339(n->row.created);
  cleanup_free char *id = no_trunc ? xstrdup(n->row.id) : xstrndup(n->row.id, 12);
  cleanup_free char *text = cli_labels_text(labels, true);
  bool v4 = n->n_subnets > 0 && n->subnet[0].addr.family == AF_INET;
  bool v6 = n->n_subnets > 1 || (n->n_subnets == 1 && !v4);
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id, "Name", n->row.name, "Driver",
                   n->row.driver, "Scope", "local", "CreatedAt", created, "Internal",
                   n->row.internal ? "true" : "false", "IPv4", v4 ? "true" : "false", "IPv6",
                   v6 ? "true" : "false", "Labels", text);
}

static int print_networks(struct cmd_ctx *ctx, const struct berth_network *v, size_t n, char *const *filters,
                          bool quiet, bool no_trunc, const char *format, berth_error_t *err)
{
  bool table = !quiet && cli_format_is_default(format);
  struct berth_table t;
  berth_table_init(&t, 4);
  const char *head[] = { "NETWORK ID", "NAME", "DRIVER", "SCOPE" };
  berth_table_add(&t, head);
  json_t *rows = json_array(), *labels = json_array();
  for (size_t i = 0; i < n; i++) {
    if (!match(&v[i], filters))
      continue;
    cleanup_free char *id = no_trunc ? xstrdup(v[i].row.id) : xstrndup(v[i].row.id, 12);
    const char *cells[] = { id, v[i].row.name, v[i].row.driver, "local" };
    if (table) {
      berth_table_add(&t, cells);
    } else if (quiet) {
      puts(id);
    } else {
      json_t *l = json_loads(v[i].row.labels ? v[i].row.labels : "{}", 0, NULL);
      json_array_append_new(rows, ls_json(&v[i], no_trunc, l));
      json_array_append_new(labels, l ? l : json_object());
    }
  }
  int r = 0;
  if (table)
    berth_table_print(&t, stdout);
  else if (!quiet)
    r = cli_format_list(ctx, format, &network_format, rows, labels, err);
  berth_table_release(&t);
  json_decref(rows);
  json_decref(labels);
  return r;
}

int cmd_network_ls(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool quiet = false, no_trunc = false;
  const char *format = NULL;
  cleanup_free const char **filters = NULL;
  const struct berth_cli_opt opts[] = {
    { "filter", 'f', BERTH_CLI_STRINGS, &filters, "filter",
      "Provide filter values (name=, id=, driver=, label=)" },
    { "format", 0, BERTH_CLI_STRING, &format, "string",
      "Format output: table (default), table TEMPLATE, json, or a Go template ({{.Name}})" },
    { "no-trunc", 0, BERTH_CLI_BOOL, &no_trunc, NULL, "Do not truncate the output" },
    { "quiet", 'q', BERTH_CLI_BOOL, &quiet, NULL, "Only display network IDs" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth network ls [OPTIONS]", "List networks", err);
  if (r != 0 || cli_want_args(ctx, 0, 0, "none", err) < 0)
    return r > 0 ? 0 : -1;
  if (check_filters(ctx, (char *const *) filters, err) < 0)
    return -1;
  struct berth_engine *e = NULL;
  struct berth_network *v = NULL;
  size_t n = 0;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_networks_list(e, &v, &n, err);
  berth_engine_close(e);
  if (r == 0)
    r = print_networks(ctx, v, n, (char *const *) filters, quiet, no_trunc, format, err);
  berth_networks_list_free(v, n);
  return r < 0 ? -1 : 0;
}

int cmd_network_inspect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *format = NULL;
  const struct berth_cli_opt opts[] = {
    { "format", 'f', BERTH_CLI_STRING, &format, "string", "Format the output using the given Go template" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth network inspect [OPTIONS] NETWORK [NETWORK...]",
                    "Display detailed information on one or more networks", err);
  if (r != 0 || cli_want_args(ctx, 1, -1, "NETWORK", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  json_t *all = json_array();
  int status = 0;
  for (int i = 0; i < ctx->argc; i++) {
    struct berth_network n;
    berth_error_t one = NULL;
    json_t *o = berth_network_get(e, ctx->argv[i], &n, &one) < 0 ? NULL : berth_network_inspect(e, &n, &one);
    if (o == NULL) {
      cli_report(&one);
      status = 1;
      continue;
    }
    berth_network_release(&n);
    json_array_append_new(all, o);
  }
  berth_engine_close(e);
  int st = cli_format_inspect(ctx, format, all);
  json_decref(all);
  return st ? st : status;
}

/* data: -f, a network that is not there is no error (Docker) */
static int remove_network(struct berth_engine *e, const char *name, void *data, berth_error_t *err)
{
  struct berth_network n;
  berth_error_t none = NULL;
  if (*(bool *) data && berth_network_get(e, name, &n, &none) < 0) {
    berth_error_release(&none);
    return 0;
  }
  if (*(bool *) data)
    berth_network_release(&n);
  return berth_networks_remove(e, name, err);
}

int cmd_network_rm(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool force = false;
  const struct berth_cli_opt opts[] = {
    { "force", 'f', BERTH_CLI_BOOL, &force, NULL, "Do not error if the network does not exist" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth network rm NETWORK [NETWORK...]",
                    "Remove one or more networks (not one a container is connected to)", err);
  if (r != 0 || cli_want_args(ctx, 1, -1, "NETWORK", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  int status = cli_each_name(ctx, e, remove_network, &force);
  berth_engine_close(e);
  return status;
}

int cmd_network_prune(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool force = false;
  cleanup_free const char **filters = NULL;
  const struct berth_cli_opt opts[] = {
    { "filter", 0, BERTH_CLI_STRINGS, &filters, "filter",
      "Provide filter values (e.g. \"until=<timestamp>\")" },
    { "force", 'f', BERTH_CLI_BOOL, &force, NULL, "Do not prompt for confirmation" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r =
    cli_parse(ctx, argc, argv, opts, "berth network prune [OPTIONS]", "Remove all unused networks", err);
  if (r != 0 || cli_want_args(ctx, 0, 0, "none", err) < 0)
    return r > 0 ? 0 : -1;
  int64_t until = 0;
  cleanup_strv char **labels = NULL;
  if (cli_prune_filters(ctx, filters, &until, &labels, err) < 0)
    return -1;
  if (!force &&
      !cli_confirm("WARNING! This will remove all custom networks not used by at least one container."))
    return 0;
  struct berth_engine *e = NULL;
  cleanup_strv char **removed = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_networks_prune_filtered(e, until, labels, &removed, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  if (removed[0]) {
    puts("Deleted Networks:");
    for (char **p = removed; *p; p++)
      puts(*p);
  }
  return 0;
}

int cmd_network_connect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  cleanup_free const char **aliases = NULL;
  const char *ip = NULL, *ip6 = NULL;
  const struct berth_cli_opt opts[] = {
    { "alias", 0, BERTH_CLI_STRINGS, &aliases, "strings", "Add network-scoped alias for the container" },
    { "ip", 0, BERTH_CLI_STRING, &ip, "string", "IPv4 address (e.g., 172.30.100.104)" },
    { "ip6", 0, BERTH_CLI_STRING, &ip6, "string", "IPv6 address (e.g., 2001:db8::33)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth network connect [OPTIONS] NETWORK CONTAINER",
                    "Connect a container to a network", err);
  if (r != 0 || cli_want_args(ctx, 2, 2, "NETWORK CONTAINER", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_network_request req = {
    .network = ctx->argv[0], .aliases = (char **) aliases, .ip = (char *) ip, .ip6 = (char *) ip6
  };
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_ctr_network_connect(e, ctx->argv[1], &req, err);
  berth_engine_close(e);
  return r;
}

int cmd_network_disconnect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool force = false;
  const struct berth_cli_opt opts[] = {
    { "force", 'f', BERTH_CLI_BOOL, &force, NULL, "Force the container to disconnect from a network" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth network disconnect [OPTIONS] NETWORK CONTAINER",
                    "Disconnect a container from a network", err);
  if (r != 0 || cli_want_args(ctx, 2, 2, "NETWORK CONTAINER", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_ctr_network_disconnect(e, ctx->argv[1], ctx->argv[0], err);
  berth_engine_close(e);
  return r;
}

int cmd_port(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const struct berth_cli_opt opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };
  int r = cli_parse(ctx, argc, argv, opts, "berth port CONTAINER [PRIVATE_PORT[/PROTO]]",
                    "List port mappings or a specific mapping for the container", err);
  if (r != 0 || cli_want_args(ctx, 1, 2, "CONTAINER [PRIVATE_PORT[/PROTO]]", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  cleanup_strv char **lines = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_ctr_port(e, ctx->argv[0], ctx->argc > 1 ? ctx->argv[1] : NULL, &lines, err);
  berth_engine_close(e);
  for (char **p = lines; r == 0 && p && *p; p++)
    puts(*p);
  return r;
}
