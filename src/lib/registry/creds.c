/* Credentials: auth.json (containers-auth.json(5)) first, then Docker's config.json with its
 * "credHelpers", "auths" and "credsStore". A credential helper is a legitimate external program
 * (Docker's credential-helper protocol): `docker-credential-<name> get`, the server on its
 * stdin, {"Username","Secret"} on its stdout; nothing secret on a command line. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "json/json.h"
#include "registry/registry.h"

void berth_credentials_release(struct berth_credentials *c)
{
  if (c->password != NULL)
    explicit_bzero(c->password, strlen(c->password));
  free(c->username);
  free(c->password);
  c->username = c->password = NULL;
}

char *berth_authfile_path(const struct berth_auth_files *f)
{
  if (f != NULL && f->authfile != NULL)
    return xstrdup(f->authfile);
  const char *env = getenv("REGISTRY_AUTH_FILE");
  if (env != NULL && env[0] != '\0')
    return xstrdup(env);
  const char *run = getenv("XDG_RUNTIME_DIR");
  return xasprintf("%s/containers/auth.json", run && run[0] ? run : "/run");
}

static char *docker_config_path(const struct berth_auth_files *f)
{
  if (f != NULL && f->docker_config != NULL)
    return xstrdup(f->docker_config);
  const char *dir = getenv("DOCKER_CONFIG");
  if (dir != NULL && dir[0] != '\0')
    return xasprintf("%s/config.json", dir);
  const char *home = getenv("HOME");
  return xasprintf("%s/.docker/config.json", home && home[0] ? home : "/root");
}

/* a JSON file, or NULL with no error when it does not exist */
static BERTH_WUR json_t *load_optional(const char *path, berth_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  berth_error_t rerr = NULL;
  if (berth_read_file(path, 4 << 20, &data, &len, &rerr) < 0) {
    if (rerr->errnum == ENOENT || rerr->errnum == ENOTDIR) {
      berth_error_release(&rerr);
      return NULL;
    }
    *err = steal_ptr(rerr);
    return NULL;
  }
  return berth_json_parse(data, len, path, err);
}

/* "auth": base64("user:password") */
static BERTH_WUR int decode_auth(const char *file, const char *key, const char *auth,
                                 struct berth_credentials *out, berth_error_t *err)
{
  size_t len = 0;
  cleanup_free char *plain = berth_base64_decode(auth, &len);
  char *colon = plain ? memchr(plain, ':', len) : NULL;
  if (colon == NULL || memchr(plain, '\0', len) != NULL) {
    if (plain)
      explicit_bzero(plain, len);
    return BERTH_ERR(err, "%s: auths.%s.auth: not base64 of `user:password`", file, key);
  }
  out->username = xstrndup(plain, (size_t) (colon - plain));
  out->password = xstrdup(colon + 1);
  explicit_bzero(plain, len);
  return 1;
}

/* the "auths" entry of a registry: 1 found, 0 none */
static BERTH_WUR int from_auths(json_t *root, const char *file, const char *registry,
                                struct berth_credentials *out, berth_error_t *err)
{
  json_t *auths = json_object_get(root, "auths");
  const char *key;
  json_t *val;
  json_object_foreach (auths, key, val) {
    if (!berth_registry_auth_key_matches(key, registry))
      continue;
    json_t *a = json_object_get(val, "auth");
    if (json_is_string(a) && json_string_value(a)[0] != '\0')
      return decode_auth(file, key, json_string_value(a), out, err);
    json_t *tok = json_object_get(val, "identitytoken");
    if (json_is_string(tok)) {
      out->username = xstrdup("<token>");
      out->password = xstrdup(json_string_value(tok));
      return 1;
    }
  }
  return 0;
}

static bool helper_name_ok(const char *name)
{
  if (name[0] == '\0' || strlen(name) > 64)
    return false;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
          *p == '_' || *p == '.'))
      return false;
  return true;
}

/* run `docker-credential-<name> get` with input on stdin; its stdout in *out */
static BERTH_WUR int run_helper(const char *name, const char *input, char **out, int *status,
                                berth_error_t *err)
{
  int in[2] = { -1, -1 }, o[2] = { -1, -1 };
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(o, O_CLOEXEC) < 0) {
    int r = BERTH_ERR_ERRNO(err, "credential helper `%s`: pipe", name);
    close(in[0]), close(in[1]);
    return r;
  }
  cleanup_free char *prog = xasprintf("docker-credential-%s", name);
  char *argv[] = { prog, (char *) "get", NULL };
  /* its stderr is ours (a helper's complaint reaches the user), nothing else of ours is its */
  struct berth_child_exec x = {
    .argv = argv, .fds = { in[0], o[1], 2 }, .nfds = 3, .flags = BERTH_CHILD_SEARCH
  };
  pid_t pid = -1;
  int r = berth_child_exec(&x, &pid, err);
  close(in[0]);
  close(o[1]);
  if (r < 0) {
    close(in[1]);
    close(o[0]);
    return berth_error_wrap(err, "credential helper `%s`", name);
  }
  berth_ignore(berth_write_all(in[1], input, strlen(input)));
  close(in[1]);
  size_t cap = 1 << 16, len = 0;
  char *buf = xmalloc(cap + 1);
  for (ssize_t n; len < cap && (n = berth_read_all(o[0], buf + len, cap - len)) > 0;)
    len += (size_t) n;
  buf[len] = '\0';
  close(o[0]);
  while (waitpid(pid, status, 0) < 0 && errno == EINTR)
    ;
  *out = buf;
  return 0;
}

/* 1 found, 0 the helper has none */
static BERTH_WUR int from_helper(const char *name, const char *registry, struct berth_credentials *out,
                                 berth_error_t *err)
{
  if (!helper_name_ok(name))
    return BERTH_ERR(err, "credential helper `%s`: invalid name", name);
  const char *server = strcmp(registry, "docker.io") == 0 ? "https://index.docker.io/v1/" : registry;
  cleanup_free char *text = NULL;
  int status = 0;
  if (run_helper(name, server, &text, &status, err) < 0)
    return -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    explicit_bzero(text, strlen(text));
    return 0; /* "credentials not found in native keychain" and the like */
  }
  berth_error_t perr = NULL;
  json_t *j = berth_json_parse(text, strlen(text), NULL, &perr);
  explicit_bzero(text, strlen(text));
  if (j == NULL) {
    berth_error_release(&perr); /* the message would quote the output: the secret */
    return BERTH_ERR(err, "credential helper `docker-credential-%s`: output is not JSON", name);
  }
  json_t *u = json_object_get(j, "Username"), *s = json_object_get(j, "Secret");
  int r = 0;
  if (json_is_string(u) && json_is_string(s)) {
    out->username = xstrdup(json_string_value(u));
    out->password = xstrdup(json_string_value(s));
    r = 1;
  } else {
    r =
      BERTH_ERR(err, "credential helper `docker-credential-%s`: no Username and Secret in its output", name);
  }
  json_decref(j);
  return r;
}

static BERTH_WUR int from_docker_config(json_t *root, const char *file, const char *registry,
                                        struct berth_credentials *out, berth_error_t *err)
{
  json_t *helpers = json_object_get(root, "credHelpers");
  const char *key;
  json_t *val;
  json_object_foreach (helpers, key, val)
    if (berth_registry_auth_key_matches(key, registry) && json_is_string(val))
      return from_helper(json_string_value(val), registry, out, err);
  int r = from_auths(root, file, registry, out, err);
  if (r != 0)
    return r;
  json_t *store = json_object_get(root, "credsStore");
  if (json_is_string(store) && json_string_value(store)[0] != '\0')
    return from_helper(json_string_value(store), registry, out, err);
  return 0;
}

int berth_credentials_lookup(const struct berth_auth_files *f, const char *registry,
                             struct berth_credentials *out, berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  cleanup_free char *authfile = berth_authfile_path(f);
  json_t *a = load_optional(authfile, err);
  if (a == NULL && *err != NULL)
    return -1;
  int r = a ? from_auths(a, authfile, registry, out, err) : 0;
  json_decref(a);
  if (r != 0)
    return r;
  cleanup_free char *dc = docker_config_path(f);
  json_t *d = load_optional(dc, err);
  if (d == NULL && *err != NULL)
    return -1;
  r = d ? from_docker_config(d, dc, registry, out, err) : 0;
  json_decref(d);
  return r;
}
