/* Typed values of instruction flags, shared by the parser's checks and the builder (pure):
 * BuildKit's RUN --mount specs, --chmod, --checksum, --network, HEALTHCHECK durations. Each
 * error names the flag: "--mount: unknown key `foo`". */
#ifndef BERTH_BUILD_INSTR_H
#define BERTH_BUILD_INSTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum berth_build_mount_type {
  BERTH_BUILD_MOUNT_BIND,
  BERTH_BUILD_MOUNT_CACHE,
  BERTH_BUILD_MOUNT_TMPFS,
  BERTH_BUILD_MOUNT_SECRET,
  BERTH_BUILD_MOUNT_SSH,
};

enum berth_build_sharing {
  BERTH_BUILD_SHARING_SHARED,  /* every build at once */
  BERTH_BUILD_SHARING_PRIVATE, /* a new instance when another build holds it */
  BERTH_BUILD_SHARING_LOCKED,  /* one build at a time: the others wait */
};

/* one RUN --mount=... */
struct berth_build_mount {
  enum berth_build_mount_type type;
  char *target; /* as given (relative: to the working directory); secret: /run/secrets/<id> by default */
  char *source; /* bind: path in the context or the `from` stage (default: its root); cache: a path in
                   the cache; NULL when not given */
  char *from;   /* bind, cache: a stage or an image (NULL: the context, or the cache itself) */
  char *id;     /* cache: (default: the target); secret: (default: the target's base name) */
  bool readonly;
  enum berth_build_sharing sharing;
  bool has_mode, has_uid, has_gid;
  uint32_t mode, uid, gid;
  bool required; /* secret: a missing secret is an error (else the mount is left out) */
  char *env;     /* secret: also (or instead, without a target) in this environment variable */
  uint64_t size; /* tmpfs: bytes (0: the kernel's default) */
};
/* the spec of --mount (comma-separated key=value, CSV quoting): type=bind|cache|tmpfs|secret|ssh */
int berth_build_mount_parse(const char *spec, struct berth_build_mount *out, berth_error_t *err) BERTH_WUR;
void berth_build_mount_release(struct berth_build_mount *m);

/* --chmod: octal ("755", "0644") or symbolic ("u=rwx,go=rx", "a+x"); for symbolic modes
 * *symbolic is set and mode is unused: apply berth_build_chmod_apply to each file's mode */
int berth_build_chmod_parse(const char *s, uint32_t *mode, bool *symbolic, berth_error_t *err) BERTH_WUR;
/* a symbolic --chmod applied to a mode (directories get x where X is given) */
uint32_t berth_build_chmod_apply(const char *s, uint32_t mode, bool dir);

/* --checksum=sha256:<64 hex> (also sha384/sha512 are named by Docker: only sha256 is accepted) */
int berth_build_checksum_parse(const char *s, berth_error_t *err) BERTH_WUR;

enum berth_build_network {
  BERTH_BUILD_NET_DEFAULT, /* berth build's --network (default: host, as BuildKit's) */
  BERTH_BUILD_NET_NONE,
  BERTH_BUILD_NET_HOST,
};
int berth_build_network_parse(const char *s, enum berth_build_network *out, berth_error_t *err) BERTH_WUR;

/* a flag's boolean: NULL (given alone) or true/false/1/0 */
int berth_build_bool_parse(const char *flag, const char *v, bool *out, berth_error_t *err) BERTH_WUR;

/* Go durations as HEALTHCHECK takes them: "30s", "1m30s", "500ms", "1h"; 0 allowed */
int berth_build_duration_parse(const char *flag, const char *s, int64_t *ns, berth_error_t *err) BERTH_WUR;

/* does a flag value hold a variable (then it is checked after expansion only) */
bool berth_build_has_var(const char *s);

#endif
