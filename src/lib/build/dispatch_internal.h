/* Shared by dispatch.c and dispatch_ops.c only. */
#ifndef BERTH_BUILD_DISPATCH_INTERNAL_H
#define BERTH_BUILD_DISPATCH_INTERNAL_H

#include <jansson.h>

#include "build/dispatch.h"

/* the "config" object of the image being built (created when missing) */
json_t *dispatch_config(struct berth_build_state *st);
json_t *dispatch_strv_json(char *const *v);
/* compact JSON text of j (borrowed) */
char *dispatch_json_text(json_t *j);
char *dispatch_json_quote(const char *s);
/* "K=V" set in a vector (value NULL: "K" alone) */
char **dispatch_strv_set(char **v, const char *k, const char *value);
/* expansion against the state's ARGs and Env */
int dispatch_expand(struct berth_build_state *st, const char *word, char **out, berth_error_t *err) BERTH_WUR;
int dispatch_expand_words(struct berth_build_state *st, const char *text, char ***out,
                          berth_error_t *err) BERTH_WUR;

/* an absolute, cleaned path: a relative one from the WORKDIR */
char *dispatch_from_workdir(struct berth_build_state *st, const char *p);
int dispatch_signal_check(const char *s, berth_error_t *err) BERTH_WUR;
int dispatch_expose(struct berth_build_state *st, const struct berth_df_instr *in, struct berth_build_op *op,
                    berth_error_t *err) BERTH_WUR;
int dispatch_volume(struct berth_build_state *st, const struct berth_df_instr *in, struct berth_build_op *op,
                    berth_error_t *err) BERTH_WUR;
int dispatch_healthcheck(struct berth_build_state *st, const struct berth_df_instr *in,
                         struct berth_build_op *op, berth_error_t *err) BERTH_WUR;
int dispatch_workdir(struct berth_build_state *st, const struct berth_df_instr *in, struct berth_build_op *op,
                     berth_error_t *err) BERTH_WUR;
int dispatch_run(struct berth_build_state *st, const struct berth_df_instr *in, struct berth_build_op *op,
                 berth_error_t *err) BERTH_WUR;
int dispatch_copy(struct berth_build_state *st, const struct berth_df_instr *in, struct berth_build_op *op,
                  berth_error_t *err) BERTH_WUR;

#endif
