/* The input of `berth load`: archive members spooled into the store, or an OCI layout dir. */
#include "image/archive_dl.h"
#include "engine/images/load_src_internal.h"

#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#define CHUNK (1u << 20)

void load_src_release(struct load_src *s)
{
  for (size_t i = 0; i < s->n; i++) {
    free(s->m[i].name);
    free(s->m[i].data);
    free(s->m[i].link);
  }
  free(s->m);
  s->m = NULL;
  s->n = 0;
}

/* "./a//b/" -> "a/b"; NULL for names that leave the archive ("..", absolute) */
static char *normalize(const char *name)
{
  while (name[0] == '.' && name[1] == '/')
    name += 2;
  if (name[0] == '/')
    return NULL;
  cleanup_free char *s = xstrdup(name);
  size_t n = strlen(s);
  while (n > 0 && s[n - 1] == '/')
    s[--n] = '\0';
  if (strcmp(s, "..") == 0 || berth_str_has_prefix(s, "../") || strstr(s, "/../") ||
      berth_str_has_suffix(s, "/.."))
    return NULL;
  return steal_ptr(s);
}

static struct load_member *find(struct load_src *s, const char *name)
{
  for (size_t i = s->n; i-- > 0;) /* the last entry of a name wins, as when extracting */
    if (strcmp(s->m[i].name, name) == 0)
      return &s->m[i];
  return NULL;
}

static struct load_member *resolve(struct load_src *s, const char *name)
{
  struct load_member *m = find(s, name);
  for (int depth = 0; m && m->link && depth < 16; depth++)
    m = find(s, m->link);
  return m && m->link ? NULL : m;
}

static struct load_member *add_member(struct load_src *s, char *name)
{
  s->m = xreallocarray(s->m, s->n + 1, sizeof *s->m);
  struct load_member *m = &s->m[s->n++];
  memset(m, 0, sizeof *m);
  m->name = name;
  return m;
}

static bool is_document(const char *name)
{
  const char *base = strrchr(name, '/');
  base = base ? base + 1 : name;
  return berth_str_has_suffix(base, ".json") || strcmp(base, "repositories") == 0 ||
         strcmp(base, "oci-layout") == 0 || strcmp(base, "json") == 0 || strcmp(base, "VERSION") == 0;
}

/* "blobs/sha256/<hex>" -> "sha256:<hex>" when the hex is a valid digest */
static bool blob_name_digest(const char *name, berth_digest_t out)
{
  if (!berth_str_has_prefix(name, "blobs/sha256/"))
    return false;
  snprintf(out, sizeof(berth_digest_t), "sha256:%s", name + strlen("blobs/sha256/"));
  berth_error_t e = NULL;
  bool ok = strlen(name + strlen("blobs/sha256/")) == 64 && berth_digest_validate(out, &e) == 0;
  berth_error_release(&e);
  return ok;
}

struct reader {
  struct archive *a;
  uint64_t total, max;
  const char *display;
};

static la_ssize_t read_chunk(struct reader *r, char *buf, const char *name, berth_error_t *err)
{
  la_ssize_t n = archive_read_data(r->a, buf, CHUNK);
  if (n < 0)
    return BERTH_ERR(err, "`%s`: entry `%s`: corrupt or truncated archive: %s", r->display, name,
                     archive_error_string(r->a));
  if ((r->total += (uint64_t) n) > r->max)
    return BERTH_ERR(err, "`%s`: entry `%s`: the archive expands beyond %llu bytes (the size limit)",
                     r->display, name, (unsigned long long) r->max);
  return n;
}

static BERTH_WUR int spool_memory(struct reader *r, struct load_member *m, int64_t size, berth_error_t *err)
{
  if (size < 0 || (uint64_t) size > IMAGES_MAX_JSON)
    return BERTH_ERR(err, "`%s`: entry `%s`: %lld bytes, more than a document may have (%u)", r->display,
                     m->name, (long long) size, IMAGES_MAX_JSON);
  m->data = xmalloc((size_t) size + CHUNK + 1);
  for (la_ssize_t n; (n = read_chunk(r, m->data + m->len, m->name, err)) != 0;) {
    if (n < 0)
      return -1;
    m->len += (size_t) n;
    if (m->len > (size_t) size)
      return BERTH_ERR(err, "`%s`: entry `%s`: more data than its header says", r->display, m->name);
  }
  m->data[m->len] = '\0';
  m->size = m->len;
  return 0;
}

static BERTH_WUR int spool_blob(struct load_src *s, struct reader *r, struct load_member *m,
                                const char *expected, int64_t size, berth_error_t *err)
{
  if (expected && berth_store_has_blob(s->e->store, expected)) { /* verified when it was stored */
    snprintf(m->blob, sizeof m->blob, "%s", expected);
    m->size = size > 0 ? (uint64_t) size : 0;
    return archive_read_data_skip(r->a) == ARCHIVE_OK
             ? 0
             : BERTH_ERR(err, "`%s`: entry `%s`: corrupt or truncated archive: %s", r->display, m->name,
                         archive_error_string(r->a));
  }
  berth_blob_writer_t *w = NULL;
  if (berth_blob_writer_new(s->e->store, &w, err) < 0)
    return -1;
  cleanup_free char *buf = xmalloc(CHUNK);
  int ret = 0;
  for (la_ssize_t n; ret == 0 && (n = read_chunk(r, buf, m->name, err)) != 0;)
    ret = n < 0 ? -1 : berth_blob_write(w, buf, (size_t) n, err);
  if (ret == 0 && berth_blob_writer_commit(w, expected, m->blob, &m->size, err) < 0)
    ret = berth_error_wrap(err, "`%s`: entry `%s`", r->display, m->name);
  berth_blob_writer_free(w);
  if (ret == 0)
    ingest_files_add_blob(s->added, m->blob);
  return ret;
}

static int link_target(struct load_member *m, struct archive_entry *ent)
{
  const char *hard = archive_entry_hardlink(ent);
  if (hard) {
    m->link = normalize(hard);
    return m->link ? 0 : -1;
  }
  const char *sym = archive_entry_symlink(ent);
  if (sym == NULL || sym[0] == '/')
    return -1;
  cleanup_free char *dir = xstrdup(m->name);
  char *slash = strrchr(dir, '/');
  cleanup_free char *joined = slash ? (*slash = '\0', xasprintf("%s/%s", dir, sym)) : xstrdup(sym);
  /* resolve "x/../y" once (docker save writes "../<id>/layer.tar") */
  char *p;
  while ((p = strstr(joined, "/../")) != NULL) {
    char *start = p;
    while (start > joined && start[-1] != '/')
      start--;
    memmove(start, p + 4, strlen(p + 4) + 1);
  }
  m->link = normalize(joined);
  return m->link ? 0 : -1;
}

static BERTH_WUR int read_entry(struct load_src *s, struct reader *r, struct archive_entry *ent,
                                berth_error_t *err)
{
  const char *raw = archive_entry_pathname(ent);
  char *name = raw ? normalize(raw) : NULL;
  if (name == NULL)
    return BERTH_ERR(err, "`%s`: entry `%s`: a name outside the archive", r->display, raw ? raw : "");
  mode_t type = archive_entry_filetype(ent);
  if (type == AE_IFDIR || name[0] == '\0' || strcmp(name, ".") == 0) {
    free(name);
    return 0;
  }
  struct load_member *m = add_member(s, name);
  if (archive_entry_hardlink(ent) || type == AE_IFLNK) {
    if (link_target(m, ent) < 0)
      return BERTH_ERR(err, "`%s`: entry `%s`: a link leading outside the archive", r->display, name);
    return 0;
  }
  if (type != AE_IFREG)
    return BERTH_ERR(err, "`%s`: entry `%s`: unexpected file type (only files, directories and links)",
                     r->display, name);
  berth_digest_t expected;
  bool named = blob_name_digest(name, expected);
  if (!named && is_document(name))
    return spool_memory(r, m, archive_entry_size(ent), err);
  return spool_blob(s, r, m, named ? expected : NULL, archive_entry_size(ent), err);
}

int load_src_read_archive(struct load_src *s, int fd, berth_error_t *err)
{
  if (berth_archive_load(err) < 0)
    return -1;
  struct reader r = { .a = archive_read_new(), .display = s->display };
  r.max = s->e->limits.max_bytes ? s->e->limits.max_bytes : (64ULL << 30);
  archive_read_support_format_tar(r.a);
  int ret = berth_archive_read_filters(r.a, BERTH_ARCHIVE_DECODERS, 0, err);
  if (ret == 0 && berth_archive_read_open_fd(r.a, fd, BERTH_ARCHIVE_DECODERS) != ARCHIVE_OK)
    ret = BERTH_ERR(err, "`%s`: %s", s->display, archive_error_string(r.a));
  while (ret == 0) {
    struct archive_entry *ent;
    int h = archive_read_next_header(r.a, &ent);
    if (h == ARCHIVE_EOF)
      break;
    if (h < ARCHIVE_WARN) {
      ret = BERTH_ERR(err, "`%s`: not a tar archive, or corrupt or truncated: %s", s->display,
                      archive_error_string(r.a) ? archive_error_string(r.a) : "unexpected end");
      break;
    }
    ret = read_entry(s, &r, ent, err);
  }
  archive_read_free(r.a);
  if (ret == 0 && s->n == 0)
    ret = BERTH_ERR(err, "`%s`: an empty archive", s->display);
  return ret;
}

/* A file of the layout dir, which an image's maker controls: opened O_PATH and checked first,
 * so that a fifo (which would block us) or a device node (which we would read as root into the
 * store) is never opened; then that inode is opened for reading. */
static BERTH_WUR int open_regular(struct load_src *s, const char *name, berth_error_t *err)
{
  cleanup_close int fd = berth_open_in_root(s->dirfd, name, O_PATH, 0, err);
  struct stat st;
  if (fd < 0)
    return -1;
  if (fstat(fd, &st) < 0)
    return BERTH_ERR_ERRNO(err, "`%s`", name);
  if (!S_ISREG(st.st_mode))
    return BERTH_ERR(err, "`%s`: not a regular file", name);
  char proc[32];
  int r = open(berth_fd_path(fd, proc, sizeof proc), O_RDONLY | O_NOCTTY | O_CLOEXEC);
  return r < 0 ? BERTH_ERR_ERRNO(err, "open `%s`", name) : r;
}

bool load_src_has(struct load_src *s, const char *name)
{
  if (s->dirfd >= 0) {
    struct stat st;
    berth_error_t e = NULL;
    int fd = berth_open_in_root(s->dirfd, name, O_PATH, 0, &e);
    berth_error_release(&e);
    bool ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (fd >= 0)
      close(fd);
    return ok;
  }
  return resolve(s, name) != NULL;
}

int load_src_read(struct load_src *s, const char *name, char **data, size_t *len, berth_error_t *err)
{
  if (s->dirfd >= 0) {
    cleanup_close int fd = open_regular(s, name, err);
    if (fd < 0)
      return berth_error_wrap(err, "`%s`", s->display);
    char proc[32];
    if (berth_read_file(berth_fd_path(fd, proc, sizeof proc), IMAGES_MAX_JSON, data, len, err) < 0)
      return berth_error_wrap(err, "`%s`: `%s`", s->display, name);
    return 0;
  }
  struct load_member *m = resolve(s, name);
  if (m == NULL)
    return BERTH_ERR(err, "`%s`: no entry `%s` in the archive", s->display, name);
  if (m->data) {
    *data = xmalloc(m->len + 1);
    memcpy(*data, m->data, m->len + 1);
    *len = m->len;
    return 0;
  }
  if (berth_store_read_blob(s->e->store, m->blob, IMAGES_MAX_JSON, data, len, err) < 0)
    return berth_error_wrap(err, "`%s`: entry `%s`", s->display, name);
  return 0;
}

/* copy a file of the layout dir into the store */
static BERTH_WUR int copy_file(struct load_src *s, const char *name, const char *expected, berth_digest_t out,
                               uint64_t *size, berth_error_t *err)
{
  cleanup_close int fd = open_regular(s, name, err);
  if (fd < 0)
    return -1;
  berth_blob_writer_t *w = NULL;
  if (berth_blob_writer_new(s->e->store, &w, err) < 0)
    return -1;
  cleanup_free char *buf = xmalloc(CHUNK);
  int ret = 0;
  for (;;) {
    ssize_t n = read(fd, buf, CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n < 0)
        ret = BERTH_ERR_ERRNO(err, "read `%s`", name);
      break;
    }
    if ((ret = berth_blob_write(w, buf, (size_t) n, err)) < 0)
      break;
  }
  if (ret == 0 && berth_blob_writer_commit(w, expected, out, size, err) < 0)
    ret = -1;
  berth_blob_writer_free(w);
  if (ret == 0)
    ingest_files_add_blob(s->added, out);
  return ret;
}

int load_src_blob(struct load_src *s, const char *name, const char *expected, berth_digest_t out,
                  uint64_t *size, berth_error_t *err)
{
  if (s->dirfd >= 0) {
    if (expected && berth_store_has_blob(s->e->store, expected)) {
      snprintf(out, sizeof(berth_digest_t), "%s", expected);
      cleanup_free char *p = berth_store_blob_path(s->e->store, expected);
      struct stat st;
      *size = p && stat(p, &st) == 0 ? (uint64_t) st.st_size : 0;
      return 0;
    }
    if (copy_file(s, name, expected, out, size, err) < 0)
      return berth_error_wrap(err, "`%s`: `%s`", s->display, name);
    return 0;
  }
  struct load_member *m = resolve(s, name);
  if (m == NULL)
    return BERTH_ERR(err, "`%s`: no entry `%s` in the archive", s->display, name);
  if (m->data && !m->blob[0]) {
    if (berth_store_put_bytes(s->e->store, m->data, m->len, expected, m->blob, err) < 0)
      return berth_error_wrap(err, "`%s`: entry `%s`", s->display, name);
    ingest_files_add_blob(s->added, m->blob);
  }
  if (expected && strcmp(expected, m->blob) != 0)
    return BERTH_ERR(err, "`%s`: entry `%s`: digest mismatch: expected %s, got %s", s->display, name,
                     expected, m->blob);
  snprintf(out, sizeof(berth_digest_t), "%s", m->blob);
  *size = m->size;
  return 0;
}
