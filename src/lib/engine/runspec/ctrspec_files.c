/* The container directory's /etc/hostname, /etc/hosts and /etc/resolv.conf, as Docker writes
 * them. Pure. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"

char *berth_ctrspec_render_hostname(const char *hostname)
{
  return xasprintf("%s\n", hostname ? hostname : "");
}

static const char default_hosts[] = "127.0.0.1\tlocalhost\n"
                                    "::1\tlocalhost ip6-localhost ip6-loopback\n"
                                    "fe00::0\tip6-localnet\n"
                                    "ff00::0\tip6-mcastprefix\n"
                                    "ff02::1\tip6-allnodes\n"
                                    "ff02::2\tip6-allrouters\n";

char *berth_ctrspec_render_hosts(const struct berth_run_opts *o, const struct berth_hosts_in *in,
                                 berth_error_t *err)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  if (o->network.mode == BERTH_NSMODE_HOST && in->host_hosts != NULL) {
    berth_strbuf_puts(&b, in->host_hosts);
    if (b.len > 0 && b.buf[b.len - 1] != '\n')
      berth_strbuf_putc(&b, '\n');
  } else {
    berth_strbuf_puts(&b, default_hosts);
  }
  for (size_t i = 0; i < o->n_add_hosts; i++) {
    const char *ip = o->add_hosts[i].ip;
    if (strcmp(ip, "host-gateway") == 0) {
      if (in->host_gateway == NULL)
        return BERTH_ERR(err, "--add-host `%s:host-gateway`: the host gateway address is unknown",
                         o->add_hosts[i].name),
               NULL;
      ip = in->host_gateway;
    }
    berth_strbuf_printf(&b, "%s\t%s\n", ip, o->add_hosts[i].name);
  }
  for (size_t i = 0; in->own_ips && in->own_ips[i]; i++)
    berth_strbuf_printf(&b, "%s\t%s\n", in->own_ips[i], in->hostname ? in->hostname : "");
  return berth_strbuf_detach(&b);
}

/* ---------------- resolv.conf ---------------- */

struct resolv {
  char **nameservers, **search, **options;
};

static void resolv_release(struct resolv *r)
{
  berth_strv_free(r->nameservers);
  berth_strv_free(r->search);
  berth_strv_free(r->options);
}

static char **words(const char *s, char **v)
{
  while (*s) {
    while (*s && isspace((unsigned char) *s))
      s++;
    size_t n = strcspn(s, " \t\r\n");
    if (n == 0)
      break;
    if (*s == '#' || *s == ';')
      break; /* a trailing comment */
    cleanup_free char *w = xstrndup(s, n);
    v = berth_strv_append(v, w);
    s += n;
  }
  return v;
}

static void parse_resolv(const char *text, struct resolv *r)
{
  for (const char *p = text; p && *p;) {
    const char *nl = strchrnul(p, '\n');
    cleanup_free char *line = xstrndup(p, (size_t) (nl - p));
    p = *nl ? nl + 1 : nl;
    cleanup_strv char **w = words(line, NULL);
    if (w == NULL || w[1] == NULL)
      continue;
    if (strcmp(w[0], "nameserver") == 0) {
      r->nameservers = berth_strv_append(r->nameservers, w[1]);
    } else if (strcmp(w[0], "search") == 0 || strcmp(w[0], "domain") == 0) {
      berth_strv_free(r->search); /* the last search/domain line wins (resolver(5)) */
      r->search = berth_strv_dup(w + 1);
    } else if (strcmp(w[0], "options") == 0) {
      for (char **x = w + 1; *x; x++)
        r->options = berth_strv_append(r->options, *x);
    }
  }
}

static bool is_localhost(const char *ip)
{
  struct in_addr a4;
  struct in6_addr a6;
  if (inet_pton(AF_INET, ip, &a4) == 1)
    return (ntohl(a4.s_addr) >> 24) == 127;
  return inet_pton(AF_INET6, ip, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static bool is_ipv6(const char *ip) { return strchr(ip, ':') != NULL; }

static void put_line(struct berth_strbuf *b, const char *key, char *const *v)
{
  if (v == NULL || v[0] == NULL)
    return;
  berth_strbuf_puts(b, key);
  for (size_t i = 0; v[i]; i++)
    berth_strbuf_printf(b, " %s", v[i]);
  berth_strbuf_putc(b, '\n');
}

char *berth_ctrspec_render_resolv(const struct berth_run_opts *o, const char *host_resolv, bool ipv6)
{
  bool host_net = o->network.mode == BERTH_NSMODE_HOST;
  if (host_net && o->dns == NULL && o->dns_search == NULL && o->dns_options == NULL)
    return xstrdup(host_resolv ? host_resolv : "");
  struct resolv host = { 0 };
  parse_resolv(host_resolv, &host);
  char **ns = NULL;
  if (o->dns != NULL) {
    ns = berth_strv_dup(o->dns);
  } else {
    /* the host's minus those the container cannot reach (localhost; IPv6 without IPv6) */
    for (char **p = host.nameservers; p && *p; p++)
      if (host_net || (!is_localhost(*p) && (ipv6 || !is_ipv6(*p))))
        ns = berth_strv_append(ns, *p);
    if (ns == NULL) {
      ns = berth_strv_append(berth_strv_append(NULL, "8.8.8.8"), "8.8.4.4");
      if (ipv6)
        ns = berth_strv_append(berth_strv_append(ns, "2001:4860:4860::8888"), "2001:4860:4860::8844");
    }
  }
  char **search = host.search;
  cleanup_strv char **user_search = NULL;
  if (o->dns_search != NULL) {
    for (char **p = o->dns_search; *p; p++)
      if (strcmp(*p, ".") != 0) /* "." alone: no search domains */
        user_search = berth_strv_append(user_search, *p);
    search = user_search;
  }
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  put_line(&b, "search", search);
  for (char **p = ns; p && *p; p++)
    berth_strbuf_printf(&b, "nameserver %s\n", *p);
  put_line(&b, "options", o->dns_options ? o->dns_options : host.options);
  berth_strv_free(ns);
  resolv_release(&host);
  return berth_strbuf_detach(&b);
}
