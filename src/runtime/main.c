/* berth-runtime: an OCI runtime with runc's command line. */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/output.h"
#include "base/xalloc.h"
#include "cli.h"
#include "linux/selfexe.h"
#include "runtime/container.h"
#include "version.h"

/* Commands that enter a container re-execute from a protected copy first (CVE-2019-5736,
 * linux/selfexe.h); `run` decides for itself. create's container process outlives it and
 * would pay an overlay's teardown at its exec, before the user's program runs: a memfd
 * copy costs create less than that. */
enum reexec { NO_REEXEC, REEXEC_OVERLAY_FIRST, REEXEC_MEMFD_FIRST };

struct command {
  const char *name;
  cmd_fn fn;
  enum reexec reexec;
  bool uses_cgroups;
  const char *summary;
};

static const struct command commands[] = {
  { "create", cmd_create, REEXEC_MEMFD_FIRST, true, "create a container (its process waits for `start`)" },
  { "start", cmd_start, NO_REEXEC, false, "start the user process of a created container" },
  { "run", cmd_run, NO_REEXEC, true, "create and start a container, wait for it, delete it" },
  { "exec", cmd_exec, REEXEC_OVERLAY_FIRST, true, "run a process inside a running container" },
  { "state", cmd_state, NO_REEXEC, false, "print the state of a container as JSON" },
  { "kill", cmd_kill, NO_REEXEC, false, "send a signal to a container's init (or every process)" },
  { "delete", cmd_delete, NO_REEXEC, false, "delete a stopped container (or any, with --force)" },
  { "pause", cmd_pause, NO_REEXEC, false, "freeze every process of a container" },
  { "resume", cmd_resume, NO_REEXEC, false, "thaw a paused container" },
  { "ps", cmd_ps, NO_REEXEC, false, "list the processes of a container" },
  { "update", cmd_update, NO_REEXEC, false, "update the resources of a running container" },
  { "events", cmd_events, NO_REEXEC, false, "print stats and OOM events of a container" },
  { "checkpoint", cmd_checkpoint, NO_REEXEC, false, "not supported (no CRIU integration)" },
  { "restore", cmd_checkpoint, NO_REEXEC, false, "not supported (no CRIU integration)" },
  { "list", cmd_list, NO_REEXEC, false, "list containers" },
  { "spec", cmd_spec, NO_REEXEC, false, "write a default config.json" },
  { "features", cmd_features, NO_REEXEC, false, "print what this runtime supports as JSON" },
};

static void print_version(void)
{
  const struct scmp_version *v = seccomp_version();
  /* runc's form, which tools parse: the version, the spec, the commit (then what runc adds) */
  printf("berth-runtime version %s\nspec: %s\ncommit: %s\nlibseccomp: %u.%u.%u\n", BERTH_VERSION,
         BERTH_OCI_SPEC_VERSION, BERTH_RUNTIME_COMMIT, v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0);
}

static void print_usage(void)
{
  printf("usage: berth-runtime [global options] <command> [options] [arguments]\n\n"
         "An OCI runtime (runtime-spec %s) with runc's command line.\n\ncommands:\n",
         BERTH_OCI_SPEC_VERSION);
  for (size_t i = 0; i < BERTH_N_ELEMENTS(commands); i++)
    printf("  %-10s %s\n", commands[i].name, commands[i].summary);
  printf("\nglobal options:\n"
         "  --root DIR                   state directory (default /run/berth)\n"
         "  --log FILE                   log file (default stderr)\n"
         "  --log-format text|json       log format\n"
         "  --debug                      debug logging\n"
         "  --systemd-cgroup             use the systemd cgroup manager\n"
         "  --cgroup-manager MANAGER     cgroupfs, systemd or disabled\n"
         "  --rootless auto|true|false   rootless mode\n"
         "  -v, --version                print the version\n"
         "  -h, --help                   this help; `<command> --help` for a command\n");
}

static int setup_logging(struct globals *g, berth_error_t *err)
{
  enum berth_log_format fmt = BERTH_LOG_FORMAT_TEXT;
  if (g->log_format && strcmp(g->log_format, "json") == 0)
    fmt = BERTH_LOG_FORMAT_JSON;
  else if (g->log_format && strcmp(g->log_format, "text") != 0)
    return BERTH_ERR(err, "--log-format: expected text or json, got `%s`", g->log_format);
  int fd = -1;
  if (g->log && *g->log) {
    /* never through another user's symlink */
    fd = berth_output_open_trusted(g->log, O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY, 0644, err);
    if (fd < 0)
      return berth_error_wrap(err, "log file");
  }
  berth_log_configure(fd, fmt, g->debug ? BERTH_LOG_DEBUG : BERTH_LOG_WARN);
  return 0;
}

static int check_globals(struct globals *g, const struct command *c, berth_error_t *err)
{
  if (g->rootless && strcmp(g->rootless, "auto") && strcmp(g->rootless, "true") &&
      strcmp(g->rootless, "false"))
    return BERTH_ERR(err, "--rootless: expected auto, true or false, got `%s`", g->rootless);
  const char *mgr = g->cgroup_manager;
  if (mgr && strcmp(mgr, "cgroupfs") && strcmp(mgr, "systemd") && strcmp(mgr, "disabled"))
    return BERTH_ERR(err, "--cgroup-manager: expected cgroupfs, systemd or disabled, got `%s`", mgr);
  bool systemd = g->systemd_cgroup || (mgr && strcmp(mgr, "systemd") == 0);
  if (systemd && c->uses_cgroups && access("/run/systemd/system", F_OK) < 0)
    return BERTH_ERR(err, "the systemd cgroup manager needs systemd running as init on this host "
                          "(no /run/systemd/system); use --cgroup-manager cgroupfs");
  return 0;
}

static int dispatch(struct globals *g, int argc, char **argv, int idx, berth_error_t *err)
{
  if (idx >= argc) {
    print_usage();
    return 1;
  }
  const char *name = argv[idx];
  for (size_t i = 0; i < BERTH_N_ELEMENTS(commands); i++) {
    const struct command *c = &commands[i];
    if (strcmp(c->name, name) != 0)
      continue;
    if (check_globals(g, c, err) < 0)
      return -1;
    enum berth_selfexe_method how =
      c->reexec == REEXEC_MEMFD_FIRST ? BERTH_SELFEXE_MEMFD_FIRST : BERTH_SELFEXE_AUTO;
    if (c->reexec != NO_REEXEC && !berth_selfexe_is_protected() &&
        berth_selfexe_reexec_with(how, g->argv, g->envp, err) < 0)
      return -1;
    return c->fn(g, argc - idx, argv + idx, err);
  }
  return BERTH_ERR(err, "unknown command `%s` (see --help)", name);
}

static void report_error(struct globals *g, berth_error_t *err)
{
  if (berth_log_get_fd() >= 0)
    berth_log_error("%s", (*err)->msg);
  fprintf(stderr, "berth-runtime: %s\n", (*err)->msg);
  berth_error_release(err);
}

int main(int argc, char **argv, char **envp)
{
  struct globals g = { .argv = argv, .envp = envp };
  bool help = false, version = false;
  const char *criu = NULL; /* accepted for runc compatibility; checkpoint needs CRIU */
  const struct berth_cli_opt opts[] = {
    { "root", 0, BERTH_CLI_STRING, &g.root, "DIR", "" },
    { "log", 0, BERTH_CLI_STRING, &g.log, "FILE", "" },
    { "log-format", 0, BERTH_CLI_STRING, &g.log_format, "FORMAT", "" },
    { "debug", 0, BERTH_CLI_BOOL, &g.debug, NULL, "" },
    { "systemd-cgroup", 0, BERTH_CLI_BOOL, &g.systemd_cgroup, NULL, "" },
    { "cgroup-manager", 0, BERTH_CLI_STRING, &g.cgroup_manager, "MANAGER", "" },
    { "rootless", 0, BERTH_CLI_STRING, &g.rootless, "MODE", "" },
    { "criu", 0, BERTH_CLI_STRING, &criu, "PATH", "" },
    { "version", 'v', BERTH_CLI_BOOL, &version, NULL, "" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  berth_log_set_prefix("berth-runtime");
  berth_error_t err = NULL;
  int idx = 1;
  if (cli_parse("berth-runtime", argc, argv, &idx, opts, &help, &err) < 0 || setup_logging(&g, &err) < 0) {
    report_error(&g, &err);
    return 1;
  }
  if (version) {
    print_version();
    return 0;
  }
  if (help && idx >= argc) {
    print_usage();
    return 0;
  }
  cleanup_free char *default_root = NULL;
  if (g.root == NULL)
    g.root = default_root = berth_default_root();
  int r = dispatch(&g, argc, argv, idx, &err);
  if (r < 0) {
    report_error(&g, &err);
    return 1;
  }
  return r;
}
