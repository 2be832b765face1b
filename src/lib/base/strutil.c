#include "base/strutil.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "base/xalloc.h"

bool berth_str_has_suffix(const char *s, const char *suffix)
{
  size_t ls = strlen(s), lx = strlen(suffix);
  return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

int berth_parse_i64(const char *s, int64_t *out)
{
  if (s == NULL || *s == '\0')
    return -EINVAL;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno == ERANGE)
    return -ERANGE;
  if (*end != '\0' || end == s)
    return -EINVAL;
  *out = v;
  return 0;
}

int berth_parse_u64(const char *s, uint64_t *out)
{
  if (s == NULL || *s < '0' || *s > '9')
    return -EINVAL;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno == ERANGE)
    return -ERANGE;
  if (*end != '\0')
    return -EINVAL;
  *out = v;
  return 0;
}

int berth_parse_int(const char *s, int *out)
{
  int64_t v;
  int r = berth_parse_i64(s, &v);
  if (r < 0)
    return r;
  if (v < INT_MIN || v > INT_MAX)
    return -ERANGE;
  *out = (int) v;
  return 0;
}

size_t berth_strv_len(char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

char **berth_strv_append(char **v, const char *s)
{
  size_t n = berth_strv_len(v);
  v = xreallocarray(v, n + 2, sizeof *v);
  v[n] = xstrdup(s);
  v[n + 1] = NULL;
  return v;
}

char **berth_strv_dup(char *const *v)
{
  size_t n = berth_strv_len(v);
  char **r = xcalloc(n + 1, sizeof *r);
  for (size_t i = 0; i < n; i++)
    r[i] = xstrdup(v[i]);
  return r;
}

bool berth_container_id_valid(const char *id)
{
  size_t n = strlen(id);
  if (n == 0 || n > 1024)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (i == 0 && !alnum)
      return false;
    if (!alnum && c != '_' && c != '.' && c != '+' && c != '-')
      return false;
  }
  return strstr(id, "..") == NULL;
}
