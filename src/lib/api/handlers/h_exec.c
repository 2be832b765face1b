/* Exec: create (a record), start (detached: a watcher process records the exit; attached: the
 * hijacked connection carries the process's terminal, or its stdout and stderr multiplexed),
 * resize and inspect. The process runs through the container's runtime (berth_ctr_exec_*). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/handlers/exec_internal.h"
#include "api/handlers/exec_io_internal.h"
#include "api/handlers/handlers_internal.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/sync.h"
#include "base/xalloc.h"

static BERTH_WUR int check_exec_body(json_t *b, berth_error_t *err)
{
  static const char *const keys[] = { "AttachStdin", "AttachStdout", "AttachStderr", "DetachKeys", "Tty",
                                      "ConsoleSize", "Env",          "Cmd",          "Privileged", "User",
                                      "WorkingDir",  "Detach",       "Container",    NULL };
  const char *k;
  json_t *v;
  json_object_foreach (b, k, v) {
    size_t i = 0;
    while (keys[i] && strcmp(keys[i], k) != 0)
      i++;
    if (keys[i] == NULL)
      return BERTH_ERR(err, "unknown field `%s`", k);
  }
  json_t *cmd = json_object_get(b, "Cmd");
  if (!json_is_array(cmd) || json_array_size(cmd) == 0)
    return BERTH_ERR(err, "Cmd: no command specified");
  size_t i;
  json_array_foreach (cmd, i, v)
    if (!json_is_string(v))
      return BERTH_ERR(err, "Cmd[%zu]: expected a string", i);
  json_array_foreach (json_object_get(b, "Env"), i, v)
    if (!json_is_string(v) || !strchr(json_string_value(v), '='))
      return BERTH_ERR(err, "Env[%zu]: expected \"KEY=value\"", i);
  const char *wd = json_string_value(json_object_get(b, "WorkingDir"));
  if (wd && wd[0] && wd[0] != '/')
    return BERTH_ERR(err, "WorkingDir: `%s` is not an absolute path", wd);
  return 0;
}

enum MHD_Result api_h_EXEC_CREATE(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct berth_ctr c;
  json_t *b = api_body(r, &err);
  if (b == NULL || check_exec_body(b, &err) < 0) {
    json_decref(b);
    return api_reply_err_status(r, 400, &err);
  }
  if (api_ctr_get(r, &e, &c, &err) < 0) {
    json_decref(b);
    return api_reply_err(r, &err);
  }
  bool running = c.state == BERTH_CTR_RUNNING;
  berth_ctr_id_t cid, id;
  snprintf(cid, sizeof cid, "%s", c.row.id);
  berth_ctr_release(&c);
  if (!running) {
    json_decref(b);
    return api_reply_error(r, 409, "container %s is not running", cid);
  }
  api_exec_gc(e);
  berth_engine_new_id(id);
  const char *user = json_string_value(json_object_get(b, "User"));
  const char *wd = json_string_value(json_object_get(b, "WorkingDir"));
  json_t *env = json_object_get(b, "Env");
  json_t *rec = json_pack(
    "{s:s, s:s, s:O, s:O, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:n, s:i}", "ID", id, "ContainerID", cid,
    "Cmd", json_object_get(b, "Cmd"), "Env", json_is_array(env) ? env : json_array(), "User",
    user ? user : "", "WorkingDir", wd ? wd : "", "Tty", json_is_true(json_object_get(b, "Tty")),
    "Privileged", json_is_true(json_object_get(b, "Privileged")), "AttachStdin",
    json_is_true(json_object_get(b, "AttachStdin")), "AttachStdout",
    json_is_true(json_object_get(b, "AttachStdout")), "AttachStderr",
    json_is_true(json_object_get(b, "AttachStderr")), "Running", 0, "ExitCode", "Pid", 0);
  json_decref(b);
  if (rec == NULL)
    return api_reply_error(r, 400, "User, WorkingDir and Env must be UTF-8");
  int rc = api_exec_save(e, rec, &err);
  json_decref(rec);
  if (rc < 0)
    return api_reply_err(r, &err);
  return api_reply_json(r, 201, json_pack("{s:s}", "Id", id));
}

enum MHD_Result api_h_EXEC_INSPECT(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  json_t *rec = NULL;
  if (api_engine(r, &e, &err) < 0 || (rec = api_exec_load(e, r->m.arg[0], &err)) == NULL)
    return api_reply_err(r, &err);
  json_t *o = api_exec_inspect_json(rec);
  json_decref(rec);
  return o ? api_reply_json(r, 200, o) : api_reply_error(r, 500, "exec record unreadable");
}

enum MHD_Result api_h_EXEC_RESIZE(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  json_t *rec = NULL;
  int64_t h = 0, w = 0;
  if (api_query_int(r, "h", 0, &h, &err) < 0 || api_query_int(r, "w", 0, &w, &err) < 0)
    return api_reply_err_status(r, 400, &err);
  if (h <= 0 || w <= 0 || h > 65535 || w > 65535)
    return api_reply_error(r, 400, "h and w must be terminal sizes (1 to 65535)");
  if (api_engine(r, &e, &err) < 0 || (rec = api_exec_load(e, r->m.arg[0], &err)) == NULL)
    return api_reply_err(r, &err);
  bool running = json_is_true(json_object_get(rec, "Running")),
       tty = json_is_true(json_object_get(rec, "Tty"));
  json_decref(rec);
  if (!running || !tty)
    return api_reply_error(r, 409, "exec %s is not running with a terminal", r->m.arg[0]);
  cleanup_free char *path = api_exec_sock_path(e, r->m.arg[0]);
  struct sockaddr_un sa;
  cleanup_close int dirfd = -1;
  cleanup_close int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  unsigned short sz[2] = { (unsigned short) h, (unsigned short) w };
  if (s < 0 || api_sun_path(path, &sa, &dirfd) < 0 ||
      sendto(s, sz, sizeof sz, 0, (struct sockaddr *) &sa, sizeof sa) < 0)
    return api_reply_error(r, 409, "exec %s: its terminal cannot be resized now", r->m.arg[0]);
  return api_reply_empty(r, 200);
}

/* ---- start ---- */
static void start_in(json_t *rec, json_t *body, struct berth_ctr_exec_in *in, char ***args, char ***env)
{
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get(rec, "Cmd"), i, v)
    *args = berth_strv_append(*args, json_string_value(v));
  json_array_foreach (json_object_get(rec, "Env"), i, v)
    *env = berth_strv_append(*env, json_string_value(v));
  const char *user = json_string_value(json_object_get(rec, "User"));
  const char *wd = json_string_value(json_object_get(rec, "WorkingDir"));
  json_t *size = json_object_get(body, "ConsoleSize");
  memset(in, 0, sizeof *in);
  in->args = *args;
  in->env = *env;
  in->user = user && user[0] ? user : NULL;
  in->workdir = wd && wd[0] ? wd : NULL;
  in->tty = json_is_true(json_object_get(rec, "Tty"));
  in->privileged = json_is_true(json_object_get(rec, "Privileged"));
  if (json_array_size(size) == 2) {
    in->rows = (unsigned short) json_integer_value(json_array_get(size, 0));
    in->cols = (unsigned short) json_integer_value(json_array_get(size, 1));
  }
}

void api_exec_record(struct berth_engine *e, json_t *rec, bool running, int64_t pid, int code)
{
  json_object_set_new(rec, "Running", json_boolean(running));
  json_object_set_new(rec, "Pid", json_integer(pid));
  if (!running)
    json_object_set_new(rec, "ExitCode", json_integer(code));
  berth_error_t err = NULL;
  if (api_exec_save(e, rec, &err) < 0)
    berth_error_release(&err);
}

/* detached: a watcher process (its own session) runs it and records its exit; the reply waits
 * for the process to run */
static void watcher(const struct berth_api_opts *o, json_t *rec, json_t *body, int sock)
{
  cleanup_strv char **args = NULL, **env = NULL;
  struct berth_ctr_exec_in in;
  start_in(rec, body, &in, &args, &env);
  in.tty = false;
  struct berth_engine *e = NULL;
  berth_error_t err = NULL;
  struct berth_ctr_exec x;
  cleanup_close int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  int stdio[3] = { devnull, devnull, devnull };
  const char *cid = json_string_value(json_object_get(rec, "ContainerID"));
  setsid();
  if (berth_engine_open(&o->engine, &e, &err) < 0 || berth_ctr_exec_start(e, cid, &in, stdio, &x, &err) < 0) {
    berth_sync_send_error(sock, &err);
    _exit(1);
  }
  api_exec_record(e, rec, true, x.pid, 0);
  if (berth_sync_send(sock, 1, 0, NULL, 0, -1, &err) < 0)
    berth_error_release(&err);
  close(sock);
  int code = 125;
  if (berth_ctr_exec_wait(&x, &code, &err) < 0)
    berth_error_release(&err);
  api_exec_record(e, rec, false, 0, code);
  berth_ctr_exec_release(&x);
  berth_engine_close(e);
  _exit(0);
}

static enum MHD_Result start_detached(struct api_req *r, json_t *rec, json_t *body)
{
  cleanup_error berth_error_t err = NULL;
  int sv[2];
  if (berth_sync_pair(sv, &err) < 0)
    return api_reply_err(r, &err);
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    close(r->c->fd);
    pid_t w = fork(); /* the watcher outlives this connection: init's child, not ours */
    if (w == 0)
      watcher(r->c->o, rec, body, sv[1]);
    _exit(w < 0 ? 1 : 0);
  }
  close(sv[1]);
  if (pid > 0)
    waitpid(pid, NULL, 0);
  struct berth_sync_msg msg;
  int rc = pid < 0 ? BERTH_ERR_ERRNO(&err, "exec: fork") : berth_sync_recv(sv[0], &msg, NULL, &err);
  close(sv[0]);
  if (rc < 0)
    return api_reply_err(r, &err);
  return api_reply_empty(r, 200);
}

enum MHD_Result api_h_EXEC_START(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  json_t *rec = NULL, *body = api_body(r, &err);
  if (body == NULL)
    return api_reply_err_status(r, 400, &err);
  if (api_engine(r, &e, &err) < 0 || (rec = api_exec_load(e, r->m.arg[0], &err)) == NULL) {
    json_decref(body);
    return api_reply_err(r, &err);
  }
  enum MHD_Result res;
  if (json_is_true(json_object_get(rec, "Running")) || json_is_integer(json_object_get(rec, "ExitCode")))
    res = api_reply_error(r, 409, "exec %s has already run", r->m.arg[0]);
  else if (json_is_true(json_object_get(body, "Detach")))
    res = start_detached(r, rec, body);
  else
    return api_exec_hijack(r, rec, body); /* takes rec and body */
  json_decref(rec);
  json_decref(body);
  return res;
}

void api_exec_start_in(json_t *rec, json_t *body, struct berth_ctr_exec_in *in, char ***args, char ***env)
{
  start_in(rec, body, in, args, env);
}
