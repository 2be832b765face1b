/* The build plan: stages, their dependencies, the target's closure, the meta arguments. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "build/expand.h"
#include "build/instr.h"
#include "build/plan.h"

void berth_build_platform_string(const struct berth_build_platform *p, char out[100])
{
  snprintf(out, 100, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
}

bool berth_build_is_proxy_arg(const char *name)
{
  static const char *const names[] = {
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
    "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy"
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(names); i++)
    if (strcmp(name, names[i]) == 0)
      return true;
  return false;
}

const char *berth_build_platform_arg(const struct berth_build_plan *p, const char *name, char buf[100])
{
  const struct berth_build_platform *pl = NULL;
  const char *what = NULL;
  if (berth_str_has_prefix(name, "TARGET")) {
    pl = &p->target_platform;
    what = name + 6;
  } else if (berth_str_has_prefix(name, "BUILD")) {
    pl = &p->build_platform;
    what = name + 5;
  } else {
    return NULL;
  }
  if (strcmp(what, "PLATFORM") == 0)
    berth_build_platform_string(pl, buf);
  else if (strcmp(what, "OS") == 0)
    snprintf(buf, 100, "%s", pl->os);
  else if (strcmp(what, "ARCH") == 0)
    snprintf(buf, 100, "%s", pl->arch);
  else if (strcmp(what, "VARIANT") == 0)
    snprintf(buf, 100, "%s", pl->variant);
  else
    return NULL;
  return buf;
}

void berth_build_plan_free(struct berth_build_plan *p)
{
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->nstages; i++) {
    free(p->stages[i].name);
    free(p->stages[i].base);
    free(p->stages[i].platform);
    free((void *) p->stages[i].instrs);
    free(p->stages[i].deps);
  }
  free(p->stages);
  berth_strv_free(p->meta_args);
  berth_strv_free(p->meta_declared);
  berth_strv_free(p->build_args);
  berth_strv_free(p->unused_args);
  free(p);
}

int berth_build_plan_stage_ref(const struct berth_build_plan *p, const char *ref, size_t before)
{
  for (size_t i = 0; i < before && i < p->nstages; i++)
    if (p->stages[i].name && strcasecmp(p->stages[i].name, ref) == 0)
      return (int) i;
  int n;
  if (berth_parse_int(ref, &n) == 0 && n >= 0 && (size_t) n < before)
    return n;
  return -1;
}

static const char *build_arg(const struct berth_build_plan *p, const char *name)
{
  return berth_build_lookup_env(p->build_args, name);
}

/* "K=V" replacing an earlier K */
static char **env_set(char **env, const char *k, const char *v)
{
  size_t n = strlen(k);
  for (size_t i = 0; env[i]; i++)
    if (strncmp(env[i], k, n) == 0 && env[i][n] == '=') {
      free(env[i]);
      env[i] = xasprintf("%s=%s", k, v);
      return env;
    }
  cleanup_free char *kv = xasprintf("%s=%s", k, v);
  return berth_strv_append(env, kv);
}

/* the ARGs before the first FROM */
static BERTH_WUR int meta_scope(struct berth_build_plan *p, const struct berth_dockerfile *df,
                                size_t *first_from, berth_error_t *err)
{
  static const char *const platform_args[] = { "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
                                               "BUILDPLATFORM",  "BUILDOS",  "BUILDARCH",  "BUILDVARIANT" };
  p->meta_args = xcalloc(1, sizeof(char *));
  p->meta_declared = xcalloc(1, sizeof(char *));
  char buf[100];
  for (size_t i = 0; i < BERTH_N_ELEMENTS(platform_args); i++)
    p->meta_args =
      env_set(p->meta_args, platform_args[i], berth_build_platform_arg(p, platform_args[i], buf));
  size_t i = 0;
  for (; i < df->n && df->instrs[i].cmd != BERTH_DF_FROM; i++) {
    const struct berth_df_instr *in = &df->instrs[i];
    if (in->cmd != BERTH_DF_ARG)
      return BERTH_ERR(err, "%s:%u:%u: no build stage in current context: %s before the first FROM", df->file,
                       in->line, in->col, berth_df_cmd_name(in->cmd));
    for (size_t k = 0; k < in->nkvs; k++) {
      const char *name = in->kvs[k].key;
      p->meta_declared = berth_strv_append(p->meta_declared, name);
      const char *given = build_arg(p, name);
      cleanup_free char *v = NULL;
      if (given == NULL && in->kvs[k].value &&
          berth_build_expand_word(in->kvs[k].value, df->escape, berth_build_lookup_env, p->meta_args, &v,
                                  err) < 0)
        return berth_error_wrap(err, "%s:%u", df->file, in->line);
      if (given || v)
        p->meta_args = env_set(p->meta_args, name, given ? given : v);
    }
  }
  if (i == df->n)
    return BERTH_ERR(err, "%s: no FROM instruction: a Dockerfile starts with FROM (after ARGs)", df->file);
  *first_from = i;
  return 0;
}

static void add_dep(struct berth_build_stage *s, size_t d)
{
  for (size_t i = 0; i < s->ndeps; i++)
    if (s->deps[i] == d)
      return;
  s->deps = xreallocarray(s->deps, s->ndeps + 1, sizeof *s->deps);
  s->deps[s->ndeps++] = d;
}

/* a stage's FROM line: name, base, platform */
static BERTH_WUR int stage_from(struct berth_build_plan *p, const struct berth_dockerfile *df,
                                struct berth_build_stage *s, berth_error_t *err)
{
  const struct berth_df_instr *in = s->from;
  if (berth_build_expand_word(in->args[0], df->escape, berth_build_lookup_env, p->meta_args, &s->base, err) <
      0)
    return berth_error_wrap(err, "%s:%u", df->file, in->line);
  if (*s->base == '\0')
    return BERTH_ERR(err, "%s:%u: FROM: the base name (%s) expands to nothing", df->file, in->line,
                     in->args[0]);
  s->name = in->args[1] ? xstrdup(in->args[2]) : NULL;
  for (size_t j = 0; s->name && j < s->index; j++)
    if (p->stages[j].name && strcmp(p->stages[j].name, s->name) == 0)
      return BERTH_ERR(err, "%s:%u: duplicate name for build stage: `%s`", df->file, in->line, s->name);
  const char *plat = berth_df_flag(in, "platform", NULL);
  if (plat &&
      berth_build_expand_word(plat, df->escape, berth_build_lookup_env, p->meta_args, &s->platform, err) < 0)
    return berth_error_wrap(err, "%s:%u", df->file, in->line);
  int base = berth_build_plan_stage_ref(p, s->base, s->index);
  if (base >= 0 && s->name == NULL && isdigit((unsigned char) s->base[0]))
    base = -1; /* FROM 0 is an image named 0, not the first stage */
  s->base_stage = base;
  if (base >= 0)
    add_dep(s, (size_t) base);
  return 0;
}

/* the stage's ARG scope as far as the planner can know it (build args and defaults, not the
 * base image's environment) */
static char **stage_arg(struct berth_build_plan *p, const struct berth_dockerfile *df, char **scope,
                        const struct berth_df_kv *kv)
{
  const char *given = build_arg(p, kv->key);
  if (given)
    return env_set(scope, kv->key, given);
  if (kv->value) {
    cleanup_free char *v = NULL;
    berth_error_t ignore = NULL;
    if (berth_build_expand_word(kv->value, df->escape, berth_build_lookup_env, scope, &v, &ignore) == 0)
      return env_set(scope, kv->key, v);
    berth_error_release(&ignore);
    return scope;
  }
  const char *meta = berth_build_lookup_env(p->meta_args, kv->key);
  return meta ? env_set(scope, kv->key, meta) : scope;
}

/* a --from / from= value: the stage it names becomes a dependency */
static void ref_dep(struct berth_build_plan *p, const struct berth_dockerfile *df,
                    struct berth_build_stage *s, char **scope, const char *ref)
{
  cleanup_free char *v = NULL;
  berth_error_t ignore = NULL;
  if (berth_build_expand_word(ref, df->escape, berth_build_lookup_env, scope, &v, &ignore) < 0) {
    berth_error_release(&ignore);
    return;
  }
  int d = berth_build_plan_stage_ref(p, v, s->index);
  if (d >= 0)
    add_dep(s, (size_t) d);
}

static void mount_deps(struct berth_build_plan *p, const struct berth_dockerfile *df,
                       struct berth_build_stage *s, char **scope, const struct berth_df_instr *in)
{
  cleanup_free const char **mounts = berth_df_flag_all(in, "mount");
  for (size_t m = 0; mounts[m]; m++) {
    cleanup_free char *spec = NULL;
    berth_error_t ignore = NULL;
    struct berth_build_mount mt;
    if (berth_build_expand_word(mounts[m], df->escape, berth_build_lookup_env, scope, &spec, &ignore) < 0 ||
        berth_build_mount_parse(spec, &mt, &ignore) < 0) {
      berth_error_release(&ignore);
      continue;
    }
    if (mt.from)
      ref_dep(p, df, s, scope, mt.from);
    berth_build_mount_release(&mt);
  }
}

static void stage_deps(struct berth_build_plan *p, const struct berth_dockerfile *df,
                       struct berth_build_stage *s)
{
  cleanup_strv char **scope = xcalloc(1, sizeof(char *));
  for (size_t i = 0; i < s->ninstrs; i++) {
    const struct berth_df_instr *in = s->instrs[i];
    for (size_t k = 0; in->cmd == BERTH_DF_ARG && k < in->nkvs; k++)
      scope = stage_arg(p, df, scope, &in->kvs[k]);
    const char *from = (in->cmd == BERTH_DF_COPY) ? berth_df_flag(in, "from", NULL) : NULL;
    if (from)
      ref_dep(p, df, s, scope, from);
    if (in->cmd == BERTH_DF_RUN)
      mount_deps(p, df, s, scope, in);
  }
}

static void mark_needed(struct berth_build_plan *p, size_t i)
{
  if (p->stages[i].needed)
    return;
  p->stages[i].needed = true;
  for (size_t d = 0; d < p->stages[i].ndeps; d++)
    mark_needed(p, p->stages[i].deps[d]);
}

/* build args that no ARG declares */
static void unused_args(struct berth_build_plan *p, const struct berth_dockerfile *df)
{
  p->unused_args = xcalloc(1, sizeof(char *));
  for (size_t a = 0; p->build_args[a]; a++) {
    cleanup_free char *name = xstrndup(p->build_args[a], strcspn(p->build_args[a], "="));
    bool used = berth_build_is_proxy_arg(name);
    for (size_t i = 0; i < df->n && !used; i++)
      for (size_t k = 0; df->instrs[i].cmd == BERTH_DF_ARG && k < df->instrs[i].nkvs && !used; k++)
        used = strcmp(df->instrs[i].kvs[k].key, name) == 0;
    if (!used)
      p->unused_args = berth_strv_append(p->unused_args, name);
  }
}

static BERTH_WUR int make_stages(struct berth_build_plan *p, const struct berth_dockerfile *df, size_t first,
                                 berth_error_t *err)
{
  for (size_t i = first; i < df->n; i++) {
    if (df->instrs[i].cmd == BERTH_DF_FROM) {
      p->stages = xreallocarray(p->stages, p->nstages + 1, sizeof *p->stages);
      struct berth_build_stage *s = &p->stages[p->nstages];
      memset(s, 0, sizeof *s);
      s->index = p->nstages++;
      s->from = &df->instrs[i];
      s->base_stage = -1;
      if (stage_from(p, df, s, err) < 0)
        return -1;
      continue;
    }
    struct berth_build_stage *s = &p->stages[p->nstages - 1];
    s->instrs = xreallocarray((void *) s->instrs, s->ninstrs + 1, sizeof *s->instrs);
    ((const struct berth_df_instr **) s->instrs)[s->ninstrs++] = &df->instrs[i];
  }
  return 0;
}

int berth_build_plan_make(const struct berth_build_plan_in *in, struct berth_build_plan **out,
                          berth_error_t *err)
{
  struct berth_build_plan *p = xmalloc0(sizeof *p);
  p->build_platform = in->build_platform;
  p->target_platform = in->target_platform;
  p->build_args = berth_strv_dup(in->build_args ? in->build_args : (char *const[]){ NULL });
  size_t first = 0;
  int rc = meta_scope(p, in->df, &first, err);
  if (rc == 0)
    rc = make_stages(p, in->df, first, err);
  for (size_t i = 0; rc == 0 && i < p->nstages; i++)
    stage_deps(p, in->df, &p->stages[i]);
  if (rc == 0) {
    p->target = p->nstages - 1;
    if (in->target && *in->target) {
      int t = -1;
      for (size_t i = 0; i < p->nstages && t < 0; i++)
        if (p->stages[i].name && strcasecmp(p->stages[i].name, in->target) == 0)
          t = (int) i;
      if (t < 0)
        rc = BERTH_ERR(err, "target stage `%s` could not be found", in->target);
      p->target = (size_t) t;
    }
  }
  if (rc < 0) {
    berth_build_plan_free(p);
    return -1;
  }
  mark_needed(p, p->target);
  for (size_t i = 0; i < p->nstages; i++)
    p->nsteps += p->stages[i].needed ? 1 + p->stages[i].ninstrs : 0;
  unused_args(p, in->df);
  *out = p;
  return 0;
}
