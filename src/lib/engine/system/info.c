/* `berth info` and `berth version`: Docker's Info and Version objects, from the catalogue and the
 * host (kernel, OS, CPUs, memory, cgroups), for `--format` and the default text. */
#include <fcntl.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "engine/containers/containers.h"
#include "engine/system/system.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* PRETTY_NAME of /etc/os-release */
static char *os_name(void)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  berth_error_t err = NULL;
  if (berth_read_file("/etc/os-release", 1 << 16, &text, &len, &err) < 0) {
    berth_error_release(&err);
    return xstrdup("Linux");
  }
  for (char *line = text, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    if (strncmp(line, "PRETTY_NAME=", 12) == 0) {
      char *v = line + 12;
      size_t n = strlen(v);
      if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
        v[n - 1] = '\0';
        v++;
      }
      return xstrdup(v);
    }
  }
  return xstrdup("Linux");
}

/* a stable id of this store (Docker's engine ID), made once */
static char *engine_id(struct berth_engine *e)
{
  cleanup_free char *path = xasprintf("%s/engine-id", e->root);
  cleanup_free char *text = NULL;
  size_t len = 0;
  berth_error_t err = NULL;
  if (berth_read_file(path, 256, &text, &len, &err) == 0 && len >= 64)
    return xstrndup(text, 64);
  berth_error_release(&err);
  berth_ctr_id_t id;
  berth_engine_new_id(id);
  berth_ignore(berth_write_file_atomic(path, id, strlen(id), 0644, BERTH_IGNORED));
  return xstrdup(id);
}

static BERTH_WUR int counts(struct berth_engine *e, json_t *o, berth_error_t *err)
{
  struct berth_ctr *v = NULL;
  size_t n = 0;
  if (berth_ctr_list(e, &v, &n, err) < 0)
    return -1;
  json_int_t running = 0, paused = 0;
  for (size_t i = 0; i < n; i++) {
    running += v[i].state == BERTH_CTR_RUNNING || v[i].state == BERTH_CTR_RESTARTING;
    paused += v[i].state == BERTH_CTR_PAUSED;
  }
  berth_ctr_list_free(v, n);
  struct berth_db_image *imgs = NULL;
  size_t ni = 0;
  if (berth_db_image_list(e->db, &imgs, &ni, err) < 0)
    return -1;
  berth_db_image_list_free(imgs, ni);
  json_object_set_new(o, "Containers", json_integer((json_int_t) n));
  json_object_set_new(o, "ContainersRunning", json_integer(running));
  json_object_set_new(o, "ContainersPaused", json_integer(paused));
  json_object_set_new(o, "ContainersStopped", json_integer((json_int_t) n - running - paused));
  json_object_set_new(o, "Images", json_integer((json_int_t) ni));
  return 0;
}

json_t *berth_system_info(struct berth_engine *e, berth_error_t *err)
{
  json_t *o = json_object();
  cleanup_free char *id = engine_id(e), *os = os_name();
  json_object_set_new(o, "ID", json_string(id));
  if (counts(e, o, err) < 0) {
    json_decref(o);
    return NULL;
  }
  struct utsname u;
  uname(&u);
  struct sysinfo si;
  sysinfo(&si);
  struct statfs fs;
  bool v2 = statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
  json_object_set_new(o, "Driver", json_string("overlay"));
  json_object_set_new(
    o, "DriverStatus",
    json_pack("[[s,s],[s,s]]", "Backing Filesystem", "extfs", "Layers kept as", "tree + tar-split"));
  json_object_set_new(o, "LoggingDriver", json_string("k8s-file"));
  json_object_set_new(o, "CgroupDriver", json_string("cgroupfs"));
  json_object_set_new(o, "CgroupVersion", json_string(v2 ? "2" : "1"));
  json_object_set_new(o, "KernelVersion", json_string(u.release));
  json_object_set_new(o, "OperatingSystem", json_string(os));
  json_object_set_new(o, "OSType", json_string("linux"));
  json_object_set_new(o, "Architecture", json_string(u.machine));
  json_object_set_new(o, "NCPU", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
  json_object_set_new(o, "MemTotal", json_integer((json_int_t) si.totalram * (json_int_t) si.mem_unit));
  json_object_set_new(o, "DockerRootDir", json_string(e->root));
  json_object_set_new(o, "Name", json_string(u.nodename));
  json_object_set_new(o, "ServerVersion", json_string(BERTH_VERSION));
  json_object_set_new(o, "DefaultRuntime", json_string("berth-runtime"));
  json_object_set_new(o, "Runtimes",
                      json_pack("{s:{s:s}, s:{s:s}, s:{s:s}}", "berth-runtime", "path", "berth-runtime",
                                "runc", "path", "runc", "crun", "path", "crun"));
  json_object_set_new(o, "SecurityOptions",
                      json_pack("[s,s]", "name=seccomp,profile=builtin", "name=cgroupns"));
  json_object_set_new(o, "LiveRestoreEnabled", json_false());
  json_object_set_new(o, "Debug", json_false());
  json_object_set_new(o, "Isolation", json_string(""));
  json_object_set_new(o, "Warnings", json_array());
  return o;
}

json_t *berth_system_version(const char *runtime_version, const char *commit)
{
  if (commit == NULL)
    commit = "unknown";
  struct utsname u;
  uname(&u);
  const char *arch = strcmp(u.machine, "x86_64") == 0    ? "amd64"
                     : strcmp(u.machine, "aarch64") == 0 ? "arm64"
                                                         : u.machine;
  json_t *client =
    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Platform", "berth", "Version", BERTH_VERSION,
              "ApiVersion", "1.43", "GitCommit", commit, "GoVersion", "n/a (C)", "Os", "linux", "Arch", arch);
  json_object_set_new(client, "Context", json_string("default"));
  json_t *server =
    json_pack("{s:{s:s}, s:[{s:s, s:s}, {s:s, s:s}], s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Platform",
              "Name", "berth (daemonless)", "Components", "Name", "Engine", "Version", BERTH_VERSION, "Name",
              "berth-runtime", "Version", runtime_version ? runtime_version : "unknown", "Version",
              BERTH_VERSION, "ApiVersion", "1.43", "MinAPIVersion", "1.24", "GitCommit", commit, "GoVersion",
              "n/a (C)", "Os", "linux", "Arch", arch, "KernelVersion", u.release);
  return json_pack("{s:o, s:o}", "Client", client, "Server", server);
}
