/* The container's /etc/hosts and /etc/resolv.conf once its addresses are known (Docker writes
 * them at start too): create wrote them without; the first setup keeps those as hosts.base and
 * resolv.conf.base, and every setup writes base + what this start leased. Written in place: the
 * files are bind-mounted (a running container sees a connect's change). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/networks/networks_internal.h"

/* the base text of dir/name: name.base, made from name the first time */
static BERTH_WUR char *base_of(const char *dir, const char *name, berth_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/%s", dir, name), *base = xasprintf("%s/%s.base", dir, name);
  char *text = NULL;
  berth_error_t e = NULL;
  if (berth_read_file(base, 1 << 20, &text, NULL, &e) == 0)
    return text;
  berth_error_release(&e);
  if (berth_read_file(path, 1 << 20, &text, NULL, err) < 0)
    return NULL;
  if (berth_write_file_atomic(base, text, strlen(text), 0644, err) < 0) {
    free(text);
    return NULL;
  }
  return text;
}

static BERTH_WUR int write_in_place(const char *dir, const char *name, const char *text, berth_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  return berth_write_file_at(AT_FDCWD, path, text, strlen(text), err);
}

/* resolv.conf for a network with a resolver: the base's search, the gateways, the base's options */
static char *resolv_for(const char *base, const struct berth_network *n)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT, opts = BERTH_STRBUF_INIT;
  char a[BERTH_NET_ADDRSTRLEN];
  cleanup_free char *copy = xstrdup(base);
  char *save = NULL;
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    if (strncmp(line, "search ", 7) == 0)
      berth_strbuf_printf(&b, "%s\n", line);
    else if (strncmp(line, "options ", 8) == 0)
      berth_strbuf_printf(&opts, "%s\n", line);
  for (size_t i = 0; i < n->n_subnets; i++)
    if (n->gateway[i].family)
      berth_strbuf_printf(&b, "nameserver %s\n", berth_net_addr_str(&n->gateway[i], a));
  if (opts.len)
    berth_strbuf_puts(&b, opts.buf);
  berth_strbuf_release(&opts);
  return berth_strbuf_detach(&b);
}

int net_files_write(struct berth_engine *e, const struct berth_networks_ctr *c,
                    const struct berth_network *nets, const struct berth_net_attachment *links, size_t n,
                    berth_error_t *err)
{
  (void) e;
  if (c->dir == NULL || n == 0)
    return 0;
  cleanup_free char *hosts = base_of(c->dir, "hosts", err);
  if (hosts == NULL)
    return -1;
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_puts(&b, hosts);
  char a[BERTH_NET_ADDRSTRLEN];
  for (size_t k = 0; k < nets[0].n_subnets; k++) /* Docker: the first network's addresses */
    berth_strbuf_printf(&b, "%s\t%s\n", berth_net_addr_str(&links[0].addr[k], a),
                        c->hostname ? c->hostname : "");
  int r = write_in_place(c->dir, "hosts", b.buf, err);
  berth_strbuf_release(&b);
  if (r < 0 || !nets[0].row.dns)
    return r;
  cleanup_free char *resolv = base_of(c->dir, "resolv.conf", err);
  if (resolv == NULL)
    return -1;
  cleanup_free char *text = resolv_for(resolv, &nets[0]);
  return write_in_place(c->dir, "resolv.conf", text, err);
}
