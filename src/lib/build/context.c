/* COPY sources: wildcards, safe resolution in the context or a stage's root, and the digest of
 * what they hold (the cache key's part for COPY and ADD). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "build/context.h"
#include "build/context_internal.h"

void berth_build_sources_free(struct berth_build_source *v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(v[i].rel);
    if (v[i].fd >= 0)
      close(v[i].fd);
  }
  free(v);
}

int ctx_open(const struct berth_build_root *r, const char *rel, int flags, berth_error_t *err)
{
  uint64_t how = RESOLVE_NO_MAGICLINKS | (r->context ? RESOLVE_BENEATH : RESOLVE_IN_ROOT);
  int fd = berth_openat2(r->fd, rel, flags | O_CLOEXEC, 0, how);
  if (fd >= 0)
    return fd;
  if (errno == EXDEV)
    return BERTH_ERR(err, "`%s` escapes the build context (through `..` or a symlink)", rel);
  if (errno == ENOENT)
    return BERTH_ERR(err, "`%s`: no such file or directory%s", rel,
                     r->context ? " in the build context" : "");
  return BERTH_ERR_ERRNO(err, "open `%s`", rel);
}

bool ctx_ignored(const struct berth_build_root *r, const char *rel)
{
  return r->context && r->ignore && strcmp(rel, ".") != 0 && berth_ignore_match(r->ignore, rel);
}

static char *join(const char *dir, const char *name)
{
  return strcmp(dir, ".") == 0 ? xstrdup(name) : xasprintf("%s/%s", dir, name);
}

static BERTH_WUR int add_source(const struct berth_build_root *r, const char *rel,
                                struct berth_build_source **v, size_t *n, berth_error_t *err)
{
  int fd = ctx_open(r, rel, O_PATH, err);
  if (fd < 0)
    return -1;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    close(fd);
    return BERTH_ERR_ERRNO(err, "stat `%s`", rel);
  }
  *v = xreallocarray(*v, *n + 1, sizeof **v);
  (*v)[(*n)++] = (struct berth_build_source){ .rel = xstrdup(rel), .fd = fd, .st = st };
  return 0;
}

/* the names of dir (relative to the root) matching one pattern component, sorted */
static BERTH_WUR int list_matching(const struct berth_build_root *r, const char *dir, const char *pattern,
                                   char ***out, berth_error_t *err)
{
  *out = xcalloc(1, sizeof(char *));
  berth_error_t none = NULL;
  cleanup_close int fd = ctx_open(r, dir, O_RDONLY | O_DIRECTORY, &none);
  if (fd < 0) { /* a directory that is not there matches nothing */
    bool escape = none && strstr(none->msg, "escapes");
    if (escape) {
      *err = none;
      return -1;
    }
    berth_error_release(&none);
    return 0;
  }
  cleanup_dir DIR *d = fdopendir(fd);
  if (d == NULL)
    return BERTH_ERR_ERRNO(err, "list `%s`", dir);
  fd = -1;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 || fnmatch(pattern, de->d_name, 0) != 0)
      continue;
    cleanup_free char *rel = join(dir, de->d_name);
    if (!ctx_ignored(r, rel))
      *out = berth_strv_append(*out, de->d_name);
  }
  qsort(*out, berth_strv_len(*out), sizeof(char *), ctx_cmp_str);
  return 0;
}

int ctx_cmp_str(const void *a, const void *b) { return strcmp(*(char *const *) a, *(char *const *) b); }

/* the components of rel from index i on, below dir */
static BERTH_WUR int glob_walk(const struct berth_build_root *r, const char *dir, char **comps, size_t i,
                               struct berth_build_source **v, size_t *n, berth_error_t *err)
{
  if (comps[i] == NULL)
    return add_source(r, dir, v, n, err);
  if (!berth_build_has_glob(comps[i])) {
    cleanup_free char *next = join(dir, comps[i]);
    if (comps[i + 1] == NULL) {
      struct stat st;
      cleanup_close int fd =
        berth_openat2(r->fd, next, O_PATH | O_CLOEXEC, 0,
                      RESOLVE_NO_MAGICLINKS | (r->context ? RESOLVE_BENEATH : RESOLVE_IN_ROOT));
      if (fd < 0 || fstat(fd, &st) < 0 || ctx_ignored(r, next))
        return 0;
    }
    return glob_walk(r, next, comps, i + 1, v, n, err);
  }
  cleanup_strv char **names = NULL;
  if (list_matching(r, dir, comps[i], &names, err) < 0)
    return -1;
  for (size_t k = 0; names[k]; k++) {
    cleanup_free char *next = join(dir, names[k]);
    if (glob_walk(r, next, comps, i + 1, v, n, err) < 0)
      return -1;
  }
  return 0;
}

int berth_build_sources_resolve(const struct berth_build_root *r, const char *src,
                                struct berth_build_source **out, size_t *n, berth_error_t *err)
{
  *out = NULL;
  *n = 0;
  cleanup_free char *rel = berth_build_path_inside(src);
  if (rel == NULL)
    return BERTH_ERR(err, "`%s` escapes the build context (through `..`)", src);
  if (!berth_build_has_glob(rel)) {
    if (ctx_ignored(r, rel))
      return BERTH_ERR(err, "`%s`: excluded by .dockerignore", src);
    return add_source(r, rel, out, n, err);
  }
  cleanup_strv char **comps = xcalloc(1, sizeof(char *));
  char *save = NULL;
  for (char *c = strtok_r(rel, "/", &save); c; c = strtok_r(NULL, "/", &save))
    comps = berth_strv_append(comps, c);
  if (glob_walk(r, ".", comps, 0, out, n, err) < 0) {
    berth_build_sources_free(*out, *n);
    *out = NULL;
    *n = 0;
    return -1;
  }
  return 0;
}

bool ctx_excluded(char *const *excludes, const char *rel)
{
  for (size_t i = 0; excludes && excludes[i]; i++) {
    if (fnmatch(excludes[i], rel, FNM_PATHNAME) == 0)
      return true;
    cleanup_free char *clean = berth_build_path_clean(excludes[i]); /* a directory excludes its contents */
    size_t l = strlen(clean);
    if (strncmp(rel, clean, l) == 0 && rel[l] == '/')
      return true;
  }
  return false;
}

/* ---- the digest ---- */

struct digest_walk {
  const struct berth_build_root *r;
  const char *base; /* the source, relative to the root (for .dockerignore) */
  char *const *excludes;
  struct berth_sha256_ctx ctx;
  char *buf;
};

static BERTH_WUR int hash_file(struct digest_walk *w, int dirfd, const char *name, const char *what,
                               berth_error_t *err)
{
  char p[32];
  cleanup_close int fd = *name ? openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                               : open(berth_fd_path(dirfd, p, sizeof p), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", what);
  struct berth_sha256_ctx c;
  berth_sha256_init(&c);
  for (;;) {
    ssize_t got = read(fd, w->buf, 1 << 20);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      return BERTH_ERR_ERRNO(err, "read `%s`", what);
    if (got == 0)
      break;
    berth_sha256_update(&c, w->buf, (size_t) got);
  }
  uint8_t d[BERTH_SHA256_LEN];
  berth_sha256_final(&c, d);
  berth_sha256_update(&w->ctx, d, sizeof d);
  return 0;
}

/* one entry (dirfd/name, named rel below the source) and, for a directory, what it holds */
static BERTH_WUR int hash_entry(struct digest_walk *w, int dirfd, const char *name, const char *rel,
                                berth_error_t *err)
{
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH)) < 0)
    return BERTH_ERR_ERRNO(err, "stat `%s`", rel);
  cleanup_strbuf struct berth_strbuf h = BERTH_STRBUF_INIT;
  berth_strbuf_printf(&h, "%s%c%o%c%llu%c", rel, 0, (unsigned) st.st_mode, 0,
                      S_ISREG(st.st_mode) ? (unsigned long long) st.st_size : 0ULL, 0);
  if (!w->r->context)
    berth_strbuf_printf(&h, "%u:%u%c", (unsigned) st.st_uid, (unsigned) st.st_gid, 0);
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);
    if (n < 0)
      return BERTH_ERR_ERRNO(err, "readlink `%s`", rel);
    berth_strbuf_append(&h, target, (size_t) n);
  }
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
    berth_strbuf_printf(&h, "%llu", (unsigned long long) st.st_rdev);
  berth_sha256_update(&w->ctx, h.buf, h.len + 1);
  if (S_ISREG(st.st_mode))
    return hash_file(w, dirfd, name, rel, err);
  if (!S_ISDIR(st.st_mode))
    return 0;
  cleanup_close int fd = openat(dirfd, *name ? name : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", rel);
  cleanup_strv char **names = NULL;
  if (ctx_list_dir(fd, rel, &names, err) < 0)
    return -1;
  for (size_t i = 0; names[i]; i++) {
    cleanup_free char *sub = join(rel, names[i]);
    cleanup_free char *full = join(w->base, sub);
    if (ctx_excluded(w->excludes, sub) || ctx_ignored(w->r, full))
      continue;
    if (hash_entry(w, fd, names[i], sub, err) < 0)
      return -1;
  }
  return 0;
}

int ctx_list_dir(int fd, const char *what, char ***out, berth_error_t *err)
{
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  cleanup_dir DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
  if (d == NULL) {
    if (dup >= 0)
      close(dup);
    return BERTH_ERR_ERRNO(err, "list `%s`", what);
  }
  *out = xcalloc(1, sizeof(char *));
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      *out = berth_strv_append(*out, de->d_name);
  qsort(*out, berth_strv_len(*out), sizeof(char *), ctx_cmp_str);
  return 0;
}

int berth_build_sources_digest(const struct berth_build_root *r, const struct berth_build_source *v, size_t n,
                               char *const *excludes, char digest[BERTH_DIGEST_LEN + 1], berth_error_t *err)
{
  struct digest_walk w = { .r = r, .excludes = excludes };
  berth_sha256_init(&w.ctx);
  w.buf = xmalloc(1 << 20);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    berth_sha256_update(&w.ctx, v[i].rel, strlen(v[i].rel) + 1);
    w.base = v[i].rel; /* the source's own path was followed; below it nothing is */
    rc = hash_entry(&w, v[i].fd, "", ".", err);
  }
  free(w.buf);
  if (rc < 0)
    return -1;
  uint8_t d[BERTH_SHA256_LEN];
  char hex[BERTH_SHA256_HEX_LEN + 1];
  berth_sha256_final(&w.ctx, d);
  snprintf(digest, BERTH_DIGEST_LEN + 1, "sha256:%s", berth_sha256_hex(d, hex));
  return 0;
}
