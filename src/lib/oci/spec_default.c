/* The config.json that `spec` writes: runc 1.1's `runc spec` (and `--rootless`) with
 * ociVersion set to the version we implement. */
#include <unistd.h>

#include "base/xalloc.h"
#include "oci/spec.h"

#ifndef BERTH_OCI_SPEC_VERSION
#define BERTH_OCI_SPEC_VERSION "1.2.0"
#endif

static json_t *checked(json_t *v)
{
  if (v == NULL)
    berth_oom();
  return v;
}

static json_t *default_process(void)
{
  return checked(json_pack(
    "{s:b, s:{s:i, s:i}, s:[s], s:[ss], s:s, s:{s:[sss], s:[sss], s:[sss], s:[sss]}, s:[{s:s, s:i, s:i}], "
    "s:b}",
    "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh", "env",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "cwd", "/",
    "capabilities", "bounding", "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "effective",
    "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "permitted", "CAP_AUDIT_WRITE", "CAP_KILL",
    "CAP_NET_BIND_SERVICE", "ambient", "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "rlimits",
    "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1));
}

static json_t *default_mounts(bool rootless)
{
  json_t *m =
    checked(json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s, s:[ssss]}]", "destination", "/proc", "type", "proc",
                      "source", "proc", "destination", "/dev", "type", "tmpfs", "source", "tmpfs", "options",
                      "nosuid", "strictatime", "mode=755", "size=65536k"));
  json_t *pts =
    checked(json_pack("{s:s, s:s, s:s, s:[sssss]}", "destination", "/dev/pts", "type", "devpts", "source",
                      "devpts", "options", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"));
  if (!rootless) /* a rootless container has no host gid 5 mapped */
    json_array_append_new(json_object_get(pts, "options"), checked(json_string("gid=5")));
  json_array_append_new(m, pts);
  json_array_append_new(
    m, checked(json_pack("{s:s, s:s, s:s, s:[sssss]}", "destination", "/dev/shm", "type", "tmpfs", "source",
                         "shm", "options", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k")));
  json_array_append_new(
    m, checked(json_pack("{s:s, s:s, s:s, s:[sss]}", "destination", "/dev/mqueue", "type", "mqueue", "source",
                         "mqueue", "options", "nosuid", "noexec", "nodev")));
  if (rootless) /* sysfs cannot be mounted without a network namespace we own: bind it */
    json_array_append_new(
      m, checked(json_pack("{s:s, s:s, s:s, s:[sssss]}", "destination", "/sys", "type", "none", "source",
                           "/sys", "options", "rbind", "nosuid", "noexec", "nodev", "ro")));
  else
    json_array_append_new(
      m, checked(json_pack("{s:s, s:s, s:s, s:[ssss]}", "destination", "/sys", "type", "sysfs", "source",
                           "sysfs", "options", "nosuid", "noexec", "nodev", "ro")));
  json_array_append_new(
    m, checked(json_pack("{s:s, s:s, s:s, s:[sssss]}", "destination", "/sys/fs/cgroup", "type", "cgroup",
                         "source", "cgroup", "options", "nosuid", "noexec", "nodev", "relatime", "ro")));
  return m;
}

static json_t *default_linux(bool rootless)
{
  json_t *l = checked(json_object());
  json_t *ns = checked(json_array());
  const char *types[] = { "pid", "network", "ipc", "uts", "mount", "user" };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    bool is_user = i == 5, is_net = i == 1;
    if ((is_user && !rootless) || (is_net && rootless))
      continue;
    json_array_append_new(ns, checked(json_pack("{s:s}", "type", types[i])));
  }
  if (rootless) {
    json_object_set_new(
      l, "uidMappings",
      checked(json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t) geteuid(), "size", 1)));
    json_object_set_new(
      l, "gidMappings",
      checked(json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t) getegid(), "size", 1)));
  } else {
    json_object_set_new(l, "resources",
                        checked(json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm")));
  }
  json_object_set_new(l, "namespaces", ns);
  json_object_set_new(
    l, "maskedPaths",
    checked(json_pack("[ssssssssss]", "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
                      "/sys/firmware", "/proc/scsi")));
  json_object_set_new(
    l, "readonlyPaths",
    checked(json_pack("[sssss]", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")));
  return l;
}

json_t *berth_spec_default(bool rootless)
{
  json_t *spec = checked(json_object());
  json_object_set_new(spec, "ociVersion", checked(json_string(BERTH_OCI_SPEC_VERSION)));
  json_object_set_new(spec, "process", default_process());
  json_object_set_new(spec, "root", checked(json_pack("{s:s, s:b}", "path", "rootfs", "readonly", 1)));
  json_object_set_new(spec, "hostname", checked(json_string("runc")));
  json_object_set_new(spec, "mounts", default_mounts(rootless));
  json_object_set_new(spec, "linux", default_linux(rootless));
  return spec;
}
