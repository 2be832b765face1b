/* linux.seccomp → BPF with libseccomp, cached by content hash, loaded with seccomp(2). */
#include "linux/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/sha256.h"
#include "base/xalloc.h"
#include "linux/seccomp_opt.h"

#define ARGS_MAX         6
#define ACTION_BASE_MASK 0xffff0000U

/* flags the spec may ask for; TSYNC is accepted and dropped: the container process is
 * single-threaded, and TSYNC together with NEW_LISTENER is EINVAL */
#define KNOWN_FLAGS                                                                                          \
  (SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |                    \
   SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)

static void cleanup_scmp(scmp_filter_ctx *ctx)
{
  if (*ctx)
    seccomp_release(*ctx);
  *ctx = NULL;
}

/* The action with its data: ERRNO takes errnoRet (EPERM when absent), TRACE too. */
static uint32_t full_action(uint32_t action, bool has_errno, uint32_t errno_ret)
{
  uint32_t base = action & ACTION_BASE_MASK;
  if (base == SCMP_ACT_ERRNO(0))
    return SCMP_ACT_ERRNO(has_errno ? errno_ret : EPERM);
  if (base == SCMP_ACT_TRACE(0))
    return SCMP_ACT_TRACE(has_errno ? errno_ret : EPERM);
  return action;
}

static bool uses_notify(const struct berth_spec_seccomp *sc)
{
  if (sc->default_action == SCMP_ACT_NOTIFY)
    return true;
  for (size_t i = 0; i < sc->n_syscalls; i++)
    if (sc->syscalls[i].action == SCMP_ACT_NOTIFY)
      return true;
  return false;
}

/* may the filter hand a sendmsg(2) to the listener (a NOTIFY rule naming it, or a NOTIFY
 * default that no other rule overrides for it) */
static bool notifies(const struct berth_spec_seccomp *sc, const char *name)
{
  for (size_t i = 0; i < sc->n_syscalls; i++)
    for (size_t k = 0; k < sc->syscalls[i].n_names; k++)
      if (strcmp(sc->syscalls[i].names[k], name) == 0 && sc->syscalls[i].action == SCMP_ACT_NOTIFY)
        return true;
  if (sc->default_action != SCMP_ACT_NOTIFY)
    return false;
  for (size_t i = 0; i < sc->n_syscalls; i++)
    for (size_t k = 0; k < sc->syscalls[i].n_names; k++)
      if (strcmp(sc->syscalls[i].names[k], name) == 0 && sc->syscalls[i].n_args == 0)
        return false; /* always another action */
  return true;
}

static BERTH_WUR int prog_flags(const struct berth_spec_seccomp *sc, bool listener, unsigned int *out,
                                berth_error_t *err)
{
  if (sc->flags & ~(unsigned int) KNOWN_FLAGS)
    return BERTH_ERR(err, "seccomp: unsupported flags 0x%x", sc->flags & ~(unsigned int) KNOWN_FLAGS);
  unsigned int f = sc->flags & ~(unsigned int) SECCOMP_FILTER_FLAG_TSYNC;
  /* the kernel refuses WAIT_KILLABLE_RECV without a listener */
  if (!listener && (f & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)) {
    berth_log_debug("seccomp: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored without SCMP_ACT_NOTIFY");
    f &= ~(unsigned int) SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  }
  *out = f;
  return 0;
}

static BERTH_WUR int make_conditions(const struct berth_spec_seccomp_rule *r, const char *name,
                                     struct scmp_arg_cmp *conds, bool *split, berth_error_t *err)
{
  unsigned int count[ARGS_MAX] = { 0 };
  *split = false;
  if (r->n_args > ARGS_MAX * 8)
    return BERTH_ERR(err, "seccomp rule for `%s`: too many argument conditions (%zu)", name, r->n_args);
  for (size_t i = 0; i < r->n_args; i++) {
    const struct berth_spec_seccomp_arg *a = &r->args[i];
    if (a->index >= ARGS_MAX)
      return BERTH_ERR(err, "seccomp rule for `%s`: argument index %u is out of range [0, 5]", name,
                       a->index);
    if (a->op <= _SCMP_CMP_MIN || a->op >= _SCMP_CMP_MAX)
      return BERTH_ERR(err, "seccomp rule for `%s`: invalid operator %d", name, a->op);
    /* for SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the expected arg & mask */
    conds[i] = (struct scmp_arg_cmp){
      .arg = a->index, .op = (enum scmp_compare) a->op, .datum_a = a->value, .datum_b = a->value_two
    };
    if (++count[a->index] > 1)
      *split = true;
  }
  return 0;
}

/* runc's semantics: conditions on distinct arguments are ANDed in one rule; when two
 * conditions test the same argument, every condition becomes its own rule (ORed). */
static BERTH_WUR int add_rule(scmp_filter_ctx ctx, const struct berth_spec_seccomp_rule *r,
                              uint32_t def_action, berth_error_t *err)
{
  uint32_t act = full_action(r->action, r->has_errno_ret, r->errno_ret);
  if (act == def_action)
    return 0; /* redundant; libseccomp would refuse it */
  struct scmp_arg_cmp conds[ARGS_MAX * 8];
  for (size_t n = 0; n < r->n_names; n++) {
    const char *name = r->names[n];
    if (act == SCMP_ACT_NOTIFY && strcmp(name, "write") == 0)
      return BERTH_ERR(err, "seccomp rule for `write`: SCMP_ACT_NOTIFY cannot be used for `write`");
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) {
      berth_log_debug("seccomp: unknown syscall `%s` ignored", name);
      continue;
    }
    bool split;
    if (make_conditions(r, name, conds, &split, err) < 0)
      return -1;
    int rc = 0;
    if (split) {
      for (size_t i = 0; i < r->n_args && rc == 0; i++)
        rc = seccomp_rule_add_array(ctx, act, nr, 1, &conds[i]);
    } else {
      rc = seccomp_rule_add_array(ctx, act, nr, (unsigned int) r->n_args, conds);
    }
    if (rc < 0)
      return berth_error_make(err, -rc, "seccomp: add rule for `%s`", name);
  }
  return 0;
}

/* run.oci.seccomp_fail_unknown_syscall (crun's): a name libseccomp does not know is an error
 * instead of a rule skipped. Before the cache: a program compiled without the check is the
 * same program. */
static BERTH_WUR int check_names(const struct berth_spec_seccomp *sc, berth_error_t *err)
{
  if (!sc->fail_unknown_syscall)
    return 0;
  for (size_t i = 0; i < sc->n_syscalls; i++)
    for (size_t n = 0; n < sc->syscalls[i].n_names; n++)
      if (seccomp_syscall_resolve_name(sc->syscalls[i].names[n]) == __NR_SCMP_ERROR)
        return BERTH_ERR(err, "syscalls[%zu].names[%zu]: unknown syscall `%s` (annotation %s)", i, n,
                         sc->syscalls[i].names[n], BERTH_ANNOTATION_SECCOMP_FAIL_UNKNOWN);
  return 0;
}

static BERTH_WUR int build_filter(const struct berth_spec_seccomp *sc, scmp_filter_ctx *out,
                                  berth_error_t *err)
{
  uint32_t def = full_action(sc->default_action, sc->has_default_errno_ret, sc->default_errno_ret);
  if (def == SCMP_ACT_NOTIFY)
    return BERTH_ERR(err, "seccomp: SCMP_ACT_NOTIFY cannot be the default action");
  __attribute__((cleanup(cleanup_scmp))) scmp_filter_ctx ctx = seccomp_init(def);
  if (ctx == NULL)
    return BERTH_ERR(err, "seccomp: invalid default action 0x%x", def);
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (rc < 0)
    return berth_error_make(err, -rc, "seccomp: clear the no_new_privs attribute");
  /* a binary tree of syscalls for long profiles (libseccomp 2.5.4 misbehaves with 0 rules) */
  if (sc->n_syscalls > 32 && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
    berth_log_debug("seccomp: binary tree optimization not available");
  for (size_t i = 0; i < sc->n_architectures; i++) {
    rc = seccomp_arch_add(ctx, sc->architectures[i]);
    if (rc < 0 && rc != -EEXIST)
      return berth_error_make(err, -rc, "seccomp: add architecture 0x%x", sc->architectures[i]);
  }
  for (size_t i = 0; i < sc->n_syscalls; i++)
    if (add_rule(ctx, &sc->syscalls[i], def, err) < 0)
      return -1;
  *out = steal_ptr(ctx);
  return 0;
}

static BERTH_WUR int export_bpf(scmp_filter_ctx ctx, void **insns, size_t *n, berth_error_t *err)
{
  cleanup_close int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "seccomp: memfd_create");
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0)
    return berth_error_make(err, -rc, "seccomp: export the filter");
  struct stat st;
  if (fstat(fd, &st) < 0)
    return BERTH_ERR_ERRNO(err, "seccomp: stat the exported filter");
  size_t size = (size_t) st.st_size;
  if (size == 0 || size % sizeof(struct sock_filter) != 0)
    return BERTH_ERR(err, "seccomp: exported filter has an invalid size %zu", size);
  if (size / sizeof(struct sock_filter) > BPF_MAXINSNS)
    return BERTH_ERR(err, "seccomp: filter has %zu instructions, the kernel allows %d",
                     size / sizeof(struct sock_filter), BPF_MAXINSNS);
  cleanup_free void *buf = xmalloc(size);
  if (pread(fd, buf, size, 0) != (ssize_t) size)
    return BERTH_ERR_ERRNO(err, "seccomp: read back the exported filter");
  *insns = steal_ptr(buf);
  *n = size / sizeof(struct sock_filter);
  return 0;
}

/* The architectures whose syscalls the kernel may show the filter: the native one and
 * those the profile adds. x32 is left out: the kernel reports its calls as x86_64 ones
 * with the x32 bit in the number, which the rewrite leaves to the original program. */
static size_t dispatch_arches(const struct berth_spec_seccomp *sc, uint32_t *out, size_t cap)
{
  size_t n = 0;
  out[n++] = seccomp_arch_native();
  for (size_t i = 0; i < sc->n_architectures && n < cap; i++) {
    uint32_t a = sc->architectures[i];
    bool seen = a == SCMP_ARCH_X32;
    for (size_t j = 0; j < n && !seen; j++)
      seen = out[j] == a;
    if (!seen)
      out[n++] = a;
  }
  return n;
}

static BERTH_WUR int compile_fresh(const struct berth_spec_seccomp *sc, struct berth_seccomp_prog *p,
                                   berth_error_t *err)
{
  __attribute__((cleanup(cleanup_scmp))) scmp_filter_ctx ctx = NULL;
  if (build_filter(sc, &ctx, err) < 0)
    return -1;
  if (export_bpf(ctx, &p->insns, &p->n_insns, err) < 0)
    return -1;
  uint32_t arches[16];
  size_t n_arches = dispatch_arches(sc, arches, BERTH_N_ELEMENTS(arches));
  struct sock_filter *fast;
  size_t n_fast;
  if (berth_seccomp_optimize(p->insns, p->n_insns, arches, n_arches, 0, &fast, &n_fast) == 0) {
    berth_log_debug("seccomp: %zu instructions, %zu with the syscall search in front", p->n_insns, n_fast);
    free(p->insns);
    p->insns = fast;
    p->n_insns = n_fast;
  }
  return 0;
}

/* <cache_dir>/<sha256 of berth version, libseccomp version, native arch, rewrite span, sorted JSON>.bpf */
static char *cache_path(const struct berth_spec_seccomp *sc, const char *cache_dir)
{
  const struct scmp_version *v = seccomp_version();
  cleanup_free char *hdr =
    xasprintf("berth %s\nlibseccomp %u.%u.%u\narch 0x%x\nsearch %d\n", BERTH_VERSION, v->major, v->minor,
              v->micro, seccomp_arch_native(), BERTH_SECCOMP_OPT_SPAN);
  cleanup_free char *body = json_dumps(sc->json, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  if (body == NULL)
    return NULL;
  struct berth_sha256_ctx c;
  uint8_t digest[BERTH_SHA256_LEN];
  char hex[BERTH_SHA256_HEX_LEN + 1];
  berth_sha256_init(&c);
  berth_sha256_update(&c, hdr, strlen(hdr));
  berth_sha256_update(&c, body, strlen(body));
  berth_sha256_final(&c, digest);
  return xasprintf("%s/%s.bpf", cache_dir, berth_sha256_hex(digest, hex));
}

/* owned by us and writable by nobody else */
static bool ours_alone(int fd, struct stat *st)
{
  return fstat(fd, st) == 0 && st->st_uid == geteuid() && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* 1 when a valid cached program was read, 0 when absent or invalid (recompile). A cache that
 * another user could have written (a --root in a shared place, a rootless /tmp/berth-UID that
 * someone else made first) is never read: its program would be the container's filter. */
static int cache_read(const char *cache_dir, const char *path, struct berth_seccomp_prog *p)
{
  struct stat st;
  cleanup_close int dfd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0 || !ours_alone(dfd, &st)) {
    berth_log_debug("seccomp: cache `%s` is not this user's alone, not used", cache_dir);
    return 0;
  }
  cleanup_close int fd = openat(dfd, strrchr(path, '/') + 1, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return 0;
  if (!ours_alone(fd, &st) || !S_ISREG(st.st_mode))
    return 0;
  size_t size = (size_t) st.st_size;
  if (size == 0 || size % sizeof(struct sock_filter) != 0 ||
      size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    berth_log_debug("seccomp: cached filter `%s` has an invalid size %zu, recompiling", path, size);
    return 0;
  }
  cleanup_free void *buf = xmalloc(size);
  if (berth_read_all(fd, buf, size) != (ssize_t) size)
    return 0;
  p->insns = steal_ptr(buf);
  p->n_insns = size / sizeof(struct sock_filter);
  return 1;
}

static void cache_write(const char *cache_dir, const char *path, const struct berth_seccomp_prog *p)
{
  berth_error_t err = NULL;
  if (berth_mkdir_p(cache_dir, 0700, &err) < 0 ||
      berth_write_file_atomic(path, p->insns, p->n_insns * sizeof(struct sock_filter), 0600, &err) < 0) {
    berth_log_warn("seccomp: cannot cache the compiled filter: %s", err->msg);
    berth_error_release(&err);
  }
}

static BERTH_WUR int compile_into(const struct berth_spec_seccomp *sc, const char *cache_dir,
                                  struct berth_seccomp_prog *p, berth_error_t *err)
{
  p->wants_listener = uses_notify(sc);
  p->notifies_sendmsg = p->wants_listener && notifies(sc, "sendmsg");
  if (prog_flags(sc, p->wants_listener, &p->flags, err) < 0 || check_names(sc, err) < 0)
    return -1;
  if (cache_dir == NULL || sc->json == NULL)
    return compile_fresh(sc, p, err);
  cleanup_free char *path = cache_path(sc, cache_dir);
  if (path && cache_read(cache_dir, path, p) == 1)
    return 0;
  if (compile_fresh(sc, p, err) < 0)
    return -1;
  if (path)
    cache_write(cache_dir, path, p);
  return 0;
}

int berth_seccomp_compile(const struct berth_spec_seccomp *sc, const char *cache_dir,
                          struct berth_seccomp_prog **out, berth_error_t *err)
{
  struct berth_seccomp_prog *p = xmalloc0(sizeof *p);
  if (compile_into(sc, cache_dir, p, err) < 0) {
    berth_seccomp_prog_free(p);
    return -1;
  }
  *out = p;
  return 0;
}

int berth_seccomp_load(const struct berth_seccomp_prog *p, int *listener_fd, berth_error_t *err)
{
  struct sock_fprog fprog = { .len = (unsigned short) p->n_insns, .filter = p->insns };
  unsigned int flags = p->flags;
  if (p->wants_listener)
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  if (r < 0)
    return BERTH_ERR_ERRNO(err, "seccomp: load the filter (flags 0x%x)", flags);
  if (listener_fd)
    *listener_fd = p->wants_listener ? (int) r : -1;
  return 0;
}

void berth_seccomp_prog_free(struct berth_seccomp_prog *p)
{
  if (p == NULL)
    return;
  free(p->insns);
  free(p);
}
