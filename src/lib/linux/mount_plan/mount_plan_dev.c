/* The plan's /dev: runtime-spec's default devices that the config does not list, then
 * linux.devices in order, then the standard links. Pure. */
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "linux/mount_plan/mount_plan_internal.h"

#define DEFAULT_DEV(p, maj, min)                                                                             \
  {                                                                                                          \
    .type = 'c', .path = (p), .major = (maj), .minor = (min), .has_file_mode = true, .file_mode = 0666       \
  }

static const struct berth_spec_device default_devices[] = {
  DEFAULT_DEV("/dev/null", 1, 3),   DEFAULT_DEV("/dev/zero", 1, 5),    DEFAULT_DEV("/dev/full", 1, 7),
  DEFAULT_DEV("/dev/random", 1, 8), DEFAULT_DEV("/dev/urandom", 1, 9), DEFAULT_DEV("/dev/tty", 5, 0),
};

static const char *const dev_links[][2] = {
  { "/dev/fd", "/proc/self/fd" },
  { "/dev/stdin", "/proc/self/fd/0" },
  { "/dev/stdout", "/proc/self/fd/1" },
  { "/dev/stderr", "/proc/self/fd/2" },
};

static bool spec_has_device(const berth_spec_t *spec, const char *path)
{
  for (size_t i = 0; i < spec->linux_.n_devices; i++)
    if (berth_str_eq(spec->linux_.devices[i].path, path))
      return true;
  return false;
}

/* "device `/dev/x` (linux.devices[2].type): <msg>"; a default device has no field */
static int device_error(berth_error_t *err, const char *path, const char *field, const char *sub,
                        const char *msg)
{
  if (field == NULL)
    return BERTH_ERR(err, "device `%s`: %s", path, msg);
  return BERTH_ERR(err, "device `%s` (%s.%s): %s", path, field, sub, msg);
}

/* `field` is "linux.devices[i]", or NULL for a default device */
static BERTH_WUR int plan_device(struct mount_plan_state *st, const struct berth_spec_device *d,
                                 const char *field, berth_error_t *err)
{
  const char *path = d->path ? d->path : "";
  if (d->type != 'b' && d->type != 'p' && d->type != 'c' && d->type != 'u') {
    char msg[32];
    snprintf(msg, sizeof msg, "bad type `%c`", d->type ? d->type : '?');
    return device_error(err, path, field, "type", msg);
  }
  if (path[0] != '/')
    return device_error(err, path, field, "path", "not an absolute path");
  const char *name = strrchr(path, '/') + 1;
  if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return device_error(err, path, field, "path", "not a file name");
  /* fifos need no privilege, so even a user namespace makes them */
  bool bind = st->in->in_userns && d->type != 'p';
  struct berth_mount_op *op =
    mount_plan_add(st->p, bind ? BERTH_MOUNT_OP_BIND_DEVICE : BERTH_MOUNT_OP_MKNOD_DEVICE, path);
  op->device = d;
  return 0;
}

static void plan_links(struct mount_plan_state *st)
{
  for (size_t i = 0; i < BERTH_N_ELEMENTS(dev_links); i++)
    mount_plan_add(st->p, BERTH_MOUNT_OP_SYMLINK, dev_links[i][0])->source = dev_links[i][1];
  struct berth_mount_op *op = mount_plan_add(st->p, BERTH_MOUNT_OP_SYMLINK, "/dev/core");
  op->source = "/proc/kcore";
  op->host = "/proc/kcore";
  op->flags = BERTH_MOUNT_F_IF_HOST;
  if (spec_has_device(st->in->spec, "/dev/ptmx"))
    return;
  op = mount_plan_add(st->p, BERTH_MOUNT_OP_SYMLINK, "/dev/ptmx");
  op->source = "pts/ptmx";
  op->flags = BERTH_MOUNT_F_REPLACE;
}

int mount_plan_devices(struct mount_plan_state *st, berth_error_t *err)
{
  const struct berth_spec_linux *l = &st->in->spec->linux_;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(default_devices); i++)
    if (!spec_has_device(st->in->spec, default_devices[i].path) &&
        plan_device(st, &default_devices[i], NULL, err) < 0)
      return -1;
  for (size_t i = 0; i < l->n_devices; i++) {
    cleanup_free char *field = xasprintf("linux.devices[%zu]", i);
    if (plan_device(st, &l->devices[i], field, err) < 0)
      return -1;
  }
  plan_links(st);
  return 0;
}
