/* Run options of networks (issue 14): --network (several user networks), -p/--publish,
 * -P/--publish-all, --expose, --ip, --ip6, --mac-address, --network-alias. Values are checked
 * here (pure, net/net.h's parsers); the networks themselves at create. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runopts_internal.h"
#include "net/net.h"

bool berth_runopts_network_name_valid(const char *name)
{
  size_t n = strlen(name);
  if (n < 2 || n > 128 ||
      !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
        (name[0] >= '0' && name[0] <= '9')))
    return false;
  for (size_t i = 1; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-'))
      return false;
  }
  return true;
}

int runopts_set_network(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  struct berth_ns_opt ns;
  if (berth_runopts_parse_ns("--network", v, &ns, err) < 0)
    return berth_error_wrap(err, "%s", flag);
  bool first = o->network.mode == BERTH_NSMODE_DEFAULT;
  if (!first && (ns.mode != BERTH_NSMODE_BRIDGE || o->network.mode != BERTH_NSMODE_BRIDGE)) {
    free(ns.value);
    return BERTH_ERR(err,
                     "%s %s: only networks by name may be given more than once (not with none, host, "
                     "container:, ns:)",
                     flag, v);
  }
  const char *name = ns.mode == BERTH_NSMODE_BRIDGE ? (ns.value ? ns.value : "bridge") : NULL;
  for (char **p = o->networks; name && p && *p; p++)
    if (strcmp(*p, name) == 0) {
      free(ns.value);
      return BERTH_ERR(err, "%s %s: the network is given twice", flag, v);
    }
  if (name)
    o->networks = berth_strv_append(o->networks, name);
  if (first) {
    o->network = ns;
  } else {
    free(ns.value);
  }
  return 0;
}

int runopts_set_publish(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  struct berth_net_port *p = NULL;
  size_t n = 0;
  if (berth_net_ports_parse(v, &p, &n, err) < 0)
    return berth_error_wrap(err, "%s", flag);
  free(p);
  o->publish = berth_strv_append(o->publish, v);
  return 0;
}

int runopts_set_publish_all(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  return runopts_parse_bool(flag, v, &o->publish_all, err);
}

int runopts_set_expose(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  /* "80", "53/udp", a range "8000-8010/tcp": the container side of -p's syntax */
  const char *slash = strchr(v, '/');
  if (v[0] == '\0' || strchr(v, ':') != NULL || (slash && slash == v))
    return BERTH_ERR(err, "%s: invalid port \"%s\"", flag, v);
  struct berth_net_port *p = NULL;
  size_t n = 0;
  if (berth_net_ports_parse(v, &p, &n, err) < 0)
    return berth_error_wrap(err, "%s", flag);
  free(p);
  o->expose = berth_strv_append(o->expose, v);
  return 0;
}

static BERTH_WUR int set_addr(char **slot, const char *flag, const char *v, int family, berth_error_t *err)
{
  struct berth_net_addr a;
  if (berth_net_addr_parse(v, &a, err) < 0)
    return berth_error_wrap(err, "%s", flag);
  if (a.family != family)
    return BERTH_ERR(err, "%s: \"%s\" is not an %s address", flag, v, family == AF_INET ? "IPv4" : "IPv6");
  free(*slot);
  *slot = xstrdup(v);
  return 0;
}

int runopts_set_ip(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  return set_addr(&o->ip, flag, v, AF_INET, err);
}

int runopts_set_ip6(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  return set_addr(&o->ip6, flag, v, AF_INET6, err);
}

int runopts_set_mac(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  uint8_t mac[6];
  if (berth_net_mac_parse(v, mac, err) < 0)
    return berth_error_wrap(err, "%s", flag);
  free(o->mac_address);
  o->mac_address = xstrdup(v);
  return 0;
}

int runopts_set_alias(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  if (!berth_dns_name_valid(v))
    return BERTH_ERR(err, "%s: invalid alias \"%s\" (letters, digits, '-', '_' and '.')", flag, v);
  o->network_aliases = berth_strv_append(o->network_aliases, v);
  return 0;
}

void runopts_net_release(struct berth_run_opts *o)
{
  berth_strv_free(o->networks);
  berth_strv_free(o->network_aliases);
  free(o->ip);
  free(o->ip6);
  free(o->mac_address);
  berth_strv_free(o->publish);
  berth_strv_free(o->expose);
}

int runopts_net_validate(const struct berth_run_opts *o, berth_error_t *err)
{
  enum berth_ns_mode m = o->network.mode;
  bool named = m == BERTH_NSMODE_BRIDGE || m == BERTH_NSMODE_DEFAULT;
  const char *mode = m == BERTH_NSMODE_HOST   ? "host"
                     : m == BERTH_NSMODE_NONE ? "none"
                                              : "container:<name>/ns:<path>";
  if ((o->publish || o->publish_all) && !named && m != BERTH_NSMODE_HOST)
    return BERTH_ERR(err, "conflicting options: port publishing and the network mode %s", mode);
  if ((o->ip || o->ip6 || o->mac_address || o->network_aliases) && !named)
    return BERTH_ERR(err,
                     "conflicting options: --ip, --ip6, --mac-address and --network-alias need a network, "
                     "not the network mode %s",
                     mode);
  return 0;
}
