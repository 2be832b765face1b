/* berth: the daemonless engine with Docker's command line (images for now). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cli.h"
#include "commands.h"
#include "completion.h"

struct command {
  const char *name;
  cmd_fn fn;
  const char *summary;       /* NULL: an alias, left out of the help */
  const struct command *sub; /* a group: its commands, NULL-name terminated */
  const char *top;           /* in a group: also a top-level command by this name (Docker's) */
};

static const struct command image_cmds[] = {
  { "export", cmd_export, "Export an image's filesystem as a tar archive", NULL, "export" },
  { "history", cmd_history, "Show the history of an image", NULL, "history" },
  { "import", cmd_import, "Import the contents from a tarball to create a filesystem image", NULL, "import" },
  { "inspect", cmd_image_inspect, "Display detailed information on one or more images", NULL, NULL },
  { "load", cmd_load, "Load an image from a tar archive or STDIN", NULL, "load" },
  { "ls", cmd_images, "List images", NULL, "images" },
  { "list", cmd_images, NULL, NULL, NULL },
  { "prune", cmd_image_prune, "Remove unused images", NULL, NULL },
  { "pull", cmd_pull, "Download an image from a registry", NULL, "pull" },
  { "push", cmd_push, "Upload an image to a registry", NULL, "push" },
  { "rm", cmd_rmi, "Remove one or more images", NULL, "rmi" },
  { "remove", cmd_rmi, NULL, NULL, NULL },
  { "save", cmd_save, "Save one or more images to a tar archive (streamed to STDOUT by default)", NULL,
    "save" },
  { "tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", NULL, "tag" },
  { NULL, NULL, NULL, NULL, NULL },
};

static const struct command builder_cmds[] = {
  { "build", cmd_build, "Build an image from a Dockerfile", NULL, "build" },
  { "prune", cmd_builder_prune, "Remove build cache", NULL, NULL },
  { NULL, NULL, NULL, NULL, NULL },
};

static const struct command manifest_cmds[] = {
  { "inspect", cmd_manifest_inspect, "Display an image manifest or manifest list", NULL, NULL },
  { NULL, NULL, NULL, NULL, NULL },
};

static const struct command system_cmds[] = {
  { "df", cmd_system_df, "Show berth disk usage", NULL, NULL },
  { "check", cmd_system_check, "Check the store against the catalogue (--repair fixes what it can)", NULL,
    NULL },
  { "boot", cmd_system_boot, "Start the containers to restart after a reboot (run once at boot)", NULL,
    NULL },
  { "events", cmd_events, "Get real time events from the server", NULL, "events" },
  { "info", cmd_info, "Display system-wide information", NULL, "info" },
  { "prune", cmd_system_prune, "Remove unused data", NULL, NULL },
  { "service", cmd_system_service, "Serve the Docker Engine API on a socket", NULL, NULL },
  { NULL, NULL, NULL, NULL, NULL },
};

static const struct command container_cmds[] = {
  { "attach", cmd_attach, "Attach local standard input, output, and error streams to a running container",
    NULL, "attach" },
  { "commit", cmd_commit, "Create a new image from a container's changes", NULL, "commit" },
  { "cp", cmd_cp, "Copy files/folders between a container and the local filesystem", NULL, "cp" },
  { "create", cmd_create, "Create a new container", NULL, "create" },
  { "diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem", NULL, "diff" },
  { "exec", cmd_exec, "Execute a command in a running container", NULL, "exec" },
  { "export", cmd_export, "Export a container's filesystem as a tar archive", NULL, NULL },
  { "inspect", cmd_container_inspect, "Display detailed information on one or more containers", NULL, NULL },
  { "kill", cmd_kill, "Kill one or more running containers", NULL, "kill" },
  { "logs", cmd_logs, "Fetch the logs of a container", NULL, "logs" },
  { "ls", cmd_ps, "List containers", NULL, "ps" },
  { "list", cmd_ps, NULL, NULL, NULL },
  { "ps", cmd_ps, NULL, NULL, NULL },
  { "pause", cmd_pause, "Pause all processes within one or more containers", NULL, "pause" },
  { "port", cmd_port, "List port mappings or a specific mapping for the container", NULL, "port" },
  { "prune", cmd_container_prune, "Remove all stopped containers", NULL, NULL },
  { "rename", cmd_rename, "Rename a container", NULL, "rename" },
  { "restart", cmd_restart, "Restart one or more containers", NULL, "restart" },
  { "rm", cmd_rm, "Remove one or more containers", NULL, "rm" },
  { "remove", cmd_rm, NULL, NULL, NULL },
  { "run", cmd_run, "Create and run a new container from an image", NULL, "run" },
  { "start", cmd_start, "Start one or more stopped containers", NULL, "start" },
  { "stats", cmd_stats, "Display a live stream of container(s) resource usage statistics", NULL, "stats" },
  { "stop", cmd_stop, "Stop one or more running containers", NULL, "stop" },
  { "top", cmd_top, "Display the running processes of a container", NULL, "top" },
  { "unpause", cmd_unpause, "Unpause all processes within one or more containers", NULL, "unpause" },
  { "update", cmd_update, "Update configuration of one or more containers", NULL, "update" },
  { "wait", cmd_wait, "Block until one or more containers stop, then print their exit codes", NULL, "wait" },
  { "--internal-exited", cmd_internal_exited, NULL, NULL, NULL }, /* the monitor's (src/monitor) */
  { "--internal-started", cmd_internal_started, NULL, NULL, NULL },
  { "--internal-health", cmd_internal_health, NULL, NULL, NULL },
  { NULL, NULL, NULL, NULL, NULL },
};

static const struct command network_cmds[] = {
  { "connect", cmd_network_connect, "Connect a container to a network", NULL, NULL },
  { "create", cmd_network_create, "Create a network", NULL, NULL },
  { "disconnect", cmd_network_disconnect, "Disconnect a container from a network", NULL, NULL },
  { "inspect", cmd_network_inspect, "Display detailed information on one or more networks", NULL, NULL },
  { "ls", cmd_network_ls, "List networks", NULL, NULL },
  { "list", cmd_network_ls, NULL, NULL, NULL },
  { "prune", cmd_network_prune, "Remove all unused networks", NULL, NULL },
  { "rm", cmd_network_rm, "Remove one or more networks", NULL, NULL },
  { "remove", cmd_network_rm, NULL, NULL, NULL },
  { NULL, NULL, NULL, NULL, NULL },
};

static const struct command volume_cmds[] = {
  { "create", cmd_volume_create, "Create a volume", NULL, NULL },
  { "inspect", cmd_volume_inspect, "Display detailed information on one or more volumes", NULL, NULL },
  { "ls", cmd_volume_ls, "List volumes", NULL, NULL },
  { "list", cmd_volume_ls, NULL, NULL, NULL },
  { "prune", cmd_volume_prune, "Remove unused local volumes", NULL, NULL },
  { "rm", cmd_volume_rm, "Remove one or more volumes", NULL, NULL },
  { "remove", cmd_volume_rm, NULL, NULL, NULL },
  { NULL, NULL, NULL, NULL, NULL },
};

static const struct command generate_cmds[] = {
  { "systemd", cmd_generate_systemd, "Generate a systemd unit file for a container", NULL, NULL },
  { NULL, NULL, NULL, NULL, NULL },
};

/* the groups, and the top-level commands that are in no group; every group command with a
 * `top` name is a top-level command too */
static const struct command commands[] = {
  { "builder", NULL, "Manage builds", builder_cmds, NULL },
  { "container", NULL, "Manage containers", container_cmds, NULL },
  { "generate", NULL, "Generate systemd units (podman's)", generate_cmds, NULL },
  { "image", NULL, "Manage images", image_cmds, NULL },
  { "login", cmd_login, "Log in to a registry", NULL, NULL },
  { "logout", cmd_logout, "Log out from a registry", NULL, NULL },
  { "manifest", NULL, "Inspect image manifests in registries", manifest_cmds, NULL },
  { "inspect", cmd_inspect, "Return low-level information on containers and images", NULL, NULL },
  { "version", cmd_version, "Show the berth version information", NULL, NULL },
  { "completion", cmd_completion, "Generate the autocompletion script for bash or zsh", NULL, NULL },
  { "network", NULL, "Manage networks", network_cmds, NULL },
  { "system", NULL, "Manage berth", system_cmds, NULL },
  { "volume", NULL, "Manage volumes", volume_cmds, NULL },
  { NULL, NULL, NULL, NULL, NULL },
};

static void print_commands(const struct command *cmds)
{
  for (const struct command *c = cmds; c->name; c++)
    if (c->summary)
      printf("  %-10s %s\n", c->name, c->summary);
}

static int by_name(const void *a, const void *b)
{
  return strcmp(((const struct command *) a)->name, ((const struct command *) b)->name);
}

static void print_usage(void)
{
  printf("\nUsage:  berth [OPTIONS] COMMAND\n\nA daemonless container engine with Docker's command line\n\n"
         "Commands:\n");
  struct command top[64];
  size_t n = 0;
  for (const struct command *c = commands; c->name; c++) {
    for (const struct command *s = c->sub; s && s->name; s++)
      if (s->top && n < BERTH_N_ELEMENTS(top) - 1)
        top[n++] = (struct command){ s->top, s->fn, s->summary, NULL, NULL };
    if (c->sub == NULL && n < BERTH_N_ELEMENTS(top) - 1)
      top[n++] = *c;
  }
  qsort(top, n, sizeof top[0], by_name);
  top[n] = (struct command){ 0 };
  print_commands(top);
  printf("\nManagement Commands:\n");
  for (const struct command *c = commands; c->name; c++)
    if (c->sub)
      printf("  %-10s %s\n", c->name, c->summary);
  printf("\nGlobal Options:\n"
         "      --root DIR          store and catalogue (default %s; env BERTH_ROOT)\n"
         "      --runroot DIR       run-time state (default %s; env BERTH_RUNROOT)\n"
         "      --log-level LEVEL   debug, info, warn or error (default warn)\n"
         "  -v, --version           print the version\n"
         "  -h, --help              this help\n\n"
         "Run 'berth COMMAND --help' for more information on a command.\n",
         BERTH_ENGINE_DEFAULT_ROOT, BERTH_ENGINE_DEFAULT_RUNROOT);
}

static void print_group(const struct command *g)
{
  printf("\nUsage:  berth %s COMMAND\n\n%s\n\nCommands:\n", g->name, g->summary);
  print_commands(g->sub);
  printf("\nRun 'berth %s COMMAND --help' for more information on a command.\n", g->name);
}

static const struct command *lookup(const struct command *cmds, const char *name)
{
  for (const struct command *c = cmds; c->name; c++)
    if (strcmp(c->name, name) == 0)
      return c;
  return NULL;
}

/* a top-level name: a group, a command in no group, or a group command's `top` name */
static const struct command *lookup_top(const char *name, const char **shown)
{
  const struct command *c = lookup(commands, name);
  *shown = name;
  for (const struct command *g = commands; c == NULL && g->name; g++)
    for (const struct command *s = g->sub; s && s->name && c == NULL; s++)
      if (s->top && strcmp(s->top, name) == 0)
        c = s;
  return c;
}

/* every command path of the tables, groups with their commands (hidden --internal-* left out) */
static size_t completion_list(struct completion_cmd *v, size_t max, struct berth_strbuf *words)
{
  size_t n = 1;
  v[0] = (struct completion_cmd){ "", "berth", NULL, NULL };
  berth_strbuf_append(&words[0], "", 0);
  for (const struct command *c = commands; c->name && n < max; c++) {
    berth_strbuf_printf(&words[0], " %s", c->name);
    size_t group = n;
    v[n++] = (struct completion_cmd){ c->name, c->name, c->fn, NULL };
    for (const struct command *s = c->sub; s && s->name && n < max; s++) {
      if (s->name[0] == '-')
        continue;
      berth_strbuf_printf(&words[group], "%s%s", words[group].len ? " " : "", s->name);
      v[n++] = (struct completion_cmd){ xasprintf("%s %s", c->name, s->name), s->name, s->fn, NULL };
      if (s->top && n < max) {
        berth_strbuf_printf(&words[0], " %s", s->top);
        v[n++] = (struct completion_cmd){ s->top, s->top, s->fn, NULL };
      }
    }
    if (c->sub)
      v[group].subs = words[group].buf ? words[group].buf : "";
  }
  v[0].subs = words[0].buf;
  return n;
}

int cmd_completion(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  int r = cli_parse(ctx, argc, argv, NULL, "berth completion bash|zsh",
                    "Generate the autocompletion script for bash or zsh (from berth's command tables)\n\n"
                    "  bash: source <(berth completion bash)\n"
                    "  zsh:  berth completion zsh > \"${fpath[1]}/_berth\"",
                    err);
  if (r != 0 || cli_want_args(ctx, 1, 1, "bash|zsh", err) < 0)
    return r > 0 ? 0 : -1;
  struct completion_cmd v[256];
  struct berth_strbuf words[256] = { BERTH_STRBUF_INIT };
  size_t n = completion_list(v, BERTH_N_ELEMENTS(v), words);
  r = completion_print(ctx->argv[0], v, n, err);
  for (size_t i = 0; i < n; i++) {
    if (strchr(v[i].path, ' '))
      free((char *) v[i].path);
    berth_strbuf_release(&words[i]);
  }
  if (r < 0)
    ctx->usage_error = true;
  return r < 0 ? berth_error_wrap(err, "%s", ctx->path) : 0;
}

static int set_log_level(const char *l, berth_error_t *err)
{
  static const char *const names[] = { "error", "warn", "info", "debug" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(names); i++)
    if (l == NULL || strcmp(l, names[i]) == 0) {
      berth_log_configure(-1, BERTH_LOG_FORMAT_TEXT, l ? (enum berth_log_level) i : BERTH_LOG_WARN);
      return 0;
    }
  return BERTH_ERR(err, "--log-level: expected debug, info, warn or error, got `%s`", l);
}

static int env_limits(struct globals *g, berth_error_t *err)
{
  const char *s = getenv("BERTH_MAX_LAYER_SIZE");
  if (s && *s && berth_cli_parse_size(s, &g->limits.max_bytes) < 0)
    return BERTH_ERR(err, "BERTH_MAX_LAYER_SIZE: expected a size (512m, 2g), got `%s`", s);
  s = getenv("BERTH_MAX_LAYER_RATIO");
  if (s && *s && (berth_parse_u64(s, &g->limits.max_ratio) < 0 || g->limits.max_ratio == 0))
    return BERTH_ERR(err, "BERTH_MAX_LAYER_RATIO: expected a positive integer, got `%s`", s);
  return 0;
}

/* global options before the command; returns the index of the command, -1 on error, 0 done */
static int parse_globals(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  bool help = false, version = false;
  const struct berth_cli_opt opts[] = {
    { "root", 0, BERTH_CLI_STRING, &g->root, "DIR", "" },
    { "runroot", 0, BERTH_CLI_STRING, &g->runroot, "DIR", "" },
    { "log-level", 0, BERTH_CLI_STRING, &g->log_level, "LEVEL", "" },
    { "version", 'v', BERTH_CLI_BOOL, &version, NULL, "" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct berth_cli p = { .dialect = BERTH_CLI_DOCKER, .opts = opts };
  int i = 1;
  if (berth_cli_parse(&p, argc, argv, &i, NULL, NULL, &help, err) < 0) {
    if (strncmp((*err)->msg, "unknown ", 8) != 0)
      return -1;
    cleanup_free char *msg = berth_error_steal_msg(err);
    return BERTH_ERR(err, "%s; see 'berth --help'", msg);
  }
  if (help)
    print_usage();
  else if (version)
    printf("berth version %s\n", BERTH_VERSION);
  return help || version ? 0 : i;
}

static int run(struct globals *g, int argc, char **argv, int idx, bool *usage, berth_error_t *err)
{
  const char *shown = NULL;
  const struct command *c = idx < argc ? lookup_top(argv[idx], &shown) : NULL;
  if (idx >= argc) {
    print_usage();
    return 0;
  }
  cleanup_free char *path = NULL;
  if (c && c->sub) {
    const char *next = idx + 1 < argc ? argv[idx + 1] : NULL;
    if (next == NULL || strcmp(next, "--help") == 0 || strcmp(next, "-h") == 0) {
      print_group(c);
      return 0;
    }
    const struct command *s = lookup(c->sub, argv[idx + 1]);
    if (s == NULL) {
      *usage = true;
      return BERTH_ERR(err, "'%s' is not a berth %s command; see 'berth %s --help'", argv[idx + 1], c->name,
                       c->name);
    }
    path = xasprintf("berth %s %s", c->name, s->name);
    c = s;
    idx++;
  } else if (c == NULL) {
    *usage = true;
    return BERTH_ERR(err, "'%s' is not a berth command; see 'berth --help'", argv[idx]);
  } else {
    path = xasprintf("berth %s", shown);
  }
  struct cmd_ctx ctx = { .g = g, .path = path };
  int r = c->fn(&ctx, argc - idx, argv + idx, err);
  *usage = ctx.usage_error;
  free(ctx.argv);
  return r;
}

int main(int argc, char **argv)
{
  struct globals g = { 0 };
  berth_error_t err = NULL;
  bool usage = false;
  berth_log_set_prefix("berth");
  int idx = parse_globals(&g, argc, argv, &err);
  if (idx == 0)
    return 0;
  int r = idx < 0 ? -1 : 0;
  usage = idx < 0;
  if (r == 0 && (set_log_level(g.log_level, &err) < 0 || env_limits(&g, &err) < 0)) {
    usage = true;
    r = -1;
  }
  if (r == 0)
    r = run(&g, argc, argv, idx, &usage, &err);
  if (r < 0) {
    cli_report(&err);
    return usage ? EXIT_USAGE : 1;
  }
  return usage ? EXIT_USAGE : r;
}
