/* The parts of a container config the lifecycle also uses on their own: command, environment,
 * user resolution, stop signal, and the /etc files of the container's directory. */
#include "unit.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"

static void set(struct berth_run_opts *o, const char *flag, const char *value)
{
  berth_error_t err = NULL;
  if (berth_runopts_set(o, flag, value, &err) < 0) {
    print_error("%s: %s\n", flag, err->msg);
    fail();
  }
}

static char *join(char *const *v)
{
  char *out = xstrdup("");
  for (size_t i = 0; v && v[i]; i++) {
    char *n = xasprintf("%s%s%s", out, i ? "|" : "", v[i]);
    free(out);
    out = n;
  }
  return out;
}

static void assert_strv(char *const *v, const char *want)
{
  cleanup_free char *got = join(v);
  if (strcmp(got, want) != 0) {
    print_error("got \"%s\", want \"%s\"\n", got, want);
    fail();
  }
}

static void test_command_parts(void **state)
{
  json_t *img = json_pack("{s:[s,s], s:s}", "Entrypoint", "/bin/sh", "-c", "Cmd", "echo legacy string form");
  struct berth_run_opts o;
  berth_runopts_init(&o);
  berth_error_t err = NULL;
  char **ep = NULL, **cmd = NULL, **argv = NULL;
  assert_int_equal(berth_ctrspec_command(img, &o, NULL, &ep, &cmd, &argv, &err), 0);
  assert_strv(ep, "/bin/sh|-c");
  assert_strv(cmd, "echo legacy string form");
  assert_strv(argv, "/bin/sh|-c|echo legacy string form");
  berth_strv_free(ep);
  berth_strv_free(cmd);
  berth_strv_free(argv);
  set(&o, "--entrypoint", "[\"/usr/bin/env\",\"-i\"]");
  char *const args[] = { "ls", "-l", NULL };
  assert_int_equal(berth_ctrspec_command(img, &o, args, &ep, &cmd, &argv, &err), 0);
  assert_strv(ep, "/usr/bin/env|-i");
  assert_strv(cmd, "ls|-l");
  assert_strv(argv, "/usr/bin/env|-i|ls|-l");
  berth_strv_free(ep);
  berth_strv_free(cmd);
  berth_strv_free(argv);
  set(&o, "--entrypoint", "");
  assert_int_equal(berth_ctrspec_command(img, &o, args, &ep, &cmd, &argv, &err), 0);
  assert_null(ep);
  assert_strv(argv, "ls|-l");
  berth_strv_free(cmd);
  berth_strv_free(argv);
  argv = NULL;
  char *const empty[] = { NULL };
  assert_true(berth_ctrspec_command(img, &o, empty, NULL, NULL, &argv, &err) < 0);
  unit_assert_error_contains(&err, "no command specified");
  assert_null(argv);
  berth_runopts_release(&o);
  json_decref(img);
}

static const char *host_env(void *data, const char *name)
{
  return strcmp(name, "FROM_HOST") == 0 ? "h" : NULL;
}

static void test_env_merge(void **state)
{
  json_t *img = json_pack("{s:[s,s,s,s]}", "Env", "PATH=/opt/bin", "A=image", "B=image", "DROP=image");
  struct berth_run_opts o;
  berth_runopts_init(&o);
  o.lookup_env = host_env;
  set(&o, "-e", "B=flag");
  set(&o, "-e", "FROM_HOST");
  set(&o, "-e", "DROP"); /* unset on the host: removes the image's DROP */
  set(&o, "-e", "C=flag");
  o.env_from_files = berth_strv_append(berth_strv_append(NULL, "C=file"), "F=file");
  cleanup_strv char **cfg = berth_ctrspec_config_env(img, &o);
  /* env files, overridden by -e, then the image's variables nobody set */
  assert_strv(cfg, "C=flag|F=file|B=flag|FROM_HOST=h|DROP|PATH=/opt/bin|A=image");
  cleanup_strv char **env = berth_ctrspec_process_env(cfg, "box", true, "/root");
  assert_strv(env,
              "PATH=/opt/bin|HOSTNAME=box|TERM=xterm|C=flag|F=file|B=flag|FROM_HOST=h|A=image|HOME=/root");
  berth_runopts_release(&o);
  json_decref(img);

  char *const only[] = { "HOME=/custom", "HOSTNAME=mine", "PATH", NULL };
  cleanup_strv char **e2 = berth_ctrspec_process_env(only, "box", false, "/root");
  assert_strv(e2, "HOSTNAME=mine|HOME=/custom"); /* PATH removed by "PATH", HOME kept */
}

static void test_user_resolution(void **state)
{
  const char *pw = "# comment\nroot:x:0:0:root:/root:/bin/sh\n  daemon:x:1:1::/usr/sbin:/bin/false  \n"
                   "broken line\nweird:x:notanumber:1::/:\nbig:x:3000000000:1::/:\nshort:x:7\n";
  const char *gr = "root:x:0:\nbin:x:1:daemon , root\nadm:x:4:daemon\n";
  struct berth_user u;
  berth_error_t err = NULL;
  assert_int_equal(berth_ctrspec_user("daemon", pw, gr, NULL, &u, &err), 0);
  assert_int_equal(u.uid, 1);
  assert_int_equal(u.gid, 1);
  assert_int_equal(u.n_gids, 2);
  assert_int_equal(u.gids[0], 1);
  assert_int_equal(u.gids[1], 4);
  assert_string_equal(u.home, "/usr/sbin");
  assert_string_equal(u.name, "daemon");
  berth_user_release(&u);

  assert_int_equal(berth_ctrspec_user("1", pw, gr, NULL, &u, &err), 0); /* a uid in the file: its entry */
  assert_string_equal(u.name, "daemon");
  berth_user_release(&u);
  assert_int_equal(berth_ctrspec_user("5000:6000", pw, gr, NULL, &u, &err), 0); /* numbers pass through */
  assert_int_equal(u.uid, 5000);
  assert_int_equal(u.gid, 6000);
  assert_null(u.name);
  assert_string_equal(u.home, "/");
  berth_user_release(&u);
  assert_int_equal(berth_ctrspec_user("short", pw, NULL, NULL, &u, &err), 0); /* short line: gid 0 */
  assert_int_equal(u.uid, 7);
  assert_int_equal(u.gid, 0);
  berth_user_release(&u);
  assert_int_equal(berth_ctrspec_user(NULL, NULL, NULL, NULL, &u, &err), 0); /* no files at all: root */
  assert_int_equal(u.uid, 0);
  assert_int_equal(u.n_gids, 0);
  berth_user_release(&u);
  assert_int_equal(berth_ctrspec_user("root:adm", pw, gr, NULL, &u, &err), 0);
  assert_int_equal(u.gid, 4);
  assert_int_equal(u.n_gids, 0); /* explicit group: no supplementary lookup (runc) */
  berth_user_release(&u);

  assert_true(berth_ctrspec_user("weird", pw, gr, NULL, &u, &err) < 0);
  unit_assert_error_contains(&err, "unable to find user `weird`");
  assert_true(berth_ctrspec_user("3000000000", pw, gr, NULL, &u, &err) < 0);
  unit_assert_error_contains(&err, "out of range");
  assert_true(berth_ctrspec_user("root:9999999999", pw, gr, NULL, &u, &err) < 0);
  unit_assert_error_contains(&err, "group id `9999999999` is out of range");
  assert_true(berth_ctrspec_user("root", NULL, NULL, NULL, &u, &err) < 0);
  unit_assert_error_contains(&err, "no matching entries in passwd file");
}

static void test_stop_signal(void **state)
{
  struct berth_run_opts o;
  berth_runopts_init(&o);
  berth_error_t err = NULL;
  int sig = 0;
  json_t *img = json_pack("{s:s}", "StopSignal", "SIGUSR1");
  assert_int_equal(berth_ctrspec_stop_signal(NULL, &o, &sig, &err), 0);
  assert_int_equal(sig, SIGTERM);
  assert_int_equal(berth_ctrspec_stop_signal(img, &o, &sig, &err), 0);
  assert_int_equal(sig, SIGUSR1);
  set(&o, "--stop-signal", "9");
  assert_int_equal(berth_ctrspec_stop_signal(img, &o, &sig, &err), 0);
  assert_int_equal(sig, SIGKILL);
  json_decref(img);
  img = json_pack("{s:s}", "StopSignal", "SIGWHATEVER");
  o.stop_signal = 0;
  assert_true(berth_ctrspec_stop_signal(img, &o, &sig, &err) < 0);
  unit_assert_error_contains(&err, "image StopSignal: invalid signal \"SIGWHATEVER\"");
  json_decref(img);
  berth_runopts_release(&o);
}

static void test_hostname_and_hosts(void **state)
{
  struct berth_run_opts o;
  berth_runopts_init(&o);
  berth_error_t err = NULL;
  cleanup_free char *h1 = berth_ctrspec_hostname(&o, "abcdef0123456789", "hostbox");
  assert_string_equal(h1, "abcdef012345");
  cleanup_free char *f1 = berth_ctrspec_render_hostname(h1);
  assert_string_equal(f1, "abcdef012345\n");
  set(&o, "--add-host", "db:10.0.0.2");
  set(&o, "--add-host", "v6:[fd00::1]");
  set(&o, "--add-host", "gw:host-gateway");
  char *const ips[] = { "172.17.0.2", NULL };
  struct berth_hosts_in in = { .hostname = "abcdef012345", .own_ips = ips, .host_gateway = "172.17.0.1" };
  cleanup_free char *hosts = berth_ctrspec_render_hosts(&o, &in, &err);
  assert_string_equal(hosts, "127.0.0.1\tlocalhost\n"
                             "::1\tlocalhost ip6-localhost ip6-loopback\n"
                             "fe00::0\tip6-localnet\n"
                             "ff00::0\tip6-mcastprefix\n"
                             "ff02::1\tip6-allnodes\n"
                             "ff02::2\tip6-allrouters\n"
                             "10.0.0.2\tdb\n"
                             "fd00::1\tv6\n"
                             "172.17.0.1\tgw\n"
                             "172.17.0.2\tabcdef012345\n");
  in.host_gateway = NULL;
  assert_null(berth_ctrspec_render_hosts(&o, &in, &err));
  unit_assert_error_contains(&err, "--add-host `gw:host-gateway`: the host gateway address is unknown");
  berth_runopts_release(&o);

  berth_runopts_init(&o);
  set(&o, "--network", "host");
  set(&o, "--add-host", "x:1.2.3.4");
  cleanup_free char *h2 = berth_ctrspec_hostname(&o, "abcdef0123456789", "hostbox");
  assert_string_equal(h2, "hostbox");
  struct berth_hosts_in hin = { .hostname = h2, .host_hosts = "127.0.0.1 localhost\n10.1.1.1 nas" };
  cleanup_free char *hosts2 = berth_ctrspec_render_hosts(&o, &hin, &err);
  assert_string_equal(hosts2, "127.0.0.1 localhost\n10.1.1.1 nas\n1.2.3.4\tx\n");
  berth_runopts_release(&o);
}

static const char host_resolv[] = "# managed by something\n"
                                  "nameserver 127.0.0.53\n"
                                  "nameserver 192.168.1.1\n"
                                  "nameserver fd00::53\n"
                                  "nameserver ::1\n"
                                  "domain old.example\n"
                                  "search lan example.com ; trailing comment\n"
                                  "options edns0 trust-ad\n";

static void test_resolv(void **state)
{
  struct berth_run_opts o;
  berth_runopts_init(&o);
  cleanup_free char *r1 = berth_ctrspec_render_resolv(&o, host_resolv, false);
  assert_string_equal(r1, "search lan example.com\nnameserver 192.168.1.1\noptions edns0 trust-ad\n");
  cleanup_free char *r2 = berth_ctrspec_render_resolv(&o, host_resolv, true);
  assert_string_equal(r2, "search lan example.com\nnameserver 192.168.1.1\nnameserver fd00::53\n"
                          "options edns0 trust-ad\n");
  /* only localhost resolvers (systemd-resolved's stub): Docker's fallback */
  cleanup_free char *r3 = berth_ctrspec_render_resolv(&o, "nameserver 127.0.0.53\noptions edns0\n", false);
  assert_string_equal(r3, "nameserver 8.8.8.8\nnameserver 8.8.4.4\noptions edns0\n");
  cleanup_free char *r4 = berth_ctrspec_render_resolv(&o, NULL, true);
  assert_string_equal(r4, "nameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\n"
                          "nameserver 2001:4860:4860::8844\n");
  set(&o, "--dns", "1.1.1.1");
  set(&o, "--dns", "9.9.9.9");
  set(&o, "--dns-search", ".");
  set(&o, "--dns-option", "ndots:2");
  cleanup_free char *r5 = berth_ctrspec_render_resolv(&o, host_resolv, false);
  assert_string_equal(r5, "nameserver 1.1.1.1\nnameserver 9.9.9.9\noptions ndots:2\n");
  berth_runopts_release(&o);

  berth_runopts_init(&o);
  set(&o, "--network", "host");
  cleanup_free char *r6 = berth_ctrspec_render_resolv(&o, host_resolv, false);
  assert_string_equal(r6, host_resolv); /* the host's, as is */
  set(&o, "--dns-search", "corp.example");
  cleanup_free char *r7 = berth_ctrspec_render_resolv(&o, host_resolv, false);
  assert_string_equal(r7, "search corp.example\nnameserver 127.0.0.53\nnameserver 192.168.1.1\n"
                          "nameserver fd00::53\nnameserver ::1\noptions edns0 trust-ad\n");
  berth_runopts_release(&o);
}

static void test_dumps_and_bad_input(void **state)
{
  json_t *o = json_pack("{s:s, s:[i]}", "a", "x\"y", "b", 1);
  size_t len = 0;
  cleanup_free char *text = berth_ctrspec_dumps(o, &len);
  assert_string_equal(text, "{\"a\":\"x\\\"y\",\"b\":[1]}");
  assert_int_equal(len, strlen(text));
  json_decref(o);
  struct berth_ctrspec_in in = { .rootfs = "relative" };
  berth_error_t err = NULL;
  assert_null(berth_ctrspec_build(&in, &err));
  unit_assert_error_contains(&err, "an absolute rootfs");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_command_parts),       cmocka_unit_test(test_env_merge),
    cmocka_unit_test(test_user_resolution),     cmocka_unit_test(test_stop_signal),
    cmocka_unit_test(test_hostname_and_hosts),  cmocka_unit_test(test_resolv),
    cmocka_unit_test(test_dumps_and_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
