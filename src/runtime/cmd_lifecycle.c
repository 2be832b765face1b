/* create, start, run: the commands that make and release containers. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fds.h"
#include "base/log.h"
#include "cli.h"
#include "dmz_blob.h"
#include "linux/selfexe.h"
#include "runtime/create.h"
#include "runtime/wait.h"

struct create_flags {
  const char *bundle, *pid_file, *console_socket;
  bool no_pivot, no_new_keyring, detach, keep;
  int preserve_fds;
};

#define CREATE_OPTS(f)                                                                                       \
  { "bundle", 'b', BERTH_CLI_STRING, &(f).bundle, "DIR", "bundle directory (default: current directory)" },  \
    { "pid-file", 0, BERTH_CLI_STRING, &(f).pid_file, "FILE", "write the container's pid to FILE" },         \
    { "console-socket",    0,        BERTH_CLI_STRING,                                                       \
      &(f).console_socket, "SOCKET", "unix socket that receives the pty master (process.terminal)" },        \
    { "no-pivot", 0, BERTH_CLI_BOOL, &(f).no_pivot, NULL, "use MS_MOVE + chroot instead of pivot_root" },    \
    { "no-new-keyring", 0, BERTH_CLI_BOOL, &(f).no_new_keyring, NULL, "keep the caller's session keyring" }, \
  {                                                                                                          \
    "preserve-fds", 0, BERTH_CLI_INT, &(f).preserve_fds, "N", "pass N extra descriptors (3..3+N-1)"          \
  }

static void fill_opts(struct globals *g, const struct create_flags *f, const char *id,
                      struct berth_create_opts *o)
{
  memset(o, 0, sizeof *o);
  o->root = g->root;
  o->id = id;
  o->bundle = f->bundle;
  o->pid_file = f->pid_file;
  o->console_socket = f->console_socket;
  o->no_pivot = f->no_pivot;
  o->no_new_keyring = f->no_new_keyring;
  o->listen_fds = berth_fds_listen_count();
  o->preserve_fds = f->preserve_fds;
  o->cgroup_kind = cli_cgroup_kind(g);
  o->rootless = cli_rootless(g);
}

/* --preserve-fds, then what the container process must not get (cli.h) */
static int inherited_fds(int n, berth_error_t *err)
{
  if (n < 0)
    return BERTH_ERR(err, "--preserve-fds: must not be negative");
  int listen = berth_fds_listen_count();
  return cli_close_unasked_fds(n > INT_MAX - listen ? INT_MAX : listen + n, err);
}

int cmd_create(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  struct create_flags f = { 0 };
  bool help = false;
  const struct berth_cli_opt opts[] = { CREATE_OPTS(f), { NULL, 0, 0, NULL, NULL, NULL } };
  int idx = 1;
  if (cli_parse("create", argc, argv, &idx, opts, &help, err) < 0)
    return -1;
  if (help) {
    cli_print_help("berth-runtime create [options] <container-id>", "Create a container from a bundle.",
                   opts);
    return 0;
  }
  if (cli_want_args("create", argc, idx, 1, "a container id", err) < 0 ||
      inherited_fds(f.preserve_fds, err) < 0)
    return -1;
  struct berth_create_opts o;
  fill_opts(g, &f, argv[idx], &o);
  struct berth_create_result res;
  if (berth_container_create(&o, &res, NULL, err) < 0)
    return -1;
  if (res.pidfd >= 0)
    close(res.pidfd);
  return 0;
}

int cmd_start(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  bool help = false;
  const struct berth_cli_opt opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };
  int idx = 1;
  if (cli_parse("start", argc, argv, &idx, opts, &help, err) < 0)
    return -1;
  if (help) {
    cli_print_help("berth-runtime start <container-id>", "Start the user process of a created container.",
                   opts);
    return 0;
  }
  if (cli_want_args("start", argc, idx, 1, "a container id", err) < 0)
    return -1;
  return berth_container_start(g->root, argv[idx], err) < 0 ? -1 : 0;
}

/* CVE-2019-5736 for `run`: unless already running from a protected copy, offer berth-dmz to
 * create (runtime/create.h); when the config does not fit it, or this architecture has no
 * helper, re-execute from a protected copy as create and exec do (returns only on error).
 * On failure W (run attached: signals blocked) is released, also before the exec: blocked
 * signals would outlive it. */
static int run_create(struct globals *g, struct berth_wait_ctx *w, struct berth_create_opts *o,
                      struct berth_create_result *res, struct berth_container_handle *h, berth_error_t *err)
{
  if (!berth_selfexe_is_protected()) {
    if (berth_dmz_len == 0) {
      if (w)
        berth_wait_release(w);
      berth_log_debug("run: re-executing from a protected copy: no berth-dmz for this architecture");
      return berth_selfexe_reexec(g->argv, g->envp, err);
    }
    o->dmz = berth_dmz_blob;
    o->dmz_len = berth_dmz_len;
  }
  int r = berth_container_create(o, res, h, err);
  if (r >= 0)
    return r;
  if (w)
    berth_wait_release(w);
  return r == BERTH_CREATE_REEXEC ? berth_selfexe_reexec(g->argv, g->envp, err) : -1;
}

/* With berth-dmz, `run` itself stays the host's binary while the container lives: once the
 * container process exists (it was cloned dumpable, so that a rootless parent could still
 * write its uid map), nothing without CAP_SYS_PTRACE over the host may open our
 * /proc/PID/exe, mem or map_files. */
static int harden_run(const struct berth_create_result *res, berth_error_t *err)
{
  if (res->dmz && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return BERTH_ERR_ERRNO(err, "make `run` non-dumpable");
  return 0;
}

static int run_attached(struct globals *g, const struct create_flags *f, const char *id, berth_error_t *err)
{
  struct berth_create_opts o;
  fill_opts(g, f, id, &o);
  o.keep_console = f->console_socket == NULL;
  struct berth_wait_ctx w;
  if (berth_wait_prepare(&w, err) < 0)
    return -1;
  struct berth_create_result res;
  struct berth_container_handle h = { 0 };
  if (run_create(g, &w, &o, &res, &h, err) < 0)
    return -1; /* run_create released w */
  int status = -1;
  if (harden_run(&res, err) == 0 && berth_container_start_handle(&h, &w.notify_fd, err) == 0)
    status = berth_wait_container(&w, &res, err);
  berth_wait_release(&w);
  if (res.console_master >= 0)
    close(res.console_master);
  if (res.pidfd >= 0)
    close(res.pidfd);
  if (!f->keep) {
    berth_error_t derr = NULL;
    if (berth_container_delete_handle(&h, true, &derr) < 0) {
      if (*err == NULL)
        *err = derr;
      else
        berth_error_release(&derr);
      status = -1;
    }
  }
  berth_container_handle_release(&h);
  return status;
}

int cmd_run(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  struct create_flags f = { 0 };
  bool help = false;
  const struct berth_cli_opt opts[] = {
    CREATE_OPTS(f),
    { "detach", 'd', BERTH_CLI_BOOL, &f.detach, NULL, "return after starting; do not wait" },
    { "keep", 0, BERTH_CLI_BOOL, &f.keep, NULL, "do not delete the container when it exits" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int idx = 1;
  if (cli_parse("run", argc, argv, &idx, opts, &help, err) < 0)
    return -1;
  if (help) {
    cli_print_help("berth-runtime run [options] <container-id>",
                   "Create and start a container; wait for it and return its exit status.", opts);
    return 0;
  }
  if (cli_want_args("run", argc, idx, 1, "a container id", err) < 0 || inherited_fds(f.preserve_fds, err) < 0)
    return -1;
  const char *id = argv[idx];
  if (!f.detach)
    return run_attached(g, &f, id, err);
  struct berth_create_opts o;
  fill_opts(g, &f, id, &o);
  struct berth_create_result res;
  struct berth_container_handle h = { 0 };
  if (run_create(g, NULL, &o, &res, &h, err) < 0)
    return -1;
  if (res.pidfd >= 0)
    close(res.pidfd);
  int r = harden_run(&res, err) < 0 ? -1 : berth_container_start_handle(&h, NULL, err);
  if (r < 0) {
    berth_ignore(berth_container_delete_handle(&h, true, BERTH_IGNORED));
  }
  berth_container_handle_release(&h);
  return r < 0 ? -1 : 0;
}
