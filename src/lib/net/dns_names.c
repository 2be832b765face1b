/* The names file of a network, pure: what the engine writes for the resolver, one line per
 * container, "<addr> [<addr6>] <name> <alias>...", and the lookups the resolver makes in it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "net/net.h"

bool berth_dns_name_valid(const char *name)
{
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > BERTH_DNS_MAXNAME || name[0] == '.' || name[0] == '-')
    return false;
  size_t label = 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (c == '.') {
      if (label == 0)
        return false;
      label = 0;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_') ||
        ++label > 63)
      return false;
  }
  return true;
}

static BERTH_WUR int parse_line(char *line, size_t lineno, struct berth_dns_entry *e, berth_error_t *err)
{
  memset(e, 0, sizeof *e);
  char *save = NULL;
  for (char *tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
    berth_error_t ignore = NULL;
    struct berth_net_addr a;
    if (e->names == NULL && e->n_addrs < 2 && berth_net_addr_parse(tok, &a, &ignore) == 0) {
      e->addr[e->n_addrs++] = a;
      continue;
    }
    berth_error_release(&ignore);
    if (e->n_addrs == 0 || !berth_dns_name_valid(tok)) {
      berth_strv_free(e->names);
      e->names = NULL;
      return BERTH_ERR(err, "names file, line %zu: \"%s\" is neither an address nor a name", lineno, tok);
    }
    size_t len = strlen(tok);
    if (tok[len - 1] == '.') /* "web." is "web": kept as lookups compare (name_eq) */
      tok[len - 1] = '\0';
    e->names = berth_strv_append(e->names, tok);
  }
  if (e->n_addrs > 0 && e->names == NULL)
    return BERTH_ERR(err, "names file, line %zu: an address without a name", lineno);
  return 0;
}

int berth_dns_names_parse(const char *text, size_t len, struct berth_dns_names *out, berth_error_t *err)
{
  out->e = NULL;
  out->n = 0;
  size_t lineno = 0;
  for (size_t pos = 0; pos < len;) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t l = nl ? (size_t) (nl - (text + pos)) : len - pos;
    cleanup_free char *line = xstrndup(text + pos, l);
    pos += l + 1;
    lineno++;
    if (strlen(line) != l) {
      berth_dns_names_free(out);
      return BERTH_ERR(err, "names file, line %zu: a NUL byte", lineno);
    }
    if (line[strspn(line, " \t\r")] == '#')
      continue;
    struct berth_dns_entry e;
    if (parse_line(line, lineno, &e, err) < 0) {
      berth_dns_names_free(out);
      return -1;
    }
    if (e.n_addrs == 0)
      continue; /* a blank line */
    out->e = xreallocarray(out->e, out->n + 1, sizeof *out->e);
    out->e[out->n++] = e;
  }
  return 0;
}

void berth_dns_names_free(struct berth_dns_names *n)
{
  for (size_t i = 0; i < n->n; i++)
    berth_strv_free(n->e[i].names);
  free(n->e);
  n->e = NULL;
  n->n = 0;
}

static bool name_eq(const char *entry, const char *query)
{
  size_t n = strlen(query);
  if (n > 0 && query[n - 1] == '.')
    n--;
  return strlen(entry) == n && strncasecmp(entry, query, n) == 0;
}

size_t berth_dns_names_lookup(const struct berth_dns_names *n, const char *name, int family,
                              struct berth_net_addr *out, size_t max, bool *known)
{
  size_t count = 0;
  *known = false;
  for (size_t i = 0; i < n->n; i++) {
    const struct berth_dns_entry *e = &n->e[i];
    bool match = false;
    for (char **p = e->names; p && *p && !match; p++)
      match = name_eq(*p, name);
    if (!match)
      continue;
    *known = true;
    for (size_t k = 0; k < e->n_addrs && count < max; k++)
      if (family == 0 || e->addr[k].family == family)
        out[count++] = e->addr[k];
  }
  return count;
}

const struct berth_dns_entry *berth_dns_names_find_addr(const struct berth_dns_names *n,
                                                        const struct berth_net_addr *a)
{
  for (size_t i = 0; i < n->n; i++)
    for (size_t k = 0; k < n->e[i].n_addrs; k++)
      if (berth_net_addr_eq(&n->e[i].addr[k], a))
        return &n->e[i];
  return NULL;
}

size_t berth_dns_resolv_nameservers(const char *text, struct berth_net_addr *out, size_t max)
{
  size_t count = 0;
  cleanup_free char *copy = xstrdup(text);
  char *save = NULL;
  for (char *line = strtok_r(copy, "\n", &save); line && count < max; line = strtok_r(NULL, "\n", &save)) {
    char *p = line + strspn(line, " \t");
    if (strncmp(p, "nameserver", 10) != 0 || (p[10] != ' ' && p[10] != '\t'))
      continue;
    p += 10 + strspn(p + 10, " \t");
    p[strcspn(p, " \t\r#;%")] = '\0'; /* "fe80::1%eth0": the zone is not kept */
    berth_error_t ignore = NULL;
    if (berth_net_addr_parse(p, &out[count], &ignore) == 0)
      count++;
    berth_error_release(&ignore);
  }
  return count;
}
