/* Fuzz the resolver's parsers (net/dns_msg.c, dns_names.c): the first byte picks the input.
 *   0: a DNS message from a container: a query is parsed, answered from a fixed names table and
 *      the reply parsed back (it must be a response to the same id and question);
 *   1: a names file; every entry has 1-2 addresses and valid names, and each name finds itself;
 *   2: a reverse-lookup name; an accepted one is printed back and parsed again to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/error.h"
#include "base/xalloc.h"
#include "net/net.h"

/* does the question's name use a compression pointer? (the reply's header differs from the
 * query's, so a pointer into it would read other bytes there) */
static bool compressed(const uint8_t *data, size_t size)
{
  for (size_t pos = 12; pos < size && data[pos] != 0; pos += 1 + data[pos])
    if (data[pos] & 0xc0)
      return true;
  return false;
}

static void message(const uint8_t *data, size_t size)
{
  struct berth_dns_query q;
  berth_error_t err = NULL;
  if (berth_dns_parse_query(data, size, &q, &err) < 0) {
    if (err == NULL)
      abort();
    berth_error_release(&err);
    return;
  }
  if (q.question_end > size || q.question_end < 17 || strlen(q.name) > BERTH_DNS_MAXNAME)
    abort();
  struct berth_net_addr a[2] = { { .family = AF_INET, .a = { 10, 0, 0, 2 } },
                                 { .family = AF_INET6, .a = { 0xfd } } };
  uint8_t out[1024];
  size_t n =
    berth_dns_build_reply(data, &q, 0, a, 2, q.plain && q.name[0] ? q.name : NULL, 60, out, sizeof out);
  if (n == 0 || compressed(data, size))
    return; /* a name too long to repeat in the space, or one that points into the header */
  struct berth_dns_query back;
  out[2] &= 0x7f; /* parse the reply as if it were a query: the same id and question */
  if (berth_dns_parse_query(out, n, &back, &err) < 0 || back.id != q.id || back.qtype != q.qtype ||
      strcmp(back.name, q.name) != 0)
    abort();
}

static void names(const uint8_t *data, size_t size)
{
  struct berth_dns_names n;
  berth_error_t err = NULL;
  if (berth_dns_names_parse((const char *) data, size, &n, &err) < 0) {
    if (err == NULL || n.n != 0)
      abort();
    berth_error_release(&err);
    return;
  }
  for (size_t i = 0; i < n.n; i++) {
    if (n.e[i].n_addrs < 1 || n.e[i].n_addrs > 2 || n.e[i].names == NULL)
      abort();
    for (char **p = n.e[i].names; *p; p++) {
      struct berth_net_addr out[4];
      bool known = false;
      berth_dns_names_lookup(&n, *p, 0, out, 4, &known);
      if (!berth_dns_name_valid(*p) || !known)
        abort();
    }
    if (berth_dns_names_find_addr(&n, &n.e[i].addr[0]) == NULL)
      abort();
  }
  berth_dns_names_free(&n);
}

static void ptr(const uint8_t *data, size_t size)
{
  char *s = xstrndup((const char *) data, size);
  struct berth_net_addr a;
  if (berth_dns_ptr_addr(s, &a) == 0 && berth_net_addr_len(&a) == 0)
    abort();
  free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > 8192)
    return 0;
  switch (data[0] % 3) {
  case 0: message(data + 1, size - 1); break;
  case 1: names(data + 1, size - 1); break;
  default: ptr(data + 1, size - 1); break;
  }
  return 0;
}
