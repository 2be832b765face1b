/* Docker's rules for what runs: entrypoint and command, environment, hostname, capabilities,
 * stop signal. Pure. */
#include <linux/capability.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"
#include "engine/runspec/ctrspec_internal.h"
#include "oci/names.h"

const char *ctrspec_image_string(json_t *image_config, const char *key)
{
  json_t *v = image_config ? json_object_get(image_config, key) : NULL;
  return json_is_string(v) ? json_string_value(v) : NULL;
}

char **ctrspec_image_strv(json_t *image_config, const char *key)
{
  json_t *v = image_config ? json_object_get(image_config, key) : NULL;
  char **out = NULL;
  if (json_is_string(v))
    return berth_strv_append(NULL, json_string_value(v));
  size_t i;
  json_t *e;
  json_array_foreach (v, i, e)
    if (json_is_string(e))
      out = berth_strv_append(out, json_string_value(e));
  return out;
}

json_t *ctrspec_strv_json(char *const *v)
{
  json_t *a = json_array();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

/* a copy, NULL when v is NULL or empty */
static char **dup_or_null(char *const *v) { return v && v[0] ? berth_strv_dup(v) : NULL; }

static char **concat(char *const *a, char *const *b)
{
  char **out = NULL;
  for (size_t i = 0; a && a[i]; i++)
    out = berth_strv_append(out, a[i]);
  for (size_t i = 0; b && b[i]; i++)
    out = berth_strv_append(out, b[i]);
  return out;
}

int berth_ctrspec_command(json_t *image_config, const struct berth_run_opts *o, char *const *args,
                          char ***entrypoint, char ***cmd, char ***argv, berth_error_t *err)
{
  bool have_args = args != NULL && args[0] != NULL;
  cleanup_strv char **ep = NULL, **c = NULL;
  if (o->has_entrypoint) {
    /* --entrypoint resets the image's Cmd too (Docker); "" leaves no entrypoint */
    ep = dup_or_null(o->entrypoint);
    c = have_args ? dup_or_null(args) : NULL;
  } else {
    ep = ctrspec_image_strv(image_config, "Entrypoint");
    c = have_args ? dup_or_null(args) : ctrspec_image_strv(image_config, "Cmd");
  }
  char **all = concat(ep, c);
  if (all == NULL)
    return BERTH_ERR(err, "no command specified");
  *argv = all;
  if (entrypoint)
    *entrypoint = steal_ptr(ep);
  if (cmd)
    *cmd = steal_ptr(c);
  return 0;
}

/* ---------------- environment ---------------- */

static size_t key_len(const char *kv) { return strcspn(kv, "="); }

static ssize_t find_key(char *const *v, const char *kv)
{
  size_t n = key_len(kv);
  for (size_t i = 0; v && v[i]; i++)
    if (key_len(v[i]) == n && strncmp(v[i], kv, n) == 0)
      return (ssize_t) i;
  return -1;
}

/* replace the variable of the same name in place, or append */
static char **set_var(char **v, const char *kv)
{
  ssize_t i = find_key(v, kv);
  if (i < 0)
    return berth_strv_append(v, kv);
  free(v[i]);
  v[i] = xstrdup(kv);
  return v;
}

char **berth_ctrspec_config_env(json_t *image_config, const struct berth_run_opts *o)
{
  char **env = NULL;
  for (char **p = o->env_from_files; p && *p; p++)
    env = set_var(env, *p);
  for (char **p = o->env; p && *p; p++)
    env = set_var(env, *p);
  cleanup_strv char **image = ctrspec_image_strv(image_config, "Env");
  for (char **p = image; p && *p; p++)
    if (strchr(*p, '=') != NULL && find_key(env, *p) < 0)
      env = berth_strv_append(env, *p);
  return env;
}

char **berth_ctrspec_process_env(char *const *config_env, const char *hostname, bool tty, const char *home)
{
  char **env = berth_strv_append(NULL, "PATH=" BERTH_CTRSPEC_DEFAULT_PATH);
  cleanup_free char *h = xasprintf("HOSTNAME=%s", hostname ? hostname : "");
  env = berth_strv_append(env, h);
  if (tty)
    env = berth_strv_append(env, "TERM=xterm");
  /* Docker's ReplaceOrAppendEnvValues: "K" alone removes K */
  for (size_t i = 0; config_env && config_env[i]; i++) {
    const char *kv = config_env[i];
    ssize_t at = find_key(env, kv);
    if (strchr(kv, '=') != NULL) {
      env = set_var(env, kv);
    } else if (at >= 0) {
      free(env[at]);
      memmove(&env[at], &env[at + 1], (berth_strv_len(env) - (size_t) at) * sizeof *env);
    }
  }
  if (home != NULL && find_key(env, "HOME=") < 0) {
    cleanup_free char *kv = xasprintf("HOME=%s", home);
    env = berth_strv_append(env, kv);
  }
  return env;
}

char *berth_ctrspec_hostname(const struct berth_run_opts *o, const char *id, const char *host_hostname)
{
  if (o->hostname != NULL)
    return xstrdup(o->hostname);
  if (o->network.mode == BERTH_NSMODE_HOST && host_hostname != NULL)
    return xstrdup(host_hostname);
  return xstrndup(id ? id : "", 12);
}

/* ---------------- capabilities ---------------- */

uint64_t berth_ctrspec_default_caps(void)
{
  static const int caps[] = { CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
                              CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
                              CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
                              CAP_KILL,    CAP_AUDIT_WRITE };
  uint64_t m = 0;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(caps); i++)
    m |= UINT64_C(1) << caps[i];
  return m;
}

bool ctrspec_has_all(char *const *v)
{
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp(v[i], "ALL") == 0)
      return true;
  return false;
}

static BERTH_WUR int cap_mask(char *const *v, int last, uint64_t *mask, berth_error_t *err)
{
  *mask = 0;
  for (size_t i = 0; v && v[i]; i++) {
    if (strcmp(v[i], "ALL") == 0)
      continue;
    int c = berth_cap_from_name(v[i]);
    if (c < 0)
      return BERTH_ERR(err, "unknown capability \"%s\"", v[i]);
    if (c > last)
      return BERTH_ERR(err, "capability \"%s\" is not supported by this kernel", v[i]);
    *mask |= UINT64_C(1) << c;
  }
  return 0;
}

/* Docker's TweakCapabilities */
int berth_ctrspec_caps(const struct berth_run_opts *o, int cap_last, uint64_t *caps, berth_error_t *err)
{
  int last = cap_last >= 0 && cap_last <= 63 ? cap_last : berth_cap_last();
  uint64_t all = last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
  uint64_t add = 0, drop = 0;
  if (o->privileged) {
    *caps = all;
    return 0;
  }
  if (cap_mask(o->cap_add, last, &add, err) < 0 || cap_mask(o->cap_drop, last, &drop, err) < 0)
    return berth_error_wrap(err, "%s", "--cap-add/--cap-drop");
  if (ctrspec_has_all(o->cap_add))
    *caps = all & ~drop; /* everything but what is dropped by name */
  else if (ctrspec_has_all(o->cap_drop))
    *caps = add;
  else
    *caps = ((berth_ctrspec_default_caps() & all) & ~drop) | add;
  return 0;
}

int berth_ctrspec_stop_signal(json_t *image_config, const struct berth_run_opts *o, int *sig,
                              berth_error_t *err)
{
  const char *s = ctrspec_image_string(image_config, "StopSignal");
  if (o->stop_signal > 0)
    *sig = o->stop_signal;
  else if (s != NULL && s[0] != '\0')
    return berth_runopts_parse_signal("image StopSignal", s, sig, err);
  else
    *sig = SIGTERM;
  return 0;
}

/* Docker's merge: the flags' fields, each unset one the image's; --no-healthcheck: ["NONE"] */
json_t *berth_ctrspec_healthcheck(json_t *image_config, const struct berth_run_opts *o)
{
  json_t *img = json_object_get(image_config, "Healthcheck");
  json_t *h = json_is_object(img) ? json_deep_copy(img) : json_object();
  if (o->no_healthcheck) {
    json_object_clear(h);
    json_object_set_new(h, "Test", json_pack("[s]", "NONE"));
    return h;
  }
  if (o->health_test) {
    json_t *t = json_array();
    for (char **w = o->health_test; *w; w++)
      json_array_append_new(t, json_string(*w));
    json_object_set_new(h, "Test", t);
  }
  const struct {
    const char *key;
    int64_t v;
  } d[] = { { "Interval", o->health_interval },
            { "Timeout", o->health_timeout },
            { "StartPeriod", o->health_start_period },
            { "StartInterval", o->health_start_interval } };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(d); i++)
    if (d[i].v > 0)
      json_object_set_new(h, d[i].key, json_integer(d[i].v));
  if (o->has_health_retries)
    json_object_set_new(h, "Retries", json_integer(o->health_retries));
  if (json_object_size(h) == 0) {
    json_decref(h);
    return NULL;
  }
  return h;
}
