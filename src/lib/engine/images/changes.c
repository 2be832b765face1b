/* `berth import --change`: Dockerfile instructions applied to an image's "config" object, as
 * `docker import -c` does (moby's BuildFromConfig with the import subset of instructions). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/images/images.h"

struct change_state {
  bool cmd_set; /* CMD given by an earlier change: ENTRYPOINT keeps it */
};

/* Split into words: whitespace separates; "..." (with \" \\ escapes) and '...' group; a backslash
 * outside quotes escapes the next character. */
static BERTH_WUR int split_words(const char *s, char ***out, berth_error_t *err)
{
  cleanup_strv char **v = xcalloc(1, sizeof *v);
  cleanup_strbuf struct berth_strbuf w = BERTH_STRBUF_INIT;
  bool in_word = false;
  for (const char *p = s;; p++) {
    if (*p == '\0' || isspace((unsigned char) *p)) {
      if (in_word)
        v = berth_strv_append(v, w.buf ? w.buf : "");
      berth_strbuf_release(&w);
      in_word = false;
      if (*p == '\0')
        break;
      continue;
    }
    in_word = true;
    if (*p == '"' || *p == '\'') {
      char q = *p++;
      for (; *p && *p != q; p++) {
        if (q == '"' && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
          p++;
        berth_strbuf_putc(&w, *p);
      }
      if (*p != q)
        return BERTH_ERR(err, "unterminated quote in `%s`", s);
    } else if (*p == '\\' && p[1]) {
      berth_strbuf_putc(&w, *++p);
    } else {
      berth_strbuf_putc(&w, *p);
    }
  }
  *out = steal_ptr(v);
  return 0;
}

/* exec form: a JSON array of strings, else NULL */
static json_t *exec_form(const char *args)
{
  if (args[0] != '[')
    return NULL;
  json_t *a = json_loads(args, 0, NULL);
  for (size_t i = 0; a && json_is_array(a) && i < json_array_size(a); i++)
    if (!json_is_string(json_array_get(a, i))) {
      json_decref(a);
      return NULL;
    }
  if (a && !json_is_array(a)) {
    json_decref(a);
    return NULL;
  }
  return a;
}

/* exec form or shell form (["/bin/sh", "-c", s]) */
static json_t *command_form(const char *args)
{
  json_t *a = exec_form(args);
  return a ? a : json_pack("[sss]", "/bin/sh", "-c", args);
}

/* ENV and LABEL pairs: "k=v k2=v2" or the legacy single "k v w" (value: the rest) */
static BERTH_WUR int pairs(const char *inst, const char *args, char ***keys, char ***values,
                           berth_error_t *err)
{
  cleanup_strv char **words = NULL;
  if (split_words(args, &words, err) < 0)
    return -1;
  cleanup_strv char **k = xcalloc(1, sizeof *k);
  cleanup_strv char **v = xcalloc(1, sizeof *v);
  if (words[0] == NULL)
    return BERTH_ERR(err, "%s requires at least one argument", inst);
  if (strchr(words[0], '=') == NULL) {
    const char *rest = args + strspn(args, " \t");
    rest += strcspn(rest, " \t");
    rest += strspn(rest, " \t");
    if (*rest == '\0')
      return BERTH_ERR(err, "%s `%s` needs a value (%s key=value)", inst, words[0], inst);
    k = berth_strv_append(k, words[0]);
    v = berth_strv_append(v, rest);
  } else {
    for (char **w = words; *w; w++) {
      char *eq = strchr(*w, '=');
      if (eq == NULL || eq == *w)
        return BERTH_ERR(err, "%s: `%s` is not key=value", inst, *w);
      cleanup_free char *key = xstrndup(*w, (size_t) (eq - *w));
      k = berth_strv_append(k, key);
      v = berth_strv_append(v, eq + 1);
    }
  }
  *keys = steal_ptr(k);
  *values = steal_ptr(v);
  return 0;
}

static json_t *member(json_t *config, const char *key, json_t *(*make)(void) )
{
  json_t *v = json_object_get(config, key);
  if (v == NULL || json_is_null(v)) {
    v = make();
    json_object_set_new(config, key, v);
  }
  return v;
}

static BERTH_WUR int apply_env(json_t *config, const char *args, berth_error_t *err)
{
  cleanup_strv char **k = NULL;
  cleanup_strv char **v = NULL;
  if (pairs("ENV", args, &k, &v, err) < 0)
    return -1;
  json_t *env = member(config, "Env", json_array);
  if (!json_is_array(env))
    return BERTH_ERR(err, "ENV: the image's Env is not an array");
  for (size_t i = 0; k[i]; i++) {
    cleanup_free char *kv = xasprintf("%s=%s", k[i], v[i]);
    size_t klen = strlen(k[i]), j;
    for (j = 0; j < json_array_size(env); j++) {
      const char *e = json_string_value(json_array_get(env, j));
      if (e && strncmp(e, k[i], klen) == 0 && e[klen] == '=')
        break;
    }
    if (j < json_array_size(env))
      json_array_set_new(env, j, json_string(kv));
    else
      json_array_append_new(env, json_string(kv));
  }
  return 0;
}

static BERTH_WUR int apply_label(json_t *config, const char *args, berth_error_t *err)
{
  cleanup_strv char **k = NULL;
  cleanup_strv char **v = NULL;
  if (pairs("LABEL", args, &k, &v, err) < 0)
    return -1;
  json_t *labels = member(config, "Labels", json_object);
  if (!json_is_object(labels))
    return BERTH_ERR(err, "LABEL: the image's Labels is not an object");
  for (size_t i = 0; k[i]; i++)
    json_object_set_new(labels, k[i], json_string(v[i]));
  return 0;
}

static BERTH_WUR int apply_workdir(json_t *config, const char *args, berth_error_t *err)
{
  if (*args == '\0')
    return BERTH_ERR(err, "WORKDIR requires exactly one argument");
  const char *prev = json_string_value(json_object_get(config, "WorkingDir"));
  cleanup_free char *dir = NULL;
  if (args[0] == '/')
    dir = xstrdup(args);
  else if (prev && *prev)
    dir = xasprintf("%s%s%s", prev, berth_str_has_suffix(prev, "/") ? "" : "/", args);
  else
    dir = xasprintf("/%s", args);
  json_object_set_new(config, "WorkingDir", json_string(dir));
  return 0;
}

static int port_spec(const char *w, unsigned *lo, unsigned *hi, const char **proto)
{
  cleanup_free char *s = xstrdup(w);
  char *slash = strchr(s, '/');
  *proto = "tcp";
  if (slash) {
    *slash = '\0';
    const char *p = w + (slash - s) + 1;
    if (strcmp(p, "tcp") && strcmp(p, "udp") && strcmp(p, "sctp"))
      return -1;
    *proto = p;
  }
  char *dash = strchr(s, '-');
  if (dash)
    *dash = '\0';
  int a, b;
  if (berth_parse_int(s, &a) < 0 || a < 0 || a > 65535)
    return -1;
  if (dash ? (berth_parse_int(dash + 1, &b) < 0 || b < a || b > 65535) : (b = a, 0))
    return -1;
  *lo = (unsigned) a;
  *hi = (unsigned) b;
  return 0;
}

static BERTH_WUR int apply_expose(json_t *config, const char *args, berth_error_t *err)
{
  cleanup_strv char **words = NULL;
  if (split_words(args, &words, err) < 0)
    return -1;
  if (words[0] == NULL)
    return BERTH_ERR(err, "EXPOSE requires at least one argument");
  json_t *ports = member(config, "ExposedPorts", json_object);
  for (char **w = words; *w; w++) {
    unsigned lo, hi;
    const char *proto;
    if (port_spec(*w, &lo, &hi, &proto) < 0)
      return BERTH_ERR(err, "EXPOSE: invalid port `%s` (PORT[-PORT][/tcp|udp|sctp])", *w);
    for (unsigned p = lo; p <= hi; p++) {
      cleanup_free char *key = xasprintf("%u/%s", p, proto);
      json_object_set_new(ports, key, json_object());
    }
  }
  return 0;
}

static BERTH_WUR int apply_volume(json_t *config, const char *args, berth_error_t *err)
{
  json_t *form = exec_form(args);
  cleanup_strv char **words = NULL;
  if (form == NULL && split_words(args, &words, err) < 0)
    return -1;
  json_t *vols = member(config, "Volumes", json_object);
  size_t n = form ? json_array_size(form) : berth_strv_len(words);
  int r = n ? 0 : BERTH_ERR(err, "VOLUME requires at least one argument");
  for (size_t i = 0; i < n && r == 0; i++) {
    const char *v = form ? json_string_value(json_array_get(form, i)) : words[i];
    if (*v == '\0')
      r = BERTH_ERR(err, "VOLUME specified can not be an empty string");
    else
      json_object_set_new(vols, v, json_object());
  }
  json_decref(form);
  return r;
}

static BERTH_WUR int apply_one(json_t *config, struct change_state *st, const char *inst, const char *args,
                               berth_error_t *err)
{
  if (strcmp(inst, "CMD") == 0) {
    json_object_set_new(config, "Cmd", command_form(args));
    st->cmd_set = true;
  } else if (strcmp(inst, "ENTRYPOINT") == 0) {
    json_object_set_new(config, "Entrypoint", command_form(args));
    if (!st->cmd_set)
      json_object_set_new(config, "Cmd", json_null());
  } else if (strcmp(inst, "ENV") == 0) {
    return apply_env(config, args, err);
  } else if (strcmp(inst, "LABEL") == 0) {
    return apply_label(config, args, err);
  } else if (strcmp(inst, "WORKDIR") == 0) {
    return apply_workdir(config, args, err);
  } else if (strcmp(inst, "USER") == 0 || strcmp(inst, "STOPSIGNAL") == 0) {
    if (*args == '\0' || strpbrk(args, " \t"))
      return BERTH_ERR(err, "%s requires exactly one argument", inst);
    json_object_set_new(config, inst[0] == 'U' ? "User" : "StopSignal", json_string(args));
  } else if (strcmp(inst, "EXPOSE") == 0) {
    return apply_expose(config, args, err);
  } else if (strcmp(inst, "VOLUME") == 0) {
    return apply_volume(config, args, err);
  } else if (strcmp(inst, "ONBUILD") == 0) {
    if (*args == '\0')
      return BERTH_ERR(err, "ONBUILD requires at least one argument");
    json_array_append_new(member(config, "OnBuild", json_array), json_string(args));
  } else {
    return BERTH_ERR(err, "%s is not a valid change command", inst);
  }
  return 0;
}

int berth_imgconfig_apply_changes(json_t *config, char *const *changes, berth_error_t *err)
{
  struct change_state st = { 0 };
  for (char *const *c = changes; c && *c; c++) {
    const char *s = *c + strspn(*c, " \t\r\n");
    size_t n = strcspn(s, " \t\r\n");
    cleanup_free char *inst = xstrndup(s, n);
    for (char *p = inst; *p; p++)
      *p = (char) toupper((unsigned char) *p);
    cleanup_free char *args = xstrdup(s + n + strspn(s + n, " \t\r\n"));
    for (size_t len = strlen(args); len > 0 && isspace((unsigned char) args[len - 1]); len--)
      args[len - 1] = '\0';
    if (n == 0)
      return BERTH_ERR(err, "change `%s`: empty instruction", *c);
    if (apply_one(config, &st, inst, args, err) < 0)
      return berth_error_wrap(err, "change `%s`", *c);
  }
  return 0;
}
