/* Instructions against a stage's state: the state, and the instructions that only change the
 * image config (ARG ENV LABEL CMD ENTRYPOINT USER EXPOSE VOLUME STOPSIGNAL HEALTHCHECK SHELL
 * ONBUILD MAINTAINER). RUN, COPY, ADD and WORKDIR are in dispatch_ops.c. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "build/dispatch_internal.h"
#include "build/expand.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

char *berth_build_rfc3339(int64_t ns)
{
  time_t s = (time_t) (ns / 1000000000);
  long frac = (long) (ns % 1000000000);
  struct tm tm;
  gmtime_r(&s, &tm);
  char date[64];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  if (frac == 0)
    return xasprintf("%sZ", date);
  char f[16];
  snprintf(f, sizeof f, "%09ld", frac);
  for (size_t n = strlen(f); n > 0 && f[n - 1] == '0'; n--)
    f[n - 1] = '\0';
  return xasprintf("%s.%sZ", date, f);
}

json_t *dispatch_config(struct berth_build_state *st)
{
  json_t *c = json_object_get(st->image, "config");
  if (!json_is_object(c)) {
    c = json_object();
    json_object_set_new(st->image, "config", c);
  }
  return c;
}

json_t *dispatch_strv_json(char *const *v)
{
  json_t *a = json_array();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

char *dispatch_json_text(json_t *j)
{
  char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
  if (s == NULL)
    berth_oom();
  return s;
}

char *dispatch_json_quote(const char *s)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_append_json_string(&b, s);
  return berth_strbuf_detach(&b);
}

static void set_platform(json_t *img, const struct berth_build_platform *p)
{
  json_object_set_new(img, "os", json_string(p->os));
  json_object_set_new(img, "architecture", json_string(p->arch));
  if (p->variant[0])
    json_object_set_new(img, "variant", json_string(p->variant));
  else
    json_object_del(img, "variant");
}

int berth_build_state_init(struct berth_build_state *st, const struct berth_build_plan *plan, json_t *base,
                           const struct berth_build_platform *platform, berth_error_t *err)
{
  memset(st, 0, sizeof *st);
  st->plan = plan;
  st->escape = '\\';
  st->args = xcalloc(1, sizeof(char *));
  st->declared = xcalloc(1, sizeof(char *));
  if (base) {
    st->image = json_deep_copy(base);
    if (!json_is_object(st->image)) {
      berth_build_state_release(st);
      return BERTH_ERR(err, "the base image config is not a JSON object");
    }
    static const char *const drop[] = {
      "created", "container", "container_config",  "docker_version",
      "author",  "comment",   "berth.build.cache", "moby.buildkit.cache.v0"
    };
    for (size_t i = 0; i < BERTH_N_ELEMENTS(drop); i++)
      json_object_del(st->image, drop[i]);
  } else {
    st->image = json_pack("{s:{s:[s]}, s:{s:s, s:[]}, s:[]}", "config", "Env", "PATH=" DEFAULT_PATH, "rootfs",
                          "type", "layers", "diff_ids", "history");
    set_platform(st->image, platform);
  }
  if (!json_is_object(json_object_get(st->image, "rootfs")))
    json_object_set_new(st->image, "rootfs", json_pack("{s:s, s:[]}", "type", "layers", "diff_ids"));
  if (!json_is_array(json_object_get(st->image, "history")))
    json_object_set_new(st->image, "history", json_array());
  json_t *shell = json_object_get(dispatch_config(st), "Shell");
  size_t i;
  json_t *e;
  json_array_foreach (shell, i, e)
    if (json_is_string(e))
      st->shell = berth_strv_append(st->shell, json_string_value(e));
  if (st->shell == NULL) {
    st->shell = berth_strv_append(NULL, "/bin/sh");
    st->shell = berth_strv_append(st->shell, "-c");
  }
  return 0;
}

void berth_build_state_release(struct berth_build_state *st)
{
  json_decref(st->image);
  berth_strv_free(st->args);
  berth_strv_free(st->declared);
  berth_strv_free(st->shell);
  memset(st, 0, sizeof *st);
}

char **berth_build_state_triggers(struct berth_build_state *st)
{
  json_t *c = dispatch_config(st);
  json_t *ob = json_object_get(c, "OnBuild");
  char **v = xcalloc(1, sizeof(char *));
  size_t i;
  json_t *e;
  json_array_foreach (ob, i, e)
    if (json_is_string(e))
      v = berth_strv_append(v, json_string_value(e));
  json_object_del(c, "OnBuild");
  return v;
}

char **berth_build_state_env(const struct berth_build_state *st)
{
  char **v = berth_strv_dup(st->args);
  json_t *env = json_object_get(json_object_get(st->image, "config"), "Env");
  size_t i;
  json_t *e;
  json_array_foreach (env, i, e)
    if (json_is_string(e) && strchr(json_string_value(e), '='))
      v = berth_strv_append(v, json_string_value(e));
  return v;
}

int dispatch_expand(struct berth_build_state *st, const char *word, char **out, berth_error_t *err)
{
  cleanup_strv char **env = berth_build_state_env(st);
  return berth_build_expand_word(word, st->escape, berth_build_lookup_env, env, out, err);
}

int dispatch_expand_words(struct berth_build_state *st, const char *text, char ***out, berth_error_t *err)
{
  cleanup_strv char **env = berth_build_state_env(st);
  return berth_build_expand_words(text, st->escape, berth_build_lookup_env, env, out, err);
}

/* "K=V" into a JSON array of such strings, replacing K */
static void env_array_set(json_t *arr, const char *k, const char *v)
{
  size_t n = strlen(k), i;
  json_t *e;
  cleanup_free char *kv = xasprintf("%s=%s", k, v);
  json_array_foreach (arr, i, e) {
    const char *s = json_string_value(e);
    if (s && strncmp(s, k, n) == 0 && s[n] == '=') {
      json_array_set_new(arr, i, json_string(kv));
      return;
    }
  }
  json_array_append_new(arr, json_string(kv));
}

char **dispatch_strv_set(char **v, const char *k, const char *value)
{
  size_t n = strlen(k);
  for (size_t i = 0; v[i]; i++)
    if (strncmp(v[i], k, n) == 0 && (v[i][n] == '=' || v[i][n] == '\0')) {
      free(v[i]);
      v[i] = value ? xasprintf("%s=%s", k, value) : xstrdup(k);
      return v;
    }
  cleanup_free char *kv = value ? xasprintf("%s=%s", k, value) : xstrdup(k);
  return berth_strv_append(v, kv);
}

static char **strv_remove(char **v, const char *k)
{
  size_t n = strlen(k), w = 0;
  for (size_t i = 0; v[i]; i++) {
    if (strncmp(v[i], k, n) == 0 && (v[i][n] == '=' || v[i][n] == '\0'))
      free(v[i]);
    else
      v[w++] = v[i];
  }
  v[w] = NULL;
  return v;
}

/* ENV and LABEL: keys and values expanded (against the state before the instruction) */
static BERTH_WUR int dispatch_kvs(struct berth_build_state *st, const struct berth_df_instr *in,
                                  struct berth_build_op *op, berth_error_t *err)
{
  bool env = in->cmd == BERTH_DF_ENV;
  json_t *c = dispatch_config(st);
  cleanup_strbuf struct berth_strbuf hist = BERTH_STRBUF_INIT;
  berth_strbuf_puts(&hist, env ? "ENV" : "LABEL");
  for (size_t i = 0; i < in->nkvs; i++) {
    cleanup_free char *k = NULL, *v = NULL;
    if (dispatch_expand(st, in->kvs[i].key, &k, err) < 0 ||
        dispatch_expand(st, in->kvs[i].value, &v, err) < 0)
      return -1;
    if (*k == '\0')
      return BERTH_ERR(err, "%s names can not be blank", env ? "ENV" : "LABEL");
    if (env) {
      json_t *arr = json_object_get(c, "Env");
      if (!json_is_array(arr)) {
        arr = json_array();
        json_object_set_new(c, "Env", arr);
      }
      env_array_set(arr, k, v);
      berth_strbuf_printf(&hist, " %s=%s", k, v);
    } else {
      json_t *labels = json_object_get(c, "Labels");
      if (!json_is_object(labels)) {
        labels = json_object();
        json_object_set_new(c, "Labels", labels);
      }
      json_object_set_new(labels, k, json_string(v));
      berth_strbuf_printf(&hist, " %s=%s", k, v);
    }
  }
  op->created_by = berth_strbuf_detach(&hist);
  return 0;
}

/* ARG: the value from --build-arg, the default, the meta argument or the platform's */
static BERTH_WUR int dispatch_arg(struct berth_build_state *st, const struct berth_df_instr *in,
                                  struct berth_build_op *op, berth_error_t *err)
{
  cleanup_strbuf struct berth_strbuf hist = BERTH_STRBUF_INIT, cache = BERTH_STRBUF_INIT;
  berth_strbuf_puts(&hist, "ARG");
  berth_strbuf_puts(&cache, "ARG");
  for (size_t i = 0; i < in->nkvs; i++) {
    const char *k = in->kvs[i].key;
    cleanup_free char *dflt = NULL;
    if (in->kvs[i].value && dispatch_expand(st, in->kvs[i].value, &dflt, err) < 0)
      return -1;
    const char *given = berth_build_lookup_env(st->plan->build_args, k);
    const char *meta = NULL;
    for (size_t m = 0; st->plan->meta_declared[m] && !meta; m++)
      if (strcmp(st->plan->meta_declared[m], k) == 0)
        meta = berth_build_lookup_env(st->plan->meta_args, k);
    char buf[100];
    const char *platform = berth_build_platform_arg(st->plan, k, buf);
    const char *v = given ? given : dflt ? dflt : meta ? meta : platform;
    st->args = v ? dispatch_strv_set(st->args, k, v) : strv_remove(st->args, k);
    bool seen = false;
    for (size_t d = 0; st->declared[d] && !seen; d++)
      seen = strcmp(st->declared[d], k) == 0;
    if (!seen)
      st->declared = berth_strv_append(st->declared, k);
    berth_strbuf_printf(&hist, " %s%s%s", k, dflt ? "=" : "", dflt ? dflt : "");
    berth_strbuf_printf(&cache, " %s%s%s", k, v ? "=" : "", v ? v : "");
  }
  op->created_by = berth_strbuf_detach(&hist);
  op->cache_text = berth_strbuf_detach(&cache);
  return 0;
}

/* CMD, ENTRYPOINT: the exec form as is, the shell form through SHELL */
static int dispatch_command(struct berth_build_state *st, const struct berth_df_instr *in,
                            struct berth_build_op *op)
{
  json_t *c = dispatch_config(st);
  cleanup_strv char **argv = NULL;
  if (in->json) {
    argv = berth_strv_dup(in->args);
  } else {
    argv = berth_strv_dup(st->shell);
    argv = berth_strv_append(argv, in->rest);
  }
  json_t *a = dispatch_strv_json(argv);
  bool cmd = in->cmd == BERTH_DF_CMD;
  cleanup_free char *text = dispatch_json_text(a);
  json_object_set_new(c, cmd ? "Cmd" : "Entrypoint", a);
  if (cmd)
    st->cmd_set = true;
  else if (!st->cmd_set)
    json_object_set_new(c, "Cmd", json_null());
  op->created_by = xasprintf("%s %s", cmd ? "CMD" : "ENTRYPOINT", text);
  return 0;
}

static BERTH_WUR int dispatch_simple(struct berth_build_state *st, const struct berth_df_instr *in,
                                     struct berth_build_op *op, berth_error_t *err)
{
  cleanup_free char *v = NULL;
  if (dispatch_expand(st, in->rest, &v, err) < 0)
    return -1;
  const char *name = berth_df_cmd_name(in->cmd);
  if (in->cmd == BERTH_DF_USER) {
    if (*v == '\0')
      return BERTH_ERR(err, "USER: the user expands to nothing");
    json_object_set_new(dispatch_config(st), "User", json_string(v));
  } else if (in->cmd == BERTH_DF_STOPSIGNAL) {
    if (dispatch_signal_check(v, err) < 0)
      return -1;
    json_object_set_new(dispatch_config(st), "StopSignal", json_string(v));
  } else { /* MAINTAINER */
    json_object_set_new(st->image, "author", json_string(v));
  }
  op->created_by = xasprintf("%s %s", name, v);
  return 0;
}

static int dispatch_shell(struct berth_build_state *st, const struct berth_df_instr *in,
                          struct berth_build_op *op)
{
  berth_strv_free(st->shell);
  st->shell = berth_strv_dup(in->args);
  json_t *a = dispatch_strv_json(in->args);
  cleanup_free char *text = dispatch_json_text(a);
  json_object_set_new(dispatch_config(st), "Shell", a);
  op->created_by = xasprintf("SHELL %s", text);
  return 0;
}

static int dispatch_onbuild(struct berth_build_state *st, const struct berth_df_instr *in,
                            struct berth_build_op *op)
{
  json_t *c = dispatch_config(st);
  json_t *ob = json_object_get(c, "OnBuild");
  if (!json_is_array(ob)) {
    ob = json_array();
    json_object_set_new(c, "OnBuild", ob);
  }
  json_array_append_new(ob, json_string(in->sub->original));
  op->created_by = xasprintf("ONBUILD %s", in->sub->original);
  return 0;
}

int berth_build_dispatch(struct berth_build_state *st, const struct berth_df_instr *in,
                         struct berth_build_op *op, berth_error_t *err)
{
  memset(op, 0, sizeof *op);
  op->kind = BERTH_BUILD_OP_CONFIG;
  op->empty_layer = true;
  int rc = 0;
  switch (in->cmd) {
  case BERTH_DF_ENV:
  case BERTH_DF_LABEL: rc = dispatch_kvs(st, in, op, err); break;
  case BERTH_DF_ARG: rc = dispatch_arg(st, in, op, err); break;
  case BERTH_DF_CMD:
  case BERTH_DF_ENTRYPOINT: rc = dispatch_command(st, in, op); break;
  case BERTH_DF_USER:
  case BERTH_DF_STOPSIGNAL:
  case BERTH_DF_MAINTAINER: rc = dispatch_simple(st, in, op, err); break;
  case BERTH_DF_SHELL: rc = dispatch_shell(st, in, op); break;
  case BERTH_DF_ONBUILD: rc = dispatch_onbuild(st, in, op); break;
  case BERTH_DF_EXPOSE: rc = dispatch_expose(st, in, op, err); break;
  case BERTH_DF_VOLUME: rc = dispatch_volume(st, in, op, err); break;
  case BERTH_DF_HEALTHCHECK: rc = dispatch_healthcheck(st, in, op, err); break;
  case BERTH_DF_WORKDIR: rc = dispatch_workdir(st, in, op, err); break;
  case BERTH_DF_RUN: rc = dispatch_run(st, in, op, err); break;
  case BERTH_DF_COPY:
  case BERTH_DF_ADD: rc = dispatch_copy(st, in, op, err); break;
  case BERTH_DF_FROM: rc = BERTH_ERR(err, "FROM inside a stage"); break;
  }
  if (rc == 0 && op->cache_text == NULL)
    op->cache_text = xstrdup(op->created_by);
  if (rc < 0) {
    berth_build_op_release(op);
    return berth_error_wrap(err, "%s", in->original);
  }
  return 0;
}

void berth_build_state_commit(struct berth_build_state *st, const struct berth_build_op *op,
                              const char *diff_id, int64_t created_ns)
{
  cleanup_free char *created = berth_build_rfc3339(created_ns);
  json_t *h = json_pack("{s:s, s:s, s:s}", "created", created, "created_by", op->created_by, "comment",
                        "buildkit.dockerfile.v0");
  if (diff_id == NULL)
    json_object_set_new(h, "empty_layer", json_true());
  else
    json_array_append_new(json_object_get(json_object_get(st->image, "rootfs"), "diff_ids"),
                          json_string(diff_id));
  json_array_append_new(json_object_get(st->image, "history"), h);
  json_object_set_new(st->image, "created", json_string(created));
}

char *berth_build_state_dump(const struct berth_build_state *st)
{
  char *s = json_dumps(st->image, JSON_COMPACT | JSON_SORT_KEYS);
  if (s == NULL)
    berth_oom();
  return s;
}
