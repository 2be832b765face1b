/* Shared by runspec/runopts*.c (and ctrspec.c for signal names) only. */
#ifndef BERTH_ENGINE_RUNSPEC_RUNOPTS_INTERNAL_H
#define BERTH_ENGINE_RUNSPEC_RUNOPTS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "engine/runspec/runspec.h"

/* --cpus "1.5" -> 1500000000 nano CPUs */
int runopts_parse_cpus(const char *flag, const char *value, int64_t *nano, berth_error_t *err) BERTH_WUR;
/* true/false/1/0 (NULL: true) */
int runopts_parse_bool(const char *flag, const char *value, bool *out, berth_error_t *err) BERTH_WUR;
/* set key (last one wins, first-seen order kept) */
void runopts_kv_set(struct berth_kv **kv, size_t *n, const char *key, const char *value);
const char *runopts_kv_get(const struct berth_kv *kv, size_t n, const char *key);
void runopts_kv_free(struct berth_kv *kv, size_t n);
/* every JSON string must be UTF-8: values that are not are refused where they come in */
bool runopts_utf8_valid(const char *s, size_t n);
/* an IPv4 or IPv6 address (brackets around IPv6 removed); NULL when invalid */
char *runopts_ip(const char *s);

/* runopts_more.c: the second flag table (issue 16) */
const struct berth_runopts_flag *runopts_more_flags(size_t *n);
int runopts_more_set(size_t i, struct berth_run_opts *o, const char *flag, const char *value,
                     berth_error_t *err) BERTH_WUR;
void runopts_more_release(struct berth_run_opts *o);

/* runopts_net.c: the networks' flags */
int runopts_set_network(struct berth_run_opts *o, const char *flag, const char *v,
                        berth_error_t *err) BERTH_WUR;
int runopts_set_publish(struct berth_run_opts *o, const char *flag, const char *v,
                        berth_error_t *err) BERTH_WUR;
int runopts_set_publish_all(struct berth_run_opts *o, const char *flag, const char *v,
                            berth_error_t *err) BERTH_WUR;
int runopts_set_expose(struct berth_run_opts *o, const char *flag, const char *v,
                       berth_error_t *err) BERTH_WUR;
int runopts_set_ip(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err) BERTH_WUR;
int runopts_set_ip6(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err) BERTH_WUR;
int runopts_set_mac(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err) BERTH_WUR;
int runopts_set_alias(struct berth_run_opts *o, const char *flag, const char *v,
                      berth_error_t *err) BERTH_WUR;
void runopts_net_release(struct berth_run_opts *o);
/* -p with none or container:, --ip and friends without a network */
int runopts_net_validate(const struct berth_run_opts *o, berth_error_t *err) BERTH_WUR;

#endif
