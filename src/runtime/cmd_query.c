/* state, list, spec, features: commands that only read or print. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cli.h"
#include "oci/features.h"
#include "oci/spec.h"
#include "runtime/container.h"

static const struct berth_cli_opt no_opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };

int cmd_state(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  bool help = false;
  int idx = 1;
  if (cli_parse("state", argc, argv, &idx, no_opts, &help, err) < 0)
    return -1;
  if (help) {
    cli_print_help("berth-runtime state <container-id>", "Print the state of a container as JSON.", no_opts);
    return 0;
  }
  if (cli_want_args("state", argc, idx, 1, "a container id", err) < 0)
    return -1;
  cleanup_container struct berth_container *c = NULL;
  if (berth_container_load(g->root, argv[idx], &c, err) < 0)
    return -1;
  json_t *j = berth_container_state_json(c, true);
  cli_print_json(j);
  json_decref(j);
  return 0;
}

int cmd_list(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  bool help = false, quiet = false;
  const char *format = "table";
  const struct berth_cli_opt opts[] = {
    { "quiet", 'q', BERTH_CLI_BOOL, &quiet, NULL, "print only the container ids" },
    { "format", 'f', BERTH_CLI_STRING, &format, "FORMAT", "table or json" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int idx = 1;
  if (cli_parse("list", argc, argv, &idx, opts, &help, err) < 0)
    return -1;
  if (help) {
    cli_print_help("berth-runtime list [options]", "List the containers under --root.", opts);
    return 0;
  }
  if (strcmp(format, "table") && strcmp(format, "json"))
    return BERTH_ERR(err, "list: --format: expected table or json, got `%s`", format);
  if (cli_want_args("list", argc, idx, 0, "no arguments", err) < 0)
    return -1;
  cleanup_strv char **ids = berth_container_ids(g->root, err);
  if (ids == NULL)
    return -1;
  json_t *arr = json_array();
  for (char **id = ids; *id; id++) {
    berth_error_t e = NULL;
    struct berth_container *c = NULL;
    if (berth_container_load(g->root, *id, &c, &e) < 0) {
      berth_error_release(&e); /* being created or deleted right now */
      continue;
    }
    json_array_append_new(arr, berth_container_state_json(c, true));
    berth_container_free(c);
  }
  size_t i;
  json_t *st;
  if (strcmp(format, "json") == 0) {
    cli_print_json(arr);
  } else if (quiet) {
    json_array_foreach (arr, i, st)
      puts(json_string_value(json_object_get(st, "id")));
  } else {
    printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
    json_array_foreach (arr, i, st)
      printf("%-20s %-8lld %-10s %-40s %-30s %s\n", json_string_value(json_object_get(st, "id")),
             (long long) json_integer_value(json_object_get(st, "pid")),
             json_string_value(json_object_get(st, "status")),
             json_string_value(json_object_get(st, "bundle")),
             json_string_value(json_object_get(st, "created")), geteuid() == 0 ? "root" : "");
  }
  json_decref(arr);
  return 0;
}

int cmd_spec(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  bool help = false, rootless = false;
  const char *bundle = ".";
  const struct berth_cli_opt opts[] = {
    { "bundle", 'b', BERTH_CLI_STRING, &bundle, "DIR", "where to write config.json" },
    { "rootless", 0, BERTH_CLI_BOOL, &rootless, NULL, "a config for a rootless container" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int idx = 1;
  if (cli_parse("spec", argc, argv, &idx, opts, &help, err) < 0)
    return -1;
  if (help) {
    cli_print_help("berth-runtime spec [options]", "Write a default config.json into the bundle directory.",
                   opts);
    return 0;
  }
  if (cli_want_args("spec", argc, idx, 0, "no arguments", err) < 0)
    return -1;
  cleanup_free char *path = xasprintf("%s/config.json", bundle);
  if (access(path, F_OK) == 0)
    return BERTH_ERR(err, "spec: `%s` already exists; remove it first", path);
  json_t *doc = berth_spec_default(rootless);
  cleanup_free char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(doc);
  cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "spec: create `%s`", path);
  if (berth_write_all(fd, text, strlen(text)) < 0 || berth_write_all(fd, "\n", 1) < 0)
    return BERTH_ERR_ERRNO(err, "spec: write `%s`", path);
  return 0;
}

int cmd_features(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  bool help = false;
  int idx = 1;
  if (cli_parse("features", argc, argv, &idx, no_opts, &help, err) < 0)
    return -1;
  if (help) {
    cli_print_help("berth-runtime features", "Print the runtime-spec features document of this runtime.",
                   no_opts);
    return 0;
  }
  json_t *f = berth_features_json();
  cli_print_json(f);
  json_decref(f);
  return 0;
}
