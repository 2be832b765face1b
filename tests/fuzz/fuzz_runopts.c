/* Fuzz the run/create option parsers and what is built from them.
 *
 * Input: "E:" then an env file's text (berth_runopts_parse_env_file); "S:" then a seccomp profile
 * in Docker's format (parsed and rendered); otherwise lines "<flag> <value>" (no space: a flag
 * without a value) given to berth_runopts_set. When the options validate, a container config is
 * built from them with fake host facts, and it must parse with the runtime's own parser: every
 * value the option parsers accept has to make a valid config (or a clean error). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"
#include "oci/spec.h"

static void check_error(berth_error_t *err)
{
  if (*err == NULL || (*err)->msg == NULL || (*err)->msg[0] == '\0')
    abort();
  berth_error_release(err);
}

static int fake_device(void *data, const char *path, struct berth_host_device *out, berth_error_t *err)
{
  *out = (struct berth_host_device){ path, 'c', 1, 3, 0666, 0, 0 };
  return 0;
}

static int fake_pid(void *data, const char *name, pid_t *pid, berth_error_t *err)
{
  *pid = 1;
  return 0;
}

static int fake_source(void *data, const struct berth_run_mount *m, char **source, berth_error_t *err)
{
  *source = m->type == BERTH_MOUNT_BIND ? xstrdup(m->source) : xasprintf("/volumes%s", m->target);
  return 0;
}

/* invariants of accepted options */
static void check_opts(const struct berth_run_opts *o)
{
  for (size_t i = 0; i < o->n_mounts; i++) {
    const char *t = o->mounts[i].target;
    if (t[0] != '/' || strcmp(t, "/") == 0 || strstr(t, "//") || strstr(t, "/../") || strstr(t, "/./"))
      abort();
    if (o->mounts[i].type == BERTH_MOUNT_BIND &&
        (o->mounts[i].source == NULL || o->mounts[i].source[0] != '/'))
      abort();
  }
  for (size_t i = 0; i < o->n_ulimits; i++)
    if (o->ulimits[i].hard != -1 && (o->ulimits[i].soft == -1 || o->ulimits[i].soft > o->ulimits[i].hard))
      abort();
  if ((o->memory != 0 && o->memory < 6 * 1024 * 1024) || o->nano_cpus < 0 || o->shm_size < 0)
    abort();
  for (size_t i = 0; i < o->n_devices; i++)
    if (o->devices[i].perms[0] == '\0' || o->devices[i].container_path[0] != '/')
      abort();
}

static void build_and_parse(const struct berth_run_opts *o)
{
  static const struct berth_host_device devs[] = { { "/dev/null", 'c', 1, 3, 0666, 0, 0 } };
  struct berth_host_facts host = { .cgroup_v2 = true,
                                   .swap_limit = true,
                                   .hostname = "host",
                                   .init_path = "/usr/libexec/berth-init",
                                   .arch = "amd64",
                                   .cap_last = 40,
                                   .devices = devs,
                                   .n_devices = 1,
                                   .kernel_major = 6,
                                   .kernel_minor = 1 };
  struct berth_ctrspec_callbacks cb = { fake_device, fake_pid, fake_source, NULL };
  char *const args[] = { "true", NULL };
  struct berth_ctrspec_in in = { .id = "0123456789abcdef",
                                 .rootfs = "/rootfs",
                                 .hosts_path = "/c/hosts",
                                 .opts = o,
                                 .args = args,
                                 .passwd = "root:x:0:0::/root:/bin/sh\n",
                                 .group = "root:x:0:\n",
                                 .host = &host,
                                 .cb = &cb };
  berth_error_t err = NULL;
  json_t *c = berth_ctrspec_build(&in, &err);
  if (c == NULL) {
    check_error(&err);
    return;
  }
  size_t len = 0;
  cleanup_free char *text = berth_ctrspec_dumps(c, &len);
  json_decref(c);
  berth_spec_t *spec = NULL;
  if (berth_spec_parse(text, len, "config.json", &spec, &err) < 0)
    abort(); /* accepted options made an invalid config */
  berth_spec_free(spec);
}

static void fuzz_flags(char *text)
{
  struct berth_run_opts o;
  berth_runopts_init(&o);
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *sp = strchr(line, ' ');
    if (sp != NULL)
      *sp = '\0';
    berth_error_t err = NULL;
    if (berth_runopts_set(&o, line, sp ? sp + 1 : NULL, &err) < 0)
      check_error(&err);
  }
  berth_error_t err = NULL;
  check_opts(&o);
  if (berth_runopts_validate(&o, &err) == 0)
    build_and_parse(&o);
  else
    check_error(&err);
  berth_runopts_release(&o);
}

static void fuzz_profile(const char *text, size_t len)
{
  struct berth_seccomp_profile *p = NULL;
  berth_error_t err = NULL;
  if (berth_seccomp_profile_parse(text, len, "p.json", &p, &err) < 0) {
    check_error(&err);
    return;
  }
  struct berth_seccomp_target t = { .caps = 0x3ffu, .arch = "amd64", .kernel_major = 5, .kernel_minor = 10 };
  json_t *sc = berth_seccomp_profile_render(p, &t, &err);
  if (sc == NULL)
    abort();
  json_decref(sc);
  berth_seccomp_profile_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 8192)
    return 0;
  char *buf = xmalloc(size + 1);
  memcpy(buf, data, size);
  buf[size] = '\0';
  if (size >= 2 && memcmp(buf, "E:", 2) == 0) {
    char **env = NULL;
    berth_error_t err = NULL;
    if (berth_runopts_parse_env_file(buf + 2, size - 2, "f.env", NULL, NULL, &env, &err) < 0)
      check_error(&err);
    for (char **p = env; p && *p; p++)
      if ((*p)[0] == '\0' || (*p)[0] == '=' || strchr(*p, '\n'))
        abort();
    berth_strv_free(env);
  } else if (size >= 2 && memcmp(buf, "S:", 2) == 0) {
    fuzz_profile(buf + 2, size - 2);
  } else if (strlen(buf) == size) {
    fuzz_flags(buf);
  }
  free(buf);
  return 0;
}
