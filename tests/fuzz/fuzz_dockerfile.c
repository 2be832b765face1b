/* Fuzz the Dockerfile front end (build/): the input is a Dockerfile, parsed; an accepted one is
 * planned (every stage, build args from its own ARG names) and every instruction of every stage
 * dispatched against a scratch state; the text after the first NUL, if any, is also a
 * .dockerignore matched against every COPY source and a word expanded with the stage's
 * variables. Invariants: a refused Dockerfile says where ("<file>:<line>"); nothing crashes,
 * leaks or loops; the image config of every stage dumps as JSON that parses again. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "build/dispatch.h"
#include "build/dockerfile.h"
#include "build/expand.h"
#include "build/ignore.h"
#include "build/plan.h"

static void check_located(berth_error_t *err)
{
  if (*err == NULL || strncmp((*err)->msg, "Dockerfile", 10) != 0) {
    fprintf(stderr, "parse error without a place: %s\n", *err ? (*err)->msg : "(none)");
    abort();
  }
  berth_error_release(err);
}

static void run_stage(const struct berth_build_plan *p, const struct berth_build_stage *s,
                      const struct berth_ignore *ig, const char *word)
{
  struct berth_build_state st;
  berth_error_t err = NULL;
  if (berth_build_state_init(&st, p, NULL, &p->target_platform, &err) < 0)
    abort();
  for (size_t i = 0; i < s->ninstrs; i++) {
    struct berth_build_op op;
    if (berth_build_dispatch(&st, s->instrs[i], &op, &err) < 0) {
      if (err == NULL)
        abort();
      berth_error_release(&err);
      continue;
    }
    for (size_t k = 0; op.srcs && op.srcs[k]; k++) {
      char *rel = berth_build_path_inside(op.srcs[k]);
      if (rel && ig)
        (void) berth_ignore_match(ig, rel);
      free(rel);
    }
    berth_build_state_commit(&st, &op, op.kind == BERTH_BUILD_OP_CONFIG ? NULL : "sha256:0", 0);
    berth_build_op_release(&op);
  }
  if (word) {
    cleanup_strv char **env = berth_build_state_env(&st);
    char *out = NULL;
    if (berth_build_expand_word(word, '\\', berth_build_lookup_env, env, &out, &err) == 0)
      free(out);
    berth_error_release(&err);
  }
  char *dump = berth_build_state_dump(&st);
  json_t *again = json_loads(dump, 0, NULL);
  if (again == NULL)
    abort();
  json_decref(again);
  free(dump);
  berth_build_state_release(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  size_t dlen = strnlen((const char *) data, size);
  const char *rest = dlen < size ? (const char *) data + dlen + 1 : NULL;
  size_t rlen = rest ? size - dlen - 1 : 0;
  struct berth_dockerfile *df = NULL;
  berth_error_t err = NULL;
  if (berth_df_parse((const char *) data, dlen, "Dockerfile", &df, &err) < 0) {
    check_located(&err);
    return 0;
  }
  struct berth_ignore *ig = NULL;
  cleanup_free char *word = rest ? xstrndup(rest, rlen) : NULL;
  if (rest && berth_ignore_parse(rest, rlen, &ig, &err) < 0)
    berth_error_release(&err);
  char *args[] = { "A=1", "HTTP_PROXY=x", NULL };
  struct berth_build_plan_in in = { .df = df, .build_args = args };
  snprintf(in.target_platform.os, 32, "linux");
  snprintf(in.target_platform.arch, 32, "amd64");
  in.build_platform = in.target_platform;
  struct berth_build_plan *p = NULL;
  if (berth_build_plan_make(&in, &p, &err) == 0) {
    for (size_t i = 0; i < p->nstages; i++)
      run_stage(p, &p->stages[i], ig, word);
    berth_build_plan_free(p);
  } else {
    berth_error_release(&err);
  }
  berth_ignore_free(ig);
  berth_df_free(df);
  return 0;
}
