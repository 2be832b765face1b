/* What inspect shows: Docker's network object, and a container's NetworkSettings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/format.h"
#include "engine/networks/networks_internal.h"

static json_t *parse_object(const char *text)
{
  json_t *o = json_loads(text ? text : "{}", 0, NULL);
  if (!json_is_object(o)) {
    json_decref(o);
    o = json_object();
  }
  return o;
}

static json_t *ipam_json(const struct berth_network *n)
{
  json_t *cfg = json_array();
  char s[BERTH_NET_PREFIXSTRLEN];
  for (size_t i = 0; i < n->n_subnets; i++) {
    json_t *c = json_pack("{s:s}", "Subnet", berth_net_prefix_str(&n->subnet[i], s));
    if (n->gateway[i].family)
      json_object_set_new(c, "Gateway", json_string(berth_net_addr_str(&n->gateway[i], s)));
    if (n->range[i].addr.family)
      json_object_set_new(c, "IPRange", json_string(berth_net_prefix_str(&n->range[i], s)));
    json_array_append_new(cfg, c);
  }
  return json_pack("{s:s, s:{}, s:o}", "Driver", "default", "Options", "Config", cfg);
}

/* the address with its network's prefix length: "10.86.0.2/24" */
static char *with_len(const struct berth_network *n, const char *address, int *len)
{
  struct berth_net_addr a;
  berth_error_t ignore = NULL;
  *len = 0;
  if (berth_net_addr_parse(address, &a, &ignore) == 0)
    for (size_t i = 0; i < n->n_subnets; i++)
      if (berth_net_prefix_contains(&n->subnet[i], &a))
        *len = n->subnet[i].len;
  berth_error_release(&ignore);
  return xasprintf("%s/%d", address, *len);
}

static json_t *containers_json(struct berth_engine *e, const struct berth_network *n)
{
  json_t *out = json_object();
  struct berth_db_lease *v = NULL;
  size_t k = 0;
  berth_error_t ignore = NULL;
  if (berth_db_leases(e->db, n->row.id, NULL, &v, &k, &ignore) < 0)
    berth_error_release(&ignore);
  for (size_t i = 0; i < k; i++) {
    json_t *c = json_object_get(out, v[i].container_id);
    if (c == NULL) {
      struct berth_db_container row;
      int r = berth_db_container_get(e->db, v[i].container_id, &row, &ignore);
      berth_error_release(&ignore);
      c = json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name", r > 0 ? row.name : "", "EndpointID", "",
                    "MacAddress", v[i].mac, "IPv4Address", "", "IPv6Address", "");
      if (r > 0)
        berth_db_container_release(&row);
      json_object_set_new(out, v[i].container_id, c);
    }
    int len;
    cleanup_free char *a = with_len(n, v[i].address, &len);
    json_object_set_new(c, strchr(v[i].address, ':') ? "IPv6Address" : "IPv4Address", json_string(a));
  }
  berth_db_leases_free(v, k);
  return out;
}

json_t *berth_network_inspect(struct berth_engine *e, const struct berth_network *n, berth_error_t *err)
{
  cleanup_free char *created = berth_fmt_rfc3339(n->row.created);
  json_t *o =
    json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:b, s:b, s:b, s:{s:s}, s:b}", "Name", n->row.name, "Id",
              n->row.id, "Created", created, "Scope", "local", "Driver", n->row.driver, "EnableIPv6",
              n->n_subnets > 1 || (n->n_subnets == 1 && n->subnet[0].addr.family == AF_INET6), "IPAM",
              ipam_json(n), "Internal", n->row.internal, "Attachable", false, "Ingress", false, "ConfigFrom",
              "Network", "", "ConfigOnly", false);
  if (o == NULL) {
    BERTH_ERR(err, "network `%s`: cannot build its JSON", n->row.name);
    return NULL;
  }
  json_object_set_new(o, "Containers", containers_json(e, n));
  json_t *opts = parse_object(n->row.options);
  json_object_set_new(opts, "com.docker.network.bridge.name", json_string(n->row.bridge));
  json_object_set_new(o, "Options", opts);
  json_object_set_new(o, "Labels", parse_object(n->row.labels));
  json_object_set_new(o, "BerthDNS",
                      json_pack("{s:b, s:s}", "Enabled", n->row.dns, "Servers", n->row.dns_servers));
  return o;
}

/* Docker's Ports: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "53/udp": null} */
static json_t *ports_json(struct berth_engine *e, const char *id, json_t *host_config)
{
  json_t *out = json_object();
  const char *key;
  json_t *val;
  json_object_foreach (json_object_get(host_config, "PortBindings"), key, val)
    json_object_set_new(out, key, json_null());
  struct berth_db_port *v = NULL;
  size_t k = 0;
  berth_ignore(berth_db_ports(e->db, id, &v, &k, BERTH_IGNORED));
  for (size_t i = 0; i < k; i++) {
    cleanup_free char *pk = xasprintf("%lld/%s", (long long) v[i].container_port, v[i].proto);
    cleanup_free char *hp = xasprintf("%lld", (long long) v[i].host_port);
    json_t *list = json_object_get(out, pk);
    if (!json_is_array(list)) {
      list = json_array();
      json_object_set_new(out, pk, list);
    }
    json_array_append_new(
      list, json_pack("{s:s, s:s}", "HostIp", v[i].host_ip[0] ? v[i].host_ip : "0.0.0.0", "HostPort", hp));
  }
  berth_db_ports_free(v, k);
  return out;
}

/* one network's EndpointSettings */
static json_t *endpoint(const struct berth_network *n, const struct berth_db_attachment *a,
                        const struct berth_db_lease *v, size_t k)
{
  json_t *aliases = json_array();
  cleanup_free char *copy = xstrdup(a->aliases);
  char *save = NULL;
  for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
    json_array_append_new(aliases, json_string(w));
  char gw4[BERTH_NET_ADDRSTRLEN] = "", gw6[BERTH_NET_ADDRSTRLEN] = "";
  for (size_t i = 0; i < n->n_subnets; i++)
    if (n->gateway[i].family)
      berth_net_addr_str(&n->gateway[i], n->gateway[i].family == AF_INET ? gw4 : gw6);
  json_t *o = json_pack("{s:n, s:n, s:o, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:s, s:n}", "IPAMConfig",
                        "Links", "Aliases", aliases, "NetworkID", n->row.id, "EndpointID", "", "Gateway", "",
                        "IPAddress", "", "IPPrefixLen", 0, "IPv6Gateway", "", "GlobalIPv6Address", "",
                        "GlobalIPv6PrefixLen", 0, "MacAddress", "", "DriverOpts");
  for (size_t i = 0; i < k; i++) {
    if (strcmp(v[i].network_id, a->network_id) != 0)
      continue;
    int len;
    free(with_len(n, v[i].address, &len)); /* only its prefix length here */
    bool v6 = strchr(v[i].address, ':') != NULL;
    json_object_set_new(o, v6 ? "GlobalIPv6Address" : "IPAddress", json_string(v[i].address));
    json_object_set_new(o, v6 ? "GlobalIPv6PrefixLen" : "IPPrefixLen", json_integer(len));
    json_object_set_new(o, v6 ? "IPv6Gateway" : "Gateway", json_string(v6 ? gw6 : gw4));
    json_object_set_new(o, "MacAddress", json_string(v[i].mac));
  }
  if (a->ip[0] || a->ip6[0])
    json_object_set_new(o, "IPAMConfig",
                        json_pack("{s:s, s:s}", "IPv4Address", a->ip, "IPv6Address", a->ip6));
  return o;
}

/* the first network's values at the top of NetworkSettings, as Docker shows the default bridge */
static void top_level(json_t *s, json_t *first, const char *bridge)
{
  static const char *const keys[] = { "Gateway",           "IPAddress",  "IPPrefixLen",        "IPv6Gateway",
                                      "GlobalIPv6Address", "MacAddress", "GlobalIPv6PrefixLen" };
  for (size_t i = 0; first && i < BERTH_N_ELEMENTS(keys); i++)
    json_object_set(s, keys[i], json_object_get(first, keys[i]));
  json_object_set_new(s, "Bridge", json_string(bridge ? bridge : ""));
}

json_t *berth_networks_settings(struct berth_engine *e, const char *id, json_t *host_config,
                                berth_error_t *err)
{
  json_t *s = json_pack(
    "{s:s, s:s, s:b, s:s, s:i, s:o, s:s, s:n, s:n, s:s, s:s, s:s, s:i, s:s, s:i, s:s, s:s}", "Bridge", "",
    "SandboxID", "", "HairpinMode", 0, "LinkLocalIPv6Address", "", "LinkLocalIPv6PrefixLen", 0, "Ports",
    ports_json(e, id, host_config), "SandboxKey", "", "SecondaryIPAddresses", "SecondaryIPv6Addresses",
    "EndpointID", "", "Gateway", "", "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0, "IPAddress", "",
    "IPPrefixLen", 0, "IPv6Gateway", "", "MacAddress", "");
  json_t *nets = json_object();
  json_object_set_new(s, "Networks", nets);
  struct berth_db_attachment *a = NULL;
  struct berth_db_lease *v = NULL;
  size_t na = 0, k = 0;
  if (berth_db_attachments_of(e->db, id, &a, &na, err) < 0 ||
      berth_db_leases(e->db, NULL, id, &v, &k, err) < 0) {
    berth_db_attachments_free(a, na);
    json_decref(s);
    return NULL;
  }
  for (size_t i = 0; i < na; i++) {
    struct berth_network n;
    berth_error_t ignore = NULL;
    if (net_load_id(e, a[i].network_id, &n, &ignore) <= 0) {
      berth_error_release(&ignore);
      continue;
    }
    json_t *ep = endpoint(&n, &a[i], v, k);
    json_object_set_new(nets, n.row.name, ep);
    if (i == 0)
      top_level(s, ep, n.row.bridge);
    berth_network_release(&n);
  }
  berth_db_attachments_free(a, na);
  berth_db_leases_free(v, k);
  return s;
}
