/* exec: run a process in a running container (runc's flags). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cli.h"
#include "json/json.h"
#include "oci/names.h"
#include "runtime/exec.h"

struct exec_flags {
  const char *process, *console_socket, *pid_file, *cwd, *user, *apparmor, *label, *cgroup;
  const char **env, **caps, **gids;
  bool tty, detach, nnp, ignore_paused;
  int preserve_fds;
};

static void set_env(json_t *p, const char *kv)
{
  json_t *env = json_object_get(p, "env");
  if (!json_is_array(env)) {
    env = json_array();
    json_object_set_new(p, "env", env);
  }
  const char *eq = strchr(kv, '=');
  size_t klen = eq ? (size_t) (eq - kv) : strlen(kv);
  size_t i;
  json_t *v;
  json_array_foreach (env, i, v) {
    const char *s = json_string_value(v);
    if (s && strncmp(s, kv, klen) == 0 && s[klen] == '=') {
      json_array_set_new(env, i, json_string(kv));
      return;
    }
  }
  json_array_append_new(env, json_string(kv));
}

static int set_user(json_t *p, const char *spec, berth_error_t *err)
{
  json_t *user = json_object_get(p, "user");
  if (!json_is_object(user)) {
    user = json_object();
    json_object_set_new(p, "user", user);
  }
  cleanup_free char *copy = xstrdup(spec);
  char *colon = strchr(copy, ':');
  if (colon)
    *colon = '\0';
  uint64_t uid, gid;
  if (berth_parse_u64(copy, &uid) < 0 || uid > UINT32_MAX ||
      (colon && (berth_parse_u64(colon + 1, &gid) < 0 || gid > UINT32_MAX)))
    return BERTH_ERR(err, "exec: --user: expected uid[:gid] as numbers, got `%s`", spec);
  json_object_set_new(user, "uid", json_integer((json_int_t) uid));
  if (colon)
    json_object_set_new(user, "gid", json_integer((json_int_t) gid));
  return 0;
}

static int add_caps(json_t *p, const char **caps, berth_error_t *err)
{
  json_t *set = json_object_get(p, "capabilities");
  if (!json_is_object(set)) {
    set = json_object();
    json_object_set_new(p, "capabilities", set);
  }
  /* like runc: ambient only when the process already has inheritable capabilities */
  bool ambient = json_is_array(json_object_get(set, "inheritable"));
  static const char *const sets[] = { "bounding", "effective", "permitted", "ambient" };
  for (const char **c = caps; c && *c; c++) {
    cleanup_free char *name = berth_str_has_prefix(*c, "CAP_") ? xstrdup(*c) : xasprintf("CAP_%s", *c);
    for (char *q = name; *q; q++)
      *q = (char) (*q >= 'a' && *q <= 'z' ? *q - 32 : *q);
    if (berth_cap_from_name(name) < 0)
      return BERTH_ERR(err, "exec: --cap: unknown capability `%s`", *c);
    for (size_t i = 0; i < 4; i++) {
      if (i == 3 && !ambient)
        continue;
      json_t *arr = json_object_get(set, sets[i]);
      if (!json_is_array(arr)) {
        arr = json_array();
        json_object_set_new(set, sets[i], arr);
      }
      json_array_append_new(arr, json_string(name));
    }
  }
  return 0;
}

static int apply_flags(json_t *p, const struct exec_flags *f, int argc, char **argv, int idx,
                       berth_error_t *err)
{
  json_t *args = json_array();
  for (int i = idx; i < argc; i++)
    json_array_append_new(args, json_string(argv[i]));
  json_object_set_new(p, "args", args);
  for (const char **e = f->env; e && *e; e++)
    set_env(p, *e);
  if (f->cwd)
    json_object_set_new(p, "cwd", json_string(f->cwd));
  if (f->user && set_user(p, f->user, err) < 0)
    return -1;
  if (f->gids) {
    json_t *user = json_object_get(p, "user");
    if (!json_is_object(user))
      json_object_set_new(p, "user", user = json_object());
    json_t *arr = json_array();
    for (const char **g = f->gids; *g; g++) {
      uint64_t v;
      if (berth_parse_u64(*g, &v) < 0 || v > UINT32_MAX) {
        json_decref(arr);
        return BERTH_ERR(err, "exec: --additional-gids: `%s` is not a gid", *g);
      }
      json_array_append_new(arr, json_integer((json_int_t) v));
    }
    json_object_set_new(user, "additionalGids", arr);
  }
  if (f->caps && add_caps(p, f->caps, err) < 0)
    return -1;
  json_object_set_new(p, "terminal", json_boolean(f->tty));
  if (f->nnp)
    json_object_set_new(p, "noNewPrivileges", json_true());
  if (f->apparmor)
    json_object_set_new(p, "apparmorProfile", json_string(f->apparmor));
  if (f->label)
    json_object_set_new(p, "selinuxLabel", json_string(f->label));
  return 0;
}

static int run_exec(struct globals *g, const struct exec_flags *f, int argc, char **argv, int idx,
                    berth_error_t *err)
{
  if (idx >= argc)
    return BERTH_ERR(err, "exec: expected a container id (see --help)");
  if (f->preserve_fds < 0)
    return BERTH_ERR(err, "exec: --preserve-fds: must not be negative");
  if (cli_close_unasked_fds(f->preserve_fds, err) < 0)
    return -1;
  const char *id = argv[idx++];
  json_t *process = NULL;
  if (f->process) {
    if (idx < argc)
      return BERTH_ERR(err, "exec: give either --process or a command, not both");
    process = berth_json_load_file(f->process, NULL, err);
  } else {
    if (idx >= argc)
      return BERTH_ERR(err, "exec: expected a command to run (or --process)");
    process = berth_container_process_json(g->root, id, err);
    if (process && apply_flags(process, f, argc, argv, idx, err) < 0) {
      json_decref(process);
      process = NULL;
    }
  }
  if (process == NULL)
    return -1;
  struct berth_exec_opts o = { .root = g->root,
                               .id = id,
                               .process = process,
                               .process_file = f->process ? f->process : "exec process",
                               .console_socket = f->console_socket,
                               .pid_file = f->pid_file,
                               .preserve_fds = f->preserve_fds,
                               .detach = f->detach,
                               .ignore_paused = f->ignore_paused };
  int r = berth_container_exec(&o, err);
  json_decref(process);
  return r;
}

int cmd_exec(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  struct exec_flags f = { 0 };
  bool help = false;
  const struct berth_cli_opt opts[] = {
    { "process", 'p', BERTH_CLI_STRING, &f.process, "FILE",
      "process.json with the whole process (runtime-spec)" },
    { "console-socket", 0, BERTH_CLI_STRING, &f.console_socket, "SOCKET",
      "unix socket that receives the pty master" },
    { "pid-file", 0, BERTH_CLI_STRING, &f.pid_file, "FILE", "write the process's pid to FILE" },
    { "tty", 't', BERTH_CLI_BOOL, &f.tty, NULL, "allocate a pty" },
    { "detach", 'd', BERTH_CLI_BOOL, &f.detach, NULL, "do not wait for the process" },
    { "env", 'e', BERTH_CLI_STRINGS, &f.env, "NAME=VALUE", "set an environment variable (repeatable)" },
    { "cwd", 0, BERTH_CLI_STRING, &f.cwd, "DIR", "working directory in the container" },
    { "user", 'u', BERTH_CLI_STRING, &f.user, "UID[:GID]", "run as this user" },
    { "additional-gids", 'g', BERTH_CLI_STRINGS, &f.gids, "GID", "additional group (repeatable)" },
    { "cap", 'c', BERTH_CLI_STRINGS, &f.caps, "CAP", "add a capability (repeatable)" },
    { "no-new-privs", 0, BERTH_CLI_BOOL, &f.nnp, NULL, "set no_new_privs" },
    { "apparmor", 0, BERTH_CLI_STRING, &f.apparmor, "PROFILE", "AppArmor profile" },
    { "process-label", 0, BERTH_CLI_STRING, &f.label, "LABEL", "SELinux process label" },
    { "preserve-fds", 0, BERTH_CLI_INT, &f.preserve_fds, "N", "pass N extra descriptors (3..3+N-1)" },
    { "ignore-paused", 0, BERTH_CLI_BOOL, &f.ignore_paused, NULL, "exec even into a paused container" },
    { "cgroup", 0, BERTH_CLI_STRING, &f.cgroup, "PATH", "sub-cgroup to put the process in" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int idx = 1;
  int r = cli_parse("exec", argc, argv, &idx, opts, &help, err);
  if (r == 0 && help) {
    cli_print_help("berth-runtime exec [options] <container-id> [command [args...]]",
                   "Run a process inside a running container.", opts);
  } else if (r == 0) {
    r = run_exec(g, &f, argc, argv, idx, err);
  }
  free(f.env);
  free(f.caps);
  free(f.gids);
  return r;
}
