/* update: change the resources of a running container (runc's flags or -r resources.json). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "cli.h"
#include "json/json.h"
#include "runtime/manage.h"

/* "512m", "1G", "1048576", "-1" (unlimited) -> bytes */
static int parse_size(const char *s, int64_t *out)
{
  if (strcmp(s, "-1") == 0) {
    *out = -1;
    return 0;
  }
  char *end = NULL;
  double v = strtod(s, &end);
  if (end == s || v < 0)
    return -1;
  double mult = 1;
  switch (tolower((unsigned char) *end)) {
  case '\0': break;
  case 'b': break;
  case 'k': mult = 1024.0; break;
  case 'm': mult = 1024.0 * 1024; break;
  case 'g': mult = 1024.0 * 1024 * 1024; break;
  case 't': mult = 1024.0 * 1024 * 1024 * 1024; break;
  default: return -1;
  }
  if (*end && end[1] != '\0' && !(tolower((unsigned char) end[1]) == 'b' && end[2] == '\0'))
    return -1;
  if (v * mult > 9.2e18)
    return -1;
  *out = (int64_t) (v * mult);
  return 0;
}

struct num_flag {
  const char *flag, *section, *key;
  const char *value;
  bool size;
};

static json_t *section(json_t *res, const char *name)
{
  json_t *s = json_object_get(res, name);
  if (!json_is_object(s))
    json_object_set_new(res, name, s = json_object());
  return s;
}

static int set_flag(json_t *res, const struct num_flag *f, berth_error_t *err)
{
  if (f->value == NULL)
    return 0;
  json_t *sec = section(res, f->section);
  if (strcmp(f->key, "cpus") == 0 || strcmp(f->key, "mems") == 0) {
    json_object_set_new(sec, f->key, json_string(f->value));
    return 0;
  }
  int64_t v;
  if ((f->size ? parse_size(f->value, &v) : berth_parse_i64(f->value, &v)) < 0)
    return BERTH_ERR(err, "update: --%s: invalid value `%s`", f->flag, f->value);
  json_object_set_new(sec, f->key, json_integer(v));
  return 0;
}

int cmd_update(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  bool help = false;
  const char *resources = NULL;
  struct num_flag flags[] = {
    { "memory", "memory", "limit", NULL, true },
    { "memory-reservation", "memory", "reservation", NULL, true },
    { "memory-swap", "memory", "swap", NULL, true },
    { "kernel-memory", "memory", "kernel", NULL, true },
    { "kernel-memory-tcp", "memory", "kernelTCP", NULL, true },
    { "cpu-share", "cpu", "shares", NULL, false }, /* runc's spelling */
    { "cpu-shares", "cpu", "shares", NULL, false },
    { "cpu-quota", "cpu", "quota", NULL, false },
    { "cpu-period", "cpu", "period", NULL, false },
    { "cpu-rt-runtime", "cpu", "realtimeRuntime", NULL, false },
    { "cpu-rt-period", "cpu", "realtimePeriod", NULL, false },
    { "cpuset-cpus", "cpu", "cpus", NULL, false },
    { "cpuset-mems", "cpu", "mems", NULL, false },
    { "pids-limit", "pids", "limit", NULL, false },
    { "blkio-weight", "blockIO", "weight", NULL, false },
  };
  const char *l3 = NULL, *mem_bw = NULL;
  struct berth_cli_opt opts[BERTH_N_ELEMENTS(flags) + 4];
  opts[0] =
    (struct berth_cli_opt){ "resources", 'r',    BERTH_CLI_STRING,
                            &resources,  "FILE", "linux.resources JSON to apply ('-': standard input)" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(flags); i++)
    opts[i + 1] =
      (struct berth_cli_opt){ flags[i].flag, 0, BERTH_CLI_STRING, &flags[i].value, "VALUE", flags[i].key };
  size_t n = BERTH_N_ELEMENTS(flags) + 1;
  opts[n++] =
    (struct berth_cli_opt){ "l3-cache-schema", 0, BERTH_CLI_STRING, &l3, "SCHEMA", "Intel RDT (refused)" };
  opts[n++] =
    (struct berth_cli_opt){ "mem-bw-schema", 0, BERTH_CLI_STRING, &mem_bw, "SCHEMA", "Intel RDT (refused)" };
  opts[n] = (struct berth_cli_opt){ NULL, 0, 0, NULL, NULL, NULL };
  int idx = 1;
  if (cli_parse("update", argc, argv, &idx, opts, &help, err) < 0)
    return -1;
  if (help) {
    cli_print_help("berth-runtime update [options] <container-id>",
                   "Update the cgroup resources of a running container.", opts);
    return 0;
  }
  if (cli_want_args("update", argc, idx, 1, "a container id", err) < 0)
    return -1;
  /* runc's flags, so that its callers get an answer; create refuses linux.intelRdt the same way */
  if (l3 || mem_bw)
    return BERTH_ERR(err, "update: --%s: Intel RDT (resctrl) is not supported by berth-runtime",
                     l3 ? "l3-cache-schema" : "mem-bw-schema");
  const char *file = resources ? (strcmp(resources, "-") == 0 ? "/dev/stdin" : resources) : NULL;
  json_t *res = file ? berth_json_load_file(file, resources, err) : json_object();
  if (res == NULL)
    return -1;
  int r = 0;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(flags) && r == 0; i++)
    r = set_flag(res, &flags[i], err);
  struct berth_spec_resources parsed;
  if (r == 0 && berth_spec_parse_resources(res, file ? resources : "update", &parsed, err) == 0) {
    r = berth_container_update(g->root, argv[idx], &parsed, err);
    berth_spec_resources_free(&parsed);
  } else {
    r = -1;
  }
  json_decref(res);
  return r < 0 ? -1 : 0;
}
