/* The mapping's field tables (map_create.c, map_host.c, map_mounts.c). */
#ifndef BERTH_API_MAP_MAP_INTERNAL_H
#define BERTH_API_MAP_MAP_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "base/error.h"

enum api_field_kind {
  API_F_STR,     /* a string: the flag with it, when not empty */
  API_F_STRS,    /* strings (null: none): the flag once per value */
  API_F_BOOL,    /* true: the flag */
  API_F_INT,     /* a positive integer: the flag with it */
  API_F_INT_ANY, /* any non-zero integer: the flag with it */
  API_F_IGNORE,  /* Docker's, without effect here (Windows, informational) */
  API_F_ZERO,    /* Docker's, not supported: only its zero value is accepted */
  API_F_CUSTOM,  /* fn */
};
struct api_map;
struct api_field {
  const char *key;
  enum api_field_kind kind;
  const char *flag;
  int (*fn)(struct api_map *m, const char *path, json_t *v, berth_error_t *err);
};
struct api_map {
  struct berth_api_create *out;
  const char *network_mode; /* HostConfig.NetworkMode (NetworkingConfig's aliases and addresses go with it) */
  json_t *volumes;          /* Config.Volumes, applied last: a path a bind or mount covers is theirs */
};
/* one run flag (errors wrapped with the JSON path) */
int api_map_flag(struct api_map *m, const char *path, const char *flag, const char *value,
                 berth_error_t *err) BERTH_WUR;
/* every key of obj through the table: an unknown key is an error naming it */
int api_map_object(struct api_map *m, const char *path, json_t *obj, const struct api_field *t, size_t n,
                   berth_error_t *err) BERTH_WUR;
bool api_json_is_zero(json_t *v);
/* HostConfig (map_host.c), its Mounts (map_mounts.c) */
int api_map_host(struct api_map *m, const char *path, json_t *hc, berth_error_t *err) BERTH_WUR;
int api_map_mounts(struct api_map *m, const char *path, json_t *v, berth_error_t *err) BERTH_WUR;

#endif
