/* Shared by the cgroup backends; only cgroup.c (dispatch) knows every ops table. */
#ifndef BERTH_CGROUP_INTERNAL_H
#define BERTH_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "cgroup/plan.h"

/* the container's directory in one hierarchy */
struct cg_dir {
  char *path;           /* absolute */
  char *mountpoint;     /* of the hierarchy, for walking the levels above path */
  uint32_t controllers; /* v1: mounted controllers; unified: 0 (read live from cgroup.controllers) */
  char *name;           /* named v1 hierarchy ("systemd") */
  bool unified;
  unsigned created; /* trailing path components this manager made (rmdir'd on destroy) */
};

struct cg_ops {
  const char *name;
  int (*create)(berth_cgroup_manager_t *m, pid_t pid, berth_error_t *err);
  int (*join)(berth_cgroup_manager_t *m, pid_t pid, berth_error_t *err);
  int (*apply)(berth_cgroup_manager_t *m, const struct berth_spec_resources *r,
               struct berth_cgroup_warnings *w, berth_error_t *err);
  int (*freeze)(berth_cgroup_manager_t *m, bool frozen, berth_error_t *err);
  int (*state)(berth_cgroup_manager_t *m, enum berth_cgroup_freezer_state *out, berth_error_t *err);
  int (*kill)(berth_cgroup_manager_t *m, int sig, berth_error_t *err);
  int (*pids)(berth_cgroup_manager_t *m, pid_t **pids, size_t *n, berth_error_t *err);
  int (*stats)(berth_cgroup_manager_t *m, json_t **out, berth_error_t *err);
  int (*oom_fd)(berth_cgroup_manager_t *m, berth_error_t *err);
  int (*oom_kill_count)(berth_cgroup_manager_t *m, uint64_t *count, berth_error_t *err);
  int (*destroy)(berth_cgroup_manager_t *m, berth_error_t *err);
};

struct berth_cgroup_manager {
  const struct cg_ops *ops;
  enum berth_cgroup_kind kind;
  enum berth_cgroup_mode mode;
  char *path;          /* resolved inner path, for display and state */
  struct cg_dir *dirs; /* v1 hierarchies first, the unified dir last */
  size_t n_dirs;
  char *parents_dir; /* berth_cgroup_config's, or NULL */
};

extern const struct cg_ops cg_ops_v1, cg_ops_v2, cg_ops_hybrid;
/* cgroup.c: the backend for a kind and mode (NULL: none) */
const struct cg_ops *cg_ops_for(enum berth_cgroup_kind kind, enum berth_cgroup_mode mode);

/* detect.c */
uint32_t cg_parse_controllers(const char *list, char sep);

/* path.c: cgroupsPath resolution */
/* runc's CleanPath: lexical clean; a relative path cannot climb above its start ("" for ".") */
char *cg_clean_path(const char *path);
int cg_resolve_dirs(const struct berth_cgroup_layout *l, const char *cgroups_path, const char *id,
                    bool relative_to_self, berth_cgroup_manager_t *m, berth_error_t *err) BERTH_WUR;

/* fs.c: plain file access and the operations every cgroupfs backend shares */
const struct cg_dir *cg_dir_ctl(const berth_cgroup_manager_t *m, enum berth_cgroup_ctl ctl); /* v1 only */
const struct cg_dir *cg_dir_unified(const berth_cgroup_manager_t *m);
/* the directory whose cgroup.procs lists the container (unified when there is one) */
const struct cg_dir *cg_dir_primary(const berth_cgroup_manager_t *m);
int cg_write(const char *dir, const char *file, const char *value); /* -1 with errno */
int cg_read(const char *dir, const char *file, char **out, berth_error_t *err) BERTH_WUR;
/* a number, "max" → UINT64_MAX */
int cg_read_u64(const char *dir, const char *file, uint64_t *out, berth_error_t *err) BERTH_WUR;
/* "key value" lines (memory.stat, cgroup.events); 0 found, 1 absent */
int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *out,
                  berth_error_t *err) BERTH_WUR;
bool cg_exists(const char *dir, const char *file);
void cg_warn(struct berth_cgroup_warnings *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cg_procs_recursive(const char *dir, pid_t **pids, size_t *n, berth_error_t *err) BERTH_WUR;
int cg_fs_create(berth_cgroup_manager_t *m, pid_t pid, berth_error_t *err) BERTH_WUR;
int cg_fs_join(berth_cgroup_manager_t *m, pid_t pid, berth_error_t *err) BERTH_WUR;
int cg_fs_pids(berth_cgroup_manager_t *m, pid_t **pids, size_t *n, berth_error_t *err) BERTH_WUR;
int cg_fs_destroy(berth_cgroup_manager_t *m, berth_error_t *err) BERTH_WUR;
/* signal every pid listed (twice without a freezer, to catch forks) */
int cg_signal_pids(const char *dir, int sig, berth_error_t *err) BERTH_WUR;
void cg_sleep_ms(unsigned ms);

/* exec.c: write a plan */
enum cg_route { CG_ROUTE_DIR, CG_ROUTE_MISSING, CG_ROUTE_OTHER };
typedef enum cg_route (*cg_route_fn)(void *ctx, const struct berth_cgroup_write *w, const char **dir);
int cg_exec_plan(const struct berth_cgroup_plan *p, cg_route_fn route, void *ctx,
                 struct berth_cgroup_warnings *w, berth_error_t *err) BERTH_WUR;

/* v1.c / v2.c pieces the hybrid backend reuses */
int cg_v1_freeze(const char *dir, bool frozen, berth_error_t *err) BERTH_WUR;
int cg_v1_state(const char *dir, enum berth_cgroup_freezer_state *out, berth_error_t *err) BERTH_WUR;
int cg_v1_kill(berth_cgroup_manager_t *m, int sig, berth_error_t *err) BERTH_WUR;
int cg_v1_oom_fd(berth_cgroup_manager_t *m, berth_error_t *err) BERTH_WUR;
int cg_v1_oom_kill_count(berth_cgroup_manager_t *m, uint64_t *count, berth_error_t *err) BERTH_WUR;
int cg_v2_freeze(const char *dir, bool frozen, berth_error_t *err) BERTH_WUR;
int cg_v2_state(const char *dir, enum berth_cgroup_freezer_state *out, berth_error_t *err) BERTH_WUR;
/* enable ctl in cgroup.subtree_control from the mount down to the leaf's parent */
int cg_v2_enable(const struct cg_dir *d, enum berth_cgroup_ctl ctl, berth_error_t *err) BERTH_WUR;
uint32_t cg_v2_controllers(const char *dir);
int cg_v2_apply_devices(const char *dir, const struct berth_spec_device_rule *rules, size_t n,
                        berth_error_t *err) BERTH_WUR;

/* stats.c */
int cg_stats_v1(berth_cgroup_manager_t *m, json_t **out, berth_error_t *err) BERTH_WUR;
int cg_stats_v2(berth_cgroup_manager_t *m, json_t **out, berth_error_t *err) BERTH_WUR;

#endif
