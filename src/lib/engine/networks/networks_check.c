/* system check of networking: what a kill -9 in the middle of a setup or teardown can leave —
 * leases of containers that are not running, veths without a lease, bridges without a
 * container, table inet berth out of step, resolvers without containers (and the reverse). */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/networks/networks_internal.h"

struct nc {
  struct berth_engine *e;
  bool repair;
  struct berth_check_problem **v;
  size_t *n;
  struct berth_db_lease *leases;
  size_t n_leases;
  struct berth_network *nets;
  size_t n_nets;
};

static void problem(struct nc *c, bool repaired, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(struct nc *c, bool repairable, bool repaired, char *what)
{
  *c->v = xreallocarray(*c->v, *c->n + 1, sizeof **c->v);
  (*c->v)[(*c->n)++] =
    (struct berth_check_problem){ .what = what, .repairable = repairable, .repaired = repaired };
}

static void problem(struct nc *c, bool repaired, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    berth_oom();
  va_end(ap);
  *c->v = xreallocarray(*c->v, *c->n + 1, sizeof **c->v);
  (*c->v)[(*c->n)++] = (struct berth_check_problem){ .what = s, .repairable = true, .repaired = repaired };
}

static bool has_lease(const struct nc *c, const char *network_id, const char *host_if)
{
  for (size_t i = 0; i < c->n_leases; i++)
    if ((network_id == NULL || strcmp(c->leases[i].network_id, network_id) == 0) &&
        (host_if == NULL || strcmp(c->leases[i].host_if, host_if) == 0))
      return true;
  return false;
}

static BERTH_WUR int reload(struct nc *c, berth_error_t *err)
{
  berth_db_leases_free(c->leases, c->n_leases);
  c->leases = NULL;
  c->n_leases = 0;
  return berth_db_leases(c->e->db, NULL, NULL, &c->leases, &c->n_leases, err);
}

/* leases of containers whose monitor is gone */
static BERTH_WUR int stale_leases(struct nc *c, berth_error_t *err)
{
  cleanup_strv char **done = xcalloc(1, sizeof(char *));
  for (size_t i = 0; i < c->n_leases; i++) {
    const char *id = c->leases[i].container_id;
    bool seen = false;
    for (char **p = done; *p && !seen; p++)
      seen = strcmp(*p, id) == 0;
    struct berth_db_container row;
    berth_error_t ignore = NULL;
    int r = seen ? -1 : berth_db_container_get(c->e->db, id, &row, &ignore);
    berth_error_release(&ignore);
    if (r < 0)
      continue;
    done = berth_strv_append(done, id);
    bool alive = r > 0 && net_monitor_alive(&row);
    if (r > 0)
      berth_db_container_release(&row);
    if (alive)
      continue;
    bool fixed = c->repair && net_teardown_locked(c->e, id, NULL, false, err) == 0;
    if (c->repair && !fixed)
      return -1;
    problem(c, fixed, "network addresses of container `%.12s` leased while it is not running", id);
  }
  return reload(c, err);
}

static BERTH_WUR int links(struct nc *c, berth_error_t *err)
{
  cleanup_strv char **veths = NULL, **bridges = NULL;
  /* (a veth that is down belongs to a namespace going away: the kernel removes it) */
  if (berth_net_links_list("bv", true, &veths, err) < 0 ||
      berth_net_links_list("berth", false, &bridges, err) < 0)
    return -1;
  for (char **p = veths; *p; p++) {
    if (has_lease(c, NULL, *p))
      continue;
    berth_error_t e = NULL;
    bool fixed = c->repair && berth_net_link_delete(*p, &e) == 0;
    berth_error_release(&e);
    problem(c, fixed, "veth `%s` without an address lease", *p);
  }
  for (char **p = bridges; *p; p++) { /* a network's bridge lives as long as the network */
    bool owned = false;
    for (size_t i = 0; i < c->n_nets && !owned; i++)
      owned = strcmp(c->nets[i].row.bridge, *p) == 0;
    if (owned)
      continue;
    bool removed = false;
    berth_ignore(c->repair && berth_net_bridge_remove_unused(*p, &removed, BERTH_IGNORED));
    problem(c, removed, "bridge `%s` of no network", *p);
  }
  return 0;
}

static BERTH_WUR int table(struct nc *c, berth_error_t *err)
{
  bool exists = false;
  if (berth_net_nft_table_exists(&exists, err) < 0)
    return -1;
  bool want = c->n_leases > 0;
  if (exists == want && !c->repair)
    return 0;
  bool fixed = c->repair && net_rules_apply(c->e, true, err) == 0;
  if (c->repair && !fixed)
    return -1;
  if (exists != want)
    problem(c, fixed,
            want ? "nftables table inet berth is missing" : "nftables table inet berth without a container");
  return 0;
}

static BERTH_WUR int resolvers(struct nc *c, berth_error_t *err)
{
  cleanup_free char *dir = xasprintf("%s/networks", c->e->runroot);
  cleanup_dir DIR *d = opendir(dir);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    if (strlen(de->d_name) != 64)
      continue;
    if (has_lease(c, de->d_name, NULL)) {
      if (!net_resolver_alive(c->e, de->d_name))
        note(c, false, false,
             xasprintf("resolver of network `%.12s` is not running (the next container on it starts it)",
                       de->d_name));
      continue;
    }
    bool alive = net_resolver_alive(c->e, de->d_name);
    if (c->repair)
      net_names_forget(c->e, de->d_name);
    problem(c, c->repair, "%s of network `%.12s` without a running container",
            alive ? "resolver" : "names file", de->d_name);
  }
  (void) err;
  return 0;
}

int berth_networks_check(struct berth_engine *e, bool repair, struct berth_check_problem **v, size_t *n,
                         berth_error_t *err)
{
  struct nc c = { .e = e, .repair = repair, .v = v, .n = n };
  cleanup_close int lock = net_lock(e, err);
  int r = lock < 0 ? -1 : 0;
  if (r == 0)
    r = berth_networks_list(e, &c.nets, &c.n_nets, err) < 0 || reload(&c, err) < 0 ? -1 : 0;
  if (r == 0)
    r = stale_leases(&c, err) < 0 || links(&c, err) < 0 || table(&c, err) < 0 || resolvers(&c, err) < 0 ? -1
                                                                                                        : 0;
  berth_db_leases_free(c.leases, c.n_leases);
  berth_networks_list_free(c.nets, c.n_nets);
  return r < 0 ? berth_error_wrap(err, "check networks") : 0;
}
