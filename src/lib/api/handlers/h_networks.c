/* Networks: list (filters), inspect, create, remove, prune, connect, disconnect — the engine's
 * networks room (and the containers room for connect and disconnect). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers/handlers_internal.h"
#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/networks/networks.h"

static bool label_match(json_t *labels, const char *want)
{
  const char *eq = strchr(want, '=');
  cleanup_free char *key = eq ? xstrndup(want, (size_t) (eq - want)) : xstrdup(want);
  json_t *v = json_object_get(labels, key);
  return v && (!eq || strcmp(json_string_value(v) ? json_string_value(v) : "", eq + 1) == 0);
}

/* name= (substring), id= (prefix), label=, driver=, type=custom|builtin, dangling= */
static bool net_match(json_t *o, char *const *filters)
{
  const char *keys[] = { "name", "id", "label", "driver", "type" };
  for (size_t k = 0; k < BERTH_N_ELEMENTS(keys); k++) {
    cleanup_free const char **want = berth_api_filters_get(filters, keys[k]);
    if (want[0] == NULL)
      continue;
    bool any = false;
    const char *name = json_string_value(json_object_get(o, "Name"));
    const char *id = json_string_value(json_object_get(o, "Id"));
    for (size_t i = 0; want[i] && !any; i++) {
      if (k == 0)
        any = strstr(name, want[i]) != NULL;
      else if (k == 1)
        any = berth_str_has_prefix(id, want[i]);
      else if (k == 2)
        any = label_match(json_object_get(o, "Labels"), want[i]);
      else if (k == 3)
        any = strcmp(json_string_value(json_object_get(o, "Driver")), want[i]) == 0;
      else
        any = strcmp(want[i], berth_network_is_default(name) ? "builtin" : "custom") == 0;
    }
    if (!any)
      return false;
  }
  return true;
}

enum MHD_Result api_h_NET_LIST(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  cleanup_strv char **filters = NULL;
  struct berth_engine *e = NULL;
  struct berth_network *v = NULL;
  size_t n = 0;
  if (berth_api_filters_parse(api_query(r, "filters"), &filters, &err) < 0)
    return api_reply_err_status(r, 400, &err);
  for (size_t i = 0; filters[i]; i++) {
    static const char *const ok[] = { "name=", "id=", "label=", "driver=", "type=", "dangling=", "scope=" };
    bool known = false;
    for (size_t k = 0; k < BERTH_N_ELEMENTS(ok); k++)
      known = known || berth_str_has_prefix(filters[i], ok[k]);
    if (!known)
      return api_reply_error(r, 400, "invalid filter `%s`", filters[i]);
  }
  if (api_engine(r, &e, &err) < 0 || berth_networks_list(e, &v, &n, &err) < 0)
    return api_reply_err(r, &err);
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) {
    berth_error_t ignore = NULL;
    json_t *o = berth_network_inspect(e, &v[i], &ignore);
    berth_error_release(&ignore);
    if (o && net_match(o, filters))
      json_array_append_new(a, o);
    else
      json_decref(o);
  }
  berth_networks_list_free(v, n);
  return api_reply_json(r, 200, a);
}

enum MHD_Result api_h_NET_INSPECT(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct berth_network n;
  if (api_engine(r, &e, &err) < 0 || berth_network_get(e, r->m.arg[0], &n, &err) < 0)
    return api_reply_err(r, &err);
  json_t *o = berth_network_inspect(e, &n, &err);
  berth_network_release(&n);
  return o ? api_reply_json(r, 200, o) : api_reply_err(r, &err);
}

static char **kv_strings(json_t *o)
{
  char **v = xcalloc(1, sizeof *v);
  const char *k;
  json_t *x;
  json_object_foreach (o, k, x) {
    cleanup_free char *kv = xasprintf("%s=%s", k, json_is_string(x) ? json_string_value(x) : "");
    v = berth_strv_append(v, kv);
  }
  return v;
}

struct net_in {
  char **subnets, **gateways, **ranges, **labels, **options;
};

static void net_in_release(struct net_in *n)
{
  berth_strv_free(n->subnets);
  berth_strv_free(n->gateways);
  berth_strv_free(n->ranges);
  berth_strv_free(n->labels);
  berth_strv_free(n->options);
}

static BERTH_WUR int ipam(json_t *ipam, struct net_in *n, berth_error_t *err)
{
  const char *driver = json_string_value(json_object_get(ipam, "Driver"));
  if (driver && driver[0] && strcmp(driver, "default") != 0)
    return BERTH_ERR(err, "IPAM.Driver: only the default IPAM driver is supported");
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(ipam, "Config"), i, c) {
    const char *s = json_string_value(json_object_get(c, "Subnet"));
    const char *g = json_string_value(json_object_get(c, "Gateway"));
    const char *rg = json_string_value(json_object_get(c, "IPRange"));
    if (s && s[0])
      n->subnets = berth_strv_append(n->subnets, s);
    if (g && g[0])
      n->gateways = berth_strv_append(n->gateways, g);
    if (rg && rg[0])
      n->ranges = berth_strv_append(n->ranges, rg);
  }
  return 0;
}

enum MHD_Result api_h_NET_CREATE(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  json_t *b = api_body(r, &err);
  if (b == NULL)
    return api_reply_err_status(r, 400, &err);
  struct net_in n = { 0 };
  const char *name = json_string_value(json_object_get(b, "Name"));
  const char *driver = json_string_value(json_object_get(b, "Driver"));
  int rc = name == NULL || name[0] == '\0' ? BERTH_ERR(&err, "Name: a network needs a name")
                                           : ipam(json_object_get(b, "IPAM"), &n, &err);
  n.labels = kv_strings(json_object_get(b, "Labels"));
  n.options = kv_strings(json_object_get(b, "Options"));
  struct berth_network_create o = { .name = name,
                                    .driver = driver && driver[0] ? driver : NULL,
                                    .subnets = n.subnets,
                                    .gateways = n.gateways,
                                    .ip_ranges = n.ranges,
                                    .internal = json_is_true(json_object_get(b, "Internal")),
                                    .ipv6 = json_is_true(json_object_get(b, "EnableIPv6")),
                                    .labels = n.labels,
                                    .options = n.options };
  berth_network_id_t id;
  unsigned status = 400;
  if (rc == 0 && (rc = api_engine(r, &e, &err)) < 0)
    status = 500;
  if (rc == 0 && (rc = berth_networks_create(e, &o, id, &err)) < 0)
    status = api_status_of(err->msg) == 500 ? 400 : api_status_of(err->msg);
  net_in_release(&n);
  json_decref(b);
  if (rc < 0)
    return api_reply_err_status(r, status, &err);
  return api_reply_json(r, 201, json_pack("{s:s, s:s}", "Id", id, "Warning", ""));
}

enum MHD_Result api_h_NET_REMOVE(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  if (api_engine(r, &e, &err) < 0 || berth_networks_remove(e, r->m.arg[0], &err) < 0)
    return api_reply_err(r, &err);
  return api_reply_empty(r, 204);
}

enum MHD_Result api_h_NET_PRUNE(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  cleanup_strv char **removed = NULL;
  struct berth_engine *e = NULL;
  if (api_engine(r, &e, &err) < 0 || berth_networks_prune(e, &removed, &err) < 0)
    return api_reply_err(r, &err);
  json_t *a = json_array();
  for (size_t i = 0; removed && removed[i]; i++)
    json_array_append_new(a, json_string(removed[i]));
  return api_reply_json(r, 200, json_pack("{s:o}", "NetworksDeleted", a));
}

static char **strings(json_t *a)
{
  char **v = NULL;
  size_t i;
  json_t *s;
  json_array_foreach (a, i, s)
    if (json_is_string(s))
      v = berth_strv_append(v, json_string_value(s));
  return v;
}

enum MHD_Result api_h_NET_CONNECT(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  json_t *b = api_body(r, &err);
  if (b == NULL)
    return api_reply_err_status(r, 400, &err);
  const char *ctr = json_string_value(json_object_get(b, "Container"));
  json_t *ep = json_object_get(b, "EndpointConfig");
  json_t *ipam = json_object_get(ep, "IPAMConfig");
  const char *ip = json_string_value(json_object_get(ipam, "IPv4Address"));
  const char *ip6 = json_string_value(json_object_get(ipam, "IPv6Address"));
  const char *mac = json_string_value(json_object_get(ep, "MacAddress"));
  cleanup_strv char **aliases = strings(json_object_get(ep, "Aliases"));
  struct berth_network_request req = { .network = (char *) r->m.arg[0],
                                       .aliases = aliases,
                                       .ip = ip && ip[0] ? (char *) ip : NULL,
                                       .ip6 = ip6 && ip6[0] ? (char *) ip6 : NULL,
                                       .mac = mac && mac[0] ? (char *) mac : NULL };
  int rc = ctr == NULL                   ? BERTH_ERR(&err, "Container: which container?")
           : api_engine(r, &e, &err) < 0 ? -1
                                         : berth_ctr_network_connect(e, ctr, &req, &err);
  json_decref(b);
  if (rc < 0)
    return api_reply_err_status(r, ctr == NULL ? 400 : api_status_of(err->msg), &err);
  return api_reply_empty(r, 200);
}

enum MHD_Result api_h_NET_DISCONNECT(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  json_t *b = api_body(r, &err);
  if (b == NULL)
    return api_reply_err_status(r, 400, &err);
  const char *ctr = json_string_value(json_object_get(b, "Container"));
  int rc = ctr == NULL                   ? BERTH_ERR(&err, "Container: which container?")
           : api_engine(r, &e, &err) < 0 ? -1
                                         : berth_ctr_network_disconnect(e, ctr, r->m.arg[0], &err);
  json_decref(b);
  if (rc < 0)
    return api_reply_err_status(r, ctr == NULL ? 400 : api_status_of(err->msg), &err);
  return api_reply_empty(r, 200);
}
