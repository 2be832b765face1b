/* Fuzz the -p parser and the EXPOSE key parser (net/ports.c). Invariants of an accepted spec:
 * at least one mapping, container ports 1..65535 and consecutive, a host range only with one
 * container port, host ports paired one to one otherwise, and the address family a real one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/xalloc.h"
#include "net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 4096)
    return 0;
  char *s = xstrndup((const char *) data, size);
  struct berth_net_port *v = NULL;
  size_t n = 0;
  berth_error_t err = NULL;
  if (berth_net_ports_parse(s, &v, &n, &err) == 0) {
    if (n == 0 || v == NULL)
      abort();
    for (size_t i = 0; i < n; i++) {
      if (v[i].ctr_port == 0 || (i > 0 && v[i].ctr_port != v[i - 1].ctr_port + 1) ||
          v[i].proto > BERTH_NET_SCTP)
        abort();
      if (v[i].host_port_end != 0 && (n != 1 || v[i].host_port_end <= v[i].host_port))
        abort();
      if (n > 1 && v[i].host_port != 0 && i > 0 && v[i].host_port != v[i - 1].host_port + 1)
        abort();
      if (v[i].host_ip.family != 0 && berth_net_addr_len(&v[i].host_ip) == 0)
        abort();
      if (berth_net_port_conflict(&v[i], &v[i]) != (v[i].host_port != 0))
        abort();
    }
  } else if (err == NULL || err->msg == NULL || v != NULL || n != 0) {
    abort();
  }
  berth_error_release(&err);
  free(v);
  uint16_t port = 0;
  enum berth_net_proto proto;
  if (berth_net_port_key_parse(s, &port, &proto, &err) == 0) {
    if (port == 0)
      abort();
  } else if (err == NULL) {
    abort();
  }
  berth_error_release(&err);
  free(s);
  return 0;
}
