/* berth-dns: answers the names of one network's containers on its gateway addresses and
 * forwards every other query upstream.
 *
 *   berth-dns --names FILE --listen ADDR [--listen ADDR6] [--port N]
 *             [--upstream ADDR | ADDR:PORT | [ADDR6]:PORT]... [--resolv-conf FILE] [--ready-fd N]
 *
 * Without --upstream the nameservers of --resolv-conf (/etc/resolv.conf) are the upstreams. It
 * ends on SIGTERM or when FILE is removed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "net/net.h"

static int usage(void)
{
  fprintf(
    stderr,
    "usage: berth-dns --names FILE --listen ADDR [--listen ADDR6] [--port N] [--upstream ADDR[:PORT]]...\n"
    "                 [--resolv-conf FILE] [--ready-fd N]\n");
  return 2;
}

static bool is_listen(const struct berth_dns_server_opts *o, const struct berth_net_addr *a)
{
  for (size_t i = 0; i < o->n_listen; i++)
    if (berth_net_addr_eq(&o->listen[i], a))
      return true;
  return false;
}

static int from_resolv_conf(struct berth_dns_server_opts *o, const char *path, berth_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len;
  if (berth_read_file(path, 1 << 20, &text, &len, err) < 0)
    return -1;
  struct berth_net_addr found[8];
  size_t n = berth_dns_resolv_nameservers(text, found, 8);
  for (size_t i = 0; i < n && o->n_upstream < 3; i++)
    if (!is_listen(o, &found[i])) { /* never ourselves: a loop */
      o->upstream[o->n_upstream] = found[i];
      o->upstream_port[o->n_upstream++] = 53;
    }
  return 0;
}

static int parse_args(int argc, char **argv, struct berth_dns_server_opts *o, const char **resolv,
                      berth_error_t *err)
{
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    int n = 0;
    if (v == NULL)
      return BERTH_ERR(err, "%s: a value is missing", a);
    i++;
    if (strcmp(a, "--names") == 0) {
      o->names_path = v;
    } else if (strcmp(a, "--listen") == 0) {
      if (o->n_listen == 2 || berth_net_addr_parse(v, &o->listen[o->n_listen++], err) < 0)
        return *err ? -1 : BERTH_ERR(err, "--listen: at most two addresses");
    } else if (strcmp(a, "--upstream") == 0) {
      if (o->n_upstream == 3)
        return BERTH_ERR(err, "--upstream: at most three");
      if (berth_net_addr_port_parse(v, 53, &o->upstream[o->n_upstream], &o->upstream_port[o->n_upstream],
                                    err) < 0)
        return -1;
      o->n_upstream++;
    } else if (strcmp(a, "--port") == 0 && berth_parse_int(v, &n) == 0 && n > 0 && n < 65536) {
      o->port = (uint16_t) n;
    } else if (strcmp(a, "--ready-fd") == 0 && berth_parse_int(v, &n) == 0 && n > 2) {
      o->ready_fd = n;
    } else if (strcmp(a, "--resolv-conf") == 0) {
      *resolv = v;
    } else {
      return BERTH_ERR(err, "unknown option or bad value: %s %s", a, v);
    }
  }
  if (o->names_path == NULL || o->n_listen == 0)
    return BERTH_ERR(err, "--names and --listen are required");
  return 0;
}

int main(int argc, char **argv)
{
  struct berth_dns_server_opts o = { .port = 53, .ready_fd = -1 };
  const char *resolv = "/etc/resolv.conf";
  berth_error_t err = NULL;
  if (argc < 2)
    return usage();
  if (parse_args(argc, argv, &o, &resolv, &err) < 0 ||
      (o.n_upstream == 0 && from_resolv_conf(&o, resolv, &err) < 0)) {
    if (o.ready_fd >= 0)
      dprintf(o.ready_fd, "%s\n", err->msg);
    fprintf(stderr, "berth-dns: %s\n", err->msg);
    berth_error_release(&err);
    return 2;
  }
  if (berth_dns_serve(&o, &err) < 0) {
    fprintf(stderr, "berth-dns: %s\n", err->msg);
    berth_error_release(&err);
    return 1;
  }
  return 0;
}
