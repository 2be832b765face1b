/* eq, ne, lt, le, gt, ge with Go's rules: basic kinds only (bool, int, float64, string), an int
 * never equal to a float ("incompatible types for comparison"), nil equal to nil. */
#include <string.h>

#include "format/format_internal.h"

enum kind { K_INVALID, K_BOOL, K_INT, K_FLOAT, K_STRING };

static enum kind kind_of(const json_t *j)
{
  if (j == NULL)
    return K_INVALID;
  switch (json_typeof(j)) {
  case JSON_TRUE:
  case JSON_FALSE: return K_BOOL;
  case JSON_INTEGER: return K_INT;
  case JSON_REAL: return K_FLOAT;
  case JSON_STRING: return K_STRING;
  default: return K_INVALID;
  }
}

/* Go's indirectInterface: a nil interface is no value at all */
static const json_t *indirect(const struct val *v) { return v->j && !json_is_null(v->j) ? v->j : NULL; }

static int string_cmp(const json_t *a, const json_t *b)
{
  size_t la = json_string_length(a), lb = json_string_length(b);
  int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
  return c ? c : (la > lb) - (la < lb);
}

/* -2: not comparable (non-basic kinds), else a <=> b on same basic kind */
static int basic_cmp(const json_t *a, const json_t *b, enum kind k)
{
  switch (k) {
  case K_BOOL: return json_is_true(a) == json_is_true(b) ? 0 : 1;
  case K_INT: {
    long long x = json_integer_value(a), y = json_integer_value(b);
    return (x > y) - (x < y);
  }
  case K_FLOAT: {
    double x = json_real_value(a), y = json_real_value(b);
    return x == y ? 0 : x < y ? -1 : 1; /* NaN: neither less nor equal */
  }
  case K_STRING: return string_cmp(a, b);
  case K_INVALID: break;
  }
  return -2;
}

static BERTH_WUR int eq_one(struct exec *s, const struct val *a1, const struct val *a2, bool *truth,
                            berth_error_t *err)
{
  const json_t *x = indirect(a1), *y = indirect(a2);
  enum kind k1 = kind_of(x), k2 = kind_of(y);
  if (k1 != k2) {
    if (x && y)
      return BERTH_ERR(err, "incompatible types for comparison");
    *truth = false;
    return 0;
  }
  if (k1 != K_INVALID) {
    *truth = basic_cmp(x, y, k1) == 0;
    return 0;
  }
  if (x == NULL || y == NULL) {
    *truth = x == y;
    return 0;
  }
  if ((a1->row && a2->row) || (json_is_object(x) && json_is_object(y) && (a1->row || a2->row))) {
    *truth = x == y; /* a struct compares to itself */
    return 0;
  }
  if (json_typeof(x) != json_typeof(y))
    return BERTH_ERR(err, "non-comparable types %s, %s", val_type(a1, s->type), val_type(a2, s->type));
  return BERTH_ERR(err, "non-comparable type %s", val_type(a2, s->type));
}

static BERTH_WUR int lt(struct exec *s, const struct val *a1, const struct val *a2, bool *truth,
                        berth_error_t *err)
{
  const json_t *x = indirect(a1), *y = indirect(a2);
  enum kind k1 = kind_of(x), k2 = kind_of(y);
  if (k1 == K_INVALID || k2 == K_INVALID)
    return BERTH_ERR(err, "invalid type for comparison");
  if (k1 != k2)
    return BERTH_ERR(err, "incompatible types for comparison");
  if (k1 == K_BOOL)
    return BERTH_ERR(err, "invalid type for comparison");
  *truth = basic_cmp(x, y, k1) == -1;
  return 0;
}

int fn_compare(struct exec *s, const char *name, struct val *a, size_t n, struct val *out, berth_error_t *err)
{
  bool truth = false;
  if (strcmp(name, "eq") == 0) {
    if (n < 2)
      return BERTH_ERR(err, "missing argument for comparison");
    for (size_t i = 1; i < n && !truth; i++)
      if (eq_one(s, &a[0], &a[i], &truth, err) < 0)
        return -1;
  } else if (strcmp(name, "ne") == 0) {
    if (eq_one(s, &a[0], &a[1], &truth, err) < 0)
      return -1;
    truth = !truth;
  } else {
    bool less = false, equal = false;
    if (lt(s, &a[0], &a[1], &less, err) < 0)
      return -1;
    if (name[0] != 'g' || name[1] != 'e')
      if (!less && eq_one(s, &a[0], &a[1], &equal, err) < 0)
        return -1;
    truth = strcmp(name, "lt") == 0   ? less
            : strcmp(name, "le") == 0 ? less || equal
            : strcmp(name, "gt") == 0 ? !(less || equal)
                                      : !less;
  }
  *out = val_take(json_boolean(truth));
  return 0;
}
