#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "linux/caps.h"
#include "linux/process.h"

#define BIT(c) (1ULL << (c))

struct status_caps {
  uint64_t inh, prm, eff, bnd, amb;
};

static int read_status_caps(struct status_caps *c)
{
  cleanup_fclose FILE *f = fopen("/proc/self/status", "re");
  if (f == NULL)
    return -1;
  char line[256];
  int found = 0;
  while (fgets(line, sizeof line, f)) {
    uint64_t v;
    if (sscanf(line, "CapInh: %" SCNx64, &v) == 1)
      c->inh = v, found++;
    else if (sscanf(line, "CapPrm: %" SCNx64, &v) == 1)
      c->prm = v, found++;
    else if (sscanf(line, "CapEff: %" SCNx64, &v) == 1)
      c->eff = v, found++;
    else if (sscanf(line, "CapBnd: %" SCNx64, &v) == 1)
      c->bnd = v, found++;
    else if (sscanf(line, "CapAmb: %" SCNx64, &v) == 1)
      c->amb = v, found++;
  }
  return found == 5 ? 0 : -1;
}

/* the child sends back either "OK <caps>" or "ERR <message>" */
static void run_child(const struct berth_spec_caps *caps, const struct berth_spec_user *user, char *out,
                      size_t len)
{
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    berth_error_t err = NULL;
    char msg[1024];
    struct status_caps c;
    if (berth_caps_apply_bounding(caps, &err) < 0 || (user && berth_user_apply(user, true, &err) < 0) ||
        berth_caps_apply(caps, &err) < 0)
      snprintf(msg, sizeof msg, "ERR %s", err->msg);
    else if (read_status_caps(&c) < 0)
      snprintf(msg, sizeof msg, "ERR cannot read /proc/self/status");
    else
      snprintf(msg, sizeof msg,
               "OK bnd=%" PRIx64 " prm=%" PRIx64 " eff=%" PRIx64 " inh=%" PRIx64 " amb=%" PRIx64 " uid=%d",
               c.bnd, c.prm, c.eff, c.inh, c.amb, (int) getuid());
    berth_write_all(p[1], msg, strlen(msg));
    _exit(0);
  }
  close(p[1]);
  ssize_t n = berth_read_all(p[0], out, len - 1);
  close(p[0]);
  out[n > 0 ? n : 0] = '\0';
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
}

static const uint64_t BOUNDING = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_SETUID) | BIT(CAP_SETGID) |
                                 BIT(CAP_SETPCAP) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_NET_RAW);

static void test_sets_as_root(void **state)
{
  struct berth_spec_caps caps = {
    .present = true,
    .bounding = BOUNDING,
    .permitted = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_NET_RAW),
    .effective = BIT(CAP_CHOWN) | BIT(CAP_NET_BIND_SERVICE),
    .inheritable = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_KILL),
    .ambient = BIT(CAP_NET_BIND_SERVICE),
  };
  char out[1024], want[1024];
  run_child(&caps, NULL, out, sizeof out);
  snprintf(want, sizeof want,
           "OK bnd=%" PRIx64 " prm=%" PRIx64 " eff=%" PRIx64 " inh=%" PRIx64 " amb=%" PRIx64 " uid=0",
           caps.bounding, caps.permitted, caps.effective, caps.inheritable, caps.ambient);
  assert_string_equal(out, want);
}

/* bounding as root, then switch to 1000:1000 (PR_SET_KEEPCAPS), then set the sets */
static void test_sets_after_user_switch(void **state)
{
  struct berth_spec_caps caps = {
    .present = true,
    .bounding = BOUNDING,
    .permitted = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_KILL),
    .effective = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_KILL),
    .inheritable = BIT(CAP_NET_BIND_SERVICE),
    .ambient = BIT(CAP_NET_BIND_SERVICE),
  };
  struct berth_spec_user user = { .uid = 1000, .gid = 1000 };
  char out[1024], want[1024];
  run_child(&caps, &user, out, sizeof out);
  snprintf(want, sizeof want,
           "OK bnd=%" PRIx64 " prm=%" PRIx64 " eff=%" PRIx64 " inh=%" PRIx64 " amb=%" PRIx64 " uid=1000",
           caps.bounding, caps.permitted, caps.effective, caps.inheritable, caps.ambient);
  assert_string_equal(out, want);
}

static void test_errors(void **state)
{
  berth_error_t err = NULL;
  int last = berth_caps_last_cap(&err);
  unit_assert_no_error(&err);
  assert_true(last >= CAP_AUDIT_READ && last < 63);

  /* a capability above cap_last_cap is an error (nothing is dropped first) */
  struct berth_spec_caps unknown = { .present = true,
                                     .bounding = BIT(CAP_CHOWN),
                                     .effective = BIT(last + 1) };
  assert_int_equal(berth_caps_apply_bounding(&unknown, &err), -1);
  char needle[128];
  snprintf(needle, sizeof needle, "(%d) in the effective set is not known to the kernel (last is %d)",
           last + 1, last);
  unit_assert_error_contains(&err, needle);
  assert_int_equal(berth_caps_apply(&unknown, &err), -1);
  unit_assert_error_contains(&err, needle);

  /* ambient needs permitted and inheritable: like runc, a refused one is only a warning
   * (runc's own default spec lists ambient caps without inheritable ones) */
  char out[1024];
  struct berth_spec_caps amb = { .present = true,
                                 .bounding = BOUNDING,
                                 .permitted = BIT(CAP_KILL),
                                 .effective = BIT(CAP_KILL),
                                 .ambient = BIT(CAP_KILL) };
  run_child(&amb, NULL, out, sizeof out);
  assert_non_null(strstr(out, "OK "));
  assert_non_null(strstr(out, " amb=0 "));

  /* not present: nothing changes */
  struct berth_spec_caps none = { .present = false };
  assert_int_equal(berth_caps_apply_bounding(&none, &err), 0);
  assert_int_equal(berth_caps_apply(&none, &err), 0);
}

/* a capability that left the permitted set cannot come back */
static void test_permitted_cannot_grow(void **state)
{
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    berth_error_t err = NULL;
    struct berth_spec_caps first = { .present = true, .permitted = BIT(CAP_CHOWN) };
    struct berth_spec_caps again = { .present = true, .permitted = BIT(CAP_CHOWN) | BIT(CAP_SYS_ADMIN) };
    if (berth_caps_apply(&first, &err) < 0)
      _exit(1);
    if (berth_caps_apply(&again, &err) == 0)
      _exit(2);
    _exit(strstr(err->msg, "set capabilities (effective 0x0, permitted 0x200001, inheritable 0x0): "
                           "Operation not permitted")
            ? 0
            : 3);
  }
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sets_as_root),
    cmocka_unit_test(test_sets_after_user_switch),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_permitted_cannot_grow),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
