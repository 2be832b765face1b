/* The registry options of pull, push, login, logout and manifest inspect, and --pull of
 * run/create. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "registry_opts.h"

void reg_cli_init(struct reg_cli *rc, int argc, char **argv)
{
  memset(rc, 0, sizeof *rc);
  rc->tls_verify = true;
  for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
    if (berth_str_has_prefix(argv[i], "--tls-verify"))
      rc->tls_verify_given = true;
}

static void progress_target(int fd, bool quiet, struct berth_transfer_opts *o)
{
  o->progress_fd = quiet ? -1 : fd;
  o->tty = !quiet && isatty(fd);
  struct winsize ws;
  o->width = o->tty && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
}

int reg_cli_transfer(struct reg_cli *rc, bool quiet, struct berth_transfer_opts *o, berth_error_t *err)
{
  memset(o, 0, sizeof *o);
  if (berth_registry_conf_load(rc->registries_conf, &rc->conf, err) < 0)
    return -1;
  o->reg.conf = &rc->conf;
  o->reg.auth.authfile = rc->authfile;
  o->reg.cert_dir = rc->cert_dir;
  o->reg.tls_verify = rc->tls_verify_given ? rc->tls_verify : -1;
  o->reg.max_parallel = (int) (rc->parallel > 0 && rc->parallel < 64 ? rc->parallel : 0);
  progress_target(STDOUT_FILENO, quiet, o);
  return 0;
}

void reg_cli_release(struct reg_cli *rc) { berth_registry_conf_release(&rc->conf); }

int cli_pull_policy(struct cmd_ctx *ctx, struct berth_engine *e, const char *image, const char *policy,
                    const char *platform, bool quiet, berth_error_t *err)
{
  if (policy == NULL || policy[0] == '\0')
    policy = "missing";
  if (strcmp(policy, "never") == 0)
    return 0;
  if (strcmp(policy, "missing") != 0 && strcmp(policy, "always") != 0) {
    ctx->usage_error = true;
    return BERTH_ERR(err, "invalid pull policy `%s`: expected missing, always or never", policy);
  }
  berth_digest_t id;
  berth_error_t rerr = NULL;
  if (strcmp(policy, "missing") == 0 && berth_engine_resolve(e, image, id, NULL, &rerr) == 0)
    return 0;
  if (rerr != NULL && strncmp(rerr->msg, "no such image", 13) != 0) {
    *err = steal_ptr(rerr);
    return -1;
  }
  berth_error_release(&rerr);
  if (!quiet && strcmp(policy, "missing") == 0)
    fprintf(stderr, "Unable to find image '%s' locally\n", image);
  struct reg_cli rc;
  reg_cli_init(&rc, 0, NULL);
  struct berth_transfer_opts o;
  int r = reg_cli_transfer(&rc, quiet, &o, err);
  if (r == 0) {
    progress_target(STDERR_FILENO, quiet, &o);
    o.platform = platform;
    struct berth_pull_result res;
    r = berth_images_pull(e, image, &o, &res, err);
    berth_pull_result_release(&res);
  }
  reg_cli_release(&rc);
  return r;
}
