/* The resolver of a user network: its names file (<runroot>/networks/<id>/names, one line per
 * container with a lease: addresses, name, short id, aliases) and its berth-dns process, started
 * when the first container comes and stopped with the last. The resolver also ends by itself
 * when the file goes, so a lost pid file cannot leave one running. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/child.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/networks/networks_internal.h"

/* one line for container id: its addresses on this network, its name, short id, aliases */
static void names_line(struct berth_engine *e, const char *network_id, const struct berth_db_lease *v,
                       size_t n, size_t first, struct berth_strbuf *b)
{
  const char *id = v[first].container_id;
  for (size_t i = first; i < n && strcmp(v[i].container_id, id) == 0; i++)
    berth_strbuf_printf(b, "%s%s", i == first ? "" : " ", v[i].address);
  struct berth_db_container c;
  berth_error_t ignore = NULL;
  if (berth_db_container_get(e->db, id, &c, &ignore) > 0) {
    if (berth_dns_name_valid(c.name))
      berth_strbuf_printf(b, " %s", c.name);
    berth_db_container_release(&c);
  }
  berth_error_release(&ignore);
  berth_strbuf_printf(b, " %.12s", id);
  struct berth_db_attachment *a = NULL;
  size_t na = 0;
  if (berth_db_attachments_of(e->db, id, &a, &na, &ignore) == 0)
    for (size_t i = 0; i < na; i++)
      if (strcmp(a[i].network_id, network_id) == 0 && a[i].aliases[0])
        berth_strbuf_printf(b, " %s", a[i].aliases);
  berth_error_release(&ignore);
  berth_db_attachments_free(a, na);
  berth_strbuf_putc(b, '\n');
}

static char *pid_path(const char *dir) { return xasprintf("%s/pid", dir); }

bool net_resolver_alive(struct berth_engine *e, const char *network_id)
{
  cleanup_free char *dir = net_state_dir(e, network_id), *path = pid_path(dir), *text = NULL;
  berth_error_t ignore = NULL;
  long long pid = 0, start = 0;
  if (berth_read_file(path, 256, &text, NULL, &ignore) < 0) {
    berth_error_release(&ignore);
    return false;
  }
  return sscanf(text, "%lld %lld", &pid, &start) == 2 && net_pid_alive((pid_t) pid, start);
}

static void stop_resolver(struct berth_engine *e, const char *network_id)
{
  cleanup_free char *dir = net_state_dir(e, network_id), *path = pid_path(dir), *text = NULL;
  cleanup_free char *names = xasprintf("%s/names", dir);
  berth_error_t ignore = NULL;
  (void) unlink(names); /* the resolver ends by itself when its names file goes */
  long long pid = 0, start = 0;
  if (berth_read_file(path, 256, &text, NULL, &ignore) == 0 && sscanf(text, "%lld %lld", &pid, &start) == 2 &&
      net_pid_alive((pid_t) pid, start))
    (void) kill((pid_t) pid, SIGTERM);
  berth_error_release(&ignore);
  (void) unlink(path);
  cleanup_free char *log = xasprintf("%s/resolver.log", dir);
  (void) unlink(log);
  (void) rmdir(dir);
}

void net_names_forget(struct berth_engine *e, const char *network_id) { stop_resolver(e, network_id); }

static char **resolver_argv(const struct berth_network *n, const char *helper, const char *dir)
{
  char **v = berth_strv_append(NULL, helper);
  cleanup_free char *names = xasprintf("%s/names", dir);
  v = berth_strv_append(berth_strv_append(v, "--names"), names);
  char a[BERTH_NET_ADDRSTRLEN + 8];
  for (size_t i = 0; i < n->n_subnets; i++)
    if (n->gateway[i].family)
      v = berth_strv_append(berth_strv_append(v, "--listen"), berth_net_addr_str(&n->gateway[i], a));
  for (size_t i = 0; i < n->n_dns; i++) {
    char h[BERTH_NET_ADDRSTRLEN];
    berth_net_addr_str(&n->dns[i], h);
    snprintf(a, sizeof a, n->dns[i].family == AF_INET6 ? "[%s]:%u" : "%s:%u", h, n->dns_port[i]);
    v = berth_strv_append(berth_strv_append(v, "--upstream"), a);
  }
  return berth_strv_append(berth_strv_append(v, "--ready-fd"), "3");
}

/* the resolver's word on its ready descriptor: "ok", or why it could not listen */
static BERTH_WUR int read_ready(int fd, const char *name, berth_error_t *err)
{
  char buf[1024];
  size_t have = 0;
  for (;;) {
    ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    have += (size_t) n;
    if (have == sizeof buf - 1)
      break;
  }
  buf[have] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  if (strcmp(buf, "ok") == 0)
    return 0;
  return BERTH_ERR(err, "resolver of network `%s`: %s", name, *buf ? buf : "ended before it listened");
}

/* the resolver: a new session, not our child (nothing waits for it), stdio to /dev/null and its
 * log, the ready pipe as fd 3 */
static BERTH_WUR int start_resolver(struct berth_engine *e, const struct berth_network *n, const char *helper,
                                    const char *dir, berth_error_t *err)
{
  if (helper == NULL)
    return BERTH_ERR(err, "resolver of network `%s`: berth-dns not found", n->row.name);
  cleanup_strv char **argv = resolver_argv(n, helper, dir);
  cleanup_free char *log = xasprintf("%s/resolver.log", dir);
  cleanup_close int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lfd < 0)
    return BERTH_ERR_ERRNO(err, "resolver of network `%s`: open `%s`", n->row.name, log);
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return BERTH_ERR_ERRNO(err, "pipe");
  struct berth_child_exec x = {
    .argv = argv, .fds = { -1, -1, lfd, p[1] }, .nfds = 4, .flags = BERTH_CHILD_SETSID | BERTH_CHILD_DETACH
  };
  pid_t pid = -1;
  int r = berth_child_exec(&x, &pid, err);
  close(p[1]);
  if (r < 0)
    r = berth_error_wrap(err, "resolver of network `%s`", n->row.name);
  else
    r = read_ready(p[0], n->row.name, err);
  close(p[0]);
  if (r < 0)
    return -1;
  cleanup_free char *path = pid_path(dir);
  cleanup_free char *text = xasprintf("%d %lld\n", (int) pid, (long long) net_pid_start(pid));
  if (berth_write_file_atomic(path, text, strlen(text), 0600, err) < 0) {
    kill(pid, SIGTERM);
    return -1;
  }
  return 0;
}

int net_names_update(struct berth_engine *e, const struct berth_network *n, const char *helper,
                     berth_error_t *err)
{
  if (!n->row.dns)
    return 0;
  struct berth_db_lease *v = NULL;
  size_t k = 0;
  if (berth_db_leases(e->db, n->row.id, NULL, &v, &k, err) < 0)
    return -1;
  if (k == 0) {
    berth_db_leases_free(v, k);
    stop_resolver(e, n->row.id);
    return 0;
  }
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_printf(&b, "# berth: names of network %s (rewritten as containers come and go)\n",
                      n->row.name);
  for (size_t i = 0; i < k; i++)
    if (i == 0 || strcmp(v[i].container_id, v[i - 1].container_id) != 0)
      names_line(e, n->row.id, v, k, i, &b);
  berth_db_leases_free(v, k);
  cleanup_free char *dir = net_state_dir(e, n->row.id), *names = xasprintf("%s/names", dir);
  int r =
    berth_mkdir_p(dir, 0700, err) < 0 || berth_write_file_atomic(names, b.buf, b.len, 0644, err) < 0 ? -1 : 0;
  berth_strbuf_release(&b);
  if (r == 0 && !net_resolver_alive(e, n->row.id))
    r = start_resolver(e, n, helper, dir, err);
  return r;
}
