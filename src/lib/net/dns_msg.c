/* DNS messages (RFC 1035), pure: a query's one question, the reply the resolver builds, the
 * names of reverse lookups. Input comes from any process of a container: every offset is
 * checked, compression pointers only go backwards and at most 32 of them are followed. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "net/net.h"

#define HDR 12

static uint16_t get16(const uint8_t *p) { return (uint16_t) (p[0] << 8 | p[1]); }

static void put16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t) (v >> 8);
  p[1] = (uint8_t) v;
}

static bool plain_char(uint8_t c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* the name at *off into q->name; *off moves past it (past the first pointer when there is one) */
static int parse_name(const uint8_t *msg, size_t len, size_t *off, struct berth_dns_query *q)
{
  size_t pos = *off, out = 0, jumps = 0;
  bool jumped = false;
  q->plain = true;
  for (;;) {
    if (pos >= len)
      return -1;
    uint8_t l = msg[pos];
    if ((l & 0xc0) == 0xc0) {
      if (pos + 1 >= len || ++jumps > 32)
        return -1;
      size_t target = (size_t) (l & 0x3f) << 8 | msg[pos + 1];
      if (target >= pos) /* only backwards: no loops */
        return -1;
      if (!jumped)
        *off = pos + 2;
      jumped = true;
      pos = target;
      continue;
    }
    if (l & 0xc0)
      return -1; /* extended label types */
    if (l == 0)
      break;
    if (pos + 1 + l > len || out + (out ? 1 : 0) + l > BERTH_DNS_MAXNAME)
      return -1;
    if (out)
      q->name[out++] = '.';
    for (size_t i = 0; i < l; i++) {
      uint8_t c = msg[pos + 1 + i];
      if (!plain_char(c))
        q->plain = false;
      q->name[out++] = (c == '.' || c < 0x20 || c >= 0x7f) ? '?' : (char) c;
    }
    pos += 1 + l;
  }
  q->name[out] = '\0';
  if (!jumped)
    *off = pos + 1;
  return 0;
}

int berth_dns_parse_query(const uint8_t *msg, size_t len, struct berth_dns_query *q, berth_error_t *err)
{
  memset(q, 0, sizeof *q);
  if (len < HDR)
    return BERTH_ERR(err, "dns: message of %zu bytes is shorter than a header", len);
  q->id = get16(msg);
  q->flags = get16(msg + 2);
  if (q->flags & 0x8000)
    return BERTH_ERR(err, "dns: a response, not a query");
  if (((q->flags >> 11) & 0xf) != 0)
    return BERTH_ERR(err, "dns: opcode %u is not a standard query", (q->flags >> 11) & 0xf);
  if (get16(msg + 4) != 1)
    return BERTH_ERR(err, "dns: %u questions (one expected)", get16(msg + 4));
  size_t off = HDR;
  if (parse_name(msg, len, &off, q) < 0)
    return BERTH_ERR(err, "dns: malformed question name");
  if (off + 4 > len)
    return BERTH_ERR(err, "dns: truncated question");
  q->qtype = get16(msg + off);
  q->qclass = get16(msg + off + 2);
  q->question_end = off + 4;
  return 0;
}

/* a dotted name as labels; 0 when it does not fit or is not a name */
static size_t put_name(const char *name, uint8_t *out, size_t cap)
{
  size_t n = 0;
  const char *p = name;
  while (*p) {
    size_t l = strcspn(p, ".");
    if (l == 0 || l > 63 || n + 1 + l + 1 > cap)
      return 0;
    out[n++] = (uint8_t) l;
    memcpy(out + n, p, l);
    n += l;
    p += l;
    if (*p == '.')
      p++;
  }
  if (n + 1 > cap || n + 1 > 255)
    return 0;
  out[n++] = 0;
  return n;
}

/* one answer record pointing at the question's name (offset 12) */
static size_t put_rr(uint8_t *out, size_t cap, uint16_t type, uint32_t ttl, const uint8_t *rdata,
                     size_t rdlen)
{
  if (cap < 12 + rdlen)
    return 0;
  put16(out, 0xc000 | HDR);
  put16(out + 2, type);
  put16(out + 4, 1); /* IN */
  put16(out + 6, (uint16_t) (ttl >> 16));
  put16(out + 8, (uint16_t) ttl);
  put16(out + 10, (uint16_t) rdlen);
  memcpy(out + 12, rdata, rdlen);
  return 12 + rdlen;
}

size_t berth_dns_build_reply(const uint8_t *query, const struct berth_dns_query *q, int rcode,
                             const struct berth_net_addr *addrs, size_t n_addrs, const char *ptr_name,
                             uint32_t ttl, uint8_t *out, size_t cap)
{
  size_t qlen = q->question_end > HDR ? q->question_end - HDR : 0;
  if (cap < HDR + qlen)
    return 0;
  /* QR, the opcode (0), AA, RD as asked, RA, rcode */
  uint16_t flags = (uint16_t) (0x8000 | 0x0400 | (q->flags & 0x0100) | 0x0080 | (rcode & 0xf));
  put16(out, q->id);
  put16(out + 2, flags);
  put16(out + 4, qlen ? 1 : 0);
  put16(out + 6, 0);
  put16(out + 8, 0);
  put16(out + 10, 0);
  memcpy(out + HDR, query + HDR, qlen);
  size_t n = HDR + qlen;
  uint16_t count = 0;
  for (size_t i = 0; i < n_addrs && qlen; i++) {
    size_t alen = berth_net_addr_len(&addrs[i]);
    size_t w = put_rr(out + n, cap - n, addrs[i].family == AF_INET6 ? BERTH_DNS_AAAA : BERTH_DNS_A, ttl,
                      addrs[i].a, alen);
    if (w == 0 || alen == 0)
      return 0;
    n += w;
    count++;
  }
  if (ptr_name && qlen) {
    uint8_t rdata[256];
    size_t rl = put_name(ptr_name, rdata, sizeof rdata);
    size_t w = rl ? put_rr(out + n, cap - n, BERTH_DNS_PTR, ttl, rdata, rl) : 0;
    if (w == 0)
      return 0;
    n += w;
    count++;
  }
  put16(out + 6, count);
  return n;
}

static bool has_suffix_ci(const char *s, const char *suffix, size_t *stem)
{
  size_t n = strlen(s), m = strlen(suffix);
  if (n > 0 && s[n - 1] == '.')
    n--;
  if (n < m || strncasecmp(s + n - m, suffix, m) != 0)
    return false;
  *stem = n - m;
  return true;
}

int berth_dns_ptr_addr(const char *name, struct berth_net_addr *out)
{
  size_t stem;
  memset(out, 0, sizeof *out);
  if (has_suffix_ci(name, ".in-addr.arpa", &stem)) {
    unsigned v[4];
    int used = 0;
    char tail;
    if (stem > 15 || sscanf(name, "%3u.%3u.%3u.%3u%n%c", &v[3], &v[2], &v[1], &v[0], &used, &tail) != 5 ||
        (size_t) used != stem || v[0] > 255 || v[1] > 255 || v[2] > 255 || v[3] > 255)
      return -1;
    out->family = AF_INET;
    for (int i = 0; i < 4; i++)
      out->a[i] = (uint8_t) v[i];
    return 0;
  }
  if (!has_suffix_ci(name, ".ip6.arpa", &stem) || stem != 63)
    return -1;
  for (size_t i = 0; i < 32; i++) {
    char c = name[2 * i];
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (v < 0 || (i < 31 && name[2 * i + 1] != '.'))
      return -1;
    size_t nib = 31 - i; /* the first label is the lowest nibble */
    out->a[nib / 2] |= (uint8_t) (nib % 2 ? v : v << 4);
  }
  out->family = AF_INET6;
  return 0;
}
