#include "unit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"

/* apply flag/value pairs (NULL-terminated list); returns the first failure */
static int apply(struct berth_run_opts *o, berth_error_t *err, ...)
{
  va_list ap;
  va_start(ap, err);
  int r = 0;
  for (const char *f = va_arg(ap, const char *); f != NULL && r == 0; f = va_arg(ap, const char *)) {
    const char *v = va_arg(ap, const char *);
    r = berth_runopts_set(o, f, v, err);
  }
  va_end(ap);
  return r;
}

static void expect_error(const char *flag, const char *value, const char *needle)
{
  struct berth_run_opts o;
  berth_error_t err = NULL;
  berth_runopts_init(&o);
  int r = berth_runopts_set(&o, flag, value, &err);
  if (r == 0) {
    print_error("%s %s: accepted\n", flag, value ? value : "(null)");
    fail();
  }
  unit_assert_error_contains(&err, needle);
  berth_runopts_release(&o);
}

static void test_sizes(void **state)
{
  int64_t n = 0;
  berth_error_t err = NULL;
  struct {
    const char *in;
    int64_t out;
  } ok[] = {
    { "512m", 512LL << 20 }, { "1g", 1LL << 30 },  { "1.5g", 3LL << 29 }, { "1024", 1024 },
    { "10 KiB", 10240 },     { "2MB", 2LL << 20 }, { "7b", 7 },           { "0.5k", 512 },
    { "1P", 1LL << 50 },     { "4t", 4LL << 40 },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(ok); i++) {
    assert_int_equal(berth_runopts_parse_size("--memory", ok[i].in, &n, &err), 0);
    assert_int_equal(n, ok[i].out);
  }
  const char *bad[] = { "10q", "", "-1", "m", "1.5.5g", "1..5", "1g1", " 1g", "1  g", "0x10", "1.g" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad); i++) {
    assert_true(berth_runopts_parse_size("--memory", bad[i], &n, &err) < 0);
    unit_assert_error_contains(&err, "--memory: invalid size");
  }
  assert_true(berth_runopts_parse_size("--memory", "9000000000000000000000", &n, &err) < 0);
  unit_assert_error_contains(&err, "too large");
  assert_true(berth_runopts_parse_size("--memory", "8192p", &n, &err) < 0);
  unit_assert_error_contains(&err, "too large");
}

static void test_memory_and_cpus(void **state)
{
  struct berth_run_opts o;
  berth_error_t err = NULL;
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "-m", "512m", "--memory-swap", "1g", "--cpus", "1.5", "--cpu-shares",
                         "512", "--cpuset-cpus", "0-1,3", "--pids-limit", "100", "--blkio-weight", "300",
                         NULL),
                   0);
  assert_int_equal(o.memory, 512LL << 20);
  assert_int_equal(o.memory_swap, 1LL << 30);
  assert_int_equal(o.nano_cpus, 1500000000LL);
  assert_int_equal(o.cpu_shares, 512);
  assert_string_equal(o.cpuset_cpus, "0-1,3");
  assert_true(o.has_pids_limit);
  assert_int_equal(o.pids_limit, 100);
  assert_int_equal(o.blkio_weight, 300);
  assert_int_equal(berth_runopts_validate(&o, &err), 0);
  assert_int_equal(apply(&o, &err, "--memory-swap", "-1", "--cpus", "0.001", NULL), 0);
  assert_int_equal(o.memory_swap, -1);
  assert_int_equal(o.nano_cpus, 1000000);
  berth_runopts_release(&o);

  expect_error("--memory", "10q", "--memory: invalid size \"10q\"");
  expect_error("--memory", "1m", "minimum memory limit allowed is 6MB");
  expect_error("--cpus", "-1", "--cpus: must be a positive number, got \"-1\"");
  expect_error("--cpus", "abc", "--cpus: must be a positive number, got \"abc\"");
  expect_error("--cpus", "0.0000000001", "too precise");
  expect_error("--cpuset-cpus", "3-1", "invalid list");
  expect_error("--cpuset-cpus", "1,", "invalid list");
  expect_error("--blkio-weight", "5", "invalid weight");
  expect_error("--pids-limit", "lots", "invalid number");
  expect_error("--shm-size", "0", "must be greater than 0");
}

static void test_swap_rules(void **state)
{
  struct berth_run_opts o;
  berth_error_t err = NULL;
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "--memory-swap", "1g", NULL), 0);
  assert_true(berth_runopts_validate(&o, &err) < 0);
  unit_assert_error_contains(&err, "always set the memory limit");
  assert_int_equal(apply(&o, &err, "-m", "2g", NULL), 0);
  assert_true(berth_runopts_validate(&o, &err) < 0);
  unit_assert_error_contains(&err, "larger than the memory limit");
  assert_int_equal(apply(&o, &err, "--memory-swap", "-1", NULL), 0);
  assert_int_equal(berth_runopts_validate(&o, &err), 0);
  berth_runopts_release(&o);
}

static void test_ulimits(void **state)
{
  struct berth_run_opts o;
  berth_error_t err = NULL;
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "--ulimit", "nofile=1024:2048", "--ulimit", "nproc=64", "--ulimit",
                         "core=-1", "--ulimit", "nofile=10:20", NULL),
                   0);
  assert_int_equal(o.n_ulimits, 3);
  assert_int_equal(o.ulimits[0].resource, RLIMIT_NOFILE);
  assert_int_equal(o.ulimits[0].soft, 10); /* last one wins */
  assert_int_equal(o.ulimits[0].hard, 20);
  assert_int_equal(o.ulimits[1].soft, 64);
  assert_int_equal(o.ulimits[1].hard, 64);
  assert_int_equal(o.ulimits[2].soft, -1);
  assert_int_equal(o.ulimits[2].hard, -1);
  berth_runopts_release(&o);
  expect_error("--ulimit", "nofile=2048:1024", "soft limit must be less than or equal to hard limit");
  expect_error("--ulimit", "nofile=-1:1024", "soft limit must be less than or equal to hard limit");
  expect_error("--ulimit", "bogus=1", "invalid ulimit type \"bogus\"");
  expect_error("--ulimit", "nofile", "invalid ulimit argument");
  expect_error("--ulimit", "nofile=x", "invalid limit \"x\"");
  expect_error("--ulimit", "nofile=-2", "invalid limit");
}

static void test_devices(void **state)
{
  struct berth_run_device d;
  berth_error_t err = NULL;
  struct {
    const char *in, *host, *ctr, *perms;
  } ok[] = {
    { "/dev/fuse", "/dev/fuse", "/dev/fuse", "rwm" },
    { "/dev/sda:/dev/xvda", "/dev/sda", "/dev/xvda", "rwm" },
    { "/dev/sda:r", "/dev/sda", "/dev/sda", "r" },
    { "/dev/sda:/dev/xvda:mw", "/dev/sda", "/dev/xvda", "wm" },
    { "/dev//null/.", "/dev/null", "/dev/null", "rwm" },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(ok); i++) {
    assert_int_equal(berth_runopts_parse_device("--device", ok[i].in, &d, &err), 0);
    assert_string_equal(d.host_path, ok[i].host);
    assert_string_equal(d.container_path, ok[i].ctr);
    assert_string_equal(d.perms, ok[i].perms);
    free(d.host_path);
    free(d.container_path);
  }
  expect_error("--device", "dev/fuse", "the host path must be absolute");
  expect_error("--device", "/dev/a:xvda", "the container path must be absolute");
  expect_error("--device", "/dev/a:/dev/b:rwx", "invalid device mode \"rwx\"");
  expect_error("--device", "/dev/a:/dev/b:rr", "invalid device mode");
  expect_error("--device", "/a:/b:r:w", "invalid device specification");
}

static void test_volumes(void **state)
{
  struct berth_run_mount m;
  berth_error_t err = NULL;
  assert_int_equal(berth_runopts_parse_volume("-v", "/srv/data:/data:ro,rslave", &m, &err), 0);
  assert_int_equal(m.type, BERTH_MOUNT_BIND);
  assert_string_equal(m.source, "/srv/data");
  assert_string_equal(m.target, "/data");
  assert_true(m.readonly);
  assert_string_equal(m.propagation, "rslave");
  assert_true(m.create_source);
  berth_run_mount_release(&m);

  assert_int_equal(berth_runopts_parse_volume("-v", "vol:/data/", &m, &err), 0);
  assert_int_equal(m.type, BERTH_MOUNT_VOLUME);
  assert_string_equal(m.source, "vol");
  assert_string_equal(m.target, "/data");
  assert_false(m.readonly);
  assert_null(m.propagation);
  berth_run_mount_release(&m);

  assert_int_equal(berth_runopts_parse_volume("-v", "/cache", &m, &err), 0);
  assert_int_equal(m.type, BERTH_MOUNT_VOLUME);
  assert_null(m.source);
  assert_string_equal(m.target, "/cache");
  berth_run_mount_release(&m);

  assert_int_equal(berth_runopts_parse_volume("-v", "vol:/d:nocopy,ro", &m, &err), 0);
  assert_true(m.nocopy);
  assert_true(m.readonly);
  berth_run_mount_release(&m);

  expect_error("-v", "./rel:/data", "includes invalid characters for a local volume name");
  expect_error("-v", "/a:data", "is not an absolute path");
  expect_error("-v", "/a:/", "cannot be \"/\"");
  expect_error("-v", "/a:/b:rw,ro", "invalid mode");
  expect_error("-v", "/a:/b:bogus", "invalid mode \"bogus\"");
  expect_error("-v", "/a:/b:nocopy", "nocopy applies to volumes");
  expect_error("-v", "vol:/b:rshared", "propagation modes apply to host directories");
  expect_error("-v", "/a:/b:ro:x", "invalid volume specification");
  expect_error("-v", ":/b", "invalid volume specification");
  expect_error("-v", "", "a target path in the container is required");
}

static void test_mount_flag(void **state)
{
  struct berth_run_mount m;
  berth_error_t err = NULL;
  assert_int_equal(berth_runopts_parse_mount(
                     "--mount", "type=bind,src=/srv,dst=/srv,readonly,bind-propagation=rshared", &m, &err),
                   0);
  assert_int_equal(m.type, BERTH_MOUNT_BIND);
  assert_string_equal(m.source, "/srv");
  assert_true(m.readonly);
  assert_false(m.create_source);
  assert_string_equal(m.propagation, "rshared");
  berth_run_mount_release(&m);

  assert_int_equal(
    berth_runopts_parse_mount("--mount", "target=/data,source=myvol,volume-nocopy,volume-opt=o=x", &m, &err),
    0);
  assert_int_equal(m.type, BERTH_MOUNT_VOLUME); /* Docker's default type */
  assert_string_equal(m.source, "myvol");
  assert_true(m.nocopy);
  assert_string_equal(m.volume_opts[0], "o=x");
  berth_run_mount_release(&m);

  assert_int_equal(berth_runopts_parse_mount(
                     "--mount", "type=tmpfs,destination=/run,tmpfs-size=64m,tmpfs-mode=1770", &m, &err),
                   0);
  assert_int_equal(m.type, BERTH_MOUNT_TMPFS);
  assert_string_equal(m.tmpfs_options[0], "size=67108864");
  assert_string_equal(m.tmpfs_options[1], "mode=1770");
  berth_run_mount_release(&m);

  assert_int_equal(berth_runopts_parse_mount(
                     "--mount", "type=bind,src=/a,target=/b,bind-recursive=disabled,ro=false", &m, &err),
                   0);
  assert_true(m.nonrecursive);
  assert_false(m.readonly);
  berth_run_mount_release(&m);

  expect_error("--mount", "type=bind,target=/b", "a source is required for a bind mount");
  expect_error("--mount", "type=tmpfs,src=x,target=/b", "a tmpfs mount takes no source");
  expect_error("--mount", "type=nfs,target=/b", "unknown mount type \"nfs\"");
  expect_error("--mount", "type=bind,src=/a", "a target path in the container is required");
  expect_error("--mount", "type=bind,src=/a,target=/b,colour=red", "unexpected key \"colour\"");
  expect_error("--mount", "type=volume,target=/b,tmpfs-size=1m", "tmpfs options are only for type=tmpfs");
  expect_error("--mount", "type=tmpfs,target=/b,tmpfs-mode=999", "invalid tmpfs-mode");
  expect_error("--mount", "type=bind,src=/a,target=/b,bind-propagation=weird", "invalid bind-propagation");
  expect_error("--mount", "type=bind,src=/a,target=/b,readonly=maybe", "invalid value for readonly");
  expect_error("--mount", "type=bind,src=rel,target=/b", "must be an absolute path");
}

static void test_tmpfs_flag(void **state)
{
  struct berth_run_mount m;
  berth_error_t err = NULL;
  assert_int_equal(berth_runopts_parse_tmpfs("--tmpfs", "/run:size=64m,exec,mode=755,ro", &m, &err), 0);
  assert_int_equal(m.type, BERTH_MOUNT_TMPFS);
  assert_string_equal(m.target, "/run");
  assert_true(m.readonly);
  assert_string_equal(m.tmpfs_options[0], "size=64m");
  assert_string_equal(m.tmpfs_options[1], "exec");
  assert_string_equal(m.tmpfs_options[2], "mode=755");
  assert_null(m.tmpfs_options[3]);
  berth_run_mount_release(&m);
  assert_int_equal(berth_runopts_parse_tmpfs("--tmpfs", "/tmp", &m, &err), 0);
  assert_null(m.tmpfs_options);
  berth_run_mount_release(&m);
  expect_error("--tmpfs", "run", "is not an absolute path");
  expect_error("--tmpfs", "/run:size=lots", "invalid tmpfs option \"size\"");
  expect_error("--tmpfs", "/run:bogus", "invalid tmpfs option \"bogus\"");
  expect_error("--tmpfs", "/run:mode=8", "invalid tmpfs option \"mode\"");
}

static const char *fake_env(void *data, const char *name)
{
  return strcmp(name, "HOSTVAR") == 0 ? "from-host" : NULL;
}

static void test_env(void **state)
{
  struct berth_run_opts o;
  berth_error_t err = NULL;
  berth_runopts_init(&o);
  o.lookup_env = fake_env;
  assert_int_equal(apply(&o, &err, "-e", "A=1", "--env", "HOSTVAR", "-e", "UNSET", "-e", "B=", NULL), 0);
  assert_string_equal(o.env[0], "A=1");
  assert_string_equal(o.env[1], "HOSTVAR=from-host");
  assert_string_equal(o.env[2], "UNSET");
  assert_string_equal(o.env[3], "B=");
  berth_runopts_release(&o);
  expect_error("-e", "=x", "invalid environment variable \"=x\"");
  expect_error("-e", "", "invalid environment variable");

  const char text[] = "\xef\xbb\xbf# comment\n\n  X=1 2 \r\nHOSTVAR\nEMPTY=\nNOPE\n\tY==z";
  char **env = NULL;
  assert_int_equal(berth_runopts_parse_env_file(text, sizeof text - 1, "f.env", fake_env, NULL, &env, &err),
                   0);
  assert_int_equal(berth_strv_len(env), 5);
  assert_string_equal(env[0], "X=1 2 ");
  assert_string_equal(env[1], "HOSTVAR=from-host");
  assert_string_equal(env[2], "EMPTY=");
  assert_string_equal(env[3], "NOPE");
  assert_string_equal(env[4], "Y==z");
  berth_strv_free(env);
  env = NULL;
  const char bad[] = "A=1\nBAD VAR=2\n";
  assert_true(berth_runopts_parse_env_file(bad, sizeof bad - 1, "f.env", NULL, NULL, &env, &err) < 0);
  unit_assert_error_contains(&err, "f.env: line 2: variable `BAD VAR` contains whitespaces");
  assert_null(env); /* nothing appended on failure */
  const char utf[] = "A=\xff\n";
  assert_true(berth_runopts_parse_env_file(utf, sizeof utf - 1, "f.env", NULL, NULL, &env, &err) < 0);
  unit_assert_error_contains(&err, "line 1: invalid UTF-8");
  const char noname[] = "=1\n";
  assert_true(berth_runopts_parse_env_file(noname, sizeof noname - 1, "f.env", NULL, NULL, &env, &err) < 0);
  unit_assert_error_contains(&err, "no variable name");
}

static void test_env_file_and_seccomp_loading(void **state)
{
  cleanup_free char *dir = unit_mkdtemp();
  cleanup_free char *envf = xasprintf("%s/vars", dir);
  cleanup_free char *prof = xasprintf("%s/profile.json", dir);
  berth_error_t err = NULL;
  assert_int_equal(berth_write_file_atomic(envf, "K=v\n", 4, 0644, &err), 0);
  const char *json = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"keyctl\"],"
                     "\"action\":\"SCMP_ACT_ERRNO\",\"includes\":{\"caps\":[\"CAP_NOPE\"]}}]}";
  assert_int_equal(berth_write_file_atomic(prof, json, strlen(json), 0644, &err), 0);
  struct berth_run_opts o;
  cleanup_free char *sopt = xasprintf("seccomp=%s", prof);
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "--env-file", envf, "--security-opt", sopt, NULL), 0);
  assert_true(berth_runopts_load_files(&o, &err) < 0);
  unit_assert_error_contains(&err, "syscalls[0].includes.caps[0]: unknown capability \"CAP_NOPE\"");
  berth_runopts_release(&o);

  const char *good = "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}";
  assert_int_equal(berth_write_file_atomic(prof, good, strlen(good), 0644, &err), 0);
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "--env-file", envf, "--security-opt", sopt, NULL), 0);
  assert_int_equal(berth_runopts_load_files(&o, &err), 0);
  assert_string_equal(o.env_from_files[0], "K=v");
  assert_string_equal(o.seccomp_profile, good);
  assert_int_equal(apply(&o, &err, "--env-file", "/nonexistent/berth-env", NULL), 0);
  assert_true(berth_runopts_load_files(&o, &err) < 0);
  unit_assert_error_contains(&err, "--env-file");
  berth_runopts_release(&o);
  unit_rm_rf(dir);
}

static void test_restart_and_signals(void **state)
{
  enum berth_restart_policy p;
  int n = -1, sig = 0;
  berth_error_t err = NULL;
  assert_int_equal(berth_runopts_parse_restart("--restart", "on-failure:3", &p, &n, &err), 0);
  assert_int_equal(p, BERTH_RESTART_ON_FAILURE);
  assert_int_equal(n, 3);
  assert_int_equal(berth_runopts_parse_restart("--restart", "on-failure", &p, &n, &err), 0);
  assert_int_equal(n, 0);
  assert_int_equal(berth_runopts_parse_restart("--restart", "unless-stopped", &p, &n, &err), 0);
  assert_int_equal(p, BERTH_RESTART_UNLESS_STOPPED);
  assert_int_equal(berth_runopts_parse_restart("--restart", "no", &p, &n, &err), 0);
  assert_int_equal(p, BERTH_RESTART_NO);
  expect_error("--restart", "always:3", "maximum retry count cannot be used with restart policy \"always\"");
  expect_error("--restart", "sometimes", "invalid restart policy \"sometimes\"");
  expect_error("--restart", "on-failure:-1", "must be a non-negative integer");

  const char *names[] = { "SIGTERM", "term", "15", "SIGRTMIN+2", "KILL", "RTMAX" };
  int want[] = { SIGTERM, SIGTERM, 15, SIGRTMIN + 2, SIGKILL, SIGRTMAX };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(names); i++) {
    assert_int_equal(berth_runopts_parse_signal("--stop-signal", names[i], &sig, &err), 0);
    assert_int_equal(sig, want[i]);
  }
  expect_error("--stop-signal", "SIGNOPE", "invalid signal \"SIGNOPE\"");
  expect_error("--stop-signal", "0", "invalid signal");
  expect_error("--stop-signal", "99", "invalid signal");
}

static void test_namespaces(void **state)
{
  struct berth_run_opts o;
  berth_error_t err = NULL;
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "--net", "container:web", "--pid", "host", "--ipc", "shareable", "--uts",
                         "host", "--cgroupns", "private", NULL),
                   0);
  assert_int_equal(o.network.mode, BERTH_NSMODE_CONTAINER);
  assert_string_equal(o.network.value, "web");
  assert_int_equal(o.pid.mode, BERTH_NSMODE_HOST);
  assert_int_equal(o.ipc.mode, BERTH_NSMODE_SHAREABLE);
  assert_int_equal(o.uts.mode, BERTH_NSMODE_HOST);
  assert_int_equal(o.cgroupns.mode, BERTH_NSMODE_PRIVATE);
  berth_runopts_release(&o); /* a second --network is for named networks only (test_runopts_net.c) */
  berth_runopts_init(&o);
  assert_int_equal(
    apply(&o, &err, "--network", "ns:/run/netns//x", "--ipc", "container:db", "--uts", "host", NULL), 0);
  assert_int_equal(o.network.mode, BERTH_NSMODE_PATH);
  assert_string_equal(o.network.value, "/run/netns/x");
  assert_int_equal(o.ipc.mode, BERTH_NSMODE_CONTAINER);
  assert_string_equal(o.ipc.value, "db");
  assert_int_equal(apply(&o, &err, "--hostname", "box", NULL), 0);
  assert_int_equal(berth_runopts_validate(&o, &err), -1);
  unit_assert_error_contains(&err, "conflicting options: --hostname and --uts host");
  berth_runopts_release(&o);

  expect_error("--network", "we/ird", "unknown network mode \"we/ird\"");
  expect_error("--network", "container:", "a container name or id is required");
  expect_error("--network", "ns:relative", "unknown network mode");
  expect_error("--pid", "private-ish", "--pid: invalid mode");
  expect_error("--uts", "container:x", "--uts: invalid mode");
  expect_error("--cgroupns", "", "--cgroupns: invalid mode");

  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "--network", "container:web", "--dns", "1.1.1.1", NULL), 0);
  assert_true(berth_runopts_validate(&o, &err) < 0);
  unit_assert_error_contains(&err, "conflicting options: --dns and the network mode container:web");
  berth_runopts_release(&o);
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", NULL), 0);
  assert_true(berth_runopts_validate(&o, &err) < 0);
  unit_assert_error_contains(&err, "\"net.ipv4.ip_forward\" is not allowed with the network mode host");
  berth_runopts_release(&o);
}

static void test_security_and_caps(void **state)
{
  struct berth_run_opts o;
  berth_error_t err = NULL;
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "--cap-drop", "ALL", "--cap-add", "net_admin", "--cap-add",
                         "CAP_SYS_TIME,chown", "--security-opt", "no-new-privileges", "--security-opt",
                         "seccomp=unconfined", "--security-opt", "apparmor=unconfined", "--security-opt",
                         "label:disable", "--security-opt", "systempaths=unconfined", "--privileged", "false",
                         NULL),
                   0);
  assert_string_equal(o.cap_drop[0], "ALL");
  assert_string_equal(o.cap_add[0], "CAP_NET_ADMIN");
  assert_string_equal(o.cap_add[1], "CAP_SYS_TIME");
  assert_string_equal(o.cap_add[2], "CAP_CHOWN");
  assert_true(o.no_new_privileges);
  assert_true(o.seccomp_unconfined);
  assert_null(o.seccomp_path);
  assert_string_equal(o.apparmor, "unconfined");
  assert_true(o.label_disable);
  assert_true(o.systempaths_unconfined);
  assert_false(o.privileged);
  assert_int_equal(
    apply(&o, &err, "--security-opt", "no-new-privileges=false", "--security-opt", "seccomp=/p.json", NULL),
    0);
  assert_false(o.no_new_privileges);
  assert_false(o.seccomp_unconfined);
  assert_string_equal(o.seccomp_path, "/p.json");
  berth_runopts_release(&o);
  expect_error("--cap-add", "NOT_A_CAP", "--cap-add: unknown capability \"NOT_A_CAP\"");
  expect_error("--security-opt", "seccomp", "--security-opt: invalid option");
  expect_error("--security-opt", "colour=blue", "--security-opt: invalid option");
  expect_error("--security-opt", "no-new-privileges=maybe", "invalid boolean");
  expect_error("--privileged", "yes", "--privileged: invalid boolean \"yes\"");
}

static void test_misc_values(void **state)
{
  struct berth_run_opts o;
  berth_error_t err = NULL;
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "--name", "/web-1", "-w", "/srv/../app/", "-u", "nobody:nogroup",
                         "--group-add", "audio", "--entrypoint", "[\"/bin/sh\",\"-c\"]", "-h", "box.example",
                         "--add-host", "db:10.0.0.2", "--add-host", "v6=[::1]", "--add-host",
                         "gw:host-gateway", "--dns", "9.9.9.9", "--dns-search", "example.com", "--dns-option",
                         "ndots:2", "-l", "a=1", "--label", "b", "-l", "a=2", "--sysctl",
                         "net.core.somaxconn=1024", "--restart", "always", "--log-opt", "max-size=10m",
                         "--log-opt", "max-file=3", "--runtime", "crun", "--stop-timeout", "-1",
                         "--oom-score-adj", "-500", "--init", NULL, "--rm", "false", NULL),
                   0);
  assert_string_equal(o.name, "web-1");
  assert_string_equal(o.workdir, "/app");
  assert_string_equal(o.user, "nobody:nogroup");
  assert_string_equal(o.entrypoint[1], "-c");
  assert_string_equal(o.add_hosts[1].ip, "::1");
  assert_string_equal(o.add_hosts[2].ip, "host-gateway");
  assert_int_equal(o.n_labels, 2);
  assert_string_equal(o.labels[0].value, "2");
  assert_string_equal(o.labels[1].value, "");
  assert_string_equal(o.sysctls[0].key, "net.core.somaxconn");
  assert_int_equal(o.restart, BERTH_RESTART_ALWAYS);
  assert_int_equal(o.log_max_size, 10 << 20);
  assert_int_equal(o.log_max_file, 3);
  assert_int_equal(o.stop_timeout, -1);
  assert_int_equal(o.oom_score_adj, -500);
  assert_true(o.init);
  assert_false(o.auto_remove);
  assert_int_equal(berth_runopts_validate(&o, &err), 0);
  assert_int_equal(apply(&o, &err, "--rm", NULL, NULL), 0);
  assert_true(berth_runopts_validate(&o, &err) < 0);
  unit_assert_error_contains(&err, "conflicting options: --restart and --rm");
  assert_int_equal(apply(&o, &err, "--entrypoint", "", NULL), 0);
  assert_true(o.has_entrypoint);
  assert_null(o.entrypoint);
  assert_int_equal(apply(&o, &err, "--entrypoint", "my prog", NULL), 0);
  assert_string_equal(o.entrypoint[0], "my prog");
  assert_null(o.entrypoint[1]);
  berth_runopts_release(&o);

  expect_error("--name", "a", "invalid container name \"a\"");
  expect_error("--name", "-web", "invalid container name");
  expect_error("-w", "rel", "needs to be an absolute path");
  expect_error("-u", "a:b:c", "invalid user");
  expect_error("-u", "", "invalid user");
  expect_error("--entrypoint", "[\"a\",1]", "invalid JSON array of strings");
  expect_error("-h", "-bad", "invalid hostname");
  expect_error("-h", "this-hostname-is-much-too-long-for-linux-because-it-has-more-than-63",
               "invalid hostname");
  expect_error("--add-host", "db", "bad format");
  expect_error("--add-host", "db:300.1.1.1", "invalid IP address \"300.1.1.1\"");
  expect_error("--dns", "one.one", "invalid IP address");
  expect_error("--dns-search", "-bad.com", "invalid domain");
  expect_error("--sysctl", "kernel.panic=1", "sysctl \"kernel.panic\" is not allowed");
  expect_error("--sysctl", "noequals", "invalid sysctl");
  expect_error("--log-opt", "colour=red", "unknown log opt");
  expect_error("--log-opt", "max-file=0", "max-file must be a positive integer");
  expect_error("--runtime", "kata", "unknown runtime \"kata\"");
  expect_error("--oom-score-adj", "1001", "range for oom score adj is [-1000, 1000]");
  expect_error("--stop-timeout", "-2", "invalid timeout");
  expect_error("--bogus", "x", "unknown flag: --bogus");
  expect_error("--memory", NULL, "--memory: flag needs an argument");
}

static void test_duplicates_and_table(void **state)
{
  struct berth_run_opts o;
  berth_error_t err = NULL;
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "-v", "/a:/data", "--tmpfs", "/data/", NULL), 0);
  assert_true(berth_runopts_validate(&o, &err) < 0);
  unit_assert_error_contains(&err, "duplicate mount point: /data");
  berth_runopts_release(&o);

  size_t n = 0;
  const struct berth_runopts_flag *f = berth_runopts_flags(&n);
  assert_true(n >= 45);
  for (size_t i = 0; i < n; i++) {
    assert_ptr_equal(berth_runopts_flag_find(f[i].name), &f[i]);
    assert_non_null(f[i].help);
  }
  assert_string_equal(berth_runopts_flag_find("-m")->name, "--memory");
  assert_string_equal(berth_runopts_flag_find("--net")->name, "--network");
  assert_string_equal(berth_runopts_flag_find("-v")->name, "--volume");
  assert_string_equal(berth_runopts_flag_find("-p")->name, "--publish");
  assert_string_equal(berth_runopts_flag_find("--alias")->name, "--network-alias");
  cleanup_free char *c = berth_runopts_clean_path("a/./b/../../../c//");
  assert_string_equal(c, "/c");
  cleanup_free char *c2 = berth_runopts_clean_path("/../x/..");
  assert_string_equal(c2, "/"); /* found by the fuzzer: ".." first */
}

/* issue 16's flags: Go durations, detach keys, device cgroup rules, the healthcheck merge, refusals */
static void test_more_flags(void **state)
{
  int64_t ns = 0;
  assert_int_equal(berth_runopts_parse_duration("1m30s", &ns), 0);
  assert_int_equal(ns, 90000000000LL);
  assert_int_equal(berth_runopts_parse_duration("500ms", &ns), 0);
  assert_int_equal(ns, 500000000);
  assert_int_equal(berth_runopts_parse_duration("1.5h", &ns), 0);
  assert_int_equal(ns, 5400000000000LL);
  assert_int_equal(berth_runopts_parse_duration("10", &ns), -1); /* Go: a unit is required */
  assert_int_equal(berth_runopts_parse_duration("s", &ns), -1);
  assert_int_equal(berth_runopts_parse_duration("3x", &ns), -1);
  unsigned char k[BERTH_DETACH_KEYS_MAX];
  size_t n = 0;
  assert_int_equal(berth_runopts_parse_detach_keys(BERTH_DETACH_KEYS_DEFAULT, k, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(k[0], 16);
  assert_int_equal(k[1], 17);
  assert_int_equal(berth_runopts_parse_detach_keys("a,ctrl-@,ctrl-_", k, &n), 0);
  assert_int_equal(n, 3);
  assert_int_equal(k[0], 'a');
  assert_int_equal(k[1], 0);
  assert_int_equal(k[2], 31);
  assert_int_equal(berth_runopts_parse_detach_keys("ctrl-1", k, &n), -1);
  assert_int_equal(berth_runopts_parse_detach_keys("", k, &n), -1);
  assert_int_equal(berth_runopts_parse_detach_keys("ab", k, &n), -1);
  struct berth_cgroup_rule r;
  assert_int_equal(berth_runopts_parse_cgroup_rule("c 1:3 mr", &r), 0);
  assert_true(r.type == 'c' && r.major == 1 && r.minor == 3);
  assert_string_equal(r.access, "mr");
  assert_int_equal(berth_runopts_parse_cgroup_rule("b *:* rwm", &r), 0);
  assert_true(r.major == -1 && r.minor == -1);
  assert_int_equal(berth_runopts_parse_cgroup_rule("x 1:3 r", &r), -1);
  assert_int_equal(berth_runopts_parse_cgroup_rule("c 1:3 rr", &r), -1);
  assert_int_equal(berth_runopts_parse_cgroup_rule("c 1:3 q", &r), -1);

  struct berth_run_opts o;
  berth_error_t err = NULL;
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "--health-cmd", "curl -f x", "--health-interval", "5s", "--health-retries",
                         "4", "--cpu-quota", "50000", "--cpu-period", "100000", "--domainname", "example.org",
                         "--annotation", "a.b=c", "-a", "STDOUT", "--cidfile", "/tmp/id", NULL),
                   0);
  json_t *img = json_pack("{s:{s:[s,s], s:I, s:I}}", "Healthcheck", "Test", "CMD", "/bin/check", "Interval",
                          (json_int_t) 1000000000, "Timeout", (json_int_t) 7000000000);
  json_t *h = berth_ctrspec_healthcheck(img, &o);
  assert_string_equal(json_string_value(json_array_get(json_object_get(h, "Test"), 0)), "CMD-SHELL");
  assert_int_equal(json_integer_value(json_object_get(h, "Interval")), 5000000000LL);
  assert_int_equal(json_integer_value(json_object_get(h, "Timeout")), 7000000000LL); /* the image's */
  assert_int_equal(json_integer_value(json_object_get(h, "Retries")), 4);
  json_decref(h);
  assert_int_equal(o.cpu_quota, 50000);
  assert_string_equal(o.attach[0], "stdout");
  assert_int_equal(apply(&o, &err, "--no-healthcheck", NULL, NULL), 0);
  h = berth_ctrspec_healthcheck(img, &o);
  assert_string_equal(json_string_value(json_array_get(json_object_get(h, "Test"), 0)), "NONE");
  json_decref(h);
  json_decref(img);
  assert_int_equal(apply(&o, &err, "--gpus", "all", NULL), -1);
  assert_non_null(strstr(err->msg, "--gpus: not supported by berth"));
  berth_error_release(&err);
  assert_int_equal(apply(&o, &err, "--health-interval", "10", NULL), -1);
  assert_non_null(strstr(err->msg, "--health-interval"));
  berth_error_release(&err);
  assert_int_equal(apply(&o, &err, "-a", "stdall", NULL), -1);
  berth_error_release(&err);
  assert_int_equal(apply(&o, &err, "--cpus", "1", NULL), 0);
  assert_int_equal(berth_runopts_validate(&o, &err), -1); /* --cpus with --cpu-quota: Docker's conflict */
  berth_error_release(&err);
  berth_runopts_release(&o);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sizes),
    cmocka_unit_test(test_memory_and_cpus),
    cmocka_unit_test(test_swap_rules),
    cmocka_unit_test(test_ulimits),
    cmocka_unit_test(test_devices),
    cmocka_unit_test(test_volumes),
    cmocka_unit_test(test_mount_flag),
    cmocka_unit_test(test_tmpfs_flag),
    cmocka_unit_test(test_env),
    cmocka_unit_test(test_env_file_and_seccomp_loading),
    cmocka_unit_test(test_restart_and_signals),
    cmocka_unit_test(test_namespaces),
    cmocka_unit_test(test_security_and_caps),
    cmocka_unit_test(test_misc_values),
    cmocka_unit_test(test_duplicates_and_table),
    cmocka_unit_test(test_more_flags),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
