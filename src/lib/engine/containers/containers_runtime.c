/* Containers: finding berth's helper programs and driving the OCI runtime's command line. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"

static bool executable(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static char *search_path(const char *name)
{
  const char *env = getenv("PATH");
  cleanup_free char *path =
    xstrdup(env && *env ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  char *save = NULL;
  for (char *dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    char *cand = xasprintf("%s/%s", *dir ? dir : ".", name);
    if (executable(cand))
      return cand;
    free(cand);
  }
  return NULL;
}

/* the directory of the running berth binary */
static char *self_dir(void)
{
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    return NULL;
  buf[n] = '\0';
  char *slash = strrchr(buf, '/');
  if (slash == NULL)
    return NULL;
  *slash = '\0';
  return xstrdup(buf);
}

char *ctr_find_helper(const char *name, const char *build_subdir, berth_error_t *err)
{
  cleanup_free char *dir = self_dir();
  if (dir) {
    char *c = xasprintf("%s/%s", dir, name); /* installed side by side */
    if (executable(c))
      return c;
    free(c);
    c = xasprintf("%s/../%s/%s", dir, build_subdir, name); /* the build tree: src/engine/berth */
    if (executable(c))
      return c;
    free(c);
  }
  char *p = search_path(name);
  if (p == NULL)
    BERTH_ERR(err, "cannot find `%s` next to berth (%s) or in PATH", name, dir ? dir : "?");
  return p;
}

char *berth_ctr_find_runtime(const char *name, berth_error_t *err)
{
  if (name == NULL || *name == '\0' || strcmp(name, "berth-runtime") == 0)
    return ctr_find_helper("berth-runtime", "runtime", err);
  if (name[0] == '/') {
    if (!executable(name)) {
      BERTH_ERR(err, "--runtime: `%s` is not an executable file", name);
      return NULL;
    }
    return xstrdup(name);
  }
  if (strchr(name, '/')) {
    BERTH_ERR(err, "--runtime: `%s`: give a name (runc, crun) or an absolute path", name);
    return NULL;
  }
  char *p = search_path(name);
  if (p == NULL)
    BERTH_ERR(err, "--runtime: `%s` not found in PATH", name);
  return p;
}

char **berth_ctr_runtime_argv(const struct berth_engine *e, const struct berth_ctr *c,
                              const char *const *tail)
{
  char **v = berth_strv_append(NULL, c->row.runtime);
  cleanup_free char *root = xasprintf("%s/runtime", e->runroot);
  v = berth_strv_append(v, "--root");
  v = berth_strv_append(v, root);
  json_t *flags = json_object_get(c->host_config, "BerthRuntimeFlags");
  size_t i;
  json_t *f;
  json_array_foreach (flags, i, f)
    if (json_is_string(f))
      v = berth_strv_append(v, json_string_value(f));
  for (i = 0; tail && tail[i]; i++)
    v = berth_strv_append(v, tail[i]);
  return v;
}

/* the last non-empty line of text, or fallback */
static char *last_line(const char *text, const char *fallback)
{
  size_t end = strlen(text);
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == ' ' || text[end - 1] == '\r'))
    end--;
  size_t start = end;
  while (start > 0 && text[start - 1] != '\n')
    start--;
  return end > start ? xstrndup(text + start, end - start) : xstrdup(fallback);
}

/* the runtime with stdin and stdout on /dev/null and stderr on a pipe (its error message) */
int ctr_runtime_spawn(const struct berth_engine *e, const struct berth_ctr *c, const char *const *tail,
                      struct ctr_runtime_proc *proc, berth_error_t *err)
{
  cleanup_strv char **argv = berth_ctr_runtime_argv(e, c, tail);
  *proc = (struct ctr_runtime_proc){ .pid = -1, .errfd = -1 };
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return BERTH_ERR_ERRNO(err, "pipe");
  struct berth_child_exec x = { .argv = argv, .fds = { -1, -1, p[1] }, .nfds = 3 };
  pid_t pid = -1;
  int r = berth_child_exec(&x, &pid, err);
  close(p[1]);
  if (r < 0) {
    close(p[0]);
    return berth_error_wrap(err, "OCI runtime `%s` %s", c->row.runtime, tail[0]);
  }
  *proc = (struct ctr_runtime_proc){
    .pid = pid, .errfd = p[0], .runtime = xstrdup(c->row.runtime), .verb = xstrdup(tail[0])
  };
  return 0;
}

int ctr_runtime_wait(struct ctr_runtime_proc *proc, berth_error_t *err)
{
  cleanup_free char *runtime = steal_ptr(proc->runtime), *verb = steal_ptr(proc->verb);
  if (proc->pid < 0)
    return BERTH_ERR(err, "OCI runtime: no %s to wait for", verb ? verb : "command");
  cleanup_strbuf struct berth_strbuf out = BERTH_STRBUF_INIT;
  char buf[4096];
  ssize_t n;
  while ((n = read(proc->errfd, buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      break;
    if (out.len < 65536)
      berth_strbuf_append(&out, buf, (size_t) n);
  }
  close(proc->errfd);
  int st = 0;
  while (waitpid(proc->pid, &st, 0) < 0 && errno == EINTR)
    ;
  *proc = (struct ctr_runtime_proc){ .pid = -1, .errfd = -1 };
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
    return 0;
  cleanup_free char *msg = last_line(out.buf ? out.buf : "", "failed without a message");
  return BERTH_ERR(err, "OCI runtime `%s` %s: %s", runtime, verb, msg);
}

int berth_ctr_runtime_run(const struct berth_engine *e, const struct berth_ctr *c, const char *const *tail,
                          berth_error_t *err)
{
  struct ctr_runtime_proc p;
  if (ctr_runtime_spawn(e, c, tail, &p, err) < 0)
    return -1;
  return ctr_runtime_wait(&p, err);
}

/* "1.0.2-dev" -> 1000002 (major, minor, patch); -1 when not a version */
static long version_key(const char *v)
{
  unsigned a = 0, b = 0, c = 0;
  if (v == NULL || sscanf(v, "%u.%u.%u", &a, &b, &c) < 2)
    return -1;
  return (long) a * 1000000 + (long) b * 1000 + (long) c;
}

/* the runtime's `features` output (OCI runtime-spec features.md), NULL when it has none */
static json_t *runtime_features(const char *runtime)
{
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return NULL;
  char *argv[] = { (char *) runtime, (char *) "features", NULL };
  struct berth_child_exec x = { .argv = argv, .fds = { -1, p[1], -1 }, .nfds = 3 };
  pid_t pid = -1; /* none: the caller assumes an old runtime */
  berth_ignore(berth_child_exec(&x, &pid, BERTH_IGNORED));
  close(p[1]);
  cleanup_strbuf struct berth_strbuf out = BERTH_STRBUF_INIT;
  char buf[4096];
  ssize_t n;
  while (pid > 0 && (n = read(p[0], buf, sizeof buf)) != 0 && out.len < (1u << 20)) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      break;
    berth_strbuf_append(&out, buf, (size_t) n);
  }
  close(p[0]);
  int st = 0;
  while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || out.buf == NULL)
    return NULL;
  return json_loads(out.buf, 0, NULL);
}

void ctr_clamp_oci_version(const char *runtime, json_t *spec)
{
  const char *base = strrchr(runtime, '/');
  if (berth_str_has_prefix(base ? base + 1 : runtime, "berth-runtime"))
    return; /* ours speaks the version ctrspec writes */
  json_t *features = runtime_features(runtime);
  /* no `features` (crun < 1.9, runc < 1.1): a runtime older than spec 1.1, which knows 1.0.2 */
  const char *max = features ? json_string_value(json_object_get(features, "ociVersionMax")) : "1.0.2";
  const char *ours = json_string_value(json_object_get(spec, "ociVersion"));
  long kmax = version_key(max), kours = version_key(ours);
  if (kmax >= 0 && kours > kmax) { /* crun 1.8 refuses 1.2.0: "unknown version specified" */
    char v[32];
    snprintf(v, sizeof v, "%ld.%ld.%ld", kmax / 1000000, kmax / 1000 % 1000, kmax % 1000);
    json_object_set_new(spec, "ociVersion", json_string(v));
  }
  json_decref(features);
}
