/* Shared helpers of the config.json parser (src/lib/oci only; not a public API). */
#ifndef BERTH_OCI_SPEC_INTERNAL_H
#define BERTH_OCI_SPEC_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "json/json.h"
#include "oci/spec.h"

/* jansson cannot hold integers above INT64_MAX, yet the spec has uint64 fields (rlimits
 * of RLIM_INFINITY, seccomp argument values). Before parsing, such literals are rewritten
 * into strings "\u0000<digits>" that the oci_get_* number getters below understand.
 * Returns NULL when the text needs no rewrite. */
char *oci_rewrite_big_integers(const char *text, size_t len, size_t *out_len);

const char *oci_type_name(const json_t *v);
/* "<path>.<key>: is required" */
int oci_required(struct berth_jctx *c, const char *key, berth_error_t *err) BERTH_WUR;
/* error at the current position unless v is an object */
int oci_expect_object(struct berth_jctx *c, json_t *v, berth_error_t *err) BERTH_WUR;

/* like berth_json_get_* (1 present, 0 absent, -1 error) but also accept the rewritten
 * big integers; `required` turns absence into an error */
int oci_get_u64(struct berth_jctx *c, json_t *obj, const char *key, uint64_t max, bool required,
                uint64_t *out, berth_error_t *err) BERTH_WUR;
int oci_get_u32(struct berth_jctx *c, json_t *obj, const char *key, bool required, uint32_t *out,
                berth_error_t *err) BERTH_WUR;
int oci_get_i64(struct berth_jctx *c, json_t *obj, const char *key, int64_t min, int64_t max, bool required,
                int64_t *out, berth_error_t *err) BERTH_WUR;
int oci_get_int(struct berth_jctx *c, json_t *obj, const char *key, int min, int max, bool required, int *out,
                berth_error_t *err) BERTH_WUR;
int oci_get_string(struct berth_jctx *c, json_t *obj, const char *key, bool required, const char **out,
                   berth_error_t *err) BERTH_WUR;
/* a string that must be an absolute path */
int oci_get_abs_path(struct berth_jctx *c, json_t *obj, const char *key, bool required, const char **out,
                     berth_error_t *err) BERTH_WUR;
/* every element of a string vector (obj[key]) must be an absolute path */
int oci_check_abs_paths(struct berth_jctx *c, const char *key, const char *const *v, size_t n,
                        berth_error_t *err) BERTH_WUR;
/* linux.uidMappings-style arrays of {containerID, hostID, size} */
int oci_get_id_maps(struct berth_jctx *c, json_t *obj, const char *key, struct berth_id_map **out, size_t *n,
                    berth_error_t *err) BERTH_WUR;

/* sections (each parses obj at the context's current path) */
int oci_parse_process(struct berth_jctx *c, json_t *obj, struct berth_spec_process *p,
                      berth_error_t *err) BERTH_WUR;
int oci_parse_linux(struct berth_jctx *c, json_t *obj, struct berth_spec_linux *l,
                    berth_error_t *err) BERTH_WUR;
int oci_parse_seccomp(struct berth_jctx *c, json_t *obj, struct berth_spec_seccomp *sc,
                      berth_error_t *err) BERTH_WUR;
int oci_parse_resources(struct berth_jctx *c, json_t *obj, struct berth_spec_resources *r,
                        berth_error_t *err) BERTH_WUR;
void oci_linux_free(struct berth_spec_linux *l);
void oci_seccomp_free(struct berth_spec_seccomp *sc);
void oci_resources_free(struct berth_spec_resources *r);

#endif
