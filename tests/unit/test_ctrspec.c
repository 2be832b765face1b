/* The config.json of a container for many `berth run` flag combinations, compared with what
 * Docker produces, and checked to parse with the runtime's own parser. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"
#include "oci/spec.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "app:x:1000:1000:app:/home/app:/bin/sh\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char group[] = "root:x:0:\n"
                            "wheel:x:10:root\n"
                            "app:x:1000:\n"
                            "users:x:100:nobody,app\n"
                            "audio:x:29:\n"
                            "nogroup:x:65534:\n";

static const struct berth_host_device host_devices[] = {
  { "/dev/null", 'c', 1, 3, 0666, 0, 0 },
  { "/dev/sda", 'b', 8, 0, 0660, 0, 6 },
};

struct fixture {
  struct berth_run_opts o;
  json_t *image;
  struct berth_host_facts host;
  struct berth_ctrspec_callbacks cb;
  char *const *args;
  int volume_calls;
};

static int fake_device(void *data, const char *path, struct berth_host_device *out, berth_error_t *err)
{
  if (strcmp(path, "/dev/fuse") == 0) {
    *out = (struct berth_host_device){ path, 'c', 10, 229, 0666, 0, 0 };
    return 0;
  }
  errno = ENOENT;
  return BERTH_ERR_ERRNO(err, "stat `%s`", path);
}

static int fake_pid(void *data, const char *name, pid_t *pid, berth_error_t *err)
{
  if (strcmp(name, "web") == 0) {
    *pid = 4242;
    return 0;
  }
  return BERTH_ERR(err, "no such container: `%s`", name);
}

static int fake_source(void *data, const struct berth_run_mount *m, char **source, berth_error_t *err)
{
  struct fixture *f = data;
  if (m->type == BERTH_MOUNT_BIND) {
    if (strcmp(m->source, "/missing") == 0)
      return BERTH_ERR(err, "bind source path does not exist: %s", m->source);
    *source = xstrdup(m->source);
    return 0;
  }
  f->volume_calls++;
  *source = m->source ? xasprintf("/var/lib/berth/volumes/%s/_data", m->source)
                      : xasprintf("/var/lib/berth/volumes/anon%s/_data", m->target);
  return 0;
}

static void fixture_init(struct fixture *f, const char *image_json)
{
  memset(f, 0, sizeof *f);
  berth_runopts_init(&f->o);
  json_error_t je;
  f->image = image_json ? json_loads(image_json, 0, &je) : NULL;
  if (image_json)
    assert_non_null(f->image);
  f->host = (struct berth_host_facts){ .cgroup_v2 = true,
                                       .swap_limit = true,
                                       .hostname = "hosthost",
                                       .init_path = "/usr/libexec/berth/berth-init",
                                       .arch = "amd64",
                                       .kernel_major = 6,
                                       .kernel_minor = 18,
                                       .cap_last = 40,
                                       .devices = host_devices,
                                       .n_devices = 2 };
  f->cb = (struct berth_ctrspec_callbacks){ fake_device, fake_pid, fake_source, f };
}

static void fixture_release(struct fixture *f)
{
  berth_runopts_release(&f->o);
  json_decref(f->image);
}

static void flags(struct fixture *f, ...)
{
  va_list ap;
  va_start(ap, f);
  for (const char *flag = va_arg(ap, const char *); flag; flag = va_arg(ap, const char *)) {
    const char *v = va_arg(ap, const char *);
    berth_error_t err = NULL;
    if (berth_runopts_set(&f->o, flag, v, &err) < 0) {
      print_error("%s %s: %s\n", flag, v ? v : "", err->msg);
      fail();
    }
  }
  va_end(ap);
  berth_error_t err = NULL;
  assert_int_equal(berth_runopts_validate(&f->o, &err), 0);
}

static json_t *try_build(struct fixture *f, berth_error_t *err)
{
  struct berth_ctrspec_in in = {
    .id = ID,
    .name = "test",
    .rootfs = "/var/lib/berth/containers/" ID "/rootfs",
    .cgroups_path = "berth/" ID,
    .hostname_path = "/var/lib/berth/containers/" ID "/hostname",
    .hosts_path = "/var/lib/berth/containers/" ID "/hosts",
    .resolv_path = "/var/lib/berth/containers/" ID "/resolv.conf",
    .image_config = f->image,
    .opts = &f->o,
    .args = f->args,
    .passwd = passwd,
    .group = group,
    .host = &f->host,
    .cb = &f->cb,
  };
  return berth_ctrspec_build(&in, err);
}

/* build, serialize, and parse with the runtime's parser (the config must be valid) */
static json_t *build(struct fixture *f)
{
  berth_error_t err = NULL;
  json_t *c = try_build(f, &err);
  unit_assert_no_error(&err);
  assert_non_null(c);
  size_t len = 0;
  cleanup_free char *text = berth_ctrspec_dumps(c, &len);
  assert_int_equal(strlen(text), len);
  berth_spec_t *spec = NULL;
  if (berth_spec_parse(text, len, "config.json", &spec, &err) < 0) {
    print_error("%s\n%s\n", err->msg, text);
    fail();
  }
  berth_spec_free(spec);
  return c;
}

static void build_fails(struct fixture *f, const char *needle)
{
  berth_error_t err = NULL;
  json_t *c = try_build(f, &err);
  if (c != NULL) {
    json_decref(c);
    print_error("built, expected an error with \"%s\"\n", needle);
    fail();
  }
  unit_assert_error_contains(&err, needle);
}

/* a member by dotted path ("process.user.uid") */
static json_t *at(json_t *v, const char *path)
{
  cleanup_free char *copy = xstrdup(path);
  char *save = NULL;
  for (char *k = strtok_r(copy, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
    v = json_object_get(v, k);
  return v;
}

static const char *str(json_t *v, const char *path)
{
  json_t *s = at(v, path);
  return json_is_string(s) ? json_string_value(s) : NULL;
}

static json_int_t num(json_t *v, const char *path)
{
  json_t *n = at(v, path);
  assert_true(json_is_integer(n));
  return json_integer_value(n);
}

/* the array as "a b c" */
static char *joined(json_t *arr)
{
  char *out = xstrdup("");
  size_t i;
  json_t *e;
  json_array_foreach (arr, i, e) {
    char *n = json_is_integer(e)
                ? xasprintf("%s%s%lld", out, i ? " " : "", (long long) json_integer_value(e))
                : xasprintf("%s%s%s", out, i ? " " : "", json_is_string(e) ? json_string_value(e) : "?");
    free(out);
    out = n;
  }
  return out;
}

static void assert_list(json_t *v, const char *path, const char *want)
{
  json_t *a = at(v, path);
  if (!json_is_array(a)) {
    print_error("%s: not an array\n", path);
    fail();
  }
  cleanup_free char *got = joined(a);
  if (strcmp(got, want) != 0) {
    print_error("%s: got \"%s\", want \"%s\"\n", path, got, want);
    fail();
  }
}

static json_t *mount_at(json_t *c, const char *dest)
{
  size_t i;
  json_t *m;
  json_array_foreach (json_object_get(c, "mounts"), i, m)
    if (strcmp(str(m, "destination"), dest) == 0)
      return m;
  return NULL;
}

static json_t *ns_of(json_t *c, const char *type)
{
  size_t i;
  json_t *n;
  json_array_foreach (at(c, "linux.namespaces"), i, n)
    if (strcmp(str(n, "type"), type) == 0)
      return n;
  return NULL;
}

#define DEFAULT_CAPS                                                                                         \
  "CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID CAP_SETUID CAP_SETPCAP "             \
  "CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_SYS_CHROOT CAP_MKNOD CAP_AUDIT_WRITE CAP_SETFCAP"

static const char image_json[] =
  "{\"Env\":[\"PATH=/usr/bin:/bin\",\"LANG=C\"],\"Cmd\":[\"sh\"],\"WorkingDir\":\"/srv\","
  "\"Labels\":{\"a\":\"b\",\"keep\":\"1\"},\"StopSignal\":\"SIGQUIT\",\"Volumes\":{\"/data\":{}},"
  "\"ExposedPorts\":{\"80/tcp\":{}}}";

static void test_docker_defaults(void **state)
{
  struct fixture f;
  fixture_init(&f, image_json);
  json_t *c = build(&f);
  assert_string_equal(str(c, "ociVersion"), "1.2.0");
  assert_list(c, "process.args", "sh");
  assert_list(c, "process.env", "PATH=/usr/bin:/bin HOSTNAME=0123456789ab LANG=C HOME=/root");
  assert_string_equal(str(c, "process.cwd"), "/srv");
  assert_int_equal(num(c, "process.user.uid"), 0);
  assert_list(c, "process.user.additionalGids", "10"); /* root is in wheel */
  assert_list(c, "process.capabilities.bounding", DEFAULT_CAPS);
  assert_list(c, "process.capabilities.effective", DEFAULT_CAPS);
  assert_list(c, "process.capabilities.permitted", DEFAULT_CAPS);
  assert_null(at(c, "process.capabilities.inheritable"));
  assert_null(at(c, "process.capabilities.ambient"));
  assert_false(json_is_true(at(c, "process.noNewPrivileges")));
  assert_int_equal(num(c, "process.oomScoreAdj"), 0);
  assert_false(json_is_true(at(c, "process.terminal")));
  assert_string_equal(str(c, "hostname"), "0123456789ab");
  assert_false(json_is_true(at(c, "root.readonly")));
  /* mounts: Docker's defaults, the /etc files, the image's volume; parents first */
  size_t i;
  json_t *m;
  cleanup_free char *dests = xstrdup("");
  json_array_foreach (json_object_get(c, "mounts"), i, m) {
    char *n = xasprintf("%s%s%s", dests, i ? " " : "", str(m, "destination"));
    free(dests);
    dests = n;
  }
  assert_string_equal(dests,
                      "/proc /dev /sys /data /dev/pts /dev/mqueue /dev/shm /etc/resolv.conf /etc/hostname "
                      "/etc/hosts /sys/fs/cgroup");
  assert_list(mount_at(c, "/dev/pts"), "options", "nosuid noexec newinstance ptmxmode=0666 mode=0620 gid=5");
  assert_list(mount_at(c, "/dev/shm"), "options", "nosuid noexec nodev mode=1777 size=67108864");
  assert_list(mount_at(c, "/sys"), "options", "nosuid noexec nodev ro");
  assert_list(mount_at(c, "/sys/fs/cgroup"), "options", "ro nosuid noexec nodev");
  assert_string_equal(str(mount_at(c, "/data"), "source"), "/var/lib/berth/volumes/anon/data/_data");
  assert_list(mount_at(c, "/etc/hosts"), "options", "rbind rprivate");
  assert_int_equal(f.volume_calls, 1);
  assert_list(c, "linux.maskedPaths",
              "/proc/asound /proc/acpi /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list "
              "/proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware /sys/devices/virtual/powercap");
  assert_list(c, "linux.readonlyPaths", "/proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger");
  assert_non_null(ns_of(c, "mount"));
  assert_non_null(ns_of(c, "network"));
  assert_non_null(ns_of(c, "uts"));
  assert_non_null(ns_of(c, "pid"));
  assert_non_null(ns_of(c, "ipc"));
  assert_non_null(ns_of(c, "cgroup")); /* cgroup v2 host */
  assert_null(ns_of(c, "user"));
  assert_string_equal(str(c, "linux.cgroupsPath"), "berth/" ID);
  json_t *rule0 = json_array_get(at(c, "linux.resources.devices"), 0);
  assert_false(json_is_true(json_object_get(rule0, "allow")));
  assert_string_equal(str(rule0, "access"), "rwm");
  assert_null(at(c, "linux.resources.memory"));
  assert_string_equal(str(c, "linux.seccomp.defaultAction"), "SCMP_ACT_ERRNO");
  assert_string_equal(str(c, "annotations.a"), "b");
  assert_string_equal(json_string_value(json_object_get(json_object_get(c, "annotations"),
                                                        BERTH_CTRSPEC_STOP_SIGNAL_ANNOTATION)),
                      "SIGQUIT");
  json_decref(c);
  fixture_release(&f);
}

static bool seccomp_names(json_t *c, const char *name)
{
  size_t i, k;
  json_t *r, *n;
  json_array_foreach (at(c, "linux.seccomp.syscalls"), i, r) {
    if (strcmp(str(r, "action"), "SCMP_ACT_ALLOW") != 0)
      continue;
    json_array_foreach (json_object_get(r, "names"), k, n)
      if (strcmp(json_string_value(n), name) == 0)
        return true;
  }
  return false;
}

static void test_caps(void **state)
{
  struct fixture f;
  fixture_init(&f, image_json);
  flags(&f, "--cap-drop", "ALL", "--cap-add", "NET_ADMIN", NULL);
  json_t *c = build(&f);
  assert_list(c, "process.capabilities.bounding", "CAP_NET_ADMIN");
  assert_list(c, "process.capabilities.effective", "CAP_NET_ADMIN");
  assert_false(seccomp_names(c, "chroot")); /* CAP_SYS_CHROOT went: so did its syscall */
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, image_json);
  flags(&f, "--cap-add", "SYS_ADMIN", "--cap-drop", "MKNOD", "--cap-drop", "NET_RAW", NULL);
  c = build(&f);
  assert_list(c, "process.capabilities.bounding",
              "CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID CAP_SETUID CAP_SETPCAP "
              "CAP_NET_BIND_SERVICE CAP_SYS_CHROOT CAP_SYS_ADMIN CAP_AUDIT_WRITE CAP_SETFCAP");
  assert_true(seccomp_names(c, "mount"));
  assert_true(seccomp_names(c, "clone3"));
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, image_json);
  flags(&f, "--cap-add", "ALL", "--cap-drop", "SYS_ADMIN", NULL);
  c = build(&f);
  assert_int_equal(json_array_size(at(c, "process.capabilities.bounding")), 40); /* 0..40 minus one */
  assert_false(seccomp_names(c, "mount"));
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, image_json);
  flags(&f, "--cap-add", "CHECKPOINT_RESTORE", NULL); /* 40: known */
  f.host.cap_last = 38;                               /* but not to this kernel */
  build_fails(&f, "not supported by this kernel");
  fixture_release(&f);
}

static void test_privileged(void **state)
{
  struct fixture f;
  fixture_init(&f, image_json);
  flags(&f, "--privileged", NULL, NULL);
  json_t *c = build(&f);
  assert_int_equal(json_array_size(at(c, "process.capabilities.bounding")), 41);
  assert_null(at(c, "linux.seccomp"));
  assert_null(at(c, "linux.maskedPaths"));
  assert_null(at(c, "linux.readonlyPaths"));
  assert_list(mount_at(c, "/sys"), "options", "nosuid noexec nodev");
  assert_list(mount_at(c, "/sys/fs/cgroup"), "options", "nosuid noexec nodev");
  assert_int_equal(json_array_size(at(c, "linux.devices")), 2);
  assert_string_equal(str(json_array_get(at(c, "linux.devices"), 1), "path"), "/dev/sda");
  assert_string_equal(str(json_array_get(at(c, "linux.devices"), 1), "type"), "b");
  json_t *rules = at(c, "linux.resources.devices");
  assert_int_equal(json_array_size(rules), 1);
  assert_true(json_is_true(json_object_get(json_array_get(rules, 0), "allow")));
  json_decref(c);
  fixture_release(&f);
}

/* a host whose bounding set lacks CAP_SYS_RESOURCE (24), like this one: --privileged and ALL
 * get what there is, a capability asked for by name is an error */
static void test_caps_limited_by_own_bounding_set(void **state)
{
  struct fixture f;
  fixture_init(&f, image_json);
  f.host.bounding = ((UINT64_C(1) << 41) - 1) & ~(UINT64_C(1) << 24);
  flags(&f, "--privileged", NULL, NULL);
  json_t *c = build(&f);
  assert_int_equal(json_array_size(at(c, "process.capabilities.bounding")), 40);
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, image_json);
  f.host.bounding = ((UINT64_C(1) << 41) - 1) & ~(UINT64_C(1) << 24);
  flags(&f, "--cap-add", "SYS_RESOURCE", NULL);
  build_fails(&f, "--cap-add: CAP_SYS_RESOURCE not in berth's own bounding set");
  fixture_release(&f);
}

static void test_read_only_tmpfs(void **state)
{
  struct fixture f;
  fixture_init(&f, image_json);
  flags(&f, "--read-only", NULL, "--tmpfs", "/run", "--tmpfs", "/cache:exec,size=1m,mode=1777,noexec", NULL);
  json_t *c = build(&f);
  assert_true(json_is_true(at(c, "root.readonly")));
  assert_string_equal(str(mount_at(c, "/run"), "type"), "tmpfs");
  assert_list(mount_at(c, "/run"), "options", "noexec nosuid nodev rprivate");
  /* later options replace earlier ones of their kind (Docker's MergeTmpfsOptions) */
  assert_list(mount_at(c, "/cache"), "options", "noexec nosuid nodev rprivate size=1m mode=1777");
  assert_list(mount_at(c, "/etc/resolv.conf"), "options", "rbind ro rprivate");
  json_decref(c);
  fixture_release(&f);
}

static void test_volumes(void **state)
{
  struct fixture f;
  fixture_init(&f, image_json);
  flags(&f, "-v", "/srv/sub:/data/sub:ro", "-v", "vol:/data", "--mount",
        "type=bind,src=/etc/ssl,dst=/ssl,"
        "bind-propagation=rslave",
        NULL);
  json_t *c = build(&f);
  json_t *data = mount_at(c, "/data");
  assert_string_equal(str(data, "type"), "bind");
  assert_string_equal(str(data, "source"), "/var/lib/berth/volumes/vol/_data");
  assert_list(data, "options", "rbind rprivate");
  assert_int_equal(f.volume_calls, 1); /* the image's /data is covered by the named volume */
  assert_list(mount_at(c, "/data/sub"), "options", "rbind ro rprivate");
  assert_list(mount_at(c, "/ssl"), "options", "rbind rslave");
  assert_string_equal(str(c, "linux.rootfsPropagation"), "rslave");
  /* parent first, whatever the command-line order */
  size_t i, pos_data = 0, pos_sub = 0;
  json_t *m;
  json_array_foreach (json_object_get(c, "mounts"), i, m) {
    if (strcmp(str(m, "destination"), "/data") == 0)
      pos_data = i;
    if (strcmp(str(m, "destination"), "/data/sub") == 0)
      pos_sub = i;
  }
  assert_true(pos_data < pos_sub);
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, NULL);
  flags(&f, "-v", "/missing:/m", NULL);
  f.args = (char *const[]){ "true", NULL };
  build_fails(&f, "mount `/missing:/m`: bind source path does not exist");
  fixture_release(&f);

  fixture_init(&f, NULL);
  flags(&f, "--tmpfs", "/dev/shm:size=1g", "-v", "/h:/etc/hosts", NULL);
  f.args = (char *const[]){ "true", NULL };
  json_t *c2 = build(&f);
  assert_string_equal(str(mount_at(c2, "/dev/shm"), "type"), "tmpfs");
  assert_list(mount_at(c2, "/dev/shm"), "options", "noexec nosuid nodev rprivate size=1g"); /* the user's */
  assert_string_equal(str(mount_at(c2, "/etc/hosts"), "source"), "/h");
  json_decref(c2);
  fixture_release(&f);
}

static void test_users(void **state)
{
  struct fixture f;
  fixture_init(&f, image_json);
  flags(&f, "-u", "1000:1000", NULL);
  json_t *c = build(&f);
  assert_int_equal(num(c, "process.user.uid"), 1000);
  assert_int_equal(num(c, "process.user.gid"), 1000);
  assert_null(at(c, "process.user.additionalGids"));
  assert_list(c, "process.capabilities.bounding", DEFAULT_CAPS);
  assert_list(c, "process.capabilities.effective", ""); /* Docker clears them for non-root */
  assert_list(c, "process.capabilities.permitted", "");
  assert_list(c, "process.env", "PATH=/usr/bin:/bin HOSTNAME=0123456789ab LANG=C HOME=/home/app");
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, image_json);
  flags(&f, "-u", "nobody", "--group-add", "audio", "--group-add", "4242", "--group-add", "users", NULL);
  c = build(&f);
  assert_int_equal(num(c, "process.user.uid"), 65534);
  assert_int_equal(num(c, "process.user.gid"), 65534);
  assert_list(c, "process.user.additionalGids", "100 29 4242");
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, "{\"User\":\"app\",\"Cmd\":[\"id\"]}"); /* the image's User */
  c = build(&f);
  assert_int_equal(num(c, "process.user.uid"), 1000);
  assert_list(c, "process.user.additionalGids", "100");
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, image_json);
  flags(&f, "-u", "bob", NULL);
  build_fails(&f, "unable to find user `bob`: no matching entries in passwd file");
  fixture_release(&f);
  fixture_init(&f, image_json);
  flags(&f, "-u", "app:staff", NULL);
  build_fails(&f, "unable to find group `staff`");
  fixture_release(&f);
  fixture_init(&f, image_json);
  flags(&f, "--group-add", "video", NULL);
  build_fails(&f, "--group-add: unable to find group `video`");
  fixture_release(&f);
}

static void test_resources(void **state)
{
  struct fixture f;
  fixture_init(&f, image_json);
  flags(&f, "--memory", "512m", "--memory-swap", "1g", "--cpus", "1.5", "--pids-limit", "100", "--cpu-shares",
        "512", "--cpuset-cpus", "0-1", "--blkio-weight", "500", "--memory-reservation", "256m", NULL);
  json_t *c = build(&f);
  assert_int_equal(num(c, "linux.resources.memory.limit"), 536870912);
  assert_int_equal(num(c, "linux.resources.memory.swap"), 1073741824);
  assert_int_equal(num(c, "linux.resources.memory.reservation"), 268435456);
  assert_int_equal(num(c, "linux.resources.cpu.quota"), 150000);
  assert_int_equal(num(c, "linux.resources.cpu.period"), 100000);
  assert_int_equal(num(c, "linux.resources.cpu.shares"), 512);
  assert_string_equal(str(c, "linux.resources.cpu.cpus"), "0-1");
  assert_int_equal(num(c, "linux.resources.pids.limit"), 100);
  assert_int_equal(num(c, "linux.resources.blockIO.weight"), 500);
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, image_json);
  flags(&f, "-m", "512m", NULL);
  c = build(&f);
  assert_int_equal(num(c, "linux.resources.memory.swap"), 1073741824); /* Docker: swap = memory */
  json_decref(c);
  f.host.swap_limit = false;
  c = build(&f);
  assert_null(at(c, "linux.resources.memory.swap"));
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, image_json);
  flags(&f, "-m", "512m", "--memory-swap", "-1", "--pids-limit", "-1", NULL);
  c = build(&f);
  assert_int_equal(num(c, "linux.resources.memory.swap"), -1);
  assert_null(at(c, "linux.resources.pids"));
  json_decref(c);
  fixture_release(&f);
}

static void test_ulimits_and_sysctls(void **state)
{
  struct fixture f;
  fixture_init(&f, image_json);
  flags(&f, "--ulimit", "nofile=1024:2048", "--ulimit", "core=-1", "--sysctl", "net.ipv4.ip_forward=1",
        "--sysctl", "kernel.shmmax=1000000", NULL);
  json_t *c = build(&f);
  json_t *rl = at(c, "process.rlimits");
  assert_int_equal(json_array_size(rl), 2);
  assert_string_equal(str(json_array_get(rl, 0), "type"), "RLIMIT_NOFILE");
  assert_int_equal(num(json_array_get(rl, 0), "soft"), 1024);
  assert_int_equal(num(json_array_get(rl, 0), "hard"), 2048);
  assert_string_equal(json_string_value(json_object_get(at(c, "linux.sysctl"), "net.ipv4.ip_forward")), "1");
  assert_string_equal(json_string_value(json_object_get(at(c, "linux.sysctl"), "kernel.shmmax")), "1000000");
  /* unlimited: 2^64-1 in the text, parsed back as RLIM_INFINITY */
  cleanup_free char *text = berth_ctrspec_dumps(c, NULL);
  assert_non_null(strstr(text, "\"hard\":18446744073709551615,\"soft\":18446744073709551615"));
  berth_spec_t *spec = NULL;
  berth_error_t err = NULL;
  assert_int_equal(berth_spec_parse(text, strlen(text), "config.json", &spec, &err), 0);
  assert_int_equal(spec->process.rlimits[1].resource, RLIMIT_CORE);
  assert_true(spec->process.rlimits[1].soft == UINT64_MAX);
  berth_spec_free(spec);
  json_decref(c);
  fixture_release(&f);
}

static void test_devices(void **state)
{
  struct fixture f;
  fixture_init(&f, image_json);
  flags(&f, "--device", "/dev/fuse", "--device", "/dev/fuse:/dev/myfuse:r", NULL);
  json_t *c = build(&f);
  json_t *d = json_array_get(at(c, "linux.devices"), 0);
  assert_string_equal(str(d, "path"), "/dev/fuse");
  assert_string_equal(str(d, "type"), "c");
  assert_int_equal(num(d, "major"), 10);
  assert_int_equal(num(d, "minor"), 229);
  assert_int_equal(num(d, "fileMode"), 0666);
  assert_string_equal(str(json_array_get(at(c, "linux.devices"), 1), "path"), "/dev/myfuse");
  json_t *rules = at(c, "linux.resources.devices");
  json_t *last = json_array_get(rules, json_array_size(rules) - 1);
  assert_true(json_is_true(json_object_get(last, "allow")));
  assert_int_equal(num(last, "major"), 10);
  assert_string_equal(str(last, "access"), "r");
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, image_json);
  flags(&f, "--device", "/dev/nope", NULL);
  build_fails(&f, "--device `/dev/nope`: stat `/dev/nope`: No such file or directory");
  fixture_release(&f);
}

static void test_namespaces(void **state)
{
  struct fixture f;
  fixture_init(&f, image_json);
  flags(&f, "--network", "host", "--pid", "host", NULL);
  json_t *c = build(&f);
  assert_null(ns_of(c, "network"));
  assert_null(ns_of(c, "pid"));
  assert_non_null(ns_of(c, "uts"));
  assert_string_equal(str(c, "hostname"), "hosthost"); /* Docker: the host's name under --network host */
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, image_json);
  flags(&f, "--ipc", "container:web", "--network", "container:web", "--uts", "host", NULL);
  c = build(&f);
  assert_string_equal(str(ns_of(c, "ipc"), "path"), "/proc/4242/ns/ipc");
  assert_string_equal(str(ns_of(c, "network"), "path"), "/proc/4242/ns/net");
  assert_string_equal(str(mount_at(c, "/dev/shm"), "source"), "/proc/4242/root/dev/shm");
  assert_null(ns_of(c, "uts"));
  assert_null(at(c, "hostname"));
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, image_json);
  flags(&f, "--pid", "container:ghost", NULL);
  build_fails(&f, "--pid container:ghost: no such container: `ghost`");
  fixture_release(&f);

  fixture_init(&f, image_json);
  flags(&f, "--network", "ns:/run/netns/blue", "--ipc", "none", NULL);
  f.host.cgroup_v2 = false;
  c = build(&f);
  assert_string_equal(str(ns_of(c, "network"), "path"), "/run/netns/blue");
  assert_null(ns_of(c, "cgroup")); /* Docker's default on cgroup v1: the host's */
  assert_null(mount_at(c, "/dev/shm"));
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, image_json);
  flags(&f, "--ipc", "host", "--cgroupns", "host", NULL);
  c = build(&f);
  assert_null(ns_of(c, "ipc"));
  assert_null(ns_of(c, "cgroup"));
  assert_string_equal(str(mount_at(c, "/dev/shm"), "source"), "/dev/shm");
  assert_string_equal(str(mount_at(c, "/dev/mqueue"), "type"), "bind");
  json_decref(c);
  fixture_release(&f);
}

static void test_init_and_security(void **state)
{
  struct fixture f;
  fixture_init(&f, image_json);
  flags(&f, "--init", NULL, "--security-opt", "no-new-privileges", "--oom-score-adj", "300", "--stop-signal",
        "KILL", "-l", "a=override", "-t", NULL, "--shm-size", "1g", NULL);
  json_t *c = build(&f);
  assert_list(c, "process.args", BERTH_CTRSPEC_INIT_PATH " -- sh");
  json_t *m = mount_at(c, BERTH_CTRSPEC_INIT_PATH);
  assert_string_equal(str(m, "source"), "/usr/libexec/berth/berth-init");
  assert_list(m, "options", "bind ro nosuid nodev");
  assert_true(json_is_true(at(c, "process.noNewPrivileges")));
  assert_true(json_is_true(at(c, "process.terminal")));
  assert_int_equal(num(c, "process.oomScoreAdj"), 300);
  assert_string_equal(str(c, "annotations.a"), "override");
  assert_string_equal(str(c, "annotations.keep"), "1");
  assert_string_equal(json_string_value(json_object_get(json_object_get(c, "annotations"),
                                                        BERTH_CTRSPEC_STOP_SIGNAL_ANNOTATION)),
                      "SIGKILL");
  assert_list(c, "process.env", "PATH=/usr/bin:/bin HOSTNAME=0123456789ab TERM=xterm LANG=C HOME=/root");
  assert_list(mount_at(c, "/dev/shm"), "options", "nosuid noexec nodev mode=1777 size=1073741824");
  json_decref(c);
  f.host.init_path = NULL;
  build_fails(&f, "--init: no init binary");
  fixture_release(&f);

  fixture_init(&f, image_json);
  flags(&f, "--security-opt", "seccomp=unconfined", "--security-opt", "systempaths=unconfined", NULL);
  c = build(&f);
  assert_null(at(c, "linux.seccomp"));
  assert_null(at(c, "linux.maskedPaths"));
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, image_json);
  flags(&f, "--security-opt", "seccomp=/etc/p.json", NULL);
  build_fails(&f, "the profile was not loaded");
  const char *prof = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
                     "\"action\":\"SCMP_ACT_ALLOW\"}]}";
  f.o.seccomp_profile = xstrdup(prof);
  f.o.seccomp_profile_len = strlen(prof);
  c = build(&f);
  assert_string_equal(str(json_array_get(at(c, "linux.seccomp.syscalls"), 0), "action"), "SCMP_ACT_ALLOW");
  assert_null(at(c, "linux.seccomp.defaultErrnoRet"));
  json_decref(c);
  fixture_release(&f);
}

static void test_commands(void **state)
{
  struct fixture f;
  fixture_init(&f, "{\"Entrypoint\":[\"/entry.sh\"],\"Cmd\":[\"serve\"]}");
  json_t *c = build(&f);
  assert_list(c, "process.args", "/entry.sh serve");
  assert_string_equal(str(c, "process.cwd"), "/");
  json_decref(c);
  f.args = (char *const[]){ "run", "fast", NULL };
  c = build(&f);
  assert_list(c, "process.args", "/entry.sh run fast");
  json_decref(c);
  flags(&f, "--entrypoint", "", NULL);
  c = build(&f);
  assert_list(c, "process.args", "run fast");
  json_decref(c);
  f.args = NULL;
  build_fails(&f, "no command specified"); /* --entrypoint "" drops the image's Cmd too */
  flags(&f, "--entrypoint", "/bin/sh", NULL);
  c = build(&f);
  assert_list(c, "process.args", "/bin/sh");
  json_decref(c);
  fixture_release(&f);

  fixture_init(&f, NULL);
  build_fails(&f, "no command specified");
  fixture_release(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_docker_defaults),
    cmocka_unit_test(test_caps),
    cmocka_unit_test(test_privileged),
    cmocka_unit_test(test_caps_limited_by_own_bounding_set),
    cmocka_unit_test(test_read_only_tmpfs),
    cmocka_unit_test(test_volumes),
    cmocka_unit_test(test_users),
    cmocka_unit_test(test_resources),
    cmocka_unit_test(test_ulimits_and_sysctls),
    cmocka_unit_test(test_devices),
    cmocka_unit_test(test_namespaces),
    cmocka_unit_test(test_init_and_security),
    cmocka_unit_test(test_commands),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
