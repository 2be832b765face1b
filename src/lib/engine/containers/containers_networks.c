/* Containers on networks (engine/networks/networks.h does the work): what create records (the
 * networks asked for, PortBindings, ExposedPorts), the namespace path, setup before the
 * monitor's GO, teardown when the container stops for good, connect and disconnect. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "engine/networks/networks.h"

bool ctr_default_network_is_bridge(void)
{
  const char *v = getenv("BERTH_DEFAULT_NETWORK");
  return v == NULL || *v == '\0' || strcmp(v, "none") != 0;
}

bool ctr_opts_use_networks(const struct berth_run_opts *o)
{
  return o->network.mode == BERTH_NSMODE_BRIDGE ||
         (o->network.mode == BERTH_NSMODE_DEFAULT && ctr_default_network_is_bridge());
}

int ctr_networks_resolve(struct berth_engine *e, const char *id, const struct berth_run_opts *o,
                         struct berth_db_attachment **out, size_t *n, berth_error_t *err)
{
  *out = NULL;
  *n = 0;
  if (!ctr_opts_use_networks(o))
    return 0;
  static char *const dflt[] = { (char *) "bridge", NULL };
  char *const *names = o->networks ? o->networks : dflt;
  size_t k = berth_strv_len(names);
  struct berth_network_request *req = xcalloc(k, sizeof *req);
  for (size_t i = 0; i < k; i++) {
    req[i].network = names[i];
    if (!berth_network_is_default(names[i]))
      req[i].aliases = o->network_aliases; /* every user network (Docker: the one given) */
    if (i == 0) {                          /* --ip, --ip6, --mac-address: the first network */
      req[i].ip = o->ip;
      req[i].ip6 = o->ip6;
      req[i].mac = o->mac_address;
    }
  }
  int r = berth_networks_resolve(e, id, req, k, 0, out, err);
  free(req);
  if (r == 0)
    *n = k;
  return r;
}

char *ctr_netns_path(const struct berth_engine *e, const char *id)
{
  cleanup_free char *rundir = berth_ctr_rundir(e, id);
  return xasprintf("%s/netns", rundir);
}

/* Docker's PortBindings from -p: one key per container port */
json_t *ctr_port_bindings(const struct berth_run_opts *o)
{
  json_t *out = json_object();
  for (char **s = o->publish; s && *s; s++) {
    struct berth_net_port *v = NULL;
    size_t n = 0;
    berth_error_t ignore = NULL;
    if (berth_net_ports_parse(*s, &v, &n, &ignore) < 0) { /* checked by the options already */
      berth_error_release(&ignore);
      continue;
    }
    for (size_t i = 0; i < n; i++) {
      cleanup_free char *key = xasprintf("%u/%s", v[i].ctr_port, berth_net_proto_name(v[i].proto));
      char ip[BERTH_NET_ADDRSTRLEN];
      cleanup_free char *hp = v[i].host_port_end ? xasprintf("%u-%u", v[i].host_port, v[i].host_port_end)
                              : v[i].host_port   ? xasprintf("%u", v[i].host_port)
                                                 : xstrdup("");
      json_t *list = json_object_get(out, key);
      if (list == NULL) {
        list = json_array();
        json_object_set_new(out, key, list);
      }
      json_array_append_new(
        list, json_pack("{s:s, s:s}", "HostIp", berth_net_addr_str(&v[i].host_ip, ip), "HostPort", hp));
    }
    free(v);
  }
  return out;
}

/* Config.ExposedPorts: the image's, --expose and every published port's */
void ctr_exposed_ports(json_t *config, const struct berth_run_opts *o)
{
  json_t *ex = json_object_get(config, "ExposedPorts");
  if (!json_is_object(ex)) {
    ex = json_object();
    json_object_set_new(config, "ExposedPorts", ex);
  }
  char **lists[2] = { o->expose, o->publish };
  for (int l = 0; l < 2; l++)
    for (char **s = lists[l]; s && *s; s++) {
      struct berth_net_port *v = NULL;
      size_t n = 0;
      berth_error_t ignore = NULL;
      if (berth_net_ports_parse(*s, &v, &n, &ignore) < 0) {
        berth_error_release(&ignore);
        continue;
      }
      for (size_t i = 0; i < n; i++) {
        cleanup_free char *key = xasprintf("%u/%s", v[i].ctr_port, berth_net_proto_name(v[i].proto));
        json_object_set_new(ex, key, json_object());
      }
      free(v);
    }
  if (json_object_size(ex) == 0)
    json_object_del(config, "ExposedPorts");
}

/* the networks room's view of c; its namespace through the monitor when one runs */
static void fill_ctr(struct berth_engine *e, const struct berth_ctr *c, pid_t monitor, char **netns,
                     char **helper, struct berth_networks_ctr *out)
{
  cleanup_free char *path = ctr_netns_path(e, c->row.id);
  berth_error_t ignore = NULL;
  *netns = monitor > 0 ? xasprintf("/proc/%d/root%s", (int) monitor, path) : NULL;
  *helper = ctr_find_helper("berth-dns", "dns", &ignore);
  berth_error_release(&ignore);
  *out = (struct berth_networks_ctr){ .id = c->row.id,
                                      .name = c->row.name,
                                      .hostname = json_string_value(json_object_get(c->config, "Hostname")),
                                      .dir = c->dir,
                                      .config = c->config,
                                      .host_config = c->host_config,
                                      .netns = *netns,
                                      .dns_helper = *helper };
}

bool ctr_uses_networks(struct berth_engine *e, const struct berth_ctr *c)
{
  struct berth_db_attachment *a = NULL;
  size_t n = 0;
  berth_ignore(berth_db_attachments_of(e->db, c->row.id, &a, &n, BERTH_IGNORED));
  berth_db_attachments_free(a, n);
  return n > 0;
}

int ctr_networks_setup(struct berth_engine *e, const struct berth_ctr *c, pid_t monitor, berth_error_t *err)
{
  cleanup_free char *netns = NULL, *helper = NULL;
  struct berth_networks_ctr nc;
  fill_ctr(e, c, monitor, &netns, &helper, &nc);
  return berth_networks_setup(e, &nc, err);
}

void ctr_networks_teardown(struct berth_engine *e, const char *id)
{
  berth_error_t err = NULL;
  if (berth_networks_teardown(e, id, &err) < 0) {
    berth_log_warn("%s (berth system check --repair finishes it)", err->msg);
    berth_error_release(&err);
  }
}

static BERTH_WUR int loaded_running(struct berth_engine *e, const char *what, struct berth_ctr *c,
                                    pid_t *monitor, berth_error_t *err)
{
  if (berth_ctr_get(e, what, c, err) < 0)
    return -1;
  *monitor =
    berth_ctr_state_kept(c->state) && berth_ctr_monitor_alive(&c->row) ? (pid_t) c->row.monitor_pid : 0;
  return 0;
}

int berth_ctr_network_connect(struct berth_engine *e, const char *what,
                              const struct berth_network_request *req, berth_error_t *err)
{
  struct berth_ctr c;
  pid_t monitor = 0;
  if (loaded_running(e, what, &c, &monitor, err) < 0)
    return -1;
  cleanup_close int lock = ctr_lock(&c, err);
  int r = lock < 0 ? -1 : 0;
  if (r == 0) {
    cleanup_free char *netns = NULL, *helper = NULL;
    struct berth_networks_ctr nc;
    fill_ctr(e, &c, monitor, &netns, &helper, &nc);
    r = berth_networks_connect(e, &nc, req, err);
  }
  berth_ctr_release(&c);
  return r;
}

int berth_ctr_network_disconnect(struct berth_engine *e, const char *what, const char *network,
                                 berth_error_t *err)
{
  struct berth_ctr c;
  pid_t monitor = 0;
  if (loaded_running(e, what, &c, &monitor, err) < 0)
    return -1;
  cleanup_close int lock = ctr_lock(&c, err);
  int r = lock < 0 ? -1 : 0;
  if (r == 0) {
    cleanup_free char *netns = NULL, *helper = NULL;
    struct berth_networks_ctr nc;
    fill_ctr(e, &c, monitor, &netns, &helper, &nc);
    r = berth_networks_disconnect(e, &nc, network, err);
  }
  berth_ctr_release(&c);
  return r;
}

int berth_ctr_port(struct berth_engine *e, const char *what, const char *filter, char ***lines,
                   berth_error_t *err)
{
  struct berth_ctr c;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  int r = berth_networks_ports(e, c.row.id, filter, lines, err);
  if (r == 0 && filter && (*lines)[0] == NULL)
    r = BERTH_ERR(err, "no public port `%s` published for %.12s", filter, c.row.id);
  berth_ctr_release(&c);
  return r;
}
