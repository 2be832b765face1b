#include "oci/names.h"

#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/resource.h>

#include "oci/spec.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* indexed by capability number (linux/capability.h) */
const char *const berth_cap_names[] = {
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
  NULL,
};
#define N_CAPS ((int) (sizeof berth_cap_names / sizeof berth_cap_names[0]) - 1)

int berth_cap_from_name(const char *name)
{
  for (int i = 0; i < N_CAPS; i++)
    if (strcmp(berth_cap_names[i], name) == 0)
      return i;
  return -1;
}

const char *berth_cap_name(int cap) { return (cap >= 0 && cap < N_CAPS) ? berth_cap_names[cap] : NULL; }

int berth_cap_last(void) { return N_CAPS - 1; }

struct name_value {
  const char *name;
  long value;
};

static long lookup(const struct name_value *t, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(t[i].name, name) == 0)
      return t[i].value;
  return -1;
}

static const char *reverse(const struct name_value *t, size_t n, long value)
{
  for (size_t i = 0; i < n; i++)
    if (t[i].value == value)
      return t[i].name;
  return NULL;
}

static const struct name_value rlimits[] = {
  { "RLIMIT_CPU", RLIMIT_CPU },           { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_DATA", RLIMIT_DATA },         { "RLIMIT_STACK", RLIMIT_STACK },
  { "RLIMIT_CORE", RLIMIT_CORE },         { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_NPROC", RLIMIT_NPROC },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },   { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },       { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },     { "RLIMIT_RTTIME", RLIMIT_RTTIME },
};

int berth_rlimit_from_name(const char *name)
{
  return (int) lookup(rlimits, sizeof rlimits / sizeof rlimits[0], name);
}

const char *berth_rlimit_name(int resource)
{
  return reverse(rlimits, sizeof rlimits / sizeof rlimits[0], resource);
}

/* ---------------- seccomp ---------------- */

const char *const berth_seccomp_action_names[] = {
  "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",   "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",        "SCMP_ACT_LOG",         "SCMP_ACT_NOTIFY", NULL,
};
static const uint32_t action_values[] = {
  SCMP_ACT_KILL,     SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP,   SCMP_ACT_ERRNO(0),
  SCMP_ACT_TRACE(0), SCMP_ACT_ALLOW,        SCMP_ACT_LOG,         SCMP_ACT_NOTIFY,
};

const char *const berth_seccomp_arch_names[] = {
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X32",
  "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",
  "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC",
  "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",
#ifdef SCMP_ARCH_LOONGARCH64
  "SCMP_ARCH_LOONGARCH64",
#endif
#ifdef SCMP_ARCH_M68K
  "SCMP_ARCH_M68K",
#endif
#ifdef SCMP_ARCH_SH
  "SCMP_ARCH_SH",
  "SCMP_ARCH_SHEB",
#endif
  NULL,
};
static const uint32_t arch_values[] = {
  SCMP_ARCH_X86,         SCMP_ARCH_X86_64, SCMP_ARCH_X32,       SCMP_ARCH_ARM,     SCMP_ARCH_AARCH64,
  SCMP_ARCH_MIPS,        SCMP_ARCH_MIPS64, SCMP_ARCH_MIPS64N32, SCMP_ARCH_MIPSEL,  SCMP_ARCH_MIPSEL64,
  SCMP_ARCH_MIPSEL64N32, SCMP_ARCH_PPC,    SCMP_ARCH_PPC64,     SCMP_ARCH_PPC64LE, SCMP_ARCH_S390,
  SCMP_ARCH_S390X,       SCMP_ARCH_PARISC, SCMP_ARCH_PARISC64,  SCMP_ARCH_RISCV64,
#ifdef SCMP_ARCH_LOONGARCH64
  SCMP_ARCH_LOONGARCH64,
#endif
#ifdef SCMP_ARCH_M68K
  SCMP_ARCH_M68K,
#endif
#ifdef SCMP_ARCH_SH
  SCMP_ARCH_SH,          SCMP_ARCH_SHEB,
#endif
};

const char *const berth_seccomp_op_names[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
  "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL,
};
static const int op_values[] = {
  SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ,
};

const char *const berth_seccomp_flag_names[] = {
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
  NULL,
};
static const unsigned int flag_values[] = {
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
};

_Static_assert(sizeof berth_seccomp_action_names / sizeof(char *) ==
                 sizeof action_values / sizeof(uint32_t) + 1,
               "seccomp action tables differ");
_Static_assert(sizeof berth_seccomp_arch_names / sizeof(char *) == sizeof arch_values / sizeof(uint32_t) + 1,
               "seccomp arch tables differ");
_Static_assert(sizeof berth_seccomp_op_names / sizeof(char *) == sizeof op_values / sizeof(int) + 1,
               "seccomp op tables differ");
_Static_assert(sizeof berth_seccomp_flag_names / sizeof(char *) == sizeof flag_values / sizeof(unsigned) + 1,
               "seccomp flag tables differ");

static int index_of(const char *const *names, const char *name)
{
  for (int i = 0; names[i]; i++)
    if (strcmp(names[i], name) == 0)
      return i;
  return -1;
}

int berth_seccomp_action_from_name(const char *name, uint32_t *action)
{
  int i = index_of(berth_seccomp_action_names, name);
  if (i < 0)
    return -1;
  *action = action_values[i];
  return 0;
}

int berth_seccomp_arch_from_name(const char *name, uint32_t *arch)
{
  int i = index_of(berth_seccomp_arch_names, name);
  if (i < 0)
    return -1;
  *arch = arch_values[i];
  return 0;
}

int berth_seccomp_op_from_name(const char *name, int *op)
{
  int i = index_of(berth_seccomp_op_names, name);
  if (i < 0)
    return -1;
  *op = op_values[i];
  return 0;
}

int berth_seccomp_flag_from_name(const char *name, unsigned int *flag)
{
  int i = index_of(berth_seccomp_flag_names, name);
  if (i < 0)
    return -1;
  *flag = flag_values[i];
  return 0;
}

/* Every option string the mount option parser recognises as a flag (not fs data):
 * runc's and crun's set plus the idmapped-mount ones. Sorted, as `features` shows it. */
const char *const berth_mount_option_names[] = {
  "acl",
  "async",
  "atime",
  "bind",
  "defaults",
  "dev",
  "diratime",
  "dirsync",
  "exec",
  "idmap",
  "iversion",
  "lazytime",
  "loud",
  "mand",
  "noacl",
  "noatime",
  "nodev",
  "nodiratime",
  "noexec",
  "noiversion",
  "nolazytime",
  "nomand",
  "norelatime",
  "nostrictatime",
  "nosuid",
  "nosymfollow",
  "private",
  "ratime",
  "rbind",
  "rdev",
  "rdiratime",
  "relatime",
  "remount",
  "rexec",
  "ridmap",
  "rnoatime",
  "rnodev",
  "rnodiratime",
  "rnoexec",
  "rnorelatime",
  "rnostrictatime",
  "rnosuid",
  "rnosymfollow",
  "ro",
  "rprivate",
  "rrelatime",
  "rro",
  "rrw",
  "rshared",
  "rslave",
  "rstrictatime",
  "rsuid",
  "rsymfollow",
  "runbindable",
  "rw",
  "shared",
  "silent",
  "slave",
  "strictatime",
  "suid",
  "symfollow",
  "sync",
  "tmpcopyup",
  "unbindable",
  NULL,
};

/* ---------------- namespaces and hooks ---------------- */

static const struct {
  const char *name, *proc;
  int flag;
} namespaces[BERTH_NS__COUNT] = {
  [BERTH_NS_PID] = { "pid", "pid", CLONE_NEWPID },
  [BERTH_NS_NETWORK] = { "network", "net", CLONE_NEWNET },
  [BERTH_NS_MOUNT] = { "mount", "mnt", CLONE_NEWNS },
  [BERTH_NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
  [BERTH_NS_UTS] = { "uts", "uts", CLONE_NEWUTS },
  [BERTH_NS_USER] = { "user", "user", CLONE_NEWUSER },
  [BERTH_NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
  [BERTH_NS_TIME] = { "time", "time", CLONE_NEWTIME },
};

const char *berth_ns_type_name(enum berth_ns_type t)
{
  return ((unsigned) t < BERTH_NS__COUNT) ? namespaces[t].name : NULL;
}

int berth_ns_type_from_name(const char *name)
{
  for (int t = 0; t < BERTH_NS__COUNT; t++)
    if (strcmp(namespaces[t].name, name) == 0)
      return t;
  return -1;
}

int berth_ns_clone_flag(enum berth_ns_type t)
{
  return ((unsigned) t < BERTH_NS__COUNT) ? namespaces[t].flag : 0;
}

const char *berth_ns_proc_name(enum berth_ns_type t)
{
  return ((unsigned) t < BERTH_NS__COUNT) ? namespaces[t].proc : NULL;
}

static const char *const hook_kinds[BERTH_HOOK__COUNT] = {
  [BERTH_HOOK_PRESTART] = "prestart",
  [BERTH_HOOK_CREATE_RUNTIME] = "createRuntime",
  [BERTH_HOOK_CREATE_CONTAINER] = "createContainer",
  [BERTH_HOOK_START_CONTAINER] = "startContainer",
  [BERTH_HOOK_POSTSTART] = "poststart",
  [BERTH_HOOK_POSTSTOP] = "poststop",
};

const char *berth_hook_kind_name(enum berth_hook_kind k)
{
  return ((unsigned) k < BERTH_HOOK__COUNT) ? hook_kinds[k] : NULL;
}
