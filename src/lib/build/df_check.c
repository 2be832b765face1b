/* Dockerfiles: each instruction's flags and arguments checked as the instruction is read, so that
 * a bad line stops the build before anything runs. Values holding a variable are checked once
 * expanded, by the builder. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "build/df_internal.h"
#include "build/instr.h"

/* the flags of each instruction ("name" takes a value, "name?" may go without one) */
static const char *const *allowed_flags(enum berth_df_cmd c)
{
  static const char *const from[] = { "platform", NULL };
  static const char *const run[] = { "mount", "network", "security", NULL };
  static const char *const copy[] = { "from", "chown", "chmod", "link?", "parents?", "exclude", NULL };
  static const char *const add[] = {
    "chown", "chmod", "checksum", "link?", "keep-git-dir?", "exclude", NULL
  };
  static const char *const health[] = { "interval",       "timeout", "start-period",
                                        "start-interval", "retries", NULL };
  static const char *const none[] = { NULL };
  switch (c) {
  case BERTH_DF_FROM: return from;
  case BERTH_DF_RUN: return run;
  case BERTH_DF_COPY: return copy;
  case BERTH_DF_ADD: return add;
  case BERTH_DF_HEALTHCHECK: return health;
  default: return none;
  }
}

static BERTH_WUR int check_value(const char *file, struct df_pos p, const char *cmd,
                                 const struct berth_df_flag *f, berth_error_t *err)
{
  if (berth_build_has_var(f->value))
    return 0;
  int rc = 0;
  if (strcmp(f->name, "mount") == 0) {
    struct berth_build_mount m;
    rc = berth_build_mount_parse(f->value, &m, err);
    if (rc == 0)
      berth_build_mount_release(&m);
  } else if (strcmp(f->name, "network") == 0) {
    enum berth_build_network n;
    rc = berth_build_network_parse(f->value, &n, err);
  } else if (strcmp(f->name, "security") == 0) {
    if (strcmp(f->value, "sandbox") != 0 && strcmp(f->value, "insecure") != 0)
      rc = BERTH_ERR(err, "--security: `%s` is not sandbox or insecure", f->value);
  } else if (strcmp(f->name, "chmod") == 0) {
    uint32_t mode;
    bool sym;
    rc = berth_build_chmod_parse(f->value, &mode, &sym, err);
  } else if (strcmp(f->name, "checksum") == 0) {
    rc = berth_build_checksum_parse(f->value, err);
  } else if (strcmp(f->name, "interval") == 0 || strcmp(f->name, "timeout") == 0 ||
             strcmp(f->name, "start-period") == 0 || strcmp(f->name, "start-interval") == 0) {
    int64_t ns;
    rc = berth_build_duration_parse(f->name, f->value, &ns, err);
  } else if (strcmp(f->name, "retries") == 0) {
    int n;
    if (berth_parse_int(f->value, &n) < 0 || n < 0)
      rc = BERTH_ERR(err, "--retries: `%s` is not a number of retries", f->value);
  } else if (strcmp(f->name, "link") == 0 || strcmp(f->name, "parents") == 0 ||
             strcmp(f->name, "keep-git-dir") == 0) {
    bool b;
    rc = berth_build_bool_parse(f->name, f->value, &b, err);
  }
  if (rc < 0) {
    cleanup_free char *msg = berth_error_steal_msg(err);
    return df_error(err, file, p, "%s: %s", cmd, msg);
  }
  return 0;
}

int df_check_flags(const char *file, struct df_pos p, const struct berth_df_instr *in, berth_error_t *err)
{
  const char *cmd = berth_df_cmd_name(in->cmd);
  const char *const *ok = allowed_flags(in->cmd);
  for (size_t i = 0; i < in->nflags; i++) {
    const struct berth_df_flag *f = &in->flags[i];
    const char *match = NULL;
    for (size_t j = 0; ok[j] && match == NULL; j++)
      if (strncmp(ok[j], f->name, strlen(f->name)) == 0 &&
          (ok[j][strlen(f->name)] == '\0' || ok[j][strlen(f->name)] == '?'))
        match = ok[j];
    if (match == NULL)
      return df_error(err, file, p, "%s: unknown flag: --%s", cmd, f->name);
    bool optional = match[strlen(match) - 1] == '?';
    if (f->value == NULL && !optional)
      return df_error(err, file, p, "%s: missing a value on flag: --%s", cmd, f->name);
    bool repeatable = strcmp(f->name, "mount") == 0 || strcmp(f->name, "exclude") == 0;
    for (size_t j = 0; j < i && !repeatable; j++)
      if (strcmp(in->flags[j].name, f->name) == 0)
        return df_error(err, file, p, "%s: duplicate flag specified: --%s", cmd, f->name);
    if (check_value(file, p, cmd, f, err) < 0)
      return -1;
  }
  return 0;
}

static BERTH_WUR int check_from(const char *file, struct df_pos p, const struct berth_df_instr *in,
                                berth_error_t *err)
{
  size_t n = berth_strv_len(in->args);
  if (n != 1 && !(n == 3 && strcasecmp(in->args[1], "AS") == 0))
    return df_error(err, file, p, "FROM requires either one or three arguments (FROM image [AS name])");
  if (n == 3) {
    const char *name = in->args[2];
    bool ok = isalpha((unsigned char) name[0]);
    for (const char *c = name; *c && ok; c++)
      ok = isalnum((unsigned char) *c) || *c == '-' || *c == '_' || *c == '.';
    if (!ok)
      return df_error(err, file, p,
                      "invalid name for build stage: `%s`, name can't start with a number or contain symbols",
                      name);
    for (char *c = in->args[2]; *c; c++)
      *c = (char) tolower((unsigned char) *c);
  }
  return 0;
}

static BERTH_WUR int check_copy(const char *file, struct df_pos p, const struct berth_df_instr *in,
                                berth_error_t *err)
{
  const char *cmd = berth_df_cmd_name(in->cmd);
  size_t n = berth_strv_len(in->args);
  size_t docs = 0;
  for (size_t i = 0; i < in->nheredocs; i++)
    for (size_t j = 0; j < n; j++)
      if (strncmp(in->args[j], "<<", 2) == 0)
        docs++;
  if (n < 2 || (n - docs == 0))
    return df_error(err, file, p, "%s requires at least two arguments, but only %zu provided", cmd, n);
  return 0;
}

int df_check_args(const char *file, struct df_pos p, struct berth_df_instr *in, berth_error_t *err)
{
  const char *cmd = berth_df_cmd_name(in->cmd);
  bool empty = in->rest[0] == '\0';
  switch (in->cmd) {
  case BERTH_DF_FROM: return check_from(file, p, in, err);
  case BERTH_DF_COPY:
  case BERTH_DF_ADD: return check_copy(file, p, in, err);
  case BERTH_DF_SHELL:
    if (!in->json || in->args[0] == NULL)
      return df_error(err, file, p,
                      "SHELL requires the arguments to be in JSON form: SHELL [\"sh\", \"-c\"]");
    return 0;
  case BERTH_DF_RUN:
    if (empty || (in->json && in->args[0] == NULL))
      return df_error(err, file, p, "RUN requires at least one argument");
    return 0;
  case BERTH_DF_EXPOSE:
  case BERTH_DF_VOLUME:
  case BERTH_DF_WORKDIR:
  case BERTH_DF_USER:
  case BERTH_DF_STOPSIGNAL:
  case BERTH_DF_MAINTAINER:
    if (empty || (in->json && in->args[0] == NULL))
      return df_error(err, file, p, "%s requires at least one argument", cmd);
    if ((in->cmd == BERTH_DF_USER || in->cmd == BERTH_DF_STOPSIGNAL) && strpbrk(in->rest, " \t"))
      return df_error(err, file, p, "%s requires exactly one argument", cmd);
    return 0;
  case BERTH_DF_ONBUILD:
    if (empty)
      return df_error(err, file, p, "ONBUILD requires at least one argument");
    return 0;
  case BERTH_DF_CMD:
  case BERTH_DF_ENTRYPOINT:
  case BERTH_DF_ENV:
  case BERTH_DF_LABEL:
  case BERTH_DF_ARG:
  case BERTH_DF_HEALTHCHECK: return 0;
  }
  return 0;
}
