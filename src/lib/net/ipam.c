/* IPAM, pure: which address a container gets, which subnet a new network gets. The catalogue
 * holds the leases (one row per address, unique per network), so the caller passes the
 * addresses in use, read in the same transaction that records the new one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/xalloc.h"
#include "net/net.h"

static bool is_reserved(const struct berth_ipam_pool *p, const struct berth_net_addr *a)
{
  struct berth_net_addr last;
  berth_net_prefix_last(&p->subnet, &last);
  if (berth_net_addr_eq(a, &p->subnet.addr))
    return true; /* the network address (IPv6: the subnet-router anycast address) */
  if (a->family == AF_INET && berth_net_addr_eq(a, &last))
    return true; /* broadcast */
  return p->gateway.family != 0 && berth_net_addr_eq(a, &p->gateway);
}

int berth_ipam_default_gateway(const struct berth_net_prefix *subnet, struct berth_net_addr *out,
                               berth_error_t *err)
{
  char s[BERTH_NET_PREFIXSTRLEN];
  unsigned max = (unsigned) berth_net_addr_len(&subnet->addr) * 8;
  if (subnet->addr.family == 0 || (unsigned) subnet->len + 2 > max ||
      berth_net_prefix_nth(subnet, 1, out) < 0)
    return BERTH_ERR(err, "subnet %s is too small for a gateway and a container",
                     berth_net_prefix_str(subnet, s));
  return 0;
}

int berth_ipam_pool_check(const struct berth_ipam_pool *p, berth_error_t *err)
{
  char s[BERTH_NET_PREFIXSTRLEN], r[BERTH_NET_PREFIXSTRLEN], g[BERTH_NET_ADDRSTRLEN];
  const struct berth_net_prefix *sub = &p->subnet;
  unsigned max = (unsigned) berth_net_addr_len(&sub->addr) * 8;
  berth_net_prefix_str(sub, s);
  if (sub->addr.family == 0)
    return BERTH_ERR(err, "no subnet");
  if ((unsigned) sub->len + 2 > max)
    return BERTH_ERR(err, "subnet %s is too small for a gateway and a container", s);
  if (p->range.addr.family != 0 && (p->range.addr.family != sub->addr.family || p->range.len < sub->len ||
                                    !berth_net_prefix_contains(sub, &p->range.addr)))
    return BERTH_ERR(err, "ip range %s is not inside subnet %s", berth_net_prefix_str(&p->range, r), s);
  if (p->gateway.family == 0)
    return 0;
  berth_net_addr_str(&p->gateway, g);
  if (!berth_net_prefix_contains(sub, &p->gateway))
    return BERTH_ERR(err, "gateway %s is not inside subnet %s", g, s);
  struct berth_ipam_pool nogw = *p;
  nogw.gateway.family = 0;
  if (is_reserved(&nogw, &p->gateway))
    return BERTH_ERR(err, "gateway %s is the network or broadcast address of subnet %s", g, s);
  return 0;
}

static int cmp_addr(const void *a, const void *b) { return berth_net_addr_cmp(a, b); }

int berth_ipam_pick(const struct berth_ipam_pool *p, const struct berth_net_addr *used, size_t n_used,
                    struct berth_net_addr *out, berth_error_t *err)
{
  const struct berth_net_prefix *range = p->range.addr.family ? &p->range : &p->subnet;
  /* sorted copy of the addresses of this family: the walk below skips each at most once */
  struct berth_net_addr *sorted = xcalloc(n_used ? n_used : 1, sizeof *sorted);
  size_t n = 0;
  for (size_t i = 0; i < n_used; i++)
    if (used[i].family == range->addr.family)
      sorted[n++] = used[i];
  qsort(sorted, n, sizeof *sorted, cmp_addr);
  struct berth_net_addr a = range->addr;
  size_t j = 0;
  int r = -1;
  for (;;) {
    while (j < n && berth_net_addr_cmp(&sorted[j], &a) < 0)
      j++;
    bool taken = (j < n && berth_net_addr_eq(&sorted[j], &a)) || is_reserved(p, &a);
    if (!taken) {
      *out = a;
      r = 0;
      break;
    }
    if (!berth_net_addr_next(&a) || !berth_net_prefix_contains(range, &a))
      break;
  }
  free(sorted);
  if (r < 0) {
    char s[BERTH_NET_PREFIXSTRLEN];
    return BERTH_ERR(err, "no free address left in %s", berth_net_prefix_str(range, s));
  }
  return 0;
}

int berth_ipam_check_static(const struct berth_ipam_pool *p, const struct berth_net_addr *want,
                            const struct berth_net_addr *used, size_t n_used, berth_error_t *err)
{
  char a[BERTH_NET_ADDRSTRLEN], s[BERTH_NET_PREFIXSTRLEN];
  berth_net_addr_str(want, a);
  berth_net_prefix_str(&p->subnet, s);
  if (!berth_net_prefix_contains(&p->subnet, want))
    return BERTH_ERR(err, "address %s is not inside subnet %s", a, s);
  if (is_reserved(p, want))
    return BERTH_ERR(err, "address %s is reserved in subnet %s (network, broadcast or gateway)", a, s);
  for (size_t i = 0; i < n_used; i++)
    if (berth_net_addr_eq(&used[i], want))
      return BERTH_ERR(err, "address %s is already in use", a);
  return 0;
}

int berth_ipam_pick_subnet(const struct berth_net_prefix *pool, unsigned len,
                           const struct berth_net_prefix *taken, size_t n_taken, struct berth_net_prefix *out,
                           berth_error_t *err)
{
  char s[BERTH_NET_PREFIXSTRLEN];
  unsigned max = (unsigned) berth_net_addr_len(&pool->addr) * 8;
  if (len < pool->len || len > max || len - pool->len > 16)
    return BERTH_ERR(err, "cannot cut /%u subnets out of %s", len, berth_net_prefix_str(pool, s));
  uint64_t count = (uint64_t) 1 << (len - pool->len);
  for (uint64_t i = 0; i < count; i++) {
    struct berth_net_prefix cand = { .addr = pool->addr, .len = (uint8_t) len };
    /* the i-th subnet: pool + (i << (max - len)), added byte by byte from the right place */
    unsigned shift = max - len;
    uint64_t w = i << (shift % 8);
    for (size_t k = berth_net_addr_len(&pool->addr) - shift / 8; k-- > 0 && w;) {
      w += cand.addr.a[k];
      cand.addr.a[k] = (uint8_t) w;
      w >>= 8;
    }
    bool clash = false;
    for (size_t t = 0; t < n_taken && !clash; t++)
      clash = berth_net_prefix_overlaps(&cand, &taken[t]);
    if (!clash) {
      *out = cand;
      return 0;
    }
  }
  return BERTH_ERR(err, "no free /%u subnet left in %s", len, berth_net_prefix_str(pool, s));
}

void berth_ipam_mac(const struct berth_net_addr *addr, uint8_t mac[6])
{
  mac[0] = 0x02;
  mac[1] = 0x42;
  if (addr->family == AF_INET) {
    memcpy(mac + 2, addr->a, 4);
    return;
  }
  /* FNV-1a of the address, 32 bits into the last four bytes */
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < 16; i++)
    h = (h ^ addr->a[i]) * 16777619u;
  for (int i = 0; i < 4; i++)
    mac[2 + i] = (uint8_t) (h >> (24 - 8 * i));
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int berth_net_mac_parse(const char *s, uint8_t mac[6], berth_error_t *err)
{
  if (s == NULL || strlen(s) != 17)
    return BERTH_ERR(err, "invalid MAC address \"%s\"", s ? s : "");
  for (int i = 0; i < 6; i++) {
    int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
      return BERTH_ERR(err, "invalid MAC address \"%s\"", s);
    mac[i] = (uint8_t) (hi << 4 | lo);
  }
  if (mac[0] & 1)
    return BERTH_ERR(err, "invalid MAC address \"%s\": a multicast address", s);
  return 0;
}

void berth_net_mac_str(const uint8_t mac[6], char buf[18])
{
  snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}
