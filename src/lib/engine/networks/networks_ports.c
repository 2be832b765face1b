/* Published ports: what the container asked (HostConfig.PortBindings, PublishAllPorts with
 * Config.ExposedPorts, in Docker's JSON), resolved to host ports at start and recorded as rows;
 * and `berth port`'s lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/networks/networks_internal.h"

static void add(struct berth_net_port **v, size_t *n, const struct berth_net_port *p)
{
  *v = xreallocarray(*v, *n + 1, sizeof **v);
  (*v)[(*n)++] = *p;
}

/* "8080", "8000-8010", "" */
static BERTH_WUR int host_port(const char *s, struct berth_net_port *p, berth_error_t *err)
{
  if (s == NULL || *s == '\0')
    return 0;
  cleanup_free char *spec = xasprintf("%s:1", s);
  struct berth_net_port *one = NULL;
  size_t n = 0;
  if (berth_net_ports_parse(spec, &one, &n, err) < 0)
    return -1;
  p->host_port = one[0].host_port;
  p->host_port_end = one[0].host_port_end;
  free(one);
  return 0;
}

int net_ports_wanted(json_t *config, json_t *host_config, struct berth_net_port **out, size_t *n,
                     berth_error_t *err)
{
  *out = NULL;
  *n = 0;
  json_t *bindings = json_object_get(host_config, "PortBindings");
  const char *key;
  json_t *list;
  json_object_foreach (bindings, key, list) {
    struct berth_net_port base = { 0 };
    if (berth_net_port_key_parse(key, &base.ctr_port, &base.proto, err) < 0)
      goto fail;
    size_t i;
    json_t *b;
    json_array_foreach (list, i, b) {
      struct berth_net_port p = base;
      const char *ip = json_string_value(json_object_get(b, "HostIp"));
      if ((ip && *ip && berth_net_addr_parse(ip, &p.host_ip, err) < 0) ||
          host_port(json_string_value(json_object_get(b, "HostPort")), &p, err) < 0)
        goto fail;
      add(out, n, &p);
    }
  }
  if (!json_is_true(json_object_get(host_config, "PublishAllPorts")))
    return 0;
  json_object_foreach (json_object_get(config, "ExposedPorts"), key, list) {
    struct berth_net_port p = { 0 };
    if (json_object_get(bindings, key) != NULL)
      continue;
    if (berth_net_port_key_parse(key, &p.ctr_port, &p.proto, err) < 0)
      goto fail;
    add(out, n, &p);
  }
  return 0;
fail:
  free(*out);
  *out = NULL;
  *n = 0;
  return berth_error_wrap(err, "published ports");
}

/* every published port of the host (rows), as mappings */
static BERTH_WUR int taken_ports(struct berth_engine *e, struct berth_net_port **out, size_t *n,
                                 berth_error_t *err)
{
  struct berth_db_port *v = NULL;
  size_t k = 0;
  if (berth_db_ports(e->db, NULL, &v, &k, err) < 0)
    return -1;
  *out = xcalloc(k ? k : 1, sizeof **out);
  *n = 0;
  for (size_t i = 0; i < k; i++) {
    struct berth_net_port p = { .host_port = (uint16_t) v[i].host_port,
                                .ctr_port = (uint16_t) v[i].container_port };
    berth_error_t ignore = NULL;
    if (berth_net_proto_parse(v[i].proto, &p.proto, &ignore) == 0 &&
        (v[i].host_ip[0] == '\0' || berth_net_addr_parse(v[i].host_ip, &p.host_ip, &ignore) == 0))
      (*out)[(*n)++] = p;
    berth_error_release(&ignore);
  }
  berth_db_ports_free(v, k);
  return 0;
}

int net_ports_publish(struct berth_engine *e, const struct berth_networks_ctr *c, berth_error_t *err)
{
  cleanup_free struct berth_net_port *want = NULL, *taken = NULL;
  size_t nw = 0, nt = 0;
  if (net_ports_wanted(c->config, c->host_config, &want, &nw, err) < 0 ||
      taken_ports(e, &taken, &nt, err) < 0)
    return -1;
  for (size_t i = 0; i < nw; i++) {
    struct berth_net_port *p = &want[i];
    if (berth_net_port_choose(p, taken, nt, err) < 0)
      return -1;
    char ip[BERTH_NET_ADDRSTRLEN];
    struct berth_db_port row = { .host_ip = (char *) berth_net_addr_str(&p->host_ip, ip),
                                 .host_port = p->host_port,
                                 .container_port = p->ctr_port,
                                 .proto = (char *) berth_net_proto_name(p->proto) };
    snprintf(row.container_id, sizeof row.container_id, "%s", c->id);
    if (berth_db_port_put(e->db, &row, err) < 0)
      return -1;
    taken = xreallocarray(taken, nt + 1, sizeof *taken);
    taken[nt++] = *p;
  }
  return 0;
}

int berth_networks_ports(struct berth_engine *e, const char *container_id, const char *filter, char ***lines,
                         berth_error_t *err)
{
  uint16_t fport = 0;
  enum berth_net_proto fproto = BERTH_NET_TCP;
  bool proto_given = filter && strchr(filter, '/');
  if (filter && berth_net_port_key_parse(filter, &fport, &fproto, err) < 0)
    return -1;
  struct berth_db_port *v = NULL;
  size_t k = 0;
  if (berth_db_ports(e->db, container_id, &v, &k, err) < 0)
    return -1;
  *lines = xcalloc(1, sizeof(char *));
  for (size_t i = 0; i < k; i++) {
    if (filter && (v[i].container_port != fport ||
                   (proto_given && strcmp(v[i].proto, berth_net_proto_name(fproto)) != 0)))
      continue;
    bool v6 = strchr(v[i].host_ip, ':') != NULL;
    const char *ip = v[i].host_ip[0] ? v[i].host_ip : "0.0.0.0";
    cleanup_free char *line =
      filter ? xasprintf(v6 ? "[%s]:%lld" : "%s:%lld", ip, (long long) v[i].host_port)
             : xasprintf(v6 ? "%lld/%s -> [%s]:%lld" : "%lld/%s -> %s:%lld", (long long) v[i].container_port,
                         v[i].proto, ip, (long long) v[i].host_port);
    *lines = berth_strv_append(*lines, line);
  }
  berth_db_ports_free(v, k);
  return 0;
}
