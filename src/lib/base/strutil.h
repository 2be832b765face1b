/* String and number helpers. */
#ifndef BERTH_BASE_STRUTIL_H
#define BERTH_BASE_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/error.h"

static inline bool berth_str_has_prefix(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline bool berth_str_eq(const char *a, const char *b)
{
  return a != NULL && b != NULL && strcmp(a, b) == 0;
}

bool berth_str_has_suffix(const char *s, const char *suffix);

/* Strict decimal parsing: whole string, no sign for unsigned, range-checked. */
int berth_parse_i64(const char *s, int64_t *out) BERTH_WUR;
int berth_parse_u64(const char *s, uint64_t *out) BERTH_WUR;
int berth_parse_int(const char *s, int *out) BERTH_WUR;

/* number of strings in a NULL-terminated vector */
size_t berth_strv_len(char *const *v);
/* append a copy of s to a NULL-terminated malloc'd vector */
char **berth_strv_append(char **v, const char *s);
char **berth_strv_dup(char *const *v);

/* Is this a valid container ID: [A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}, no "..". */
bool berth_container_id_valid(const char *id);

#endif
