/* berth system service [--time N] [--group G] [--insecure-loopback] [--request-timeout S]
 * [--max-connections N] [--tlsverify --tlscacert F --tlscert F --tlskey F] [ADDRESS]: the Docker
 * Engine API on a socket (src/lib/api; docs/design/api.md), as `podman system service`, with
 * dockerd's TLS flags for tcp://. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/fds.h"
#include "cli.h"
#include "commands.h"

int cmd_system_service(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  int timeout = 5, request_timeout = BERTH_API_REQUEST_DEADLINE, max_conns = BERTH_API_MAX_CONNECTIONS;
  const char *group = NULL;
  bool insecure = false;
  struct berth_api_tls_opts tls = { 0 };
  const struct berth_cli_opt opts[] = {
    { "time", 't', BERTH_CLI_INT, &timeout, "seconds",
      "Seconds without a connection before the service exits; 0: never (default 5)" },
    { "group", 'g', BERTH_CLI_STRING, &group, "group", "Group of the unix socket (mode 0660; default root)" },
    { "insecure-loopback", 0, BERTH_CLI_BOOL, &insecure, NULL,
      "Serve tcp://127.0.0.1:PORT without client certificates: anyone on this host can then drive berth" },
    { "tlsverify", 0, BERTH_CLI_BOOL, &tls.verify, NULL,
      "Serve tcp:// with TLS, clients presenting a certificate signed by --tlscacert (any address)" },
    { "tlscacert", 0, BERTH_CLI_STRING, &tls.cacert, "file", "CA of the clients' certificates (PEM)" },
    { "tlscert", 0, BERTH_CLI_STRING, &tls.cert, "file", "The server's TLS certificate (PEM)" },
    { "tlskey", 0, BERTH_CLI_STRING, &tls.key, "file", "The server's TLS key (PEM)" },
    { "tls", 0, BERTH_CLI_BOOL, &tls.tls, NULL,
      "TLS without client certificates (loopback with --insecure-loopback only; implied by --tlscert "
      "and --tlskey)" },
    { "request-timeout", 0, BERTH_CLI_INT, &request_timeout, "seconds",
      "Seconds a client has to send a request's headers or body, and a keep-alive connection may idle "
      "(default 30)" },
    { "max-connections", 0, BERTH_CLI_INT, &max_conns, "n",
      "Connections served at once; more are refused (default 256)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth system service [OPTIONS] [unix:///PATH | tcp://HOST:PORT]",
                    "Serve the Docker Engine API (the docker CLI, docker-py, docker-compose), "
                    "default " BERTH_API_DEFAULT_SOCKET,
                    err);
  if (r != 0 || cli_want_args(ctx, 0, 1, "ADDRESS", err) < 0)
    return r > 0 ? 0 : -1;
  if (timeout < 0) {
    ctx->usage_error = true;
    return BERTH_ERR(err, "%s: --time must be 0 or more seconds", ctx->path);
  }
  if (request_timeout < 1 || max_conns < 1 || max_conns > 65536) {
    ctx->usage_error = true;
    return BERTH_ERR(err, "%s: --request-timeout must be 1 or more seconds, --max-connections 1 to 65536",
                     ctx->path);
  }
  if (berth_api_tls_opts_check(&tls, err) < 0) {
    ctx->usage_error = true;
    return berth_error_wrap(err, "%s", ctx->path);
  }
  struct berth_api_opts o = {
    .address = ctx->argc ? ctx->argv[0] : NULL,
    .listen_fd = ctx->argc == 0 && berth_fds_listen_count() > 0 ? 3 : -1, /* systemd's socket */
    .idle_timeout = timeout,
    .group = group,
    .tcp_insecure_loopback = insecure,
    .tls = tls,
    .max_connections = (unsigned) max_conns,
    .request_deadline = (unsigned) request_timeout,
    .engine = { .root = ctx->g->root, .runroot = ctx->g->runroot, .limits = ctx->g->limits },
  };
  const char *address = o.address ? o.address : o.listen_fd < 0 ? BERTH_API_DEFAULT_SOCKET : NULL;
  if (address) { /* checked before anything listens (the TLS flags with the default socket too) */
    struct berth_api_address a;
    if (berth_api_address_parse(address, &o, &a, err) < 0) {
      ctx->usage_error = true;
      return berth_error_wrap(err, "%s", ctx->path);
    }
    berth_api_address_release(&a);
  }
  if (berth_api_serve(&o, err) < 0)
    return berth_error_wrap(err, "%s", ctx->path);
  return 0;
}
