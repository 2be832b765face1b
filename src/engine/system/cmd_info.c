/* berth info / system info and berth version: Docker's Info and Version objects (system.h), as
 * text, as JSON ("--format json") or through a template ("--format '{{.ServerVersion}}'"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "cli.h"
#include "cli_format.h"
#include "commands.h"
#include "engine/format.h"
#include "engine/containers/containers.h"
#include "engine/system/system.h"

/* --format: "json" the object, else a template over it; 1 when printed so */
static int formatted(struct cmd_ctx *ctx, const char *format, json_t *obj, int *status)
{
  if (format == NULL || *format == '\0')
    return 0;
  if (strcmp(format, "json") == 0) {
    char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    puts(s ? s : "{}");
    free(s);
    *status = 0;
    return 1;
  }
  json_t *one = json_pack("[O]", obj);
  *status = cli_format_inspect(ctx, format, one);
  json_decref(one);
  return 1;
}

static const char *str(json_t *o, const char *key)
{
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : "";
}

static long long num(json_t *o, const char *key)
{
  return (long long) json_integer_value(json_object_get(o, key));
}

static void print_info(json_t *i)
{
  char mem[32];
  snprintf(mem, sizeof mem, "%.4gGiB", (double) num(i, "MemTotal") / (1024.0 * 1024 * 1024));
  printf("Client:\n Version:    %s\n Context:    default\n Debug Mode: false\n\n", BERTH_VERSION);
  printf("Server:\n Containers: %lld\n  Running: %lld\n  Paused: %lld\n  Stopped: %lld\n Images: %lld\n",
         num(i, "Containers"), num(i, "ContainersRunning"), num(i, "ContainersPaused"),
         num(i, "ContainersStopped"), num(i, "Images"));
  printf(" Server Version: %s\n Storage Driver: %s\n", str(i, "ServerVersion"), str(i, "Driver"));
  size_t k;
  json_t *pair;
  json_array_foreach (json_object_get(i, "DriverStatus"), k, pair)
    printf("  %s: %s\n", json_string_value(json_array_get(pair, 0)),
           json_string_value(json_array_get(pair, 1)));
  printf(" Logging Driver: %s\n Cgroup Driver: %s\n Cgroup Version: %s\n", str(i, "LoggingDriver"),
         str(i, "CgroupDriver"), str(i, "CgroupVersion"));
  printf(" Runtimes: berth-runtime runc crun\n Default Runtime: %s\n", str(i, "DefaultRuntime"));
  printf(" Security Options:\n");
  json_array_foreach (json_object_get(i, "SecurityOptions"), k, pair)
    printf("  %s\n", json_string_value(pair));
  printf(" Kernel Version: %s\n Operating System: %s\n OSType: %s\n Architecture: %s\n CPUs: %lld\n"
         " Total Memory: %s\n Name: %s\n ID: %s\n Docker Root Dir: %s\n Debug Mode: false\n"
         " Live Restore Enabled: false\n",
         str(i, "KernelVersion"), str(i, "OperatingSystem"), str(i, "OSType"), str(i, "Architecture"),
         num(i, "NCPU"), mem, str(i, "Name"), str(i, "ID"), str(i, "DockerRootDir"));
}

int cmd_info(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *format = NULL;
  const struct berth_cli_opt opts[] = {
    { "format", 'f', BERTH_CLI_STRING, &format, "string",
      "Format output using a custom template: 'json': Print in JSON format; 'TEMPLATE': Print output using "
      "the "
      "given Go template" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth info [OPTIONS]", "Display system-wide information", err);
  if (r != 0 || cli_want_args(ctx, 0, 0, "none", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  json_t *info = berth_system_info(e, err);
  berth_engine_close(e);
  if (info == NULL)
    return -1;
  int status = 0;
  if (!formatted(ctx, format, info, &status))
    print_info(info);
  json_decref(info);
  return status;
}

/* "version" and "commit" of `berth-runtime --version` (the runtime beside berth, else PATH) */
static void runtime_version(char **version, char **commit)
{
  berth_error_t err = NULL;
  cleanup_free char *rt = berth_ctr_find_runtime(NULL, &err);
  int p[2] = { -1, -1 };
  pid_t pid = -1;
  char *argv[] = { rt, "--version", NULL };
  struct berth_child_exec x = { .argv = argv, .fds = { -1, -1, -1 }, .nfds = 3 };
  if (rt == NULL || pipe2(p, O_CLOEXEC) < 0) {
    berth_error_release(&err);
    return;
  }
  x.fds[1] = p[1];
  int r = berth_child_exec(&x, &pid, &err);
  close(p[1]);
  berth_error_release(&err);
  char buf[1024];
  ssize_t n = r == 0 ? berth_read_all(p[0], buf, sizeof buf - 1) : -1;
  close(p[0]);
  if (pid > 0)
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
  buf[n > 0 ? n : 0] = '\0';
  for (char *line = buf, *next; *line; line = next) {
    next = line + strcspn(line, "\n");
    if (*next)
      *next++ = '\0';
    if (strncmp(line, "berth-runtime version ", 22) == 0)
      *version = xstrdup(line + 22);
    else if (strncmp(line, "commit: ", 8) == 0)
      *commit = xstrdup(line + 8);
  }
}

int cmd_version(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *format = NULL;
  const struct berth_cli_opt opts[] = {
    { "format", 'f', BERTH_CLI_STRING, &format, "string",
      "Format output using a custom template: 'json': Print in JSON format; 'TEMPLATE': Print output using "
      "the "
      "given Go template" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r =
    cli_parse(ctx, argc, argv, opts, "berth version [OPTIONS]", "Show the berth version information", err);
  if (r != 0 || cli_want_args(ctx, 0, 0, "none", err) < 0)
    return r > 0 ? 0 : -1;
  cleanup_free char *rv = NULL, *commit = NULL;
  runtime_version(&rv, &commit);
  json_t *v = berth_system_version(rv, commit);
  int status = 0;
  if (!formatted(ctx, format, v, &status)) {
    json_t *c = json_object_get(v, "Client"), *s = json_object_get(v, "Server");
    printf(
      "Client:\n Version:           %s\n API version:       %s\n Git commit:        %.7s\n OS/Arch:          "
      " %s/%s\n"
      " Context:           default\n\nServer: berth (daemonless)\n Engine:\n  Version:          %s\n"
      "  API version:      %s (minimum version %s)\n  Git commit:       %.7s\n  OS/Arch:          %s/%s\n"
      " berth-runtime:\n  Version:          %s\n",
      str(c, "Version"), str(c, "ApiVersion"), str(c, "GitCommit"), str(c, "Os"), str(c, "Arch"),
      str(s, "Version"), str(s, "ApiVersion"), str(s, "MinAPIVersion"), str(s, "GitCommit"), str(s, "Os"),
      str(s, "Arch"), rv ? rv : "unknown");
  }
  json_decref(v);
  return status;
}
