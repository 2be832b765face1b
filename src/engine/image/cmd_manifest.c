/* berth manifest inspect NAME[:TAG|@DIGEST]: the manifest or index as the registry serves it */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"
#include "commands.h"
#include "registry_opts.h"

int cmd_manifest_inspect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  struct reg_cli rc;
  reg_cli_init(&rc, argc, argv);
  bool insecure = false;
  const struct berth_cli_opt opts[] = {
    { "insecure", 0, BERTH_CLI_BOOL, &insecure, NULL, "Allow plain HTTP and unverified certificates" },
    REG_CLI_OPTS(&rc),
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth manifest inspect [OPTIONS] NAME[:TAG|@DIGEST]",
                    "Display an image manifest or manifest list as the registry serves it", err);
  if (r != 0 || cli_want_args(ctx, 1, 1, "NAME[:TAG|@DIGEST]", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_transfer_opts o;
  struct berth_ref ref = { 0 };
  struct berth_registry *reg = NULL;
  struct berth_registry_doc doc = { 0 };
  r = reg_cli_transfer(&rc, true, &o, err);
  if (insecure)
    o.reg.tls_verify = 0;
  if (r == 0)
    r = berth_registry_normalize(o.reg.conf, ctx->argv[0], &ref, err);
  if (r == 0)
    r = berth_registry_new(ref.registry, NULL, &o.reg, &reg, err);
  if (r == 0)
    r = berth_registry_get_manifest(reg, ref.repository, ref.digest ? ref.digest : ref.tag, &doc, err);
  if (r == 0 &&
      (berth_write_all(STDOUT_FILENO, doc.data, doc.len) < 0 ||
       (doc.len > 0 && doc.data[doc.len - 1] != '\n' && berth_write_all(STDOUT_FILENO, "\n", 1) < 0)))
    r = BERTH_ERR_ERRNO(err, "write");
  berth_registry_doc_release(&doc);
  berth_registry_free(reg);
  berth_ref_release(&ref);
  reg_cli_release(&rc);
  return r;
}
