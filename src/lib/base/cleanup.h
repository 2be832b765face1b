/* Scope-bound cleanup of resources. Each cleanup is safe on NULL / -1 and on an
 * already-cleaned value; transfer ownership out of a scope with steal_ptr/steal_fd. */
#ifndef BERTH_BASE_CLEANUP_H
#define BERTH_BASE_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void berth_cleanup_freep(void *p)
{
  void **pp = (void **) p;
  free(*pp);
  *pp = NULL;
}

static inline void berth_cleanup_closep(int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
  *fd = -1;
}

static inline void berth_cleanup_fclosep(FILE **f)
{
  if (*f != NULL) {
    int saved = errno;
    fclose(*f);
    errno = saved;
  }
  *f = NULL;
}

static inline void berth_cleanup_dirp(DIR **d)
{
  if (*d != NULL) {
    int saved = errno;
    closedir(*d);
    errno = saved;
  }
  *d = NULL;
}

/* a NULL-terminated array of malloc'd strings */
static inline void berth_strv_free(char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p; p++)
    free(*p);
  free(v);
}

static inline void berth_cleanup_strvp(char ***v)
{
  berth_strv_free(*v);
  *v = NULL;
}

#define cleanup_free   __attribute__((cleanup(berth_cleanup_freep)))
#define cleanup_close  __attribute__((cleanup(berth_cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(berth_cleanup_fclosep)))
#define cleanup_dir    __attribute__((cleanup(berth_cleanup_dirp)))
#define cleanup_strv   __attribute__((cleanup(berth_cleanup_strvp)))

#define steal_ptr(p)                                                                                         \
  ({                                                                                                         \
    __typeof__(p) berth_tmp_ = (p);                                                                          \
    (p) = NULL;                                                                                              \
    berth_tmp_;                                                                                              \
  })
#define steal_fd(fd)                                                                                         \
  ({                                                                                                         \
    int berth_tmpfd_ = (fd);                                                                                 \
    (fd) = -1;                                                                                               \
    berth_tmpfd_;                                                                                            \
  })

#define BERTH_N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

#endif
