/* Errors as values: every fallible function takes berth_error_t *err last. */
#ifndef BERTH_BASE_ERROR_H
#define BERTH_BASE_ERROR_H

#include <errno.h>
#include <stdarg.h>

struct berth_error_s {
  int errnum; /* errno captured when the error was made, 0 if none */
  char *msg;  /* full message, context first: "create container x: mount proc: ..." */
};
typedef struct berth_error_s *berth_error_t;

#define BERTH_WUR          __attribute__((warn_unused_result))
#define BERTH_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Make an error with an errno value (0: none). Returns -1 (always < 0). */
/* strerror with glibc's wording whatever the C library */
const char *berth_strerror(int errnum);
int berth_error_make(berth_error_t *err, int errnum, const char *fmt, ...) BERTH_PRINTF(3, 4);
int berth_error_makev(berth_error_t *err, int errnum, const char *fmt, va_list ap) BERTH_PRINTF(3, 0);
/* Prefix context to an existing error: "<context>: <old message>". Returns -1. */
int berth_error_wrap(berth_error_t *err, const char *fmt, ...) BERTH_PRINTF(2, 3);
void berth_error_release(berth_error_t *err);
/* Take the message out, leaving *err NULL (caller frees). */
char *berth_error_steal_msg(berth_error_t *err);

/* errno is captured before the arguments are evaluated */
#define BERTH_ERR_ERRNO(err, ...)                                                                            \
  ({                                                                                                         \
    int berth_saved_errno_ = errno;                                                                          \
    berth_error_make((err), berth_saved_errno_, __VA_ARGS__);                                                \
  })
#define BERTH_ERR(err, ...) berth_error_make((err), 0, __VA_ARGS__)

static inline void berth_cleanup_error(berth_error_t *e) { berth_error_release(e); }
#define cleanup_error __attribute__((cleanup(berth_cleanup_error)))

/* The one way to ignore a failure (DESIGN.md §4): a call whose failure changes nothing, its
 * value dropped and, when it is a berth function given BERTH_IGNORED as its err, its error
 * released.
 *   berth_ignore(berth_rm_rf(mark, BERTH_IGNORED));
 *   berth_ignore(write(fd, buf, len));
 * Only for calls that return an integer (one that returns a pointer would leak it: the
 * compiler refuses it). An error that is looked at (its errno, its text) before it is dropped
 * is not ignored: make it in a cleanup_error variable, or release it after looking. */
static inline void berth_ignore_value_(long v) { (void) v; }
#define berth_ignore(call)                                                                                   \
  do {                                                                                                       \
    berth_error_t berth_ignored_ = NULL;                                                                     \
    berth_ignore_value_(call);                                                                               \
    berth_error_release(&berth_ignored_);                                                                    \
  } while (0)
#define BERTH_IGNORED (&berth_ignored_)

#endif
