/* GET /containers/json: Docker's container summaries, with its filters (status, name, label,
 * ancestor, id, exited through the engine's ps filter; network, volume, before, since here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers/handlers_internal.h"
#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"

struct api_ports {
  struct berth_db_port *v;
  size_t n;
};

struct api_ports *api_ports_load(struct berth_engine *e)
{
  struct api_ports *p = xcalloc(1, sizeof *p);
  berth_error_t err = NULL;
  if (berth_db_ports(e->db, NULL, &p->v, &p->n, &err) < 0)
    berth_error_release(&err);
  return p;
}

void api_ports_free(struct api_ports *p)
{
  if (p == NULL)
    return;
  berth_db_ports_free(p->v, p->n);
  free(p);
}

static json_t *ports_json(const struct berth_ctr *c, const struct api_ports *p)
{
  json_t *a = json_array();
  for (size_t i = 0; p && i < p->n; i++) {
    const struct berth_db_port *x = &p->v[i];
    if (strcmp(x->container_id, c->row.id) != 0 || !berth_ctr_state_kept(c->state))
      continue;
    json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:s}", "IP", x->host_ip[0] ? x->host_ip : "0.0.0.0",
                                       "PrivatePort", (json_int_t) x->container_port, "PublicPort",
                                       (json_int_t) x->host_port, "Type", x->proto));
  }
  const char *port;
  json_t *v;
  json_object_foreach (json_object_get(c->config, "ExposedPorts"), port, v) {
    int n = atoi(port);
    const char *slash = strchr(port, '/');
    bool bound = false;
    size_t i;
    json_t *b;
    json_array_foreach (a, i, b)
      bound = bound || json_integer_value(json_object_get(b, "PrivatePort")) == n;
    if (!bound && n > 0)
      json_array_append_new(a, json_pack("{s:i, s:s}", "PrivatePort", n, "Type", slash ? slash + 1 : "tcp"));
  }
  return a;
}

static json_t *mounts_json(struct berth_engine *e, const char *id)
{
  json_t *a = json_array();
  struct berth_db_mount *m = NULL;
  size_t n = 0;
  berth_error_t err = NULL;
  if (berth_db_container_mounts(e->db, id, &m, &n, &err) < 0) {
    berth_error_release(&err);
    return a;
  }
  for (size_t i = 0; i < n; i++) {
    json_t *o =
      json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", m[i].type, "Source", m[i].source, "Destination",
                m[i].destination, "Mode", m[i].mode, "RW", m[i].rw, "Propagation", m[i].propagation);
    if (o && m[i].volume[0]) {
      json_object_set_new(o, "Name", json_string(m[i].volume));
      json_object_set_new(o, "Driver", json_string("local"));
    }
    if (o)
      json_array_append_new(a, o);
  }
  berth_db_mounts_free(m, n);
  return a;
}

static char *command_text(json_t *config)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  const char *keys[] = { "Entrypoint", "Cmd" };
  for (size_t k = 0; k < 2; k++) {
    size_t i;
    json_t *w;
    json_array_foreach (json_object_get(config, keys[k]), i, w)
      berth_strbuf_printf(&b, "%s%s", b.len ? " " : "", json_is_string(w) ? json_string_value(w) : "");
  }
  return xstrdup(b.buf ? b.buf : "");
}

json_t *api_ctr_summary(struct berth_engine *e, const struct berth_ctr *c, struct api_ports *ports)
{
  cleanup_free char *name = xasprintf("/%s", c->row.name);
  cleanup_free char *cmd = command_text(c->config);
  cleanup_free char *status =
    berth_ctr_status_text(c->state, c->row.exit_code, c->row.started_at, c->row.finished_at, api_now_ns());
  json_t *labels = json_object_get(c->config, "Labels");
  const char *mode = json_string_value(json_object_get(c->host_config, "NetworkMode"));
  berth_error_t err = NULL;
  json_t *net = berth_networks_settings(e, c->row.id, c->host_config, &err);
  berth_error_release(&err);
  json_t *nets = json_object_get(net, "Networks");
  json_t *o =
    json_pack("{s:s, s:[s], s:s, s:s, s:s, s:I, s:o, s:O, s:s, s:s, s:{s:s}, s:{s:O}, s:o}", "Id", c->row.id,
              "Names", name, "Image", c->row.image, "ImageID", c->row.image_id, "Command", cmd, "Created",
              (json_int_t) (c->row.created / 1000000000), "Ports", ports_json(c, ports), "Labels",
              json_is_object(labels) ? labels : json_object(), "State", berth_ctr_state_name(c->state),
              "Status", status, "HostConfig", "NetworkMode", mode ? mode : "default", "NetworkSettings",
              "Networks", json_is_object(nets) ? nets : json_object(), "Mounts", mounts_json(e, c->row.id));
  json_decref(net);
  if (o == NULL) /* a field that is not UTF-8: the id alone */
    o = json_pack("{s:s, s:[s]}", "Id", c->row.id, "Names", "/?");
  return o;
}

/* the image and its parents (ancestor= matches any of them) */
static char **image_chain(struct berth_engine *e, const char *id)
{
  char **v = berth_strv_append(NULL, id);
  for (int depth = 0; depth < 128; depth++) {
    struct berth_db_image img;
    berth_error_t ignore = NULL;
    if (berth_db_image_get(e->db, v[berth_strv_len(v) - 1], &img, &ignore) <= 0) {
      berth_error_release(&ignore);
      break;
    }
    bool more = img.parent[0] != '\0';
    if (more)
      v = berth_strv_append(v, img.parent);
    berth_db_image_release(&img);
    if (!more)
      break;
  }
  return v;
}

static char **ancestors(struct berth_engine *e, const struct berth_ctr_filter *f)
{
  const char *const *names = berth_ctr_filter_ancestors(f);
  char **v = xcalloc(1, sizeof *v);
  for (size_t i = 0; names && names[i]; i++) {
    berth_digest_t id;
    berth_error_t none = NULL;
    if (berth_engine_resolve(e, names[i], id, NULL, &none) == 0)
      v = berth_strv_append(v, id);
    berth_error_release(&none); /* an unknown image matches nothing (Docker) */
  }
  return v;
}

/* the keys berth's ps filter knows, and the ones handled here */
static bool engine_key(const char *kv)
{
  static const char *const keys[] = { "status=", "name=", "label=", "ancestor=", "id=", "exited=" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(keys); i++)
    if (berth_str_has_prefix(kv, keys[i]))
      return true;
  return false;
}

struct extra {
  const char **network, **volume, **before, **since;
  int64_t before_t, since_t;
};

static bool any_match(const char **want, const char *const *have, size_t n)
{
  for (size_t i = 0; want[i]; i++)
    for (size_t k = 0; k < n; k++)
      if (have[k] && strcmp(want[i], have[k]) == 0)
        return true;
  return false;
}

static bool extra_match(struct berth_engine *e, const struct extra *x, const struct berth_ctr *c,
                        json_t *summary)
{
  if (x->before_t && c->row.created >= x->before_t)
    return false;
  if (x->since_t && c->row.created <= x->since_t)
    return false;
  if (x->network[0]) {
    const char *names[32] = { 0 };
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach (json_object_get(json_object_get(summary, "NetworkSettings"), "Networks"), k, v)
      if (n < 31) {
        names[n++] = k;
        names[n++] = json_string_value(json_object_get(v, "NetworkID"));
      }
    if (!any_match(x->network, names, n))
      return false;
  }
  if (x->volume[0]) {
    const char *names[64] = { 0 };
    size_t n = 0, i;
    json_t *m;
    json_array_foreach (json_object_get(summary, "Mounts"), i, m)
      if (n < 62) {
        names[n++] = json_string_value(json_object_get(m, "Name"));
        names[n++] = json_string_value(json_object_get(m, "Destination"));
      }
    if (!any_match(x->volume, names, n))
      return false;
  }
  (void) e;
  return true;
}

/* before=/since=: a container, its creation time */
static BERTH_WUR int created_of(struct berth_engine *e, const char **v, int64_t *t, berth_error_t *err)
{
  if (v[0] == NULL)
    return 0;
  struct berth_ctr c;
  if (berth_ctr_get(e, v[0], &c, err) < 0)
    return -1;
  *t = c.row.created;
  berth_ctr_release(&c);
  return 0;
}

static BERTH_WUR int split_filters(char *const *filters, char ***engine, berth_error_t *err)
{
  static const char *const local[] = { "network=", "volume=", "before=", "since=" };
  *engine = xcalloc(1, sizeof **engine);
  for (size_t i = 0; filters && filters[i]; i++) {
    bool here = false;
    for (size_t k = 0; k < BERTH_N_ELEMENTS(local); k++)
      here = here || berth_str_has_prefix(filters[i], local[k]);
    if (engine_key(filters[i]))
      *engine = berth_strv_append(*engine, filters[i]);
    else if (!here)
      return BERTH_ERR(err, "invalid filter `%.*s`", (int) strcspn(filters[i], "="), filters[i]);
  }
  return 0;
}

static json_t *collect(struct berth_engine *e, const struct berth_ctr_filter *f, const struct extra *x,
                       bool all, int64_t limit, const struct berth_ctr *v, size_t n)
{
  cleanup_strv char **anc = ancestors(e, f);
  struct api_ports *ports = api_ports_load(e);
  json_t *a = json_array();
  for (size_t i = 0; i < n && (limit <= 0 || (int64_t) json_array_size(a) < limit); i++) {
    if (!all && !berth_ctr_state_kept(v[i].state))
      continue;
    cleanup_strv char **chain = image_chain(e, v[i].row.image_id);
    if (!berth_ctr_filter_match(f, &v[i], chain, anc))
      continue;
    json_t *s = api_ctr_summary(e, &v[i], ports);
    if (extra_match(e, x, &v[i], s))
      json_array_append_new(a, s);
    else
      json_decref(s);
  }
  api_ports_free(ports);
  return a;
}

int api_ctr_select(struct berth_engine *e, char *const *filters, bool all, int64_t limit, json_t **out,
                   berth_error_t *err)
{
  cleanup_strv char **ef = NULL;
  struct berth_ctr_filter *f = NULL;
  struct extra x = { berth_api_filters_get(filters, "network"),
                     berth_api_filters_get(filters, "volume"),
                     berth_api_filters_get(filters, "before"),
                     berth_api_filters_get(filters, "since"),
                     0,
                     0 };
  struct berth_ctr *v = NULL;
  size_t n = 0;
  int r = -1;
  if (split_filters(filters, &ef, err) == 0 && berth_ctr_filter_parse(ef, &f, err) == 0 &&
      created_of(e, x.before, &x.before_t, err) == 0 && created_of(e, x.since, &x.since_t, err) == 0 &&
      berth_ctr_list(e, &v, &n, err) == 0) {
    all = all || limit > 0 || berth_ctr_filter_implies_all(f) || x.before[0] || x.since[0];
    *out = collect(e, f, &x, all, limit, v, n);
    r = 0;
  }
  berth_ctr_list_free(v, n);
  berth_ctr_filter_free(f);
  free(x.network), free(x.volume), free(x.before), free(x.since);
  return r;
}

enum MHD_Result api_h_CTR_LIST(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  cleanup_strv char **filters = NULL;
  struct berth_engine *e = NULL;
  int64_t limit = -1;
  json_t *out = NULL;
  if (berth_api_filters_parse(api_query(r, "filters"), &filters, &err) < 0 ||
      api_query_int(r, "limit", -1, &limit, &err) < 0)
    return api_reply_err_status(r, 400, &err);
  if (api_engine(r, &e, &err) < 0)
    return api_reply_err(r, &err);
  if (api_ctr_select(e, filters, api_query_bool(r, "all", false), limit, &out, &err) < 0)
    return api_reply_err_status(r, strstr(err->msg, "invalid filter") ? 400 : api_status_of(err->msg), &err);
  return api_reply_json(r, 200, out);
}
