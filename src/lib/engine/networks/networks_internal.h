/* Internal to engine/networks/. */
#ifndef BERTH_ENGINE_NETWORKS_INTERNAL_H
#define BERTH_ENGINE_NETWORKS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "engine/networks/networks.h"

int net_parse_row(struct berth_network *n, berth_error_t *err) BERTH_WUR;
/* the network of id, parsed: 1, 0 absent */
int net_load_id(struct berth_engine *e, const char *id, struct berth_network *out,
                berth_error_t *err) BERTH_WUR;
int64_t net_now(void);
/* v joined by sep (never NULL) */
char *net_join(char *const *v, const char *sep);

/* the lock of shared networking state (<runroot>/networks.lock): its fd, waited for */
int net_lock(struct berth_engine *e, berth_error_t *err) BERTH_WUR;
/* <runroot>/networks/<id> (the names file and the resolver's pid) */
char *net_state_dir(struct berth_engine *e, const char *network_id);

/* Table inet berth from every lease and port of the catalogue, applied unless it is what was
 * applied last (force: always). Under net_lock. */
int net_rules_apply(struct berth_engine *e, bool force, berth_error_t *err) BERTH_WUR;
/* The names file of network n from its leases; its resolver started (helper) or stopped when
 * no container is left. Under net_lock. */
int net_names_update(struct berth_engine *e, const struct berth_network *n, const char *helper,
                     berth_error_t *err) BERTH_WUR;
/* the names file and the resolver of a network that is gone */
void net_names_forget(struct berth_engine *e, const char *network_id);
/* is the resolver of the network running (pid and start time of its pid file) */
bool net_resolver_alive(struct berth_engine *e, const char *network_id);

/* the mappings the container asked for (PortBindings, PublishAllPorts + ExposedPorts) */
int net_ports_wanted(json_t *config, json_t *host_config, struct berth_net_port **out, size_t *n,
                     berth_error_t *err) BERTH_WUR;
/* resolve and record them (rows; inside the caller's transaction) */
int net_ports_publish(struct berth_engine *e, const struct berth_networks_ctr *c,
                      berth_error_t *err) BERTH_WUR;
/* everything of container id's networking (veths, rows, names, table); under net_lock. ns_gone:
 * its namespace is going away, its veths are only set down (the kernel removes them with it) */
int net_teardown_locked(struct berth_engine *e, const char *id, const char *helper, bool ns_gone,
                        berth_error_t *err) BERTH_WUR;
/* the same for one network of the container (network_id; NULL: all of them, and its ports) */
int net_detach_locked(struct berth_engine *e, const char *id, const char *network_id, const char *helper,
                      bool ns_gone, berth_error_t *err) BERTH_WUR;
/* leases of self (left by a crash) and of containers whose monitor is gone: torn down */
int net_reclaim(struct berth_engine *e, const char *self, berth_error_t *err) BERTH_WUR;
/* connect: the one attachment a of a running container set up (leases, links, names, table) */
int net_setup_one(struct berth_engine *e, const struct berth_networks_ctr *c,
                  const struct berth_db_attachment *a, berth_error_t *err) BERTH_WUR;
/* hosts and resolv.conf of the container for its leased addresses */
int net_files_write(struct berth_engine *e, const struct berth_networks_ctr *c,
                    const struct berth_network *nets, const struct berth_net_attachment *links, size_t n,
                    berth_error_t *err) BERTH_WUR;

/* is the monitor recorded in the row still that process (the containers room's rule, from /proc) */
bool net_monitor_alive(const struct berth_db_container *row);
/* is pid still the process that started at start (field 22 of its stat); its start time (-1) */
bool net_pid_alive(pid_t pid, int64_t start);
int64_t net_pid_start(pid_t pid);
/* tests only: BERTH_TEST_NET_STOP=<step> stops this process there (SIGSTOP), so that a kill -9
 * in the middle of a setup or teardown is deterministic (tests/integration/network_errors.bats) */
void net_test_stop(const char *step);
/* the host veth of a container's attachment idx: "bv" + 9 hex of its id + "-" + idx */
void net_host_if(const char *container_id, int64_t idx, char out[BERTH_NET_IFNAMSIZ]);

#endif
