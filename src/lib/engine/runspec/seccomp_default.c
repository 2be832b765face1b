/* Docker's default seccomp profile (moby profiles/seccomp/default.json, the version with the
 * AF_VSOCK socket rule, pkey_*, set_mempolicy_home_node, CAP_BPF and CAP_PERFMON) as data.
 * Docker generates its JSON file from a Go table the same way; the order of the groups is
 * Docker's, so a rendered profile lists its rules in the order Docker hands them to runc. */
#include <linux/capability.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cleanup.h"
#include "engine/runspec/runspec.h"

#define NAMES(...)  ((const char *const[]){ __VA_ARGS__, NULL })
#define ARCHES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define CAP(c)      (UINT64_C(1) << (c))
#define ALLOW       "SCMP_ACT_ALLOW"
/* a group without errnoRet */
#define GROUP(...)                                                                                           \
  {                                                                                                          \
    .errno_ret = -1, __VA_ARGS__                                                                             \
  }

/* the AF_VSOCK socket family is refused (socket(40, ...)), every other family allowed */
static const struct berth_seccomp_cond socket_not_vsock[] = { { 0, 40, 0, "SCMP_CMP_NE" } };
/* personality(2) personas Docker allows: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, query */
static const struct berth_seccomp_cond persona_linux[] = { { 0, 0x0, 0, "SCMP_CMP_EQ" } };
static const struct berth_seccomp_cond persona_linux32[] = { { 0, 0x8, 0, "SCMP_CMP_EQ" } };
static const struct berth_seccomp_cond persona_uname26[] = { { 0, 0x20000, 0, "SCMP_CMP_EQ" } };
static const struct berth_seccomp_cond persona_uname26_32[] = { { 0, 0x20008, 0, "SCMP_CMP_EQ" } };
static const struct berth_seccomp_cond persona_query[] = { { 0, 0xffffffff, 0, "SCMP_CMP_EQ" } };
/* clone without any CLONE_NEW* flag: (flags & 0x7e020000) == 0 */
static const struct berth_seccomp_cond clone_no_ns[] = { { 0, 2114060288, 0, "SCMP_CMP_MASKED_EQ" } };
static const struct berth_seccomp_cond clone_no_ns_s390[] = { { 1, 2114060288, 0, "SCMP_CMP_MASKED_EQ" } };

#define ARGS(a) .args = (a), .n_args = BERTH_N_ELEMENTS(a)

static const struct berth_seccomp_group groups[] = {
  GROUP(.action = ALLOW,
        .names = NAMES(
          "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir",
          "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
          "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
          "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
          "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
          "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit",
          "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
          "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
          "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64",
          "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_time64",
          "futex_waitv", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32",
          "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer",
          "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
          "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid",
          "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32",
          "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel",
          "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get",
          "ioprio_set", "io_setup", "io_submit", "io_uring_enter", "io_uring_register", "io_uring_setup",
          "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown",
          "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr", "_llseek",
          "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise", "membarrier", "memfd_create",
          "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall",
          "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
          "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl",
          "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap", "name_to_handle_at",
          "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
          "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll",
          "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease",
          "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
          "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
          "remap_file_pages", "removexattr", "rename", "renameat", "renameat2", "restart_syscall", "rmdir",
          "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
          "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
          "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
          "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
          "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
          "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
          "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid",
          "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
          "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32",
          "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
          "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat",
          "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
          "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx",
          "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time",
          "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
          "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
          "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit",
          "umask", "uname", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vfork",
          "vmsplice", "wait4", "waitid", "waitpid", "write", "writev")),
  GROUP(.action = ALLOW, .names = NAMES("process_vm_readv", "process_vm_writev", "ptrace"),
        .includes = { .min_kernel_major = 4, .min_kernel_minor = 8 }),
  GROUP(.action = ALLOW, .names = NAMES("socket"), ARGS(socket_not_vsock)),
  GROUP(.action = ALLOW, .names = NAMES("personality"), ARGS(persona_linux)),
  GROUP(.action = ALLOW, .names = NAMES("personality"), ARGS(persona_linux32)),
  GROUP(.action = ALLOW, .names = NAMES("personality"), ARGS(persona_uname26)),
  GROUP(.action = ALLOW, .names = NAMES("personality"), ARGS(persona_uname26_32)),
  GROUP(.action = ALLOW, .names = NAMES("personality"), ARGS(persona_query)),
  GROUP(.action = ALLOW, .names = NAMES("sync_file_range2", "swapcontext"),
        .includes = { .arches = ARCHES("ppc64le") }),
  GROUP(.action = ALLOW,
        .names = NAMES("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
                       "cacheflush", "set_tls"),
        .includes = { .arches = ARCHES("arm", "arm64") }),
  GROUP(.action = ALLOW, .names = NAMES("arch_prctl"), .includes = { .arches = ARCHES("amd64", "x32") }),
  GROUP(.action = ALLOW, .names = NAMES("modify_ldt"),
        .includes = { .arches = ARCHES("amd64", "x32", "x86") }),
  GROUP(.action = ALLOW, .names = NAMES("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"),
        .includes = { .arches = ARCHES("s390", "s390x") }),
  GROUP(.action = ALLOW, .names = NAMES("riscv_flush_icache"), .includes = { .arches = ARCHES("riscv64") }),
  GROUP(.action = ALLOW, .names = NAMES("open_by_handle_at"),
        .includes = { .caps = CAP(CAP_DAC_READ_SEARCH) }),
  GROUP(.action = ALLOW,
        .names = NAMES("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                       "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree",
                       "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns",
                       "syslog", "umount", "umount2", "unshare"),
        .includes = { .caps = CAP(CAP_SYS_ADMIN) }),
  GROUP(.action = ALLOW, .names = NAMES("clone"), ARGS(clone_no_ns),
        .excludes = { .caps = CAP(CAP_SYS_ADMIN), .arches = ARCHES("s390", "s390x") }),
  GROUP(.action = ALLOW, .names = NAMES("clone"), ARGS(clone_no_ns_s390),
        .comment = "s390 parameter ordering for clone is different",
        .includes = { .arches = ARCHES("s390", "s390x") }, .excludes = { .caps = CAP(CAP_SYS_ADMIN) }),
  /* clone3's flags live in memory the filter cannot read: ENOSYS makes glibc fall back to clone */
  { .action = "SCMP_ACT_ERRNO",
    .errno_ret = 38,
    .names = NAMES("clone3"),
    .excludes = { .caps = CAP(CAP_SYS_ADMIN) } },
  GROUP(.action = ALLOW, .names = NAMES("reboot"), .includes = { .caps = CAP(CAP_SYS_BOOT) }),
  GROUP(.action = ALLOW, .names = NAMES("chroot"), .includes = { .caps = CAP(CAP_SYS_CHROOT) }),
  GROUP(.action = ALLOW, .names = NAMES("delete_module", "init_module", "finit_module"),
        .includes = { .caps = CAP(CAP_SYS_MODULE) }),
  GROUP(.action = ALLOW, .names = NAMES("acct"), .includes = { .caps = CAP(CAP_SYS_PACCT) }),
  GROUP(.action = ALLOW,
        .names =
          NAMES("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"),
        .includes = { .caps = CAP(CAP_SYS_PTRACE) }),
  GROUP(.action = ALLOW, .names = NAMES("iopl", "ioperm"), .includes = { .caps = CAP(CAP_SYS_RAWIO) }),
  GROUP(.action = ALLOW, .names = NAMES("settimeofday", "stime", "clock_settime", "clock_settime64"),
        .includes = { .caps = CAP(CAP_SYS_TIME) }),
  GROUP(.action = ALLOW, .names = NAMES("vhangup"), .includes = { .caps = CAP(CAP_SYS_TTY_CONFIG) }),
  GROUP(.action = ALLOW, .names = NAMES("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
        .includes = { .caps = CAP(CAP_SYS_NICE) }),
  GROUP(.action = ALLOW, .names = NAMES("syslog"), .includes = { .caps = CAP(CAP_SYSLOG) }),
  GROUP(.action = ALLOW, .names = NAMES("bpf"), .includes = { .caps = CAP(CAP_BPF) }),
  GROUP(.action = ALLOW, .names = NAMES("perf_event_open"), .includes = { .caps = CAP(CAP_PERFMON) }),
};

static const struct berth_seccomp_archmap arch_map[] = {
  { "SCMP_ARCH_X86_64", ARCHES("SCMP_ARCH_X86", "SCMP_ARCH_X32") },
  { "SCMP_ARCH_AARCH64", ARCHES("SCMP_ARCH_ARM") },
  { "SCMP_ARCH_MIPS64", ARCHES("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32") },
  { "SCMP_ARCH_MIPS64N32", ARCHES("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64") },
  { "SCMP_ARCH_MIPSEL64", ARCHES("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32") },
  { "SCMP_ARCH_MIPSEL64N32", ARCHES("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64") },
  { "SCMP_ARCH_S390X", ARCHES("SCMP_ARCH_S390") },
  { "SCMP_ARCH_RISCV64", NULL },
};

static const struct berth_seccomp_profile profile = {
  .default_action = "SCMP_ACT_ERRNO",
  .default_errno_ret = 1, /* EPERM */
  .arch_map = arch_map,
  .n_arch_map = BERTH_N_ELEMENTS(arch_map),
  .groups = groups,
  .n_groups = BERTH_N_ELEMENTS(groups),
};

const struct berth_seccomp_profile *berth_seccomp_default_profile(void) { return &profile; }
