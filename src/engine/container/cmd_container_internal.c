/* berth container --internal-exited ID CODE [PID [MSG]] / --internal-started ID PID: run by the
 * container's monitor (never by people) to record what happened. PID: the init that exited (0:
 * a restart that failed to start, MSG its error); given, the exit is recorded once only (a
 * client that records exits may have done it). --internal-exited prints the monitor's next step
 * on stdout: "restart <milliseconds>" or "stop". */
#include <stdio.h>

#include "base/strutil.h"
#include "container_cmd.h"

int cmd_internal_exited(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  int code = 0, pid = 0;
  if (argc < 3 || argc > 5 || berth_parse_int(argv[2], &code) < 0 ||
      (argc >= 4 && (berth_parse_int(argv[3], &pid) < 0 || pid < 0))) {
    ctx->usage_error = true;
    return BERTH_ERR(err, "usage: berth container --internal-exited ID CODE [PID [MESSAGE]]");
  }
  struct berth_engine *e = NULL;
  int64_t restart_ms = -1;
  int r =
    cli_open_engine(ctx, &e, err) < 0 ||
        berth_ctr_exited(e, argv[1], code, (pid_t) pid, argc == 5 ? argv[4] : NULL, &restart_ms, err) < 0
      ? -1
      : 0;
  berth_engine_close(e);
  if (restart_ms >= 0)
    printf("restart %lld\n", (long long) restart_ms);
  else
    printf("stop\n");
  return r;
}

int cmd_internal_started(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  int pid = 0;
  if (argc != 3 || berth_parse_int(argv[2], &pid) < 0 || pid <= 0) {
    ctx->usage_error = true;
    return BERTH_ERR(err, "usage: berth container --internal-started ID PID");
  }
  struct berth_engine *e = NULL;
  int r = cli_open_engine(ctx, &e, err) < 0 || berth_ctr_started(e, argv[1], pid, err) < 0 ? -1 : 0;
  berth_engine_close(e);
  return r;
}

/* --internal-health ID STATUS: the monitor's health_status event, when the status changed */
int cmd_internal_health(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  if (argc != 3) {
    ctx->usage_error = true;
    return BERTH_ERR(err, "usage: berth container --internal-health ID STATUS");
  }
  struct berth_engine *e = NULL;
  int r = cli_open_engine(ctx, &e, err) < 0 || berth_ctr_health_event(e, argv[1], argv[2], err) < 0 ? -1 : 0;
  berth_engine_close(e);
  return r;
}
