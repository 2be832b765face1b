/* Fuzz the JSON -> run options mapping of POST /containers/create (src/lib/api/map).
 *
 * Input: "?name\n" (an optional first line starting with '?': the ?name= parameter), then the
 * request body. Invariants: text that is not JSON, or not an object, is an error with a message;
 * an accepted body has an image, its options pass the same checks as `berth run`'s (mount
 * targets absolute and clean, binds with absolute sources), and everything it holds is
 * released (ASan's leak check). The HostConfig alone goes through berth_api_host_config_apply
 * as well, and must agree with the whole body on whether it is acceptable when the rest is. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/cleanup.h"
#include "base/xalloc.h"

static void check_error(berth_error_t *err)
{
  if (*err == NULL || (*err)->msg == NULL || (*err)->msg[0] == '\0')
    abort();
  berth_error_release(err);
}

static void check_opts(const struct berth_run_opts *o)
{
  for (size_t i = 0; i < o->n_mounts; i++) {
    const char *t = o->mounts[i].target;
    if (t == NULL || t[0] != '/' || strstr(t, "//") || strstr(t, "/../") || strstr(t, "/./"))
      abort();
    if (o->mounts[i].type == BERTH_MOUNT_BIND &&
        (o->mounts[i].source == NULL || o->mounts[i].source[0] != '/'))
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_free char *name = NULL;
  const char *body = (const char *) data;
  size_t len = size;
  if (size > 0 && data[0] == '?') {
    const char *nl = memchr(data, '\n', size);
    size_t nlen = nl ? (size_t) (nl - body) - 1 : size - 1;
    name = xstrndup(body + 1, nlen);
    body = nl ? nl + 1 : body + size;
    len = size - (size_t) (body - (const char *) data);
  }
  json_error_t je;
  json_t *v = json_loadb(body, len, JSON_DECODE_ANY, &je);
  if (v == NULL)
    return 0; /* the connection answers 400 before the mapping */
  berth_error_t err = NULL;
  struct berth_api_create c;
  memset(&c, 0, sizeof c);
  if (berth_api_create_parse(v, name, &c, &err) == 0) {
    if (c.image == NULL || c.image[0] == '\0')
      abort();
    check_opts(&c.opts);
  } else {
    check_error(&err);
  }
  berth_api_create_release(&c);
  json_t *hc = json_is_object(v) ? json_object_get(v, "HostConfig") : NULL;
  if (hc) {
    struct berth_run_opts o;
    berth_runopts_init(&o);
    if (berth_api_host_config_apply(hc, &o, &err) == 0)
      check_opts(&o);
    else
      check_error(&err);
    berth_runopts_release(&o);
  }
  json_decref(v);
  return 0;
}
