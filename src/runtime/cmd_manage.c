/* pause, resume, ps, events, checkpoint/restore: commands on a container's cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cli.h"
#include "runtime/manage.h"

static const struct berth_cli_opt no_opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };

/* a command whose only argument is the container id */
static int simple(const char *name, const char *summary,
                  int (*fn)(const char *, const char *, berth_error_t *), struct globals *g, int argc,
                  char **argv, berth_error_t *err)
{
  bool help = false;
  int idx = 1;
  if (cli_parse(name, argc, argv, &idx, no_opts, &help, err) < 0)
    return -1;
  if (help) {
    char usage[128];
    snprintf(usage, sizeof usage, "berth-runtime %s <container-id>", name);
    cli_print_help(usage, summary, no_opts);
    return 0;
  }
  if (cli_want_args(name, argc, idx, 1, "a container id", err) < 0)
    return -1;
  return fn(g->root, argv[idx], err) < 0 ? -1 : 0;
}

int cmd_pause(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  return simple("pause", "Freeze every process of the container (cgroup freezer).", berth_container_pause, g,
                argc, argv, err);
}

int cmd_resume(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  return simple("resume", "Thaw a paused container.", berth_container_resume, g, argc, argv, err);
}

static char *read_proc(pid_t pid, const char *what)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, what);
  char *text = NULL;
  size_t len = 0;
  berth_error_t e = NULL;
  if (berth_read_file(path, 1 << 20, &text, &len, &e) < 0) {
    berth_error_release(&e);
    return xstrdup("");
  }
  for (size_t i = 0; i + 1 < len; i++)
    if (text[i] == '\0')
      text[i] = ' ';
  return text;
}

static void print_ps_line(pid_t pid)
{
  cleanup_free char *stat = read_proc(pid, "stat");
  cleanup_free char *cmd = read_proc(pid, "cmdline");
  cleanup_free char *status = read_proc(pid, "status");
  const char *uid = strstr(status, "\nUid:");
  int ppid = 0;
  char state = '?';
  const char *rp = strrchr(stat, ')');
  if (rp)
    sscanf(rp + 1, " %c %d", &state, &ppid);
  if (*cmd == '\0' && rp) {
    const char *lp = strchr(stat, '(');
    free(cmd);
    cmd = lp ? xasprintf("[%.*s]", (int) (rp - lp - 1), lp + 1) : xstrdup("");
  }
  printf("%-8d %-8d %-8d %-5c %s\n", uid ? atoi(uid + 5) : -1, (int) pid, ppid, state, cmd);
}

int cmd_ps(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  bool help = false;
  const char *format = "table";
  const struct berth_cli_opt opts[] = {
    { "format", 'f', BERTH_CLI_STRING, &format, "FORMAT", "table or json (an array of pids)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int idx = 1;
  if (cli_parse("ps", argc, argv, &idx, opts, &help, err) < 0)
    return -1;
  if (help) {
    cli_print_help("berth-runtime ps [options] <container-id>", "List the processes of a container.", opts);
    return 0;
  }
  if (strcmp(format, "table") && strcmp(format, "json"))
    return BERTH_ERR(err, "ps: --format: expected table or json, got `%s`", format);
  if (argc - idx < 1)
    return BERTH_ERR(err, "ps: expected a container id (see --help)");
  if (argc - idx > 1)
    return BERTH_ERR(err, "ps: ps(1) options are not supported; use --format table or json");
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (berth_container_pids(g->root, argv[idx], &pids, &n, err) < 0)
    return -1;
  if (strcmp(format, "json") == 0) {
    printf("[");
    for (size_t i = 0; i < n; i++)
      printf("%s%d", i ? "," : "", (int) pids[i]);
    printf("]\n");
    return 0;
  }
  printf("%-8s %-8s %-8s %-5s %s\n", "UID", "PID", "PPID", "STAT", "CMD");
  for (size_t i = 0; i < n; i++)
    print_ps_line(pids[i]);
  return 0;
}

/* "5s", "500ms", "1m", or plain seconds */
static int parse_interval(const char *s, int *ms)
{
  char *end = NULL;
  double v = strtod(s, &end);
  if (end == s || v < 0)
    return -1;
  double mult = 1000;
  if (strcmp(end, "ms") == 0)
    mult = 1;
  else if (strcmp(end, "m") == 0)
    mult = 60000;
  else if (*end != '\0' && strcmp(end, "s") != 0)
    return -1;
  if (v * mult > 86400000.0)
    return -1;
  *ms = (int) (v * mult);
  return 0;
}

int cmd_events(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  bool help = false, stats = false;
  const char *interval = "5s";
  const struct berth_cli_opt opts[] = {
    { "stats", 0, BERTH_CLI_BOOL, &stats, NULL, "print one stats event and exit" },
    { "interval", 0, BERTH_CLI_STRING, &interval, "DURATION", "stats interval (default 5s)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int idx = 1;
  if (cli_parse("events", argc, argv, &idx, opts, &help, err) < 0)
    return -1;
  if (help) {
    cli_print_help("berth-runtime events [options] <container-id>",
                   "Print stats and OOM events of a container as JSON lines.", opts);
    return 0;
  }
  if (cli_want_args("events", argc, idx, 1, "a container id", err) < 0)
    return -1;
  int ms = 0;
  if (parse_interval(interval, &ms) < 0 || ms == 0)
    return BERTH_ERR(err, "events: --interval: expected a positive duration like 5s or 500ms, got `%s`",
                     interval);
  if (stats) {
    json_t *e = berth_container_stats_event(g->root, argv[idx], err);
    if (e == NULL)
      return -1;
    char *s = json_dumps(e, JSON_COMPACT);
    puts(s ? s : "{}");
    free(s);
    json_decref(e);
    return 0;
  }
  return berth_container_events(g->root, argv[idx], ms, stdout, err) < 0 ? -1 : 0;
}

int cmd_checkpoint(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  return BERTH_ERR(err, "%s: not supported: berth-runtime has no CRIU integration", argv[0]);
}
