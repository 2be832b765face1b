/* Platforms: parsing "os/arch[/variant]" and choosing an index entry. Pure. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "registry/registry.h"

/* Go's names for what uname and people say */
static const char *arch_alias(const char *a, const char **variant)
{
  static const struct {
    const char *from, *to, *variant;
  } map[] = {
    { "x86_64", "amd64", "" },        { "x86-64", "amd64", "" }, { "aarch64", "arm64", "" },
    { "armhf", "arm", "v7" },         { "armel", "arm", "v6" },  { "armv7l", "arm", "v7" },
    { "armv6l", "arm", "v6" },        { "i386", "386", "" },     { "i686", "386", "" },
    { "loongarch64", "loong64", "" },
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(a, map[i].from) == 0) {
      if (map[i].variant[0] != '\0')
        *variant = map[i].variant;
      return map[i].to;
    }
  return a;
}

/* the variant an architecture has when none is written */
static const char *default_variant(const char *arch)
{
  if (strcmp(arch, "arm64") == 0)
    return "v8";
  if (strcmp(arch, "arm") == 0)
    return "v7";
  return "";
}

static bool valid_part(const char *s, size_t n)
{
  if (n == 0 || n >= 32)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
          s[i] == '.'))
      return false;
  return true;
}

void berth_platform_want_host(struct berth_platform_want *out)
{
  memset(out, 0, sizeof *out);
  struct utsname u;
  const char *variant = "";
  const char *arch = uname(&u) == 0 ? arch_alias(u.machine, &variant) : "amd64";
  snprintf(out->os, sizeof out->os, "linux");
  snprintf(out->arch, sizeof out->arch, "%.31s", arch);
  snprintf(out->variant, sizeof out->variant, "%s", variant);
}

int berth_platform_want_parse(const char *s, struct berth_platform_want *out, berth_error_t *err)
{
  if (s == NULL || s[0] == '\0') {
    berth_platform_want_host(out);
    return 0;
  }
  memset(out, 0, sizeof *out);
  const char *parts[3] = { s, NULL, NULL };
  size_t lens[3] = { 0, 0, 0 }, np = 1;
  for (const char *p = s; *p; p++) {
    if (*p == '/') {
      if (np == 3)
        return BERTH_ERR(err, "invalid platform `%s`: expected os/arch[/variant]", s);
      parts[np++] = p + 1;
    } else {
      lens[np - 1]++;
    }
  }
  if (np < 2)
    return BERTH_ERR(err, "invalid platform `%s`: expected os/arch[/variant]", s);
  static const char *const what[] = { "os", "architecture", "variant" };
  for (size_t i = 0; i < np; i++)
    if (!valid_part(parts[i], lens[i]))
      return BERTH_ERR(err, "invalid platform `%s`: bad %s `%.*s`", s, what[i], (int) lens[i], parts[i]);
  char arch[32];
  snprintf(out->os, sizeof out->os, "%.*s", (int) lens[0], parts[0]);
  snprintf(arch, sizeof arch, "%.*s", (int) lens[1], parts[1]);
  const char *variant = "";
  snprintf(out->arch, sizeof out->arch, "%.31s", arch_alias(arch, &variant));
  if (np == 3)
    snprintf(out->variant, sizeof out->variant, "%.*s", (int) lens[2], parts[2]);
  else
    snprintf(out->variant, sizeof out->variant, "%s", variant);
  return 0;
}

char *berth_platform_want_string(const struct berth_platform_want *w)
{
  if (w->variant[0] != '\0')
    return xasprintf("%s/%s/%s", w->os, w->arch, w->variant);
  return xasprintf("%s/%s", w->os, w->arch);
}

/* 0: no match; higher is better */
static int score(const struct berth_platform *p, const struct berth_platform_want *w)
{
  if (p == NULL || p->os == NULL || p->architecture == NULL)
    return 0;
  const char *variant = "";
  const char *arch = arch_alias(p->architecture, &variant);
  if (strcmp(p->os, w->os) != 0 || strcmp(arch, w->arch) != 0)
    return 0;
  const char *pv = p->variant && p->variant[0] ? p->variant : variant;
  const char *wv = w->variant[0] ? w->variant : default_variant(w->arch);
  int s = 1;
  if (pv[0] != '\0' && wv[0] != '\0') {
    if (strcmp(pv, wv) != 0)
      return 0;
    s += 2; /* an exact variant beats an entry without one */
  }
  if (w->os_version[0] != '\0') {
    if (p->os_version != NULL && strcmp(p->os_version, w->os_version) == 0)
      s += 4;
    else if (p->os_version != NULL)
      return 0;
  }
  return s;
}

ssize_t berth_platform_select(const struct berth_index *ix, const struct berth_platform_want *w)
{
  ssize_t best = -1;
  int best_score = 0;
  for (size_t i = 0; i < ix->n_manifests; i++) {
    int s = score(ix->manifests[i].platform, w);
    if (s > best_score) {
      best_score = s;
      best = (ssize_t) i;
    }
  }
  return best;
}
