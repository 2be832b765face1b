/* Catalogue rows of networks, the containers attached to them, their leases and published ports
 * (schema version 3; docs/design/networking.md). */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/catalogue/db_internal.h"

static const char *nz(const char *s) { return s ? s : ""; }

#define NETWORK_COLUMNS                                                                                      \
  "id, name, driver, bridge, subnet, gateway, ip_range, subnet6, gateway6, ip_range6, internal, dns, mtu,"   \
  " dns_servers, created, labels, options"

void berth_db_network_release(struct berth_db_network *n)
{
  if (n == NULL)
    return;
  char **fields[] = { &n->name,    &n->driver,   &n->bridge,    &n->subnet,      &n->gateway, &n->ip_range,
                      &n->subnet6, &n->gateway6, &n->ip_range6, &n->dns_servers, &n->labels,  &n->options };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(fields); i++) {
    free(*fields[i]);
    *fields[i] = NULL;
  }
}

void berth_db_network_list_free(struct berth_db_network *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    berth_db_network_release(&v[i]);
  free(v);
}

static void read_network(sqlite3_stmt *st, struct berth_db_network *n)
{
  memset(n, 0, sizeof *n);
  const unsigned char *id = sqlite3_column_text(st, 0);
  snprintf(n->id, sizeof n->id, "%s", id ? (const char *) id : "");
  n->name = db_col_strdup(st, 1);
  n->driver = db_col_strdup(st, 2);
  n->bridge = db_col_strdup(st, 3);
  n->subnet = db_col_strdup(st, 4);
  n->gateway = db_col_strdup(st, 5);
  n->ip_range = db_col_strdup(st, 6);
  n->subnet6 = db_col_strdup(st, 7);
  n->gateway6 = db_col_strdup(st, 8);
  n->ip_range6 = db_col_strdup(st, 9);
  n->internal = sqlite3_column_int64(st, 10) != 0;
  n->dns = sqlite3_column_int64(st, 11) != 0;
  n->mtu = sqlite3_column_int64(st, 12);
  n->dns_servers = db_col_strdup(st, 13);
  n->created = sqlite3_column_int64(st, 14);
  n->labels = db_col_strdup(st, 15);
  n->options = db_col_strdup(st, 16);
}

int berth_db_network_put(struct berth_db *db, const struct berth_db_network *n, berth_error_t *err)
{
  if (db_require_tx(db, "add network", err) < 0)
    return -1;
  int64_t taken = 0;
  if (db_query_i64(db, &taken, err, "SELECT count(*) FROM networks WHERE name = ? OR bridge = ?", "ss",
                   n->name, n->bridge) < 0)
    return -1;
  if (taken)
    return BERTH_ERR(err, "network with name `%s` (or bridge `%s`) already exists", n->name, n->bridge);
  if (db_exec(db, err,
              "INSERT INTO networks(" NETWORK_COLUMNS
              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              "ssssssssssiiisiss", n->id, n->name, nz(n->driver), n->bridge, nz(n->subnet), nz(n->gateway),
              nz(n->ip_range), nz(n->subnet6), nz(n->gateway6), nz(n->ip_range6), (int64_t) n->internal,
              (int64_t) n->dns, n->mtu, nz(n->dns_servers), n->created, n->labels ? n->labels : "{}",
              n->options ? n->options : "{}") < 0)
    return berth_error_wrap(err, "add network `%s`", n->name);
  return 0;
}

int berth_db_network_get(struct berth_db *db, const char *id, struct berth_db_network *out,
                         berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "SELECT " NETWORK_COLUMNS " FROM networks WHERE id = ?", "s", id) < 0)
    return -1;
  int r = db_step(db, st, err);
  if (r > 0)
    read_network(st, out);
  return r;
}

static bool lower_hex(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > 64)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

int berth_db_network_find(struct berth_db *db, const char *what, char ***ids, berth_error_t *err)
{
  static const char *const rules[] = { "SELECT id FROM networks WHERE id = ?",
                                       "SELECT id FROM networks WHERE name = ?" };
  cleanup_strv char **v = NULL;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(rules) && (v == NULL || v[0] == NULL); i++) {
    berth_strv_free(steal_ptr(v));
    if (db_collect_strings(db, &v, err, rules[i], "s", what) < 0)
      return -1;
  }
  if (v[0] == NULL && lower_hex(what)) {
    berth_strv_free(steal_ptr(v));
    cleanup_free char *hi = xasprintf("%s~", what);
    if (db_collect_strings(db, &v, err, "SELECT id FROM networks WHERE id >= ? AND id < ? ORDER BY id", "ss",
                           what, hi) < 0)
      return -1;
  }
  *ids = steal_ptr(v);
  return 0;
}

int berth_db_network_list(struct berth_db *db, struct berth_db_network **out, size_t *n, berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "SELECT " NETWORK_COLUMNS " FROM networks ORDER BY name", "") < 0)
    return -1;
  struct berth_db_network *v = NULL;
  size_t k = 0;
  int r;
  while ((r = db_step(db, st, err)) > 0) {
    v = xreallocarray(v, k + 1, sizeof *v);
    read_network(st, &v[k++]);
  }
  if (r < 0) {
    berth_db_network_list_free(v, k);
    return -1;
  }
  *out = v ? v : xcalloc(1, sizeof *v);
  *n = k;
  return 0;
}

int berth_db_network_delete(struct berth_db *db, const char *id, berth_error_t *err)
{
  if (db_require_tx(db, "delete network", err) < 0)
    return -1;
  int r = db_exec(db, err, "DELETE FROM networks WHERE id = ?", "s", id);
  return r < 0 ? berth_error_wrap(err, "delete network `%.12s`", id) : r > 0;
}

int berth_db_network_users(struct berth_db *db, const char *id, char ***ids, berth_error_t *err)
{
  return db_collect_strings(
    db, ids, err, "SELECT container_id FROM network_attachments WHERE network_id = ? ORDER BY 1", "s", id);
}

/* ---- attachments ---- */

void berth_db_attachments_free(struct berth_db_attachment *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++) {
    free(v[i].aliases);
    free(v[i].ip);
    free(v[i].ip6);
    free(v[i].mac);
  }
  free(v);
}

int berth_db_attachment_put(struct berth_db *db, const struct berth_db_attachment *a, berth_error_t *err)
{
  if (db_require_tx(db, "attach container", err) < 0)
    return -1;
  int64_t have = 0;
  if (db_query_i64(db, &have, err,
                   "SELECT count(*) FROM network_attachments WHERE container_id = ? AND network_id = ?", "ss",
                   a->container_id, a->network_id) < 0)
    return -1;
  if (have)
    return BERTH_ERR(err, "container `%.12s` is already connected to network `%.12s`", a->container_id,
                     a->network_id);
  if (db_exec(db, err,
              "INSERT INTO network_attachments(container_id, network_id, idx, aliases, ip, ip6, mac)"
              " VALUES (?, ?, ?, ?, ?, ?, ?)",
              "ssissss", a->container_id, a->network_id, a->idx, nz(a->aliases), nz(a->ip), nz(a->ip6),
              nz(a->mac)) < 0)
    return berth_error_wrap(err, "attach container `%.12s` to network `%.12s`", a->container_id,
                            a->network_id);
  return 0;
}

int berth_db_attachment_delete(struct berth_db *db, const char *container_id, const char *network_id,
                               berth_error_t *err)
{
  if (db_require_tx(db, "detach container", err) < 0)
    return -1;
  int r = db_exec(db, err, "DELETE FROM network_attachments WHERE container_id = ? AND network_id = ?", "ss",
                  container_id, network_id);
  return r < 0 ? -1 : r > 0;
}

int berth_db_attachments_of(struct berth_db *db, const char *container_id, struct berth_db_attachment **out,
                            size_t *n, berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err,
                 "SELECT container_id, network_id, idx, aliases, ip, ip6, mac FROM network_attachments"
                 " WHERE container_id = ? ORDER BY idx",
                 "s", container_id) < 0)
    return -1;
  struct berth_db_attachment *v = NULL;
  size_t k = 0;
  int r;
  while ((r = db_step(db, st, err)) > 0) {
    v = xreallocarray(v, k + 1, sizeof *v);
    struct berth_db_attachment *a = &v[k++];
    memset(a, 0, sizeof *a);
    snprintf(a->container_id, sizeof a->container_id, "%s", sqlite3_column_text(st, 0));
    snprintf(a->network_id, sizeof a->network_id, "%s", sqlite3_column_text(st, 1));
    a->idx = sqlite3_column_int64(st, 2);
    a->aliases = db_col_strdup(st, 3);
    a->ip = db_col_strdup(st, 4);
    a->ip6 = db_col_strdup(st, 5);
    a->mac = db_col_strdup(st, 6);
  }
  if (r < 0) {
    berth_db_attachments_free(v, k);
    return -1;
  }
  *out = v ? v : xcalloc(1, sizeof *v);
  *n = k;
  return 0;
}

/* ---- leases ---- */

void berth_db_leases_free(struct berth_db_lease *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++) {
    free(v[i].address);
    free(v[i].ifname);
    free(v[i].host_if);
    free(v[i].mac);
  }
  free(v);
}

int berth_db_lease_put(struct berth_db *db, const struct berth_db_lease *l, berth_error_t *err)
{
  if (db_require_tx(db, "lease address", err) < 0)
    return -1;
  int64_t have = 0;
  if (db_query_i64(db, &have, err, "SELECT count(*) FROM network_leases WHERE network_id = ? AND address = ?",
                   "ss", l->network_id, l->address) < 0)
    return -1;
  if (have)
    return BERTH_ERR(err, "address %s is already in use on network `%.12s`", l->address, l->network_id);
  if (db_exec(db, err,
              "INSERT INTO network_leases(network_id, address, container_id, ifname, host_if, mac, created)"
              " VALUES (?, ?, ?, ?, ?, ?, ?)",
              "ssssssi", l->network_id, l->address, l->container_id, nz(l->ifname), nz(l->host_if),
              nz(l->mac), l->created) < 0)
    return berth_error_wrap(err, "lease address %s", l->address);
  return 0;
}

int berth_db_leases(struct berth_db *db, const char *network_id, const char *container_id,
                    struct berth_db_lease **out, size_t *n, berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err,
                 "SELECT network_id, address, container_id, ifname, host_if, mac, created FROM network_leases"
                 " WHERE (?1 IS NULL OR network_id = ?1) AND (?2 IS NULL OR container_id = ?2)"
                 " ORDER BY container_id, ifname, address",
                 "ss", network_id, container_id) < 0)
    return -1;
  struct berth_db_lease *v = NULL;
  size_t k = 0;
  int r;
  while ((r = db_step(db, st, err)) > 0) {
    v = xreallocarray(v, k + 1, sizeof *v);
    struct berth_db_lease *l = &v[k++];
    memset(l, 0, sizeof *l);
    snprintf(l->network_id, sizeof l->network_id, "%s", sqlite3_column_text(st, 0));
    l->address = db_col_strdup(st, 1);
    snprintf(l->container_id, sizeof l->container_id, "%s", sqlite3_column_text(st, 2));
    l->ifname = db_col_strdup(st, 3);
    l->host_if = db_col_strdup(st, 4);
    l->mac = db_col_strdup(st, 5);
    l->created = sqlite3_column_int64(st, 6);
  }
  if (r < 0) {
    berth_db_leases_free(v, k);
    return -1;
  }
  *out = v ? v : xcalloc(1, sizeof *v);
  *n = k;
  return 0;
}

int berth_db_leases_delete(struct berth_db *db, const char *container_id, const char *network_id,
                           berth_error_t *err)
{
  if (db_require_tx(db, "release addresses", err) < 0)
    return -1;
  return db_exec(db, err,
                 "DELETE FROM network_leases WHERE container_id = ?1 AND (?2 IS NULL OR network_id = ?2)",
                 "ss", container_id, network_id);
}

/* ---- published ports ---- */

void berth_db_ports_free(struct berth_db_port *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++) {
    free(v[i].host_ip);
    free(v[i].proto);
  }
  free(v);
}

int berth_db_port_put(struct berth_db *db, const struct berth_db_port *p, berth_error_t *err)
{
  if (db_require_tx(db, "publish port", err) < 0)
    return -1;
  if (db_exec(db, err,
              "INSERT INTO port_mappings(container_id, host_ip, host_port, container_port, proto)"
              " VALUES (?, ?, ?, ?, ?)",
              "ssiis", p->container_id, nz(p->host_ip), p->host_port, p->container_port, p->proto) < 0)
    return berth_error_wrap(err, "publish port %lld/%s", (long long) p->host_port, p->proto);
  return 0;
}

int berth_db_ports(struct berth_db *db, const char *container_id, struct berth_db_port **out, size_t *n,
                   berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err,
                 "SELECT container_id, host_ip, host_port, container_port, proto FROM port_mappings"
                 " WHERE ?1 IS NULL OR container_id = ?1 ORDER BY container_port, proto, host_ip, host_port",
                 "s", container_id) < 0)
    return -1;
  struct berth_db_port *v = NULL;
  size_t k = 0;
  int r;
  while ((r = db_step(db, st, err)) > 0) {
    v = xreallocarray(v, k + 1, sizeof *v);
    struct berth_db_port *p = &v[k++];
    memset(p, 0, sizeof *p);
    snprintf(p->container_id, sizeof p->container_id, "%s", sqlite3_column_text(st, 0));
    p->host_ip = db_col_strdup(st, 1);
    p->host_port = sqlite3_column_int64(st, 2);
    p->container_port = sqlite3_column_int64(st, 3);
    p->proto = db_col_strdup(st, 4);
  }
  if (r < 0) {
    berth_db_ports_free(v, k);
    return -1;
  }
  *out = v ? v : xcalloc(1, sizeof *v);
  *n = k;
  return 0;
}

int berth_db_ports_delete(struct berth_db *db, const char *container_id, berth_error_t *err)
{
  if (db_require_tx(db, "unpublish ports", err) < 0)
    return -1;
  return db_exec(db, err, "DELETE FROM port_mappings WHERE container_id = ?", "s", container_id);
}
