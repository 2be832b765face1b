/* IPv4 and IPv6 addresses and prefixes as plain values: parse, print, compare, count. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/strutil.h"
#include "net/net.h"

size_t berth_net_addr_len(const struct berth_net_addr *a)
{
  return a->family == AF_INET ? 4 : a->family == AF_INET6 ? 16 : 0;
}

int berth_net_addr_parse(const char *s, struct berth_net_addr *out, berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  if (s == NULL || *s == '\0')
    return BERTH_ERR(err, "empty IP address");
  if (strchr(s, ':') == NULL) {
    if (inet_pton(AF_INET, s, out->a) == 1) {
      out->family = AF_INET;
      return 0;
    }
  } else if (inet_pton(AF_INET6, s, out->a) == 1) {
    out->family = AF_INET6;
    return 0;
  }
  memset(out, 0, sizeof *out);
  return BERTH_ERR(err, "invalid IP address \"%s\"", s);
}

static void mask_host_bits(struct berth_net_addr *a, unsigned len, bool *had)
{
  size_t n = berth_net_addr_len(a);
  for (size_t i = 0; i < n; i++) {
    unsigned bit = (unsigned) i * 8;
    uint8_t keep = bit + 8 <= len ? 0xff : bit >= len ? 0 : (uint8_t) (0xff << (8 - (len - bit)));
    if ((a->a[i] & (uint8_t) ~keep) != 0 && had)
      *had = true;
    a->a[i] &= keep;
  }
}

int berth_net_prefix_parse(const char *s, struct berth_net_prefix *out, berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  const char *slash = s ? strchr(s, '/') : NULL;
  if (slash == NULL)
    return BERTH_ERR(err, "invalid subnet \"%s\": expected ADDRESS/LENGTH", s ? s : "");
  char host[BERTH_NET_ADDRSTRLEN];
  size_t hl = (size_t) (slash - s);
  int len = -1;
  if (hl == 0 || hl >= sizeof host || berth_parse_int(slash + 1, &len) < 0 || slash[1] == '+' ||
      slash[1] == '-')
    return BERTH_ERR(err, "invalid subnet \"%s\"", s);
  memcpy(host, s, hl);
  host[hl] = '\0';
  berth_error_t e = NULL;
  if (berth_net_addr_parse(host, &out->addr, &e) < 0) {
    berth_error_release(&e);
    return BERTH_ERR(err, "invalid subnet \"%s\"", s);
  }
  if (len < 0 || (size_t) len > berth_net_addr_len(&out->addr) * 8) {
    memset(out, 0, sizeof *out);
    return BERTH_ERR(err, "invalid subnet \"%s\": prefix length out of range", s);
  }
  out->len = (uint8_t) len;
  bool had = false;
  mask_host_bits(&out->addr, out->len, &had);
  if (had) {
    char net[BERTH_NET_PREFIXSTRLEN];
    berth_net_prefix_str(out, net);
    memset(out, 0, sizeof *out);
    return BERTH_ERR(err, "invalid subnet \"%s\": host bits set (the network is %s)", s, net);
  }
  return 0;
}

const char *berth_net_addr_str(const struct berth_net_addr *a, char buf[BERTH_NET_ADDRSTRLEN])
{
  if (a->family == 0 || inet_ntop(a->family, a->a, buf, BERTH_NET_ADDRSTRLEN) == NULL)
    buf[0] = '\0';
  return buf;
}

const char *berth_net_prefix_str(const struct berth_net_prefix *p, char buf[BERTH_NET_PREFIXSTRLEN])
{
  char a[BERTH_NET_ADDRSTRLEN];
  if (p->addr.family == 0)
    buf[0] = '\0';
  else
    snprintf(buf, BERTH_NET_PREFIXSTRLEN, "%s/%u", berth_net_addr_str(&p->addr, a), p->len);
  return buf;
}

int berth_net_addr_cmp(const struct berth_net_addr *a, const struct berth_net_addr *b)
{
  if (a->family != b->family)
    return a->family < b->family ? -1 : 1;
  return memcmp(a->a, b->a, berth_net_addr_len(a));
}

bool berth_net_addr_eq(const struct berth_net_addr *a, const struct berth_net_addr *b)
{
  return berth_net_addr_cmp(a, b) == 0;
}

bool berth_net_prefix_contains(const struct berth_net_prefix *p, const struct berth_net_addr *a)
{
  if (p->addr.family == 0 || a->family != p->addr.family)
    return false;
  struct berth_net_addr m = *a;
  mask_host_bits(&m, p->len, NULL);
  return berth_net_addr_eq(&m, &p->addr);
}

bool berth_net_prefix_overlaps(const struct berth_net_prefix *p, const struct berth_net_prefix *q)
{
  if (p->addr.family == 0 || p->addr.family != q->addr.family)
    return false;
  return p->len <= q->len ? berth_net_prefix_contains(p, &q->addr) : berth_net_prefix_contains(q, &p->addr);
}

/* a += n (big-endian); false on a carry out of the top */
static bool addr_add(struct berth_net_addr *a, uint64_t n)
{
  size_t len = berth_net_addr_len(a);
  unsigned carry = 0;
  for (size_t k = 0; k < len && k < sizeof a->a; k++) {
    uint8_t *byte = &a->a[len - 1 - k];
    unsigned sum = *byte + (unsigned) (n & 0xff) + carry;
    *byte = (uint8_t) sum;
    carry = sum >> 8;
    n >>= 8;
  }
  return carry == 0 && n == 0;
}

int berth_net_prefix_nth(const struct berth_net_prefix *p, uint64_t n, struct berth_net_addr *out)
{
  struct berth_net_addr a = p->addr;
  if (a.family == 0 || !addr_add(&a, n) || !berth_net_prefix_contains(p, &a))
    return -1;
  *out = a;
  return 0;
}

void berth_net_prefix_last(const struct berth_net_prefix *p, struct berth_net_addr *out)
{
  *out = p->addr;
  size_t len = berth_net_addr_len(out);
  for (size_t i = 0; i < len; i++) {
    unsigned bit = (unsigned) i * 8;
    uint8_t host = bit + 8 <= p->len ? 0 : bit >= p->len ? 0xff : (uint8_t) (0xff >> (p->len - bit));
    out->a[i] |= host;
  }
}

bool berth_net_addr_next(struct berth_net_addr *a) { return addr_add(a, 1); }

bool berth_net_addr_is_any(const struct berth_net_addr *a)
{
  static const uint8_t zero[16];
  return a->family == 0 || memcmp(a->a, zero, berth_net_addr_len(a)) == 0;
}

void berth_net_prefix_of(const struct berth_net_addr *a, unsigned len, struct berth_net_prefix *out)
{
  out->addr = *a;
  out->len = (uint8_t) len;
  mask_host_bits(&out->addr, len, NULL);
}

int berth_net_addr_port_parse(const char *s, uint16_t defport, struct berth_net_addr *a, uint16_t *port,
                              berth_error_t *err)
{
  char host[BERTH_NET_ADDRSTRLEN];
  const char *p = NULL;
  *port = defport;
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (close == NULL || (size_t) (close - s - 1) >= sizeof host || (close[1] != '\0' && close[1] != ':'))
      return BERTH_ERR(err, "invalid address \"%s\"", s);
    snprintf(host, sizeof host, "%.*s", (int) (close - s - 1), s + 1);
    p = close[1] == ':' ? close + 2 : NULL;
  } else if (strchr(s, ':') && strchr(s, ':') == strrchr(s, ':')) {
    snprintf(host, sizeof host, "%.*s", (int) (strchr(s, ':') - s), s);
    p = strchr(s, ':') + 1;
  } else if (strlen(s) < sizeof host) {
    snprintf(host, sizeof host, "%s", s);
  } else {
    return BERTH_ERR(err, "invalid address \"%s\"", s);
  }
  int v = defport;
  if (p && (berth_parse_int(p, &v) < 0 || v < 1 || v > 65535))
    return BERTH_ERR(err, "invalid port in \"%s\"", s);
  *port = (uint16_t) v;
  return berth_net_addr_parse(host, a, err);
}
