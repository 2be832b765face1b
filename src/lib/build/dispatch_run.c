/* RUN, COPY and ADD against a stage's state: what the executor is to do, its history line and the
 * text its cache key covers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "build/dispatch_internal.h"
#include "build/expand.h"
#include "build/ignore.h"

static const char *config_env(struct berth_build_state *st, const char *k)
{
  json_t *env = json_object_get(dispatch_config(st), "Env");
  size_t n = strlen(k), i;
  json_t *e;
  const char *found = NULL;
  json_array_foreach (env, i, e) {
    const char *s = json_string_value(e);
    if (s && strncmp(s, k, n) == 0 && s[n] == '=')
      found = s + n + 1;
  }
  return found;
}

/* the ARGs a RUN sees (ENV wins over an ARG of the same name) and the history's "|N K=V" */
static void run_env(struct berth_build_state *st, struct berth_build_op *op, struct berth_strbuf *prefix)
{
  op->env = xcalloc(1, sizeof(char *));
  cleanup_strv char **shown = xcalloc(1, sizeof(char *));
  for (size_t i = 0; st->declared[i]; i++) {
    const char *k = st->declared[i];
    const char *v = berth_build_lookup_env(st->args, k);
    const char *e = config_env(st, k);
    if (v && e == NULL)
      op->env = dispatch_strv_set(op->env, k, v);
    if ((e || v) && !berth_build_is_proxy_arg(k))
      shown = dispatch_strv_set(shown, k, e ? e : v);
  }
  for (size_t i = 0; st->plan->build_args[i]; i++) { /* proxies need no declaration */
    cleanup_free char *k = xstrndup(st->plan->build_args[i], strcspn(st->plan->build_args[i], "="));
    const char *eq = strchr(st->plan->build_args[i], '=');
    if (berth_build_is_proxy_arg(k) && eq && berth_build_lookup_env(op->env, k) == NULL)
      op->env = dispatch_strv_set(op->env, k, eq + 1);
  }
  size_t n = berth_strv_len(shown);
  if (n) {
    berth_strbuf_printf(prefix, "|%zu ", n);
    for (size_t i = 0; i < n; i++)
      berth_strbuf_printf(prefix, "%s ", shown[i]);
  }
}

static BERTH_WUR int run_mounts(struct berth_build_state *st, const struct berth_df_instr *in,
                                struct berth_build_op *op, struct berth_strbuf *cache, berth_error_t *err)
{
  cleanup_free const char **specs = berth_df_flag_all(in, "mount");
  size_t n = 0;
  while (specs[n])
    n++;
  op->mounts = xcalloc(n ? n : 1, sizeof *op->mounts);
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *spec = NULL;
    struct berth_build_mount *m = &op->mounts[i];
    if (dispatch_expand(st, specs[i], &spec, err) < 0 || berth_build_mount_parse(spec, m, err) < 0)
      return -1;
    op->nmounts++;
    if (m->target && m->target[0] != '/') {
      char *abs = dispatch_from_workdir(st, m->target);
      free(m->target);
      m->target = abs;
    }
    berth_strbuf_printf(cache, "\nmount %s", spec);
  }
  return 0;
}

/* the command: the exec form as is, the shell form through SHELL, here-documents as BuildKit
 * runs them */
static void run_argv(struct berth_build_state *st, const struct berth_df_instr *in, struct berth_build_op *op)
{
  if (in->json) {
    op->argv = berth_strv_dup(in->args);
    return;
  }
  cleanup_free char *cmd = NULL;
  const struct berth_df_heredoc *h = in->heredocs;
  bool alone = in->nheredocs >= 1 && strncmp(in->rest, "<<", 2) == 0 && strpbrk(in->rest, " \t") == NULL;
  if (alone && berth_str_has_prefix(h[0].body, "#!")) {
    op->script = xstrdup(h[0].body);
    op->script_path = xasprintf("/dev/pipes/%s", h[0].name);
    op->argv = berth_strv_append(NULL, op->script_path);
    return;
  }
  if (alone) {
    cmd = xstrdup(h[0].body);
  } else {
    struct berth_strbuf b = BERTH_STRBUF_INIT;
    berth_strbuf_puts(&b, in->rest);
    for (size_t i = 0; i < in->nheredocs; i++)
      berth_strbuf_printf(&b, "\n%s%s", h[i].body, h[i].name);
    cmd = berth_strbuf_detach(&b);
  }
  op->argv = berth_strv_dup(st->shell);
  op->argv = berth_strv_append(op->argv, cmd);
}

int dispatch_run(struct berth_build_state *st, const struct berth_df_instr *in, struct berth_build_op *op,
                 berth_error_t *err)
{
  op->kind = BERTH_BUILD_OP_RUN;
  op->empty_layer = false;
  cleanup_free char *net = NULL, *sec = NULL;
  const char *v = berth_df_flag(in, "network", NULL);
  if (v && (dispatch_expand(st, v, &net, err) < 0 || berth_build_network_parse(net, &op->network, err) < 0))
    return -1;
  v = berth_df_flag(in, "security", NULL);
  if (v && dispatch_expand(st, v, &sec, err) < 0)
    return -1;
  if (sec && strcmp(sec, "insecure") != 0 && strcmp(sec, "sandbox") != 0)
    return BERTH_ERR(err, "--security: `%s` is not sandbox or insecure", sec);
  op->insecure = sec && strcmp(sec, "insecure") == 0;
  cleanup_strbuf struct berth_strbuf hist = BERTH_STRBUF_INIT, cache = BERTH_STRBUF_INIT;
  berth_strbuf_puts(&hist, "RUN ");
  run_env(st, op, &hist);
  run_argv(st, in, op);
  for (size_t i = 0; op->argv[i]; i++)
    berth_strbuf_printf(&hist, "%s%s", i ? " " : "", op->argv[i]);
  berth_strbuf_puts(&hist, " # buildkit");
  berth_strbuf_puts(&cache, hist.buf);
  if (run_mounts(st, in, op, &cache, err) < 0)
    return -1;
  berth_strbuf_printf(&cache, "\nnetwork %s security %s", net ? net : "default", sec ? sec : "sandbox");
  if (op->script)
    berth_strbuf_printf(&cache, "\nscript %s", op->script);
  op->created_by = berth_strbuf_detach(&hist);
  op->cache_text = berth_strbuf_detach(&cache);
  return 0;
}

/* ---- COPY and ADD ---- */

static BERTH_WUR int copy_flags(struct berth_build_state *st, const struct berth_df_instr *in,
                                struct berth_build_op *op, berth_error_t *err)
{
  static const char *const names[] = { "from", "chown", "chmod", "checksum" };
  char **dst[] = { &op->from, &op->chown, &op->chmod, &op->checksum };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(names); i++) {
    const char *v = berth_df_flag(in, names[i], NULL);
    if (v && dispatch_expand(st, v, dst[i], err) < 0)
      return -1;
  }
  uint32_t mode;
  bool sym;
  if (op->chmod && berth_build_chmod_parse(op->chmod, &mode, &sym, err) < 0)
    return -1;
  if (op->checksum && berth_build_checksum_parse(op->checksum, err) < 0)
    return -1;
  bool has;
  const char *link = berth_df_flag(in, "link", &has);
  if (has && berth_build_bool_parse("link", link, &op->link, err) < 0)
    return -1;
  const char *kg = berth_df_flag(in, "keep-git-dir", &has);
  if (has && berth_build_bool_parse("keep-git-dir", kg, &op->keep_git_dir, err) < 0)
    return -1;
  (void) berth_df_flag(in, "parents", &has);
  if (has)
    return BERTH_ERR(err, "COPY --parents: berth copies each source to the destination as Docker's stable "
                          "syntax does; remove the flag");
  cleanup_free const char **ex = berth_df_flag_all(in, "exclude");
  op->excludes = xcalloc(1, sizeof(char *));
  for (size_t i = 0; ex[i]; i++) {
    cleanup_free char *e = NULL;
    if (dispatch_expand(st, ex[i], &e, err) < 0)
      return -1;
    op->excludes = berth_strv_append(op->excludes, e);
  }
  return 0;
}

/* the here-document a "<<NAME" source names, its body expanded unless quoted */
static BERTH_WUR int copy_doc(struct berth_build_state *st, const struct berth_df_instr *in, const char *word,
                              struct berth_build_op *op, berth_error_t *err)
{
  for (size_t i = 0; i < in->nheredocs; i++) {
    const char *w = word + 2 + (word[2] == '-');
    if (strcmp(w, in->heredocs[i].name) != 0 && !(strchr("\"'", *w) && strstr(w, in->heredocs[i].name)))
      continue;
    cleanup_free char *body = NULL;
    cleanup_strv char **env = berth_build_state_env(st);
    if (in->heredocs[i].expand) {
      if (berth_build_expand_heredoc(in->heredocs[i].body, berth_build_lookup_env, env, &body, err) < 0)
        return -1;
    } else {
      body = xstrdup(in->heredocs[i].body);
    }
    op->doc_names = berth_strv_append(op->doc_names, in->heredocs[i].name);
    op->doc_bodies = berth_strv_append(op->doc_bodies, body);
    cleanup_free char *src = xasprintf("<<%s", in->heredocs[i].name);
    op->srcs = berth_strv_append(op->srcs, src);
    return 0;
  }
  return BERTH_ERR(err, "here-document `%s` not found", word);
}

static void copy_history(const struct berth_df_instr *in, struct berth_build_op *op, const char *dest_word)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_puts(&b, in->cmd == BERTH_DF_ADD ? "ADD" : "COPY");
  if (op->from)
    berth_strbuf_printf(&b, " --from=%s", op->from);
  if (op->chown)
    berth_strbuf_printf(&b, " --chown=%s", op->chown);
  if (op->chmod)
    berth_strbuf_printf(&b, " --chmod=%s", op->chmod);
  if (op->link)
    berth_strbuf_puts(&b, " --link");
  for (size_t i = 0; op->srcs[i]; i++)
    berth_strbuf_printf(&b, " %s", op->srcs[i]);
  berth_strbuf_printf(&b, " %s # buildkit", dest_word);
  op->created_by = berth_strbuf_detach(&b);
  struct berth_strbuf c = BERTH_STRBUF_INIT;
  berth_strbuf_printf(&c, "%s\ndest %s%s", op->created_by, op->dest, op->dest_dir ? "/" : "");
  if (op->checksum)
    berth_strbuf_printf(&c, "\nchecksum %s", op->checksum);
  if (op->keep_git_dir)
    berth_strbuf_puts(&c, "\nkeep-git-dir");
  for (size_t i = 0; op->excludes[i]; i++)
    berth_strbuf_printf(&c, "\nexclude %s", op->excludes[i]);
  for (size_t i = 0; op->doc_bodies && op->doc_bodies[i]; i++)
    berth_strbuf_printf(&c, "\nheredoc %s %zu\n%s", op->doc_names[i], strlen(op->doc_bodies[i]),
                        op->doc_bodies[i]);
  op->cache_text = berth_strbuf_detach(&c);
}

int dispatch_copy(struct berth_build_state *st, const struct berth_df_instr *in, struct berth_build_op *op,
                  berth_error_t *err)
{
  op->kind = BERTH_BUILD_OP_COPY;
  op->add = in->cmd == BERTH_DF_ADD;
  op->empty_layer = false;
  if (copy_flags(st, in, op, err) < 0)
    return -1;
  if (op->checksum && !op->add)
    return BERTH_ERR(err, "--checksum is ADD's flag");
  op->srcs = xcalloc(1, sizeof(char *));
  size_t n = berth_strv_len(in->args);
  for (size_t i = 0; i + 1 < n; i++) {
    if (in->nheredocs && strncmp(in->args[i], "<<", 2) == 0) {
      if (copy_doc(st, in, in->args[i], op, err) < 0)
        return -1;
      continue;
    }
    cleanup_free char *s = NULL;
    if (dispatch_expand(st, in->args[i], &s, err) < 0)
      return -1;
    op->srcs = berth_strv_append(op->srcs, s);
  }
  cleanup_free char *dest = NULL;
  if (dispatch_expand(st, in->args[n - 1], &dest, err) < 0)
    return -1;
  size_t dl = strlen(dest);
  op->dest_dir = dl == 0 || dest[dl - 1] == '/' || strcmp(dest, ".") == 0 || berth_str_has_suffix(dest, "/.");
  if (berth_strv_len(op->srcs) > 1 && !op->dest_dir)
    return BERTH_ERR(
      err,
      "when using %s with more than one source file, the destination must be a directory and end with a /",
      in->cmd == BERTH_DF_ADD ? "ADD" : "COPY");
  op->dest = dispatch_from_workdir(st, dl ? dest : ".");
  copy_history(in, op, dest);
  return 0;
}
