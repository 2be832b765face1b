/* The nftables executor: one libnftables transaction replaces table inet berth and our rules in
 * iptables' FORWARD chains. No `nft` binary: libnftables in process (DESIGN.md §3). */
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "net/net.h"

static BERTH_WUR struct nft_ctx *ctx_new(bool json, berth_error_t *err)
{
  struct nft_ctx *c = nft_ctx_new(NFT_CTX_DEFAULT);
  if (c == NULL) {
    BERTH_ERR(err, "nftables: cannot make a libnftables context");
    return NULL;
  }
  if (nft_ctx_buffer_output(c) < 0 || nft_ctx_buffer_error(c) < 0) {
    nft_ctx_free(c);
    BERTH_ERR(err, "nftables: cannot buffer libnftables' output");
    return NULL;
  }
  if (json)
    nft_ctx_output_set_flags(c, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
  return c;
}

/* The context of the last transaction, freed when the next one starts (or at exit): closing a
 * netfilter netlink socket runs nf_tables' NETLINK_URELEASE notifier, which first flushes the
 * deferred destruction of what the last commit removed (the old table: an RCU grace period,
 * 4-8 ms here). Closed later, that work is long done: `berth run` sets up, starts the container,
 * and only then tears down. The socket is libmnl's, without SOCK_CLOEXEC; every child berth
 * starts closes its descriptors from 3 up (base/child), so none inherits it. */
static struct nft_ctx *held;

static void release_held(void)
{
  if (held)
    nft_ctx_free(held);
  held = NULL;
}

/* libnftables' error text, trimmed to its first line with content */
static BERTH_WUR int nft_error(struct nft_ctx *c, const char *what, berth_error_t *err)
{
  const char *e = nft_ctx_get_error_buffer(c);
  size_t n = e ? strcspn(e, "\n") : 0;
  return BERTH_ERR(err, "nftables: %s: %.*s", what, (int) (n ? n : 7), n ? e : "failed");
}

/* iptables' FORWARD chain of family k (ip, ip6), when there is one */
static BERTH_WUR int list_forward(struct nft_ctx *c, int k, struct berth_net_foreign *f, berth_error_t *err)
{
  static const char *const cmd[2] = { "list chain ip filter FORWARD", "list chain ip6 filter FORWARD" };
  if (nft_run_cmd_from_buffer(c, cmd[k]) != 0)
    return 0; /* no such table or chain: nothing to coexist with */
  return berth_net_foreign_parse(k, nft_ctx_get_output_buffer(c), f, err);
}

int berth_net_nft_apply(const char *script, const char *const *bridges, size_t n_bridges, berth_error_t *err)
{
  release_held();
  struct nft_ctx *lc = ctx_new(true, err);
  if (lc == NULL)
    return -1;
  struct berth_net_foreign f;
  memset(&f, 0, sizeof f);
  int r = 0;
  for (int k = 0; k < 2 && r == 0; k++)
    r = list_forward(lc, k, &f, err);
  nft_ctx_free(lc);
  if (r < 0) {
    berth_net_foreign_free(&f);
    return -1;
  }
  char *foreign = berth_net_foreign_render(&f, bridges, n_bridges);
  berth_net_foreign_free(&f);
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_puts(&b, script);
  berth_strbuf_puts(&b, foreign);
  free(foreign);
  struct nft_ctx *c = ctx_new(false, err);
  if (c == NULL) {
    berth_strbuf_release(&b);
    return -1;
  }
  if (nft_run_cmd_from_buffer(c, b.buf) != 0)
    r = nft_error(c, "apply berth's ruleset", err);
  held = c;
  berth_strbuf_release(&b);
  return r;
}

int berth_net_nft_table_exists(bool *exists, berth_error_t *err)
{
  release_held();
  struct nft_ctx *c = ctx_new(false, err);
  if (c == NULL)
    return -1;
  *exists = nft_run_cmd_from_buffer(c, "list table inet " BERTH_NET_NFT_TABLE) == 0;
  nft_ctx_free(c);
  return 0;
}
