#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "linux/seccomp.h"

#define DEFAULT_ERRNO EADDRNOTAVAIL

static const char *allow_names[] = {
  "exit_group",   "exit",           "write",         "read",        "close",
  "rt_sigreturn", "rt_sigprocmask", "rt_sigaction",  "mmap",        "munmap",
  "mprotect",     "madvise",        "brk",           "futex",       "getpid",
  "gettid",       "sigaltstack",    "clock_gettime", "sched_yield", "no_such_syscall_in_any_kernel",
};
static const char *getuid_names[] = { "getuid" };
static const char *personality_names[] = { "personality" };
static const char *umask_names[] = { "umask" };
static const char *getprio_names[] = { "getpriority" };
static const char *socket_names[] = { "socket" };

static struct berth_spec_seccomp_arg personality_args[] = { { 0, 0xffffffff, 0, SCMP_CMP_NE } };
/* same index twice: ORed (two rules) */
static struct berth_spec_seccomp_arg umask_args[] = { { 0, 022, 0, SCMP_CMP_EQ },
                                                      { 0, 077, 0, SCMP_CMP_EQ } };
/* distinct indexes: ANDed (one rule) */
static struct berth_spec_seccomp_arg getprio_args[] = { { 0, PRIO_PROCESS, 0, SCMP_CMP_EQ },
                                                        { 1, 0, 0, SCMP_CMP_EQ } };
/* type & 0xf == SOCK_DGRAM */
static struct berth_spec_seccomp_arg socket_args[] = { { 1, 0xf, SOCK_DGRAM, SCMP_CMP_MASKED_EQ } };

static struct berth_spec_seccomp_rule profile_rules[] = {
  { allow_names, BERTH_N_ELEMENTS(allow_names), SCMP_ACT_ALLOW, false, 0, NULL, 0 },
  { getuid_names, 1, SCMP_ACT_ERRNO(0), true, EXDEV, NULL, 0 },
  { personality_names, 1, SCMP_ACT_ALLOW, false, 0, personality_args, 1 },
  { umask_names, 1, SCMP_ACT_ALLOW, false, 0, umask_args, 2 },
  { getprio_names, 1, SCMP_ACT_ALLOW, false, 0, getprio_args, 2 },
  { socket_names, 1, SCMP_ACT_ALLOW, false, 0, socket_args, 1 },
};
static uint32_t profile_arches[] = { SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32 };

static struct berth_spec_seccomp profile(void)
{
  return (struct berth_spec_seccomp){
    .present = true,
    .default_action = SCMP_ACT_ERRNO(0),
    .has_default_errno_ret = true,
    .default_errno_ret = DEFAULT_ERRNO,
    .architectures = profile_arches,
    .n_architectures = BERTH_N_ELEMENTS(profile_arches),
    .syscalls = profile_rules,
    .n_syscalls = BERTH_N_ELEMENTS(profile_rules),
  };
}

static int wait_child(pid_t pid)
{
  int st;
  while (waitpid(pid, &st, 0) < 0)
    assert_int_equal(errno, EINTR);
  return st;
}

/* raw syscall: -errno on failure */
static long sys(long nr, long a, long b, long c)
{
  long r = syscall(nr, a, b, c);
  return r < 0 ? -errno : r;
}

/* Runs in the child after the filter is loaded; returns the number of the first failed
 * check (0 = all good). Only raw syscalls: libc/ASan must not need anything blocked. */
static int check_profile_in_child(void)
{
  if (sys(SYS_getuid, 0, 0, 0) != -EXDEV)
    return 1; /* errnoRet of a rule */
  if (sys(SYS_getppid, 0, 0, 0) != -DEFAULT_ERRNO)
    return 2; /* default action with defaultErrnoRet */
  if (sys(SYS_getpid, 0, 0, 0) <= 0)
    return 3; /* allowed */
  if (sys(SYS_personality, 0xffffffff, 0, 0) != -DEFAULT_ERRNO)
    return 4; /* arg condition blocks this value ... */
  if (sys(SYS_personality, PER_LINUX, 0, 0) < 0)
    return 5; /* ... and allows the others */
  if (sys(SYS_umask, 022, 0, 0) < 0 || sys(SYS_umask, 077, 0, 0) < 0)
    return 6; /* same-index conditions are ORed */
  if (sys(SYS_umask, 0, 0, 0) != -DEFAULT_ERRNO)
    return 7;
  if (sys(SYS_getpriority, PRIO_PROCESS, 0, 0) < 0)
    return 8; /* distinct-index conditions are ANDed */
  if (sys(SYS_getpriority, PRIO_PROCESS, sys(SYS_getpid, 0, 0, 0), 0) != -DEFAULT_ERRNO)
    return 9;
  long s = sys(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return 10; /* masked equality on the type ignores SOCK_CLOEXEC */
  if (sys(SYS_socket, AF_UNIX, SOCK_STREAM, 0) != -DEFAULT_ERRNO)
    return 11;
  return 0;
}

static void test_compile_and_load(void **state)
{
  berth_error_t err = NULL;
  struct berth_spec_seccomp sc = profile();
  struct berth_seccomp_prog *p = NULL;
  assert_int_equal(berth_seccomp_compile(&sc, NULL, &p, &err), 0);
  unit_assert_no_error(&err);
  assert_true(p->n_insns > 20);
  assert_false(p->wants_listener);
  assert_int_equal(p->flags, 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int listener = 7;
    if (berth_seccomp_load(p, &listener, &err) < 0)
      _exit(100);
    _exit(listener == -1 ? check_profile_in_child() : 101);
  }
  int st = wait_child(pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  berth_seccomp_prog_free(p);
}

static const char *kill_names[] = { "getppid" };

static void run_kill_action(uint32_t action)
{
  berth_error_t err = NULL;
  struct berth_spec_seccomp_rule rule = { kill_names, 1, action, false, 0, NULL, 0 };
  struct berth_spec_seccomp sc = {
    .present = true, .default_action = SCMP_ACT_ALLOW, .syscalls = &rule, .n_syscalls = 1
  };
  struct berth_seccomp_prog *p = NULL;
  assert_int_equal(berth_seccomp_compile(&sc, NULL, &p, &err), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (berth_seccomp_load(p, NULL, &err) < 0)
      _exit(100);
    syscall(SYS_getppid);
    _exit(0);
  }
  int st = wait_child(pid);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGSYS);
  berth_seccomp_prog_free(p);
}

static void test_kill_actions(void **state)
{
  run_kill_action(SCMP_ACT_KILL);
  run_kill_action(SCMP_ACT_KILL_PROCESS);
}

static char *only_bpf_file(const char *dir)
{
  cleanup_dir DIR *d = opendir(dir);
  assert_non_null(d);
  char *found = NULL;
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    n++;
    assert_non_null(strstr(e->d_name, ".bpf"));
    assert_int_equal(strlen(e->d_name), 64 + 4);
    free(found);
    found = xasprintf("%s/%s", dir, e->d_name);
  }
  assert_int_equal(n, 1);
  return found;
}

static void test_cache(void **state)
{
  berth_error_t err = NULL;
  cleanup_free char *tmp = unit_mkdtemp();
  cleanup_free char *dir = xasprintf("%s/cache/seccomp", tmp);
  struct berth_spec_seccomp sc = profile();
  sc.json = json_pack("{s:s, s:i, s:[{s:[s], s:s}]}", "defaultAction", "SCMP_ACT_ERRNO", "defaultErrnoRet",
                      DEFAULT_ERRNO, "syscalls", "names", "getpid", "action", "SCMP_ACT_ALLOW");
  struct berth_seccomp_prog *p1 = NULL, *p2 = NULL, *p3 = NULL;
  assert_int_equal(berth_seccomp_compile(&sc, dir, &p1, &err), 0);
  unit_assert_no_error(&err);

  struct stat st;
  assert_int_equal(stat(dir, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  cleanup_free char *file = only_bpf_file(dir);
  struct stat st1, st2;
  assert_int_equal(stat(file, &st1), 0);
  assert_int_equal(st1.st_mode & 0777, 0600);
  assert_int_equal((size_t) st1.st_size, p1->n_insns * sizeof(struct sock_filter));

  /* the second compile reads the file: same bytes, file untouched */
  usleep(20000);
  assert_int_equal(berth_seccomp_compile(&sc, dir, &p2, &err), 0);
  assert_int_equal(p2->n_insns, p1->n_insns);
  assert_memory_equal(p2->insns, p1->insns, p1->n_insns * sizeof(struct sock_filter));
  assert_int_equal(stat(file, &st2), 0);
  assert_int_equal(st2.st_mtim.tv_nsec, st1.st_mtim.tv_nsec);
  assert_int_equal(st2.st_ino, st1.st_ino);

  /* a cached program is really used: plant a different valid program under the key */
  struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  assert_int_equal(berth_write_file_atomic(file, &allow, sizeof allow, 0600, &err), 0);
  assert_int_equal(berth_seccomp_compile(&sc, dir, &p3, &err), 0);
  assert_int_equal(p3->n_insns, 1);
  berth_seccomp_prog_free(p3);

  /* ... but never one that another user could have written: a file or a directory that is not
   * ours alone is recompiled from the profile (issue 11: a --root in a shared place) */
  assert_int_equal(chmod(file, 0666), 0);
  assert_int_equal(berth_seccomp_compile(&sc, dir, &p3, &err), 0);
  assert_int_equal(p3->n_insns, p1->n_insns);
  berth_seccomp_prog_free(p3);
  assert_int_equal(berth_write_file_atomic(file, &allow, sizeof allow, 0600, &err), 0);
  assert_int_equal(chmod(dir, 0777), 0);
  assert_int_equal(berth_seccomp_compile(&sc, dir, &p3, &err), 0);
  assert_int_equal(p3->n_insns, p1->n_insns);
  berth_seccomp_prog_free(p3);
  assert_int_equal(chmod(dir, 0700), 0);
  if (geteuid() == 0) {
    assert_int_equal(berth_write_file_atomic(file, &allow, sizeof allow, 0600, &err), 0);
    assert_int_equal(chown(file, 65534, 65534), 0);
    assert_int_equal(berth_seccomp_compile(&sc, dir, &p3, &err), 0);
    assert_int_equal(p3->n_insns, p1->n_insns);
    berth_seccomp_prog_free(p3);
  }

  /* a corrupt cache entry (not a multiple of an instruction) is recompiled and replaced */
  assert_int_equal(berth_write_file_atomic(file, "12345", 5, 0600, &err), 0);
  assert_int_equal(berth_seccomp_compile(&sc, dir, &p3, &err), 0);
  assert_memory_equal(p3->insns, p1->insns, p1->n_insns * sizeof(struct sock_filter));
  assert_int_equal(stat(file, &st2), 0);
  assert_int_equal((size_t) st2.st_size, p1->n_insns * sizeof(struct sock_filter));
  berth_seccomp_prog_free(p3);

  /* another profile gets another key */
  json_object_set_new(sc.json, "defaultErrnoRet", json_integer(1));
  assert_int_equal(berth_seccomp_compile(&sc, dir, &p3, &err), 0);
  cleanup_dir DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    n += e->d_name[0] != '.';
  assert_int_equal(n, 2);

  berth_seccomp_prog_free(p1);
  berth_seccomp_prog_free(p2);
  berth_seccomp_prog_free(p3);
  json_decref(sc.json);
  unit_rm_rf(tmp);
}

static void test_flags_and_errors(void **state)
{
  berth_error_t err = NULL;
  struct berth_seccomp_prog *p = NULL;
  struct berth_spec_seccomp sc = profile();

  sc.flags = SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |
             SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  assert_int_equal(berth_seccomp_compile(&sc, NULL, &p, &err), 0);
  assert_int_equal(p->flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  berth_seccomp_prog_free(p);

  sc.flags = 1U << 20;
  assert_int_equal(berth_seccomp_compile(&sc, NULL, &p, &err), -1);
  unit_assert_error_contains(&err, "unsupported flags 0x100000");
  sc.flags = 0;

  struct berth_spec_seccomp_arg bad_index = { 6, 0, 0, SCMP_CMP_EQ };
  struct berth_spec_seccomp_rule bad = { getuid_names, 1, SCMP_ACT_ALLOW, false, 0, &bad_index, 1 };
  sc.syscalls = &bad;
  sc.n_syscalls = 1;
  assert_int_equal(berth_seccomp_compile(&sc, NULL, &p, &err), -1);
  unit_assert_error_contains(&err, "seccomp rule for `getuid`: argument index 6 is out of range");

  struct berth_spec_seccomp_arg bad_op = { 0, 0, 0, 42 };
  bad.args = &bad_op;
  assert_int_equal(berth_seccomp_compile(&sc, NULL, &p, &err), -1);
  unit_assert_error_contains(&err, "invalid operator 42");

  sc.default_action = SCMP_ACT_NOTIFY;
  sc.n_syscalls = 0;
  assert_int_equal(berth_seccomp_compile(&sc, NULL, &p, &err), -1);
  unit_assert_error_contains(&err, "SCMP_ACT_NOTIFY cannot be the default action");

  sc.default_action = 0x12345678;
  assert_int_equal(berth_seccomp_compile(&sc, NULL, &p, &err), -1);
  unit_assert_error_contains(&err, "invalid default action");

  /* an unknown name: skipped, or with run.oci.seccomp_fail_unknown_syscall an error */
  sc = profile();
  const char *unknown_names[] = { "getuid", "berth_no_such_call" };
  struct berth_spec_seccomp_rule unknown = { unknown_names, 2, SCMP_ACT_ALLOW, false, 0, NULL, 0 };
  sc.syscalls = &unknown;
  sc.n_syscalls = 1;
  assert_int_equal(berth_seccomp_compile(&sc, NULL, &p, &err), 0);
  berth_seccomp_prog_free(p);
  sc.fail_unknown_syscall = true;
  assert_int_equal(berth_seccomp_compile(&sc, NULL, &p, &err), -1);
  unit_assert_error_contains(&err, "syscalls[0].names[1]: unknown syscall `berth_no_such_call`");
}

static void test_process_state(void **state)
{
  berth_error_t err = NULL;
  const char *st =
    "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":42,\"bundle\":\"/b\"}";
  cleanup_free char *s = berth_seccomp_process_state(st, "a=b", &err);
  unit_assert_no_error(&err);
  json_t *j = json_loads(s, 0, NULL);
  assert_non_null(j);
  assert_string_equal(json_string_value(json_object_get(j, "ociVersion")), "1.2.0");
  assert_string_equal(json_string_value(json_array_get(json_object_get(j, "fds"), 0)), "seccompFd");
  assert_int_equal(json_array_size(json_object_get(j, "fds")), 1);
  assert_int_equal(json_integer_value(json_object_get(j, "pid")), 42);
  assert_string_equal(json_string_value(json_object_get(j, "metadata")), "a=b");
  assert_string_equal(json_string_value(json_object_get(json_object_get(j, "state"), "id")), "c1");
  json_decref(j);
  assert_null(berth_seccomp_process_state("{\"id\":\"c1\"}", NULL, &err));
  unit_assert_error_contains(&err, "no `pid`");
}

/* agent side: receive the fd and the payload, answer the child's getppid with 4242 */
static void agent_serve(int lsock)
{
  int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
  assert_true(conn >= 0);
  char buf[4096];
  union {
    char b[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = { buf, sizeof buf - 1 };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b };
  ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
  assert_true(n > 0);
  buf[n] = '\0';
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  assert_non_null(c);
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  assert_non_null(strstr(buf, "\"fds\":[\"seccompFd\"]"));
  assert_non_null(strstr(buf, "\"metadata\":\"agent-meta\""));
  struct seccomp_notif req;
  memset(&req, 0, sizeof req);
  assert_int_equal(ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req), 0);
  assert_int_equal(req.data.nr, SYS_getppid);
  struct seccomp_notif_resp resp = { .id = req.id, .val = 4242 };
  assert_int_equal(ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);
  close(fd);
  close(conn);
}

static void test_notify_listener(void **state)
{
  berth_error_t err = NULL;
  cleanup_free char *tmp = unit_mkdtemp();
  cleanup_free char *path = xasprintf("%s/agent.sock", tmp);
  struct berth_spec_seccomp_rule rule = { kill_names, 1, SCMP_ACT_NOTIFY, false, 0, NULL, 0 };
  struct berth_spec_seccomp sc = { .present = true,
                                   .default_action = SCMP_ACT_ALLOW,
                                   .syscalls = &rule,
                                   .n_syscalls = 1,
                                   .listener_path = path,
                                   .listener_metadata = "agent-meta",
                                   .flags =
                                     SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | SECCOMP_FILTER_FLAG_TSYNC };
  struct berth_seccomp_prog *p = NULL;
  assert_int_equal(berth_seccomp_compile(&sc, NULL, &p, &err), 0);
  assert_true(p->wants_listener);
  assert_int_equal(p->flags, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);

  int lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  memcpy(sa.sun_path, path, strlen(path) + 1);
  assert_int_equal(bind(lsock, (struct sockaddr *) &sa, sizeof sa), 0);
  assert_int_equal(listen(lsock, 1), 0);

  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int lfd = -1;
    if (berth_seccomp_load(p, &lfd, &err) < 0 || lfd < 0)
      _exit(100);
    char st[128];
    snprintf(st, sizeof st, "{\"ociVersion\":\"1.2.0\",\"id\":\"x\",\"status\":\"created\",\"pid\":%d}",
             (int) getpid());
    if (berth_seccomp_send_listener(&sc, lfd, st, &err) < 0)
      _exit(101);
    close(lfd);
    _exit(syscall(SYS_getppid) == 4242 ? 0 : 102);
  }
  agent_serve(lsock);
  int st = wait_child(pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  close(lsock);
  berth_seccomp_prog_free(p);

  sc.listener_path = "/nonexistent/agent.sock";
  assert_int_equal(berth_seccomp_send_listener(&sc, 0, "{\"pid\":1}", &err), -1);
  unit_assert_error_contains(&err, "seccomp agent: connect to `/nonexistent/agent.sock`: No such file");
  unit_rm_rf(tmp);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_compile_and_load),
    cmocka_unit_test(test_kill_actions),
    cmocka_unit_test(test_cache),
    cmocka_unit_test(test_flags_and_errors),
    cmocka_unit_test(test_process_state),
    cmocka_unit_test(test_notify_listener),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
