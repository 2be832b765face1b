/* Fuzz the Docker Engine API's request router and its small pure translations (src/lib/api).
 *
 * Input: the first line is "METHOD /path" for berth_api_route (the rest of the line after a
 * space is the path); the remaining bytes go to the query and header parsers: filters JSON,
 * X-Registry-Auth, a tar header for docker cp's path stat, and one progress line. Invariants:
 * a match names a route or none, its parameters are NUL-terminated inside their buffers, a
 * version outside the range is flagged (the connection answers 400 before any route), and every
 * translation either fails cleanly or returns text that is valid JSON where JSON is promised. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/cleanup.h"
#include "base/xalloc.h"

static void check_match(const struct berth_api_match *m)
{
  if (m->route < -1 || (m->route >= 0 && m->name == NULL))
    abort();
  for (int i = 0; i < 2; i++) {
    if (m->arg[i] == NULL)
      continue;
    if (m->arg[i] != m->arg_buf[i] || memchr(m->arg_buf[i], '\0', sizeof m->arg_buf[i]) == NULL)
      abort();
    if (m->arg[i][0] == '\0') /* an empty parameter never routes */
      abort();
  }
  if (m->version && (m->version < BERTH_API_VERSION_MIN || m->version > BERTH_API_VERSION_MAX) &&
      !m->bad_version)
    abort();
}

static void check_json_text(const char *s)
{
  json_error_t je;
  json_t *v = json_loads(s, JSON_DECODE_ANY, &je);
  if (v == NULL)
    abort();
  json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_free char *s = xstrndup((const char *) data, size);
  size_t n = strlen(s);
  char *nl = strchr(s, '\n');
  char *rest = nl ? nl + 1 : s + n;
  if (nl)
    *nl = '\0';
  char *sp = strchr(s, ' ');
  const char *method = "GET", *path = s;
  if (sp) {
    *sp = '\0';
    method = s;
    path = sp + 1;
  }
  struct berth_api_match m;
  berth_api_route(method, path, &m);
  check_match(&m);

  berth_error_t err = NULL;
  char **filters = NULL;
  if (berth_api_filters_parse(rest, &filters, &err) == 0) {
    const char **vals = berth_api_filters_get(filters, "label");
    free(vals);
    berth_strv_free(filters);
  } else if (err == NULL || err->msg == NULL) {
    abort();
  }
  berth_error_release(&err);

  char *user = NULL, *pass = NULL;
  int r = berth_api_registry_auth(rest, &user, &pass, &err);
  if (r < 0 && (err == NULL || err->msg == NULL))
    abort();
  free(user);
  free(pass);
  berth_error_release(&err);

  struct berth_api_path_stat st;
  size_t off = (size_t) (rest - s); /* the tar bytes as given, NULs and all */
  if (berth_api_tar_stat(data + off, size - off, &st) == 1) {
    if (memchr(st.name, '\0', sizeof st.name) == NULL || memchr(st.link, '\0', sizeof st.link) == NULL)
      abort();
    cleanup_free char *hdr = berth_api_path_stat_header(&st);
    if (hdr == NULL)
      abort();
  }
  cleanup_free char *progress = berth_api_progress_json(rest, strlen(rest));
  check_json_text(progress);
  (void) berth_api_query_bool(rest, false);
  return 0;
}
