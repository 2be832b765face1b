/* Every command of `berth`, one folder per group as Docker's CLI groups them (main.c's table
 * says which name runs which). */
#ifndef BERTH_ENGINE_COMMANDS_H
#define BERTH_ENGINE_COMMANDS_H

#include "base/error.h"
#include "cli.h"

/* builder/ */
int cmd_build(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_builder_prune(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);

/* container/ */
int cmd_run(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_create(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_start(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_stop(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_kill(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_restart(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_rm(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_wait(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_logs(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_attach(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_ps(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_container_inspect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
/* `berth inspect`: containers and images (--type container|image) */
int cmd_inspect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
/* hidden: what the monitor runs (`berth container --internal-exited ID CODE [PID [MSG]]`,
 * `--internal-started ID PID`) */
int cmd_internal_exited(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_internal_started(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_exec(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_top(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_stats(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_cp(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_rename(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_pause(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_unpause(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_container_prune(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_export(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);

/* image/ */
int cmd_import(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_load(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_save(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_images(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_tag(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_rmi(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_image_prune(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_image_inspect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_history(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
/* image/: registries (the options they share: ../registry_opts.h) */
int cmd_pull(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_push(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_login(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_logout(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_manifest_inspect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);

/* volume/ */
int cmd_volume_create(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_volume_ls(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_volume_inspect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_volume_rm(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_volume_prune(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);

/* network/ */
int cmd_network_create(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_network_ls(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_network_inspect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_network_rm(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_network_prune(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_network_connect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_network_disconnect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
/* `berth port` (a container command, Docker's `container port`) */
int cmd_port(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);

/* system/ */
int cmd_system_df(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_system_check(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
/* system/ (issue 16): events, info, version, system prune, system boot, generate systemd,
 * completion */
int cmd_events(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_info(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_version(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_system_prune(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_system_boot(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_generate_systemd(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_completion(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
/* container/ (issue 16) */
int cmd_commit(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_diff(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_update(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_internal_health(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);
int cmd_system_service(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);

#endif
