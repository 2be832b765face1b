/* `berth images` and `berth history`: rows for the commands to print. */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/images/images_internal.h"
#include "image/reference.h"

void berth_image_rows_free(struct berth_image_row *rows, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(rows[i].repository);
    free(rows[i].tag);
    free(rows[i].digest);
  }
  free(rows);
}

/* repository (familiar, without tag) and tag of a full name */
static void split_name(const char *full, char **repo, char **tag, char **name)
{
  struct berth_ref r = { 0 };
  berth_error_t err = NULL;
  if (berth_ref_parse(full, &r, &err) < 0) {
    berth_error_release(&err);
    *repo = xstrdup(full);
    *tag = xstrdup("<none>");
    *name = xstrdup(full);
    return;
  }
  *tag = xstrdup(r.tag ? r.tag : "<none>");
  *name = berth_ref_name(&r);
  free(r.tag);
  free(r.digest);
  r.tag = r.digest = NULL;
  *repo = berth_ref_familiar(&r);
  berth_ref_release(&r);
}

/* the repo digest of repository name among an image's, familiar digest part only */
static char *digest_for(char **repo_digests, const char *name)
{
  size_t n = strlen(name);
  for (char **p = repo_digests; p && *p; p++)
    if (strncmp(*p, name, n) == 0 && (*p)[n] == '@')
      return xstrdup(*p + n + 1);
  return xstrdup("<none>");
}

struct filter {
  char *name; /* full repository name */
  char *tag;  /* NULL: any tag */
};

static BERTH_WUR int parse_filter(const char *f, struct filter *out, berth_error_t *err)
{
  struct berth_ref r = { 0 };
  if (berth_ref_parse(f, &r, err) < 0)
    return berth_error_wrap(err, "filter `%s`", f);
  const char *slash = strrchr(f, '/');
  bool has_tag = strchr(slash ? slash : f, ':') != NULL;
  out->name = berth_ref_name(&r);
  out->tag = has_tag && r.tag ? xstrdup(r.tag) : NULL;
  berth_ref_release(&r);
  return 0;
}

static void add_row(struct berth_image_row **rows, size_t *n, const struct berth_db_image *img, char *repo,
                    char *tag, char *digest, int64_t containers, bool dangling)
{
  *rows = xreallocarray(*rows, *n + 1, sizeof **rows);
  struct berth_image_row *r = &(*rows)[(*n)++];
  memset(r, 0, sizeof *r);
  snprintf(r->id, sizeof r->id, "%s", img->id);
  r->repository = repo;
  r->tag = tag;
  r->digest = digest;
  r->created = img->created / 1000000000;
  r->size = img->size;
  r->containers = containers;
  r->dangling = dangling;
}

static BERTH_WUR int rows_of(struct berth_engine *e, const struct berth_db_image *img, bool all,
                             const struct filter *f, struct berth_image_row **rows, size_t *n,
                             berth_error_t *err)
{
  cleanup_strv char **tags = NULL, **digests = NULL, **children = NULL;
  int64_t containers = 0;
  if (berth_db_tags_of(e->db, img->id, &tags, err) < 0 ||
      berth_db_repo_digests_of(e->db, img->id, &digests, err) < 0 ||
      berth_db_image_children(e->db, img->id, &children, err) < 0 ||
      berth_db_image_containers(e->db, img->id, &containers, err) < 0)
    return -1;
  for (char **t = tags; *t; t++) {
    char *repo, *tag, *name;
    split_name(*t, &repo, &tag, &name);
    bool match = f == NULL || (strcmp(name, f->name) == 0 && (f->tag == NULL || strcmp(tag, f->tag) == 0));
    if (match)
      add_row(rows, n, img, repo, tag, digest_for(digests, name), containers, false);
    else {
      free(repo);
      free(tag);
    }
    free(name);
  }
  bool intermediate = children[0] != NULL;
  /* an untagged step of a build is the build cache's (BuildKit's `images` shows none) */
  if (tags[0] == NULL && f == NULL && !img->build_cache && (all || !intermediate))
    add_row(rows, n, img, xstrdup("<none>"), xstrdup("<none>"), xstrdup("<none>"), containers, !intermediate);
  return 0;
}

static int by_created_desc(const void *a, const void *b)
{
  const struct berth_image_row *x = a, *y = b;
  if (x->created != y->created)
    return x->created < y->created ? 1 : -1;
  int c = strcmp(x->repository, y->repository);
  return c ? c : strcmp(x->tag, y->tag);
}

int berth_images_list(struct berth_engine *e, bool all, const char *filter, struct berth_image_row **rows,
                      size_t *n, berth_error_t *err)
{
  struct filter f = { 0 };
  if (filter && parse_filter(filter, &f, err) < 0)
    return -1;
  struct berth_db_image *imgs = NULL;
  size_t nimg = 0;
  struct berth_image_row *out = NULL;
  size_t nout = 0;
  int r = berth_db_image_list(e->db, &imgs, &nimg, err);
  for (size_t i = 0; r == 0 && i < nimg; i++)
    r = rows_of(e, &imgs[i], all, filter ? &f : NULL, &out, &nout, err);
  berth_db_image_list_free(imgs, nimg);
  free(f.name);
  free(f.tag);
  if (r < 0) {
    berth_image_rows_free(out, nout);
    return -1;
  }
  if (nout > 1)
    qsort(out, nout, sizeof *out, by_created_desc);
  *rows = out;
  *n = nout;
  return 0;
}

/* ---- history ---- */

void berth_history_rows_free(struct berth_history_row *rows, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(rows[i].id);
    free(rows[i].created_at);
    free(rows[i].created_by);
    free(rows[i].comment);
    berth_strv_free(rows[i].tags);
  }
  free(rows);
}

static BERTH_WUR char **familiar_tags(struct berth_engine *e, const char *id, berth_error_t *err)
{
  cleanup_strv char **tags = NULL;
  if (berth_db_tags_of(e->db, id, &tags, err) < 0)
    return NULL;
  char **out = xcalloc(1, sizeof *out);
  for (char **t = tags; *t; t++) {
    cleanup_free char *f = images_familiar(*t);
    out = berth_strv_append(out, f);
  }
  return out;
}

/* Docker's walk: entry i (newest first) belongs to the i-th image up the local parent chain */
static BERTH_WUR int fill_ids(struct berth_engine *e, const char *id, struct berth_history_row *rows,
                              size_t n, berth_error_t *err)
{
  berth_digest_t cur;
  snprintf(cur, sizeof cur, "%s", id);
  size_t i = 0;
  for (; i < n && cur[0]; i++) {
    struct berth_db_image img;
    int r = berth_db_image_get(e->db, cur, &img, err);
    if (r <= 0) {
      if (r < 0)
        return -1;
      break;
    }
    rows[i].id = xstrdup(cur);
    if ((rows[i].tags = familiar_tags(e, cur, err)) == NULL) {
      berth_db_image_release(&img);
      return -1;
    }
    snprintf(cur, sizeof cur, "%s", img.parent);
    berth_db_image_release(&img);
  }
  for (; i < n; i++) {
    rows[i].id = xstrdup("<missing>");
    rows[i].tags = xcalloc(1, sizeof(char *));
  }
  return 0;
}

int berth_images_history(struct berth_engine *e, const char *what, struct berth_history_row **rows, size_t *n,
                         berth_error_t *err)
{
  berth_digest_t id;
  struct berth_db_image img;
  struct berth_imgconfig cfg;
  if (berth_engine_resolve(e, what, id, NULL, err) < 0)
    return -1;
  int r = berth_db_image_get(e->db, id, &img, err);
  if (r <= 0)
    return r < 0 ? -1 : BERTH_ERR(err, "no such image: `%s`", what);
  if (images_read_config(e, id, &cfg, err) < 0) {
    berth_db_image_release(&img);
    return -1;
  }
  size_t nh = cfg.nhistory, layer = 0;
  struct berth_history_row *out = xcalloc(nh ? nh : 1, sizeof *out);
  for (size_t i = 0; i < nh; i++) {
    const struct berth_history_entry *h = &cfg.history[i];
    struct berth_history_row *row = &out[nh - 1 - i];
    struct berth_db_layer l;
    if (!h->empty_layer && layer < img.nlayers &&
        berth_db_layer_get(e->db, img.chain_ids[layer++], &l, err) > 0)
      row->size = l.size;
    row->created = h->created_ns / 1000000000;
    row->created_at = xstrdup(h->created ? h->created : "");
    row->created_by = xstrdup(h->created_by);
    row->comment = xstrdup(h->comment);
  }
  berth_db_image_release(&img);
  berth_imgconfig_release(&cfg);
  if (*err != NULL || fill_ids(e, id, out, nh, err) < 0) {
    berth_history_rows_free(out, nh);
    return -1;
  }
  *rows = out;
  *n = nh;
  return 0;
}
