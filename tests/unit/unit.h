/* Shared helpers for the cmocka unit tests. */
#ifndef BERTH_TESTS_UNIT_H
#define BERTH_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"

/* assert an error happened and its message contains `needle`; releases it */
void unit_assert_error_contains(berth_error_t *err, const char *needle);
/* assert no error; prints it otherwise */
void unit_assert_no_error(berth_error_t *err);
/* make a fresh temporary directory (removed by unit_rm_rf) */
char *unit_mkdtemp(void);
void unit_rm_rf(const char *path);

#endif
