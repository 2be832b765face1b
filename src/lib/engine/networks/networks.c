/* Networks: rows parsed, the default network made on first use, create, remove, prune, list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/networks/networks_internal.h"

void berth_network_release(struct berth_network *n)
{
  berth_db_network_release(&n->row);
  memset(n, 0, sizeof *n);
}

bool berth_network_is_default(const char *name)
{
  return name && (strcmp(name, "bridge") == 0 || strcmp(name, "default") == 0 ||
                  strcmp(name, BERTH_NETWORK_DEFAULT) == 0);
}

static BERTH_WUR int parse_family(const char *subnet, const char *gateway, const char *range,
                                  struct berth_network *n, berth_error_t *err)
{
  if (subnet[0] == '\0')
    return 0;
  size_t i = n->n_subnets++;
  if (berth_net_prefix_parse(subnet, &n->subnet[i], err) < 0 ||
      (gateway[0] && berth_net_addr_parse(gateway, &n->gateway[i], err) < 0) ||
      (range[0] && berth_net_prefix_parse(range, &n->range[i], err) < 0))
    return -1;
  return 0;
}

int net_parse_row(struct berth_network *n, berth_error_t *err)
{
  const struct berth_db_network *r = &n->row;
  if (parse_family(r->subnet, r->gateway, r->ip_range, n, err) < 0 ||
      parse_family(r->subnet6, r->gateway6, r->ip_range6, n, err) < 0)
    return berth_error_wrap(err, "network `%s`", r->name);
  cleanup_free char *copy = xstrdup(r->dns_servers);
  char *save = NULL;
  for (char *w = strtok_r(copy, " ", &save); w && n->n_dns < 3; w = strtok_r(NULL, " ", &save))
    if (berth_net_addr_port_parse(w, 53, &n->dns[n->n_dns], &n->dns_port[n->n_dns], err) < 0)
      return berth_error_wrap(err, "network `%s`: dns server", r->name);
    else
      n->n_dns++;
  return 0;
}

/* the row of id, parsed: 1, 0 when absent */
int net_load_id(struct berth_engine *e, const char *id, struct berth_network *out, berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  int r = berth_db_network_get(e->db, id, &out->row, err);
  if (r > 0 && net_parse_row(out, err) < 0) {
    berth_network_release(out);
    return -1;
  }
  return r;
}

int64_t net_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* a store older than the default network may hold a network where it would go */
static BERTH_WUR int check_default_overlap(struct berth_engine *e, const struct berth_net_prefix *p,
                                           berth_error_t *err)
{
  struct berth_network *v = NULL;
  size_t k = 0;
  if (berth_networks_list(e, &v, &k, err) < 0)
    return -1;
  int r = 0;
  char a[BERTH_NET_PREFIXSTRLEN];
  for (size_t i = 0; i < k && r == 0; i++)
    for (size_t j = 0; j < v[i].n_subnets && r == 0; j++)
      if (berth_net_prefix_overlaps(p, &v[i].subnet[j]))
        r = BERTH_ERR(err, "the default network's subnet %s overlaps network `%s`: set BERTH_DEFAULT_SUBNET",
                      berth_net_prefix_str(p, a), v[i].row.name);
  berth_networks_list_free(v, k);
  return r;
}

/* the default network's row, made now (its own transaction; a concurrent maker wins quietly) */
static BERTH_WUR int make_default(struct berth_engine *e, berth_error_t *err)
{
  const char *subnet = getenv("BERTH_DEFAULT_SUBNET");
  struct berth_net_prefix p;
  struct berth_net_addr gw;
  char gws[BERTH_NET_ADDRSTRLEN], ps[BERTH_NET_PREFIXSTRLEN];
  if (subnet == NULL || *subnet == '\0')
    subnet = BERTH_NETWORK_DEFAULT_SUBNET;
  if (berth_net_prefix_parse(subnet, &p, err) < 0 || berth_ipam_default_gateway(&p, &gw, err) < 0)
    return berth_error_wrap(err, "BERTH_DEFAULT_SUBNET");
  struct berth_db_network row = { .name = (char *) BERTH_NETWORK_DEFAULT,
                                  .driver = (char *) "bridge",
                                  .bridge = (char *) BERTH_NETWORK_DEFAULT_BRIDGE,
                                  .dns = false, /* Docker's and podman's default network: no names */
                                  .created = net_now() };
  row.subnet = (char *) berth_net_prefix_str(&p, ps);
  row.gateway = (char *) berth_net_addr_str(&gw, gws);
  if (p.addr.family == AF_INET6) {
    row.subnet6 = row.subnet;
    row.gateway6 = row.gateway;
    row.subnet = row.gateway = (char *) "";
  }
  berth_engine_new_id(row.id);
  if (berth_db_begin(e->db, err) < 0)
    return -1;
  cleanup_strv char **ids = NULL;
  int r = berth_db_network_find(e->db, BERTH_NETWORK_DEFAULT, &ids, err);
  if (r == 0 && ids[0] == NULL)
    r = check_default_overlap(e, &p, err) < 0 ? -1 : berth_db_network_put(e->db, &row, err);
  if (r < 0) {
    berth_db_rollback(e->db);
    return -1;
  }
  return berth_db_commit(e->db, err);
}

static BERTH_WUR int find_one(struct berth_engine *e, const char *what, char **id, berth_error_t *err)
{
  cleanup_strv char **ids = NULL;
  if (berth_db_network_find(e->db, what, &ids, err) < 0)
    return -1;
  if (ids[0] && ids[1])
    return BERTH_ERR(err, "network `%s` is ambiguous (%zu networks match)", what, berth_strv_len(ids));
  *id = ids[0] ? xstrdup(ids[0]) : NULL;
  return 0;
}

int berth_network_get(struct berth_engine *e, const char *what, struct berth_network *out, berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  bool dflt = berth_network_is_default(what);
  const char *name = dflt ? BERTH_NETWORK_DEFAULT : what;
  cleanup_free char *id = NULL;
  if (find_one(e, name, &id, err) < 0)
    return -1;
  if (id == NULL && dflt && (make_default(e, err) < 0 || find_one(e, name, &id, err) < 0))
    return -1;
  if (id == NULL)
    return BERTH_ERR(err, "network `%s` not found", what);
  int r = net_load_id(e, id, out, err);
  return r == 0 ? BERTH_ERR(err, "network `%s` not found", what) : r < 0 ? -1 : 0;
}

void berth_networks_list_free(struct berth_network *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    berth_network_release(&v[i]);
  free(v);
}

int berth_networks_list(struct berth_engine *e, struct berth_network **out, size_t *n, berth_error_t *err)
{
  struct berth_db_network *rows = NULL;
  size_t k = 0;
  if (berth_db_network_list(e->db, &rows, &k, err) < 0)
    return -1;
  struct berth_network *v = xcalloc(k ? k : 1, sizeof *v);
  for (size_t i = 0; i < k; i++) {
    v[i].row = rows[i];
    berth_error_t ignore = NULL; /* a row that does not parse is still listed */
    if (net_parse_row(&v[i], &ignore) < 0)
      berth_error_release(&ignore);
  }
  free(rows);
  *out = v;
  *n = k;
  return 0;
}

static int by_str(const void *a, const void *b) { return strcmp(*(char *const *) a, *(char *const *) b); }

/* "a, b" of the containers' names, sorted */
static char *container_names(struct berth_engine *e, char **ids)
{
  cleanup_strv char **names = xcalloc(1, sizeof(char *));
  for (size_t i = 0; ids[i]; i++) {
    struct berth_db_container c;
    berth_error_t ignore = NULL;
    int r = berth_db_container_get(e->db, ids[i], &c, &ignore);
    berth_error_release(&ignore);
    names = berth_strv_append(names, r > 0 ? c.name : ids[i]);
    if (r > 0)
      berth_db_container_release(&c);
  }
  qsort(names, berth_strv_len(names), sizeof *names, by_str);
  return net_join(names, ", ");
}

/* what a removed network leaves in the kernel and the run root: its bridge, its resolver's files */
static BERTH_WUR int net_forget(struct berth_engine *e, const struct berth_network *n, berth_error_t *err)
{
  cleanup_close int lock = net_lock(e, err);
  if (lock < 0)
    return -1;
  net_names_forget(e, n->row.id);
  bool removed;
  return berth_net_bridge_remove_unused(n->row.bridge, &removed, err);
}

/* delete n's row unless a container is attached: 1 deleted, 0 in use (message in *why) */
static BERTH_WUR int remove_locked(struct berth_engine *e, const struct berth_network *n, char **why,
                                   berth_error_t *err)
{
  cleanup_strv char **users = NULL;
  if (berth_db_begin(e->db, err) < 0)
    return -1;
  int r = berth_db_network_users(e->db, n->row.id, &users, err);
  if (r == 0 && users[0] != NULL) {
    cleanup_free char *names = container_names(e, users);
    *why = xasprintf("network `%s` is in use by container%s %s", n->row.name, users[1] ? "s" : "", names);
    r = 0;
  } else if (r == 0) {
    r = berth_db_network_delete(e->db, n->row.id, err);
  }
  if (r <= 0) {
    berth_db_rollback(e->db);
    return r;
  }
  return berth_db_commit(e->db, err) < 0 ? -1 : 1;
}

int berth_networks_remove(struct berth_engine *e, const char *what, berth_error_t *err)
{
  struct berth_network n;
  if (berth_network_is_default(what))
    return BERTH_ERR(err, "`%s` is the default network and cannot be removed", what);
  if (berth_network_get(e, what, &n, err) < 0)
    return -1;
  cleanup_free char *why = NULL;
  int r = remove_locked(e, &n, &why, err);
  if (r == 0)
    r = BERTH_ERR(err, "%s", why);
  else if (r > 0 && (r = net_forget(e, &n, err)) == 0) {
    const char *attrs[] = { "name", n.row.name, "type", "bridge", NULL };
    berth_engine_event(e, "network", "destroy", n.row.id, attrs);
  }
  berth_network_release(&n);
  return r < 0 ? berth_error_wrap(err, "remove network `%s`", what) : 0;
}

/* label=k[=v] / "!k[=v]" of a network's labels */
static bool labels_match(const char *labels_json, char *const *labels)
{
  json_t *l = json_loads(labels_json ? labels_json : "{}", 0, NULL);
  bool ok = true;
  for (size_t i = 0; ok && labels && labels[i]; i++) {
    const char *f = labels[i] + (labels[i][0] == '!');
    const char *eq = strchr(f, '=');
    cleanup_free char *key = eq ? xstrndup(f, (size_t) (eq - f)) : xstrdup(f);
    json_t *v = json_object_get(l, key);
    bool hit = json_is_string(v) && (eq == NULL || strcmp(json_string_value(v), eq + 1) == 0);
    ok = hit != (labels[i][0] == '!');
  }
  json_decref(l);
  return ok;
}

int berth_networks_prune(struct berth_engine *e, char ***removed, berth_error_t *err)
{
  return berth_networks_prune_filtered(e, 0, NULL, removed, err);
}

int berth_networks_prune_filtered(struct berth_engine *e, int64_t until, char *const *labels, char ***removed,
                                  berth_error_t *err)
{
  struct berth_network *v = NULL;
  size_t k = 0;
  *removed = xcalloc(1, sizeof(char *));
  if (berth_networks_list(e, &v, &k, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; i < k && r == 0; i++) {
    if (strcmp(v[i].row.name, BERTH_NETWORK_DEFAULT) == 0 || (until && v[i].row.created >= until) ||
        !labels_match(v[i].row.labels, labels))
      continue;
    cleanup_free char *why = NULL;
    int d = remove_locked(e, &v[i], &why, err);
    if (d < 0)
      r = -1;
    else if (d > 0) {
      r = net_forget(e, &v[i], err);
      *removed = berth_strv_append(*removed, v[i].row.name);
      const char *attrs[] = { "name", v[i].row.name, "type", "bridge", NULL };
      berth_engine_event(e, "network", "destroy", v[i].row.id, attrs);
    }
  }
  berth_networks_list_free(v, k);
  return r;
}
