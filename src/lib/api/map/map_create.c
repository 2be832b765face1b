/* POST /containers/create's body -> `berth create`'s options: each key of Docker's Config (and
 * NetworkingConfig) becomes the run flag that means it, handed to berth_runopts_set as the
 * command line would hand it, so both front doors share one set of checks and messages. The
 * HostConfig is map_host.c's. Pure; fuzzed (tests/fuzz/fuzz_api_create.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/map/map_internal.h"
#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"

bool api_json_is_zero(json_t *v)
{
  if (v == NULL) /* an absent key (a volume mount without VolumeOptions.Subpath...) */
    return true;
  switch (json_typeof(v)) {
  case JSON_NULL:
  case JSON_FALSE: return true;
  case JSON_STRING: return json_string_length(v) == 0;
  case JSON_INTEGER: return json_integer_value(v) == 0;
  case JSON_REAL: return json_real_value(v) == 0;
  case JSON_ARRAY: return json_array_size(v) == 0;
  case JSON_OBJECT: return json_object_size(v) == 0;
  default: return false;
  }
}

int api_map_flag(struct api_map *m, const char *path, const char *flag, const char *value, berth_error_t *err)
{
  if (berth_runopts_set(&m->out->opts, flag, value, err) < 0)
    return berth_error_wrap(err, "%s", path);
  return 0;
}

static BERTH_WUR int apply_kind(struct api_map *m, const char *path, const struct api_field *f, json_t *v,
                                berth_error_t *err)
{
  char num[32];
  switch (f->kind) {
  case API_F_STR:
    if (json_is_null(v))
      return 0;
    if (!json_is_string(v))
      return BERTH_ERR(err, "%s: expected a string", path);
    return json_string_length(v) ? api_map_flag(m, path, f->flag, json_string_value(v), err) : 0;
  case API_F_STRS: {
    if (json_is_null(v))
      return 0;
    if (!json_is_array(v))
      return BERTH_ERR(err, "%s: expected a list of strings", path);
    size_t i;
    json_t *s;
    json_array_foreach (v, i, s) {
      if (!json_is_string(s))
        return BERTH_ERR(err, "%s[%zu]: expected a string", path, i);
      if (api_map_flag(m, path, f->flag, json_string_value(s), err) < 0)
        return -1;
    }
    return 0;
  }
  case API_F_BOOL:
    if (!json_is_boolean(v) && !json_is_null(v))
      return BERTH_ERR(err, "%s: expected true or false", path);
    return json_is_true(v) ? api_map_flag(m, path, f->flag, NULL, err) : 0;
  case API_F_INT:
  case API_F_INT_ANY:
    if (json_is_null(v))
      return 0;
    if (!json_is_integer(v))
      return BERTH_ERR(err, "%s: expected an integer", path);
    if (json_integer_value(v) == 0 || (f->kind == API_F_INT && json_integer_value(v) < 0))
      return json_integer_value(v) < 0 ? BERTH_ERR(err, "%s: must not be negative", path) : 0;
    snprintf(num, sizeof num, "%lld", (long long) json_integer_value(v));
    return api_map_flag(m, path, f->flag, num, err);
  case API_F_IGNORE: return 0;
  case API_F_ZERO: return api_json_is_zero(v) ? 0 : BERTH_ERR(err, "%s: not supported by berth", path);
  case API_F_CUSTOM: return f->fn(m, path, v, err);
  }
  return BERTH_ERR(err, "%s: internal error", path);
}

int api_map_object(struct api_map *m, const char *path, json_t *obj, const struct api_field *t, size_t n,
                   berth_error_t *err)
{
  if (json_is_null(obj) || obj == NULL)
    return 0;
  if (!json_is_object(obj))
    return BERTH_ERR(err, "%s: expected an object", path);
  const char *key;
  json_t *v;
  json_object_foreach (obj, key, v) {
    cleanup_free char *p = path[0] ? xasprintf("%s.%s", path, key) : xstrdup(key);
    size_t i = 0;
    while (i < n && strcmp(t[i].key, key) != 0)
      i++;
    if (i == n)
      return BERTH_ERR(err, "unknown field `%s`", p);
    if (apply_kind(m, p, &t[i], v, err) < 0)
      return -1;
  }
  return 0;
}

/* Cmd: a list (or a string, one word); null: the image's */
static BERTH_WUR int set_cmd(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  berth_strv_free(m->out->args);
  m->out->args = xcalloc(1, sizeof *m->out->args);
  if (json_is_string(v)) {
    m->out->args = berth_strv_append(m->out->args, json_string_value(v));
    return 0;
  }
  if (!json_is_array(v))
    return BERTH_ERR(err, "%s: expected a list of strings", path);
  size_t i;
  json_t *s;
  json_array_foreach (v, i, s) {
    if (!json_is_string(s))
      return BERTH_ERR(err, "%s[%zu]: expected a string", path, i);
    m->out->args = berth_strv_append(m->out->args, json_string_value(s));
  }
  return 0;
}

/* Entrypoint: null or [] the image's; [""] cleared (the CLI's --entrypoint ""); else the list,
 * handed to --entrypoint as JSON (runspec takes a JSON array there) */
static BERTH_WUR int set_entrypoint(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0))
    return 0;
  if (json_is_string(v))
    return api_map_flag(m, path, "--entrypoint", json_string_value(v), err);
  if (!json_is_array(v))
    return BERTH_ERR(err, "%s: expected a list of strings", path);
  size_t i;
  json_t *s;
  json_array_foreach (v, i, s)
    if (!json_is_string(s))
      return BERTH_ERR(err, "%s[%zu]: expected a string", path, i);
  if (json_array_size(v) == 1 && json_string_length(json_array_get(v, 0)) == 0)
    return api_map_flag(m, path, "--entrypoint", "", err);
  cleanup_free char *text = json_dumps(v, JSON_COMPACT);
  return api_map_flag(m, path, "--entrypoint", text, err);
}

/* {"80/tcp": {}} -> --expose 80/tcp; {"/data": {}} -> -v /data (an anonymous volume) */
static BERTH_WUR int set_keys(struct api_map *m, const char *path, json_t *v, const char *flag,
                              berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  if (!json_is_object(v))
    return BERTH_ERR(err, "%s: expected an object", path);
  const char *k;
  json_t *x;
  json_object_foreach (v, k, x)
    if (api_map_flag(m, path, flag, k, err) < 0)
      return -1;
  return 0;
}
static BERTH_WUR int set_exposed(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  return set_keys(m, path, v, "--expose", err);
}
static BERTH_WUR int set_volumes(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (!json_is_null(v) && !json_is_object(v))
    return BERTH_ERR(err, "%s: expected an object", path);
  m->volumes = v;
  return 0;
}

/* Config.Volumes: anonymous volumes at the paths no bind, mount or tmpfs covers (docker-py
 * sends a bind's path in both) */
static BERTH_WUR int anonymous_volumes(struct api_map *m, berth_error_t *err)
{
  const char *k;
  json_t *x;
  json_object_foreach (m->volumes, k, x) {
    cleanup_free char *clean = berth_runopts_clean_path(k);
    bool covered = false;
    for (size_t i = 0; clean && i < m->out->opts.n_mounts && !covered; i++)
      covered = m->out->opts.mounts[i].target && strcmp(m->out->opts.mounts[i].target, clean) == 0;
    if (!covered && api_map_flag(m, "Volumes", "--volume", k, err) < 0)
      return -1;
  }
  return 0;
}

static BERTH_WUR int set_labels(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  if (!json_is_object(v))
    return BERTH_ERR(err, "%s: expected an object of strings", path);
  const char *k;
  json_t *x;
  json_object_foreach (v, k, x) {
    if (!json_is_string(x))
      return BERTH_ERR(err, "%s.%s: expected a string", path, k);
    cleanup_free char *kv = xasprintf("%s=%s", k, json_string_value(x));
    if (api_map_flag(m, path, "--label", kv, err) < 0)
      return -1;
  }
  return 0;
}

static BERTH_WUR int set_attach_stdin(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (!json_is_boolean(v) && !json_is_null(v))
    return BERTH_ERR(err, "%s: expected true or false", path);
  m->out->attach_stdin = json_is_true(v);
  return 0;
}

static BERTH_WUR int check_bool(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  (void) m;
  return json_is_boolean(v) || json_is_null(v) ? 0 : BERTH_ERR(err, "%s: expected true or false", path);
}

static BERTH_WUR int set_network_disabled(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (check_bool(m, path, v, err) < 0)
    return -1;
  return json_is_true(v) ? api_map_flag(m, path, "--network", "none", err) : 0;
}

static BERTH_WUR int set_image(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (!json_is_string(v) || json_string_length(v) == 0)
    return BERTH_ERR(err, "%s: expected an image name", path);
  free(m->out->image);
  m->out->image = xstrdup(json_string_value(v));
  return 0;
}

static BERTH_WUR int host_config(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  return api_map_host(m, path, v, err);
}

/* NetworkingConfig.EndpointsConfig: the network of NetworkMode (or the only one) gets its
 * aliases and addresses; others are joined as well (--network once each) */
static BERTH_WUR int endpoint(struct api_map *m, const char *path, const char *net, json_t *ep, bool primary,
                              berth_error_t *err);
static BERTH_WUR int networking(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  json_t *eps = json_object_get(v, "EndpointsConfig");
  if (!json_is_object(v))
    return BERTH_ERR(err, "%s: expected {\"EndpointsConfig\": {...}}", path);
  /* docker-py 7's run(network=N) sends {"N": null} beside NetworkMode N (Docker's decoder skips
   * it): a network named with nothing to say is accepted, anything else is an error */
  const char *k;
  json_t *x;
  json_object_foreach (v, k, x)
    if (strcmp(k, "EndpointsConfig") != 0 && !json_is_null(x))
      return BERTH_ERR(err, "%s: unknown key `%s` (expected {\"EndpointsConfig\": {...}})", path, k);
  if (json_is_null(eps) || eps == NULL)
    return 0;
  if (!json_is_object(eps))
    return BERTH_ERR(err, "%s.EndpointsConfig: expected an object", path);
  const char *mode = m->network_mode;
  const char *net;
  json_t *ep;
  json_object_foreach (eps, net, ep) {
    bool primary =
      mode == NULL || mode[0] == '\0' || strcmp(mode, net) == 0 ||
      (json_object_size(eps) == 1 && (strcmp(mode, "default") == 0 || strcmp(mode, "bridge") == 0));
    cleanup_free char *p = xasprintf("%s.EndpointsConfig.%s", path, net);
    if (endpoint(m, p, net, ep, primary, err) < 0)
      return -1;
  }
  return 0;
}

static BERTH_WUR int ipam(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  static const struct api_field t[] = {
    { "IPv4Address", API_F_STR, "--ip", NULL },
    { "IPv6Address", API_F_STR, "--ip6", NULL },
    { "LinkLocalIPs", API_F_ZERO, NULL, NULL },
  };
  return api_map_object(m, path, v, t, BERTH_N_ELEMENTS(t), err);
}

static BERTH_WUR int endpoint(struct api_map *m, const char *path, const char *net, json_t *ep, bool primary,
                              berth_error_t *err)
{
  static const struct api_field t[] = {
    { "IPAMConfig", API_F_CUSTOM, NULL, ipam },
    { "Links", API_F_ZERO, NULL, NULL },
    { "Aliases", API_F_STRS, "--network-alias", NULL },
    { "MacAddress", API_F_STR, "--mac-address", NULL },
    { "DriverOpts", API_F_ZERO, NULL, NULL },
    { "GwPriority", API_F_ZERO, NULL, NULL },
    { "NetworkID", API_F_IGNORE, NULL, NULL },
    { "EndpointID", API_F_IGNORE, NULL, NULL },
    { "Gateway", API_F_IGNORE, NULL, NULL },
    { "IPAddress", API_F_IGNORE, NULL, NULL },
    { "IPPrefixLen", API_F_IGNORE, NULL, NULL },
    { "IPv6Gateway", API_F_IGNORE, NULL, NULL },
    { "GlobalIPv6Address", API_F_IGNORE, NULL, NULL },
    { "GlobalIPv6PrefixLen", API_F_IGNORE, NULL, NULL },
    { "DNSNames", API_F_IGNORE, NULL, NULL },
  };
  const char *mode = m->network_mode;
  bool named_by_mode = mode && strcmp(mode, net) == 0;
  if (!named_by_mode && !(primary && mode && mode[0]))
    if (api_map_flag(m, path, "--network", net, err) < 0)
      return -1;
  if (!primary) { /* a second network: only joined (berth asks aliases of the first one) */
    json_t *al = json_object_get(ep, "Aliases");
    if (!api_json_is_zero(al))
      return BERTH_ERR(err,
                       "%s.Aliases: aliases on a second network are not supported; connect it after "
                       "create",
                       path);
    return 0;
  }
  return api_map_object(m, path, ep, t, BERTH_N_ELEMENTS(t), err);
}

static const struct api_field config_fields[] = {
  { "Hostname", API_F_STR, "--hostname", NULL },
  { "Domainname", API_F_ZERO, NULL, NULL },
  { "User", API_F_STR, "--user", NULL },
  { "AttachStdin", API_F_CUSTOM, NULL, set_attach_stdin },
  { "AttachStdout", API_F_CUSTOM, NULL, check_bool },
  { "AttachStderr", API_F_CUSTOM, NULL, check_bool },
  { "ExposedPorts", API_F_CUSTOM, NULL, set_exposed },
  { "Tty", API_F_BOOL, "--tty", NULL },
  { "OpenStdin", API_F_BOOL, "--interactive", NULL },
  { "StdinOnce", API_F_CUSTOM, NULL, check_bool },
  { "Env", API_F_STRS, "--env", NULL },
  { "Cmd", API_F_CUSTOM, NULL, set_cmd },
  { "Healthcheck", API_F_IGNORE, NULL, NULL },
  { "ArgsEscaped", API_F_IGNORE, NULL, NULL },
  { "Image", API_F_CUSTOM, NULL, set_image },
  { "Volumes", API_F_CUSTOM, NULL, set_volumes },
  { "WorkingDir", API_F_STR, "--workdir", NULL },
  { "Entrypoint", API_F_CUSTOM, NULL, set_entrypoint },
  { "NetworkDisabled", API_F_CUSTOM, NULL, set_network_disabled },
  { "MacAddress", API_F_STR, "--mac-address", NULL },
  { "OnBuild", API_F_ZERO, NULL, NULL },
  { "Labels", API_F_CUSTOM, NULL, set_labels },
  { "StopSignal", API_F_STR, "--stop-signal", NULL },
  { "StopTimeout", API_F_INT_ANY, "--stop-timeout", NULL },
  { "Shell", API_F_ZERO, NULL, NULL },
  { "HostConfig", API_F_CUSTOM, NULL, host_config },
  { "NetworkingConfig", API_F_CUSTOM, NULL, networking },
  { "Platform", API_F_IGNORE, NULL, NULL },
};

int berth_api_create_parse(json_t *body, const char *name, struct berth_api_create *out, berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  berth_runopts_init(&out->opts);
  if (!json_is_object(body))
    return BERTH_ERR(err, "the body must be a JSON object");
  struct api_map m = { .out = out };
  json_t *hc = json_object_get(body, "HostConfig");
  json_t *mode = json_object_get(hc, "NetworkMode");
  m.network_mode = json_is_string(mode) ? json_string_value(mode) : NULL;
  json_t *stdout_on = json_object_get(body, "AttachStdout"),
         *stderr_on = json_object_get(body, "AttachStderr");
  json_t *stdin_on = json_object_get(body, "AttachStdin");
  if ((name && name[0] && api_map_flag(&m, "name", "--name", name, err) < 0) ||
      api_map_object(&m, "", body, config_fields, BERTH_N_ELEMENTS(config_fields), err) < 0 ||
      anonymous_volumes(&m, err) < 0)
    return -1;
  if (out->image == NULL)
    return BERTH_ERR(err, "Image: no image given");
  /* no stream attached: `run -d` (Config's Attach* and StdinOnce follow from it) */
  if (!json_is_true(stdout_on) && !json_is_true(stderr_on) && !json_is_true(stdin_on))
    out->opts.detach = true;
  return berth_runopts_validate(&out->opts, err);
}

void berth_api_create_release(struct berth_api_create *c)
{
  berth_runopts_release(&c->opts);
  free(c->image);
  berth_strv_free(c->args);
  berth_strv_free(c->runtime_flags);
  memset(c, 0, sizeof *c);
}
