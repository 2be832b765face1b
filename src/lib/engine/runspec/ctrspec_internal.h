/* Shared by runspec/ctrspec*.c only. */
#ifndef BERTH_ENGINE_RUNSPEC_CTRSPEC_INTERNAL_H
#define BERTH_ENGINE_RUNSPEC_CTRSPEC_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "base/error.h"
#include "engine/runspec/runspec.h"

/* what the parts of one build share */
struct ctrspec_build {
  const struct berth_ctrspec_in *in;
  const struct berth_run_opts *o;
  uint64_t caps; /* final capability set */
  struct berth_user user;
  char *hostname;
};

/* the JSON of an unlimited (2^64-1) value: a NUL-prefixed decimal string, written as a number by
 * berth_ctrspec_dumps (jansson's integers are signed 64-bit) */
#define CTRSPEC_UNLIMITED "18446744073709551615"
json_t *ctrspec_unlimited(void);

json_t *ctrspec_strv_json(char *const *v);
/* a string member of the image config ("" / NULL when absent or not a string) */
const char *ctrspec_image_string(json_t *image_config, const char *key);
/* an array of strings (or a lone string, old Docker) of the image config; NULL when absent/empty */
char **ctrspec_image_strv(json_t *image_config, const char *key);

/* "mounts" (ctrspec_mounts.c) */
int ctrspec_mounts(struct ctrspec_build *b, json_t *config, berth_error_t *err) BERTH_WUR;
/* "linux" (ctrspec_linux.c): namespaces, resources, devices, sysctl, seccomp, masked paths */
int ctrspec_linux(struct ctrspec_build *b, json_t *config, berth_error_t *err) BERTH_WUR;
/* the pid of container `name` through the callback */
int ctrspec_container_pid(struct ctrspec_build *b, const char *flag, const char *name, pid_t *pid,
                          berth_error_t *err) BERTH_WUR;

/* a --cap-add/--cap-drop list holding ALL */
bool ctrspec_has_all(char *const *v);

#endif
