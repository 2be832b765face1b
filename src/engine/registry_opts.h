/* The options pull, push, login, logout and manifest share (registry_opts.c; the commands themselves are in
 * image/). */
#ifndef BERTH_ENGINE_REGISTRY_OPTS_H
#define BERTH_ENGINE_REGISTRY_OPTS_H

#include "cli.h"
#include "engine/images/images.h"
#include "registry/registry.h"

struct reg_cli {
  const char *authfile;
  const char *cert_dir;
  const char *registries_conf;
  bool tls_verify;
  bool tls_verify_given; /* --tls-verify was on the command line */
  uint64_t parallel;
  struct berth_registry_conf conf;
};

#define REG_CLI_OPTS(rc)                                                                                          \
  { "authfile",       0,                                                                                          \
    BERTH_CLI_STRING, &(rc)->authfile,                                                                            \
    "path",           "Path of the authentication file (default ${XDG_RUNTIME_DIR}/containers/auth.json)" },      \
    { "cert-dir",      0,      BERTH_CLI_STRING,                                                                  \
      &(rc)->cert_dir, "path", "Use certificates at path (*.crt, *.cert, *.key) instead of certs.d/<registry>" }, \
    { "tls-verify",                                                                                               \
      0,                                                                                                          \
      BERTH_CLI_BOOL,                                                                                             \
      &(rc)->tls_verify,                                                                                          \
      NULL,                                                                                                       \
      "Require HTTPS and verify certificates (default: unless the registry is insecure or on loopback)" },        \
  {                                                                                                               \
    "registries-conf", 0, BERTH_CLI_STRING, &(rc)->registries_conf, "path",                                       \
      "Registries configuration: aliases, mirrors, insecure registries (default /etc/berth/registries.json)"      \
  }

/* before cli_parse: notes whether --tls-verify is given */
void reg_cli_init(struct reg_cli *rc, int argc, char **argv);
/* after cli_parse: the registries configuration loaded, o filled (progress on stdout unless quiet) */
int reg_cli_transfer(struct reg_cli *rc, bool quiet, struct berth_transfer_opts *o, berth_error_t *err);
void reg_cli_release(struct reg_cli *rc);

/* run/create --pull missing|always|never: pull image when the policy says so (progress on stderr) */
int cli_pull_policy(struct cmd_ctx *ctx, struct berth_engine *e, const char *image, const char *policy,
                    const char *platform, bool quiet, berth_error_t *err);

#endif
