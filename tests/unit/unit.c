#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/xalloc.h"

void unit_assert_error_contains(berth_error_t *err, const char *needle)
{
  assert_non_null(*err);
  if (strstr((*err)->msg, needle) == NULL) {
    print_error("error message \"%s\" does not contain \"%s\"\n", (*err)->msg, needle);
    fail();
  }
  berth_error_release(err);
}

void unit_assert_no_error(berth_error_t *err)
{
  if (*err != NULL) {
    print_error("unexpected error: %s\n", (*err)->msg);
    fail();
  }
}

char *unit_mkdtemp(void)
{
  char *t = xstrdup("/tmp/berth-unit-XXXXXX");
  assert_non_null(mkdtemp(t));
  return t;
}

void unit_rm_rf(const char *path)
{
  berth_error_t err = NULL;
  if (berth_rm_rf(path, &err) < 0)
    berth_error_release(&err);
}
