/* Instructions against a stage's state: EXPOSE, VOLUME, HEALTHCHECK, and the ones that leave work
 * to the executor (WORKDIR, RUN, COPY, ADD). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"
#include "base/signals.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "build/dispatch_internal.h"
#include "build/expand.h"
#include "build/ignore.h"

void berth_build_op_release(struct berth_build_op *op)
{
  free(op->created_by);
  free(op->cache_text);
  berth_strv_free(op->argv);
  berth_strv_free(op->env);
  for (size_t i = 0; i < op->nmounts; i++)
    berth_build_mount_release(&op->mounts[i]);
  free(op->mounts);
  free(op->script);
  free(op->script_path);
  berth_strv_free(op->srcs);
  berth_strv_free(op->doc_names);
  berth_strv_free(op->doc_bodies);
  free(op->dest);
  free(op->from);
  free(op->chown);
  free(op->chmod);
  free(op->checksum);
  berth_strv_free(op->excludes);
  free(op->dir);
  free(op->user);
  memset(op, 0, sizeof *op);
}

int dispatch_signal_check(const char *s, berth_error_t *err)
{
  int n;
  if (berth_parse_int(s, &n) == 0 ? n < 1 || n > 64 : berth_signal_by_name(s) < 0)
    return BERTH_ERR(err, "STOPSIGNAL: invalid signal `%s`", s);
  return 0;
}

/* one EXPOSE word: port, port/proto or a-b/proto, every port set in ports */
static BERTH_WUR int expose_word(const char *w, json_t *ports, berth_error_t *err)
{
  const char *slash = strchr(w, '/');
  cleanup_free char *range = slash ? xstrndup(w, (size_t) (slash - w)) : xstrdup(w);
  cleanup_free char *proto = xstrdup(slash ? slash + 1 : "tcp");
  for (char *c = proto; *c; c++)
    *c = (char) tolower((unsigned char) *c);
  if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "sctp") != 0)
    return BERTH_ERR(err, "EXPOSE: invalid proto `%s` in `%s`", proto, w);
  char *dash = strchr(range, '-');
  if (dash)
    *dash = '\0';
  int lo, hi;
  if (berth_parse_int(range, &lo) < 0 || (dash && berth_parse_int(dash + 1, &hi) < 0))
    return BERTH_ERR(err, "EXPOSE: invalid port `%s`", w);
  if (!dash)
    hi = lo;
  if (lo < 1 || hi > 65535 || hi < lo)
    return BERTH_ERR(err, "EXPOSE: invalid port range `%s`", w);
  for (int p = lo; p <= hi; p++) {
    char key[32];
    snprintf(key, sizeof key, "%d/%s", p, proto);
    json_object_set_new(ports, key, json_object());
  }
  return 0;
}

int dispatch_expose(struct berth_build_state *st, const struct berth_df_instr *in, struct berth_build_op *op,
                    berth_error_t *err)
{
  cleanup_strv char **words = NULL;
  if (dispatch_expand_words(st, in->rest, &words, err) < 0)
    return -1;
  json_t *c = dispatch_config(st);
  json_t *ports = json_object_get(c, "ExposedPorts");
  if (!json_is_object(ports)) {
    ports = json_object();
    json_object_set_new(c, "ExposedPorts", ports);
  }
  cleanup_strbuf struct berth_strbuf hist = BERTH_STRBUF_INIT;
  berth_strbuf_puts(&hist, "EXPOSE");
  for (size_t i = 0; words[i]; i++) {
    if (expose_word(words[i], ports, err) < 0)
      return -1;
    berth_strbuf_printf(&hist, " %s", words[i]);
  }
  op->created_by = berth_strbuf_detach(&hist);
  return 0;
}

int dispatch_volume(struct berth_build_state *st, const struct berth_df_instr *in, struct berth_build_op *op,
                    berth_error_t *err)
{
  json_t *c = dispatch_config(st);
  json_t *vols = json_object_get(c, "Volumes");
  if (!json_is_object(vols)) {
    vols = json_object();
    json_object_set_new(c, "Volumes", vols);
  }
  cleanup_strbuf struct berth_strbuf hist = BERTH_STRBUF_INIT;
  berth_strbuf_puts(&hist, "VOLUME [");
  for (size_t i = 0; in->args[i]; i++) {
    cleanup_free char *v = NULL;
    if (dispatch_expand(st, in->args[i], &v, err) < 0)
      return -1;
    if (*v == '\0')
      return BERTH_ERR(err, "VOLUME specified can not be an empty string");
    json_object_set_new(vols, v, json_object());
    berth_strbuf_printf(&hist, "%s%s", i ? " " : "", v);
  }
  berth_strbuf_puts(&hist, "]");
  op->created_by = berth_strbuf_detach(&hist);
  return 0;
}

int dispatch_healthcheck(struct berth_build_state *st, const struct berth_df_instr *in,
                         struct berth_build_op *op, berth_error_t *err)
{
  json_t *hc = json_object();
  if (in->healthcheck_none) {
    json_object_set_new(hc, "Test", json_pack("[s]", "NONE"));
  } else {
    json_t *test = json_array();
    json_array_append_new(test, json_string(in->json ? "CMD" : "CMD-SHELL"));
    if (in->json)
      for (size_t i = 0; in->args[i]; i++)
        json_array_append_new(test, json_string(in->args[i]));
    else
      json_array_append_new(test, json_string(in->rest));
    json_object_set_new(hc, "Test", test);
    static const char *const durations[][2] = { { "interval", "Interval" },
                                                { "timeout", "Timeout" },
                                                { "start-period", "StartPeriod" },
                                                { "start-interval", "StartInterval" } };
    for (size_t i = 0; i < BERTH_N_ELEMENTS(durations); i++) {
      const char *v = berth_df_flag(in, durations[i][0], NULL);
      int64_t ns = 0;
      if (v && berth_build_duration_parse(durations[i][0], v, &ns, err) < 0) {
        json_decref(hc);
        return -1;
      }
      if (ns)
        json_object_set_new(hc, durations[i][1], json_integer(ns));
    }
    const char *r = berth_df_flag(in, "retries", NULL);
    int n = 0;
    if (r && (berth_parse_int(r, &n) < 0 || n < 0)) {
      json_decref(hc);
      return BERTH_ERR(err, "--retries: `%s` is not a number of retries", r);
    }
    if (n)
      json_object_set_new(hc, "Retries", json_integer(n));
  }
  json_object_set_new(dispatch_config(st), "Healthcheck", hc);
  op->created_by = xstrdup(in->original);
  return 0;
}

/* an absolute path for p: relative ones from the working directory */
char *dispatch_from_workdir(struct berth_build_state *st, const char *p)
{
  const char *wd = json_string_value(json_object_get(dispatch_config(st), "WorkingDir"));
  cleanup_free char *joined = p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", wd && *wd ? wd : "/", p);
  char *c = berth_build_path_clean(joined);
  if (c[0] != '/') {
    char *abs = xasprintf("/%s", c);
    free(c);
    c = abs;
  }
  return c;
}

int dispatch_workdir(struct berth_build_state *st, const struct berth_df_instr *in, struct berth_build_op *op,
                     berth_error_t *err)
{
  cleanup_free char *v = NULL;
  if (dispatch_expand(st, in->rest, &v, err) < 0)
    return -1;
  if (*v == '\0')
    return BERTH_ERR(err, "WORKDIR: the path expands to nothing");
  char *dir = dispatch_from_workdir(st, v);
  json_t *c = dispatch_config(st);
  json_object_set_new(c, "WorkingDir", json_string(dir));
  op->created_by = xasprintf("WORKDIR %s", dir);
  if (strcmp(dir, "/") == 0) {
    free(dir);
    return 0;
  }
  op->kind = BERTH_BUILD_OP_WORKDIR;
  op->empty_layer = false;
  op->dir = dir;
  const char *user = json_string_value(json_object_get(c, "User"));
  op->user = xstrdup(user ? user : "");
  op->cache_text = xasprintf("WORKDIR %s user=%s", dir, op->user);
  return 0;
}
