/* Writing auth.json (`berth login` / `logout`): read whole, change one entry of "auths", write
 * whole to a new file (0600; its directory 0700 when made) and rename it into place. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "json/json.h"
#include "registry/registry.h"

static BERTH_WUR int load(const char *path, json_t **out, berth_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  berth_error_t rerr = NULL;
  if (berth_read_file(path, 4 << 20, &data, &len, &rerr) < 0) {
    if (rerr->errnum != ENOENT) {
      *err = steal_ptr(rerr);
      return -1;
    }
    berth_error_release(&rerr);
    *out = json_object();
    return 0;
  }
  json_t *j = berth_json_parse(data, len, path, err);
  if (j == NULL)
    return -1;
  if (!json_is_object(j)) {
    json_decref(j);
    return BERTH_ERR(err, "%s: expected an object", path);
  }
  *out = j;
  return 0;
}

static BERTH_WUR int save(const char *path, json_t *root, berth_error_t *err)
{
  cleanup_free char *dir = xstrdup(path);
  char *slash = strrchr(dir, '/');
  if (slash != NULL && slash != dir) {
    *slash = '\0';
    if (berth_mkdir_p(dir, 0700, err) < 0)
      return -1;
  }
  char *text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
  if (text == NULL)
    berth_oom();
  mode_t old = umask(077);
  int r = berth_write_file_atomic(path, text, strlen(text), 0600, err);
  umask(old);
  explicit_bzero(text, strlen(text));
  free(text);
  return r;
}

/* remove every key of auths naming registry; returns how many */
static int drop_entries(json_t *auths, const char *registry)
{
  int n = 0;
  const char *key;
  json_t *val;
  void *tmp;
  json_object_foreach_safe (auths, tmp, key, val)
    if (berth_registry_auth_key_matches(key, registry)) {
      json_object_del(auths, key);
      n++;
    }
  return n;
}

int berth_authfile_store(const struct berth_auth_files *f, const char *registry,
                         const struct berth_credentials *c, berth_error_t *err)
{
  cleanup_free char *path = berth_authfile_path(f);
  json_t *root = NULL;
  if (load(path, &root, err) < 0)
    return -1;
  json_t *auths = json_object_get(root, "auths");
  if (!json_is_object(auths)) {
    auths = json_object();
    json_object_set_new(root, "auths", auths);
  }
  drop_entries(auths, registry);
  cleanup_free char *plain = xasprintf("%s:%s", c->username, c->password);
  cleanup_free char *enc = berth_base64_encode(plain, strlen(plain));
  explicit_bzero(plain, strlen(plain));
  json_object_set_new(auths, registry, json_pack("{s:s}", "auth", enc));
  explicit_bzero(enc, strlen(enc));
  int r = save(path, root, err);
  json_decref(root);
  return r;
}

int berth_authfile_remove(const struct berth_auth_files *f, const char *registry, berth_error_t *err)
{
  cleanup_free char *path = berth_authfile_path(f);
  json_t *root = NULL;
  if (load(path, &root, err) < 0)
    return -1;
  json_t *auths = json_object_get(root, "auths");
  int n = json_is_object(auths) ? drop_entries(auths, registry) : 0;
  int r = n > 0 ? save(path, root, err) : 0;
  json_decref(root);
  return r < 0 ? -1 : n > 0;
}
