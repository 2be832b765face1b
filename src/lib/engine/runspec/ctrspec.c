/* berth_ctrspec_build: the config.json of a container (process, root, hostname, mounts,
 * linux, annotations) and its serialization. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/signals.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"
#include "engine/runspec/ctrspec_internal.h"
#include "engine/runspec/runopts_internal.h"
#include "oci/names.h"

json_t *ctrspec_unlimited(void)
{
  static const char big[] = "\0" CTRSPEC_UNLIMITED;
  return json_stringn(big, sizeof big - 1);
}

char *berth_ctrspec_dumps(const json_t *config, size_t *len)
{
  cleanup_free char *text = json_dumps(config, JSON_COMPACT | JSON_ENCODE_ANY);
  static const char marker[] = "\"\\u0000" CTRSPEC_UNLIMITED "\"";
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  const char *p = text ? text : "null";
  for (const char *hit; (hit = strstr(p, marker)) != NULL; p = hit + sizeof marker - 1) {
    berth_strbuf_append(&b, p, (size_t) (hit - p));
    berth_strbuf_puts(&b, CTRSPEC_UNLIMITED);
  }
  berth_strbuf_puts(&b, p);
  if (len)
    *len = b.len;
  return berth_strbuf_detach(&b);
}

/* ---------------- process ---------------- */

static json_t *caps_json(uint64_t caps)
{
  json_t *a = json_array();
  for (int c = 0; c < 64; c++)
    if ((caps >> c) & 1) {
      const char *n = berth_cap_name(c);
      if (n != NULL)
        json_array_append_new(a, json_string(n));
    }
  return a;
}

static json_t *capabilities(const struct ctrspec_build *b)
{
  json_t *o = json_object();
  json_object_set_new(o, "bounding", caps_json(b->caps));
  /* Docker (23+): a non-root user starts with empty effective and permitted sets; nothing is
   * inheritable or ambient */
  uint64_t eff = b->user.uid == 0 ? b->caps : 0;
  json_object_set_new(o, "effective", caps_json(eff));
  json_object_set_new(o, "permitted", caps_json(eff));
  return o;
}

static json_t *limit_json(int64_t v) { return v < 0 ? ctrspec_unlimited() : json_integer(v); }

static json_t *rlimits(const struct berth_run_opts *o)
{
  json_t *a = json_array();
  for (size_t i = 0; i < o->n_ulimits; i++) {
    json_t *r = json_object();
    json_object_set_new(r, "type", json_string(berth_rlimit_name(o->ulimits[i].resource)));
    json_object_set_new(r, "hard", limit_json(o->ulimits[i].hard));
    json_object_set_new(r, "soft", limit_json(o->ulimits[i].soft));
    json_array_append_new(a, r);
  }
  return a;
}

static json_t *user_json(const struct berth_user *u)
{
  json_t *o = json_object();
  json_object_set_new(o, "uid", json_integer(u->uid));
  json_object_set_new(o, "gid", json_integer(u->gid));
  if (u->n_gids > 0) {
    json_t *g = json_array();
    for (size_t i = 0; i < u->n_gids; i++)
      json_array_append_new(g, json_integer(u->gids[i]));
    json_object_set_new(o, "additionalGids", g);
  }
  return o;
}

static char *cwd_of(const struct ctrspec_build *b)
{
  if (b->o->workdir != NULL)
    return xstrdup(b->o->workdir);
  const char *wd = ctrspec_image_string(b->in->image_config, "WorkingDir");
  return berth_runopts_clean_path(wd && wd[0] ? wd : "/");
}

static BERTH_WUR int process(struct ctrspec_build *b, json_t *config, berth_error_t *err)
{
  const struct berth_run_opts *o = b->o;
  cleanup_strv char **argv = NULL, **config_env = NULL, **env = NULL;
  if (berth_ctrspec_command(b->in->image_config, o, b->in->args, NULL, NULL, &argv, err) < 0)
    return -1;
  if (o->init) { /* berth-init runs the command: /dev/init -- <args> */
    char **with_init = berth_strv_append(berth_strv_append(NULL, BERTH_CTRSPEC_INIT_PATH), "--");
    for (char **p = argv; *p; p++)
      with_init = berth_strv_append(with_init, *p);
    berth_strv_free(argv);
    argv = with_init;
  }
  config_env = berth_ctrspec_config_env(b->in->image_config, o);
  env = berth_ctrspec_process_env(config_env, b->hostname, o->tty, b->user.home);
  cleanup_free char *cwd = cwd_of(b);
  json_t *p = json_object();
  json_object_set_new(config, "process", p);
  json_object_set_new(p, "terminal", json_boolean(o->tty));
  json_object_set_new(p, "user", user_json(&b->user));
  json_object_set_new(p, "args", ctrspec_strv_json(argv));
  json_object_set_new(p, "env", ctrspec_strv_json(env));
  json_object_set_new(p, "cwd", json_string(cwd));
  json_object_set_new(p, "capabilities", capabilities(b));
  if (o->n_ulimits > 0)
    json_object_set_new(p, "rlimits", rlimits(o));
  json_object_set_new(p, "noNewPrivileges", json_boolean(o->no_new_privileges));
  json_object_set_new(p, "oomScoreAdj", json_integer(o->has_oom_score_adj ? o->oom_score_adj : 0));
  if (o->apparmor != NULL && strcmp(o->apparmor, "unconfined") != 0 && !o->privileged)
    json_object_set_new(p, "apparmorProfile", json_string(o->apparmor));
  return 0;
}

/* ---------------- annotations ---------------- */

static BERTH_WUR int annotations(const struct ctrspec_build *b, json_t *config, berth_error_t *err)
{
  json_t *a = json_object();
  json_object_set_new(config, "annotations", a);
  json_t *labels = b->in->image_config ? json_object_get(b->in->image_config, "Labels") : NULL;
  const char *k;
  json_t *v;
  json_object_foreach (labels, k, v)
    if (json_is_string(v))
      json_object_set(a, k, v);
  for (size_t i = 0; i < b->o->n_labels; i++)
    json_object_set_new(a, b->o->labels[i].key, json_string(b->o->labels[i].value));
  for (size_t i = 0; i < b->o->n_annotations; i++) /* --annotation: for the runtime */
    json_object_set_new(a, b->o->annotations[i].key, json_string(b->o->annotations[i].value));
  int sig = 0;
  if (berth_ctrspec_stop_signal(b->in->image_config, b->o, &sig, err) < 0)
    return -1;
  const char *name = berth_signal_name(sig);
  cleanup_free char *s = name ? xasprintf("SIG%s", name) : xasprintf("%d", sig);
  json_object_set_new(a, BERTH_CTRSPEC_STOP_SIGNAL_ANNOTATION, json_string(s));
  if (b->in->name != NULL)
    json_object_set_new(a, "berth.container.name", json_string(b->in->name));
  return 0;
}

/* ---------------- the whole ---------------- */

/* A capability outside berth's own bounding set cannot be given (capset fails): --privileged
 * and ALL get what there is, with a warning; one asked for by name is an error. */
static BERTH_WUR int limit_caps(struct ctrspec_build *b, berth_error_t *err)
{
  uint64_t bnd = b->in->host->bounding;
  uint64_t missing = bnd ? b->caps & ~bnd : 0;
  if (missing == 0)
    return 0;
  cleanup_strbuf struct berth_strbuf names = BERTH_STRBUF_INIT;
  for (int c = 0; c < 64; c++)
    if (missing & (UINT64_C(1) << c))
      berth_strbuf_printf(&names, "%s%s", names.len ? ", " : "", berth_cap_name(c) ? berth_cap_name(c) : "?");
  if (!b->o->privileged && !ctrspec_has_all(b->o->cap_add))
    return BERTH_ERR(err, "--cap-add: %s not in berth's own bounding set on this host", names.buf);
  berth_log_warn("%s: left out, not in berth's own bounding set on this host: %s",
                 b->o->privileged ? "--privileged" : "--cap-add ALL", names.buf);
  b->caps &= bnd;
  return 0;
}

static BERTH_WUR int build(struct ctrspec_build *b, json_t *config, berth_error_t *err)
{
  const struct berth_ctrspec_in *in = b->in;
  const char *user = b->o->user ? b->o->user : ctrspec_image_string(in->image_config, "User");
  if (berth_ctrspec_caps(b->o, in->host->cap_last, &b->caps, err) < 0 || limit_caps(b, err) < 0 ||
      berth_ctrspec_user(user, in->passwd, in->group, b->o->group_add, &b->user, err) < 0)
    return -1;
  b->hostname = berth_ctrspec_hostname(b->o, in->id, in->host->hostname);
  json_object_set_new(config, "ociVersion", json_string(BERTH_OCI_SPEC_VERSION));
  if (process(b, config, err) < 0)
    return -1;
  json_object_set_new(config, "root",
                      json_pack("{s:s, s:b}", "path", in->rootfs, "readonly", b->o->read_only));
  if (b->o->uts.mode != BERTH_NSMODE_HOST)
    json_object_set_new(config, "hostname", json_string(b->hostname));
  if (b->o->uts.mode != BERTH_NSMODE_HOST && b->o->domainname)
    json_object_set_new(config, "domainname", json_string(b->o->domainname));
  if (ctrspec_mounts(b, config, err) < 0 || ctrspec_linux(b, config, err) < 0 ||
      annotations(b, config, err) < 0)
    return -1;
  return 0;
}

/* what the caller passes goes into JSON strings: UTF-8 only */
static BERTH_WUR int check_inputs(const struct berth_ctrspec_in *in, berth_error_t *err)
{
  if (in->opts == NULL || in->host == NULL || in->rootfs == NULL || in->rootfs[0] != '/')
    return BERTH_ERR(err, "container config: options, host facts and an absolute rootfs are required");
  const struct berth_host_facts *h = in->host;
  const char *s[] = { in->id,         in->name,        in->rootfs,  in->cgroups_path, in->hostname_path,
                      in->hosts_path, in->resolv_path, h->hostname, h->init_path,     h->arch };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(s); i++)
    if (s[i] != NULL && !runopts_utf8_valid(s[i], strlen(s[i])))
      return BERTH_ERR(err, "container config: `%s` is not valid UTF-8", s[i]);
  for (size_t i = 0; i < h->n_devices; i++)
    if (!runopts_utf8_valid(h->devices[i].path, strlen(h->devices[i].path)))
      return BERTH_ERR(err, "container config: device `%s` is not valid UTF-8", h->devices[i].path);
  for (char *const *a = in->args; a && *a; a++)
    if (!runopts_utf8_valid(*a, strlen(*a)))
      return BERTH_ERR(err, "container config: argument `%s` is not valid UTF-8", *a);
  return 0;
}

json_t *berth_ctrspec_build(const struct berth_ctrspec_in *in, berth_error_t *err)
{
  if (check_inputs(in, err) < 0)
    return NULL;
  struct ctrspec_build b = { .in = in, .o = in->opts };
  json_t *config = json_object();
  int r = build(&b, config, err);
  berth_user_release(&b.user);
  free(b.hostname);
  if (r < 0) {
    json_decref(config);
    return NULL;
  }
  return config;
}
