/* COPY, ADD and WORKDIR: the sources' part of the key, and the copy into an overlay of the
 * parent's layers whose upper dir becomes the step's layer. Sources come from the context (read
 * in place, beneath it: src/lib/build/context.h) or from a stage's or an image's root, mounted
 * read-only for the time of the copy. ADD extracts a local tar archive into the destination. */
#include <errno.h>
#include <fcntl.h>
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
#include "build/instr.h"
#include "engine/builds/builds_internal.h"
#include "engine/runspec/runspec.h"
#include "image/layer.h"
#include "registry/registry.h"

static bool is_url(const char *s)
{
  return berth_str_has_prefix(s, "http://") || berth_str_has_prefix(s, "https://");
}

static bool is_doc(const char *s) { return berth_str_has_prefix(s, "<<"); }

#define MAX_DOWNLOAD (16ull << 30)

static BERTH_WUR int digest_fd(int fd, char out[BERTH_DIGEST_LEN + 1], berth_error_t *err)
{
  struct berth_sha256_ctx c;
  uint8_t d[BERTH_SHA256_LEN];
  char hex[BERTH_SHA256_HEX_LEN + 1];
  cleanup_free char *buf = xmalloc(1 << 20);
  berth_sha256_init(&c);
  if (lseek(fd, 0, SEEK_SET) < 0)
    return BERTH_ERR_ERRNO(err, "rewind the download");
  for (ssize_t n; (n = berth_read_all(fd, buf, 1 << 20)) != 0;) {
    if (n < 0)
      return BERTH_ERR_ERRNO(err, "read the download");
    berth_sha256_update(&c, buf, (size_t) n);
  }
  berth_sha256_final(&c, d);
  berth_sha256_hex(d, hex);
  snprintf(out, BERTH_DIGEST_LEN + 1, "sha256:%s", hex);
  return 0;
}

/* ADD <url>: the file, fetched once a build through the registry module's HTTP client, checked
 * against --checksum */
static BERTH_WUR int fetch(struct bld *b, const struct berth_build_op *op, const char *url,
                           const struct bld_download **out, berth_error_t *err)
{
  const struct bld_download *dl = NULL;
  for (size_t i = 0; i < b->ndownloads && dl == NULL; i++)
    if (strcmp(b->downloads[i].url, url) == 0)
      dl = &b->downloads[i];
  if (dl == NULL) {
    cleanup_free char *dir = xasprintf("%s/builds/steps", b->e->root);
    if (berth_mkdir_p(dir, 0700, err) < 0)
      return -1;
    struct bld_download d = { .fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600) };
    if (d.fd < 0)
      return BERTH_ERR_ERRNO(err, "a temporary file in `%s`", dir);
    struct berth_registry_opts ro = { .tls_verify = -1 };
    if (b->o->transfer)
      ro = b->o->transfer->reg;
    if (berth_http_get(url, &ro, d.fd, MAX_DOWNLOAD, &d.mtime, err) < 0 ||
        digest_fd(d.fd, d.digest, err) < 0) {
      close(d.fd);
      return berth_error_wrap(err, "ADD");
    }
    d.url = xstrdup(url);
    b->downloads = xreallocarray(b->downloads, b->ndownloads + 1, sizeof *b->downloads);
    b->downloads[b->ndownloads] = d;
    dl = &b->downloads[b->ndownloads++];
  }
  if (op->checksum && strcmp(op->checksum, dl->digest) != 0)
    return BERTH_ERR(err, "ADD `%s`: checksum mismatch: --checksum is %s, the content's digest is %s", url,
                     op->checksum, dl->digest);
  *out = dl;
  return 0;
}

/* the file name a URL gives: its path's last component ("" when there is none) */
static char *url_name(const char *url)
{
  const char *p = strstr(url, "://");
  p = p ? p + 3 : url;
  p += strcspn(p, "/?#");
  size_t len = strcspn(p, "?#");
  cleanup_free char *path = xstrndup(p, len);
  const char *slash = strrchr(path, '/');
  return xstrdup(slash ? slash + 1 : "");
}

static BERTH_WUR int add_url(struct bld *b, const struct berth_build_op *op, const char *url, int dst_root,
                             const struct berth_build_copy_opts *co, berth_error_t *err)
{
  const struct bld_download *dl = NULL;
  if (fetch(b, op, url, &dl, err) < 0)
    return -1;
  cleanup_free char *name = url_name(url);
  if (op->dest_dir && *name == '\0')
    return BERTH_ERR(err, "ADD `%s`: no file name in the URL for the directory `%s`", url, op->dest);
  /* Docker's: mode 0600, the mtime of Last-Modified; never extracted */
  int64_t mtime = dl->mtime >= 0 ? dl->mtime : bld_now(b) / 1000000000LL;
  return berth_build_write_file(dst_root, op->dest, op->dest_dir, name, dl->fd, NULL, 0, 0600, mtime, co,
                                err);
}

static void context_root(struct bld *b, struct berth_build_root *r)
{
  *r = (struct berth_build_root){ .fd = b->ctx_fd, .context = true, .ignore = b->ignore };
}

int bld_copy_key(struct bld *b, const struct berth_build_op *op, size_t stage, char **extra,
                 berth_error_t *err)
{
  cleanup_strbuf struct berth_strbuf x = BERTH_STRBUF_INIT;
  if (op->from) {
    berth_digest_t id;
    if (bld_from_image(b, op->from, stage, id, err) < 0)
      return -1;
    berth_strbuf_printf(&x, "from %s", id);
    *extra = berth_strbuf_detach(&x);
    return 0;
  }
  struct berth_build_root r;
  context_root(b, &r);
  size_t total = 0;
  for (size_t i = 0; op->srcs[i]; i++) {
    if (is_doc(op->srcs[i])) {
      total++;
      continue;
    }
    if (is_url(op->srcs[i])) { /* the content's digest, fetched every build (as Docker does) */
      const struct bld_download *dl = NULL;
      if (!op->add)
        return BERTH_ERR(err, "COPY `%s`: a URL is ADD's source only", op->srcs[i]);
      if (fetch(b, op, op->srcs[i], &dl, err) < 0)
        return -1;
      total++;
      berth_strbuf_printf(&x, "url %s %s\n", op->srcs[i], dl->digest);
      continue;
    }
    struct berth_build_source *v = NULL;
    size_t n = 0;
    char digest[BERTH_DIGEST_LEN + 1];
    if (berth_build_sources_resolve(&r, op->srcs[i], &v, &n, err) < 0)
      return -1;
    int rc = berth_build_sources_digest(&r, v, n, op->excludes, digest, err);
    berth_build_sources_free(v, n);
    if (rc < 0)
      return -1;
    total += n;
    berth_strbuf_printf(&x, "src %s %zu %s\n", op->srcs[i], n, digest);
  }
  if (total == 0)
    return BERTH_ERR(err, "no source files were specified (nothing matches `%s`)", op->srcs[0]);
  *extra = berth_strbuf_detach(&x);
  return 0;
}

/* "name" or "id" of --chown's user or group part: a number, or a name of the file's text */
static BERTH_WUR int lookup_id(const char *what, const char *file, const char *text, uint32_t *out,
                               berth_error_t *err)
{
  uint64_t n;
  if (berth_parse_u64(what, &n) == 0 && n <= UINT32_MAX) {
    *out = (uint32_t) n;
    return 0;
  }
  size_t len = strlen(what);
  for (const char *l = text; l && *l;) {
    const char *nl = strchr(l, '\n');
    size_t ll = nl ? (size_t) (nl - l) : strlen(l);
    const char *c1 = memchr(l, ':', ll);
    const char *c2 = c1 ? memchr(c1 + 1, ':', ll - (size_t) (c1 + 1 - l)) : NULL;
    if (c1 && c2 && (size_t) (c1 - l) == len && strncmp(l, what, len) == 0 &&
        sscanf(c2 + 1, "%lu", (unsigned long *) &n) == 1) {
      *out = (uint32_t) n;
      return 0;
    }
    l = nl ? nl + 1 : NULL;
  }
  return BERTH_ERR(err, "--chown: no %s `%s` in the image's %s",
                   strcmp(file, "/etc/passwd") ? "group" : "user", what, file);
}

static char *root_file(int root, const char *path)
{
  berth_error_t none = NULL;
  cleanup_close int fd = berth_open_in_root(root, path, O_RDONLY, 0, &none);
  berth_error_release(&none);
  if (fd < 0)
    return NULL;
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  char *text = NULL;
  berth_ignore(berth_read_file(p, 4u << 20, &text, NULL, BERTH_IGNORED));
  return text;
}

/* --chown user[:group] (or WORKDIR's USER) against the root's /etc/passwd and /etc/group; a
 * user without a group: the group of the same number (Docker's rule for --chown) */
static BERTH_WUR int resolve_owner(int root, const char *spec, bool user_group, uint32_t *uid, uint32_t *gid,
                                   berth_error_t *err)
{
  *uid = *gid = 0;
  if (spec == NULL || *spec == '\0')
    return 0;
  cleanup_free char *passwd = root_file(root, "/etc/passwd"), *group = root_file(root, "/etc/group");
  if (user_group) { /* WORKDIR: the USER as a process would be (runc's rules) */
    struct berth_user u = { 0 };
    if (berth_ctrspec_user(spec, passwd, group, NULL, &u, err) < 0)
      return -1;
    *uid = u.uid;
    *gid = u.gid;
    berth_user_release(&u);
    return 0;
  }
  cleanup_free char *copy = xstrdup(spec);
  char *colon = strchr(copy, ':');
  if (colon)
    *colon++ = '\0';
  if (lookup_id(copy, "/etc/passwd", passwd, uid, err) < 0)
    return -1;
  if (colon == NULL) {
    *gid = *uid;
    return 0;
  }
  return lookup_id(colon, "/etc/group", group, gid, err);
}

static bool is_archive(int fd)
{
  unsigned char h[512];
  ssize_t n = pread(fd, h, sizeof h, 0);
  if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
    return true; /* gzip */
  if (n >= 3 && memcmp(h, "BZh", 3) == 0)
    return true;
  if (n >= 6 && memcmp(h,
                       "\xfd"
                       "7zXZ\0",
                       6) == 0)
    return true;
  if (n >= 4 && memcmp(h, "\x28\xb5\x2f\xfd", 4) == 0)
    return true; /* zstd */
  return n >= 262 && memcmp(h + 257, "ustar", 5) == 0;
}

/* ADD of a local archive: extracted into dest (made as a directory) */
static BERTH_WUR int add_archive(int dst_root, const struct berth_build_source *s, int data, const char *dest,
                                 const struct berth_build_copy_opts *co, berth_error_t *err)
{
  cleanup_close int at = -1;
  if (berth_build_mkdir_p(dst_root, dest, 0755, co->chown ? co->uid : 0, co->chown ? co->gid : 0, 0, &at,
                          err) < 0)
    return -1;
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", at);
  cleanup_close int dir = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", dest);
  if (lseek(data, 0, SEEK_SET) < 0 || berth_tar_extract(data, dir, err) < 0)
    return berth_error_wrap(err, "ADD `%s`", s->rel);
  return 0;
}

static BERTH_WUR int copy_source(const struct berth_build_op *op, const struct berth_build_root *r,
                                 const struct berth_build_source *s, int dst_root,
                                 const struct berth_build_copy_opts *co, berth_error_t *err)
{
  if (op->add && S_ISREG(s->st.st_mode)) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", s->fd);
    cleanup_close int data = open(p, O_RDONLY | O_CLOEXEC);
    if (data < 0)
      return BERTH_ERR_ERRNO(err, "open `%s`", s->rel);
    if (is_archive(data))
      return add_archive(dst_root, s, data, op->dest, co, err);
  }
  struct berth_build_copy_stats stats = { 0 };
  return berth_build_copy(r, s, dst_root, op->dest, op->dest_dir, co, &stats, err);
}

static BERTH_WUR int copy_sources(struct bld *b, const struct berth_build_op *op,
                                  const struct berth_build_root *r, int dst_root,
                                  const struct berth_build_copy_opts *co, berth_error_t *err)
{
  size_t doc = 0;
  for (size_t i = 0; op->srcs[i]; i++) {
    const char *src = op->srcs[i];
    if (is_doc(src)) {
      const char *body = op->doc_bodies[doc];
      int64_t mtime = bld_now(b) / 1000000000LL;
      if (berth_build_write_file(dst_root, op->dest, op->dest_dir, op->doc_names[doc], -1, body, strlen(body),
                                 0644, mtime, co, err) < 0)
        return -1;
      doc++;
      continue;
    }
    if (is_url(src)) {
      if (add_url(b, op, src, dst_root, co, err) < 0)
        return -1;
      continue;
    }
    struct berth_build_source *v = NULL;
    size_t n = 0;
    if (berth_build_sources_resolve(r, src, &v, &n, err) < 0)
      return -1;
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++)
      rc = copy_source(op, r, &v[k], dst_root, co, err);
    berth_build_sources_free(v, n);
    if (rc < 0)
      return -1;
  }
  return 0;
}

int bld_copy_run(struct bld *b, struct berth_build_state *st, const struct berth_build_op *op, size_t stage,
                 const char *parent, struct bld_dir *d, berth_error_t *err)
{
  (void) st;
  struct bld_root dst, from = { .fd = -1 };
  if (bld_root_open(b, parent, d, "", &dst, err) < 0)
    return -1;
  struct berth_build_copy_opts co = { .clamp = b->o->source_date_epoch >= 0,
                                      .epoch = b->o->source_date_epoch,
                                      .excludes = op->excludes };
  bool sym = false;
  int r = 0;
  if (op->chown) {
    co.chown = true;
    r = resolve_owner(dst.fd, op->chown, false, &co.uid, &co.gid, err);
  }
  if (r == 0 && op->chmod && (r = berth_build_chmod_parse(op->chmod, &co.mode, &sym, err)) == 0) {
    co.chmod = true;
    co.chmod_symbolic = sym ? op->chmod : NULL;
  }
  struct berth_build_root src;
  context_root(b, &src);
  if (r == 0 && op->from) {
    berth_digest_t id;
    r = bld_from_image(b, op->from, stage, id, err);
    if (r == 0)
      r = bld_root_open(b, id, d, "-from", &from, err);
    src = (struct berth_build_root){ .fd = from.fd, .context = false };
  }
  if (r == 0)
    r = copy_sources(b, op, &src, dst.fd, &co, err);
  bld_root_close(&from);
  bld_root_close(&dst);
  return r;
}

int bld_workdir_run(struct bld *b, const struct berth_build_op *op, const char *parent, struct bld_dir *d,
                    berth_error_t *err)
{
  struct bld_root dst;
  if (bld_root_open(b, parent, d, "", &dst, err) < 0)
    return -1;
  uint32_t uid = 0, gid = 0;
  int64_t mtime = bld_now(b) / 1000000000LL;
  int r = resolve_owner(dst.fd, op->user, true, &uid, &gid, err);
  struct stat st;
  berth_error_t none = NULL;
  cleanup_close int have = r == 0 ? berth_open_in_root(dst.fd, op->dir, O_PATH, 0, &none) : -1;
  berth_error_release(&none);
  if (r == 0 && have >= 0 && fstat(have, &st) == 0 && !S_ISDIR(st.st_mode))
    r = BERTH_ERR(err, "WORKDIR `%s`: not a directory", op->dir);
  if (r == 0 && have < 0)
    r = berth_build_mkdir_p(dst.fd, op->dir, 0755, uid, gid, mtime, NULL, err);
  bld_root_close(&dst);
  return r;
}
