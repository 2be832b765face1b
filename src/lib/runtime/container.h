/* A container's persistent state: <root>/<id>/state.json plus the status derived from
 * the live process. */
#ifndef BERTH_RUNTIME_CONTAINER_H
#define BERTH_RUNTIME_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

enum berth_status {
  BERTH_STATUS_CREATING,
  BERTH_STATUS_CREATED,
  BERTH_STATUS_RUNNING,
  BERTH_STATUS_PAUSED,
  BERTH_STATUS_STOPPED,
};

struct berth_container {
  char *root; /* state root (--root) */
  char *id;
  char *dir; /* <root>/<id> */
  char *bundle;
  char *rootfs;
  pid_t pid;
  uint64_t pid_start; /* starttime of pid (field 22 of /proc/pid/stat): guards pid reuse */
  char *created;      /* RFC 3339 */
  uid_t owner;
  bool has_pidns;           /* the container has its own pid namespace */
  json_t *cgroup;           /* the cgroup manager's record (berth_cgroup_manager_to_json), or NULL */
  json_t *annotations;      /* object, may be NULL */
  enum berth_status status; /* derived by berth_container_load */
};

/* Load <root>/<id>/state.json and derive the status from the process. */
int berth_container_load(const char *root, const char *id, struct berth_container **out,
                         berth_error_t *err) BERTH_WUR;
/* Write state.json atomically. */
int berth_container_save(const struct berth_container *c, berth_error_t *err) BERTH_WUR;
void berth_container_free(struct berth_container *c);
static inline void berth_cleanup_container(struct berth_container **c)
{
  if (*c)
    berth_container_free(*c);
  *c = NULL;
}
#define cleanup_container __attribute__((cleanup(berth_cleanup_container)))

const char *berth_status_name(enum berth_status s);
/* The OCI state JSON (ociVersion, id, status, pid, bundle, annotations, + runc's extras
 * when `extended`: rootfs, created, owner). */
json_t *berth_container_state_json(const struct berth_container *c, bool extended);

/* starttime of a process, 0 if it does not exist */
uint64_t berth_proc_start_time(pid_t pid);
/* Is c->pid still the container's process? */
bool berth_container_alive(const struct berth_container *c);
/* pidfd of the container process (validated against pid reuse), -1 + err if gone */
int berth_container_pidfd(const struct berth_container *c, berth_error_t *err) BERTH_WUR;

/* Is pid in our own pid namespace? (true when it cannot be told) */
bool berth_same_pidns_as_self(pid_t pid);

/* The ids of the containers under root, sorted, NULL-terminated (none when root does not
 * exist); entries that are not valid ids (notes, caches) are left out. */
char **berth_container_ids(const char *root, berth_error_t *err) BERTH_WUR;

/* paths inside the state dir */
char *berth_container_path(const struct berth_container *c, const char *name);
char *berth_state_dir(const char *root, const char *id);

/* The default state root: /run/berth, or $XDG_RUNTIME_DIR/berth when not root. */
char *berth_default_root(void);

/* now as RFC 3339 with nanoseconds, UTC */
char *berth_rfc3339_now(void);

#endif
