/* probe: a small static program that reports what a process inside a container sees.
 *
 * Built by the integration harness (`cc -static -O2`), copied into a busybox-static rootfs
 * as /probe. Every subcommand prints `key=value` lines on stdout (unbuffered) so that the
 * bats suites can assert on them with `probe_get KEY`. Exit status 0 unless the subcommand
 * itself says otherwise (`exit N`) or the arguments are wrong (64). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/keyctl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

static const char *errno_name(int e)
{
  static const struct {
    int e;
    const char *n;
  } tab[] = {
    { EPERM, "EPERM" },
    { ENOENT, "ENOENT" },
    { ESRCH, "ESRCH" },
    { EINTR, "EINTR" },
    { EIO, "EIO" },
    { ENXIO, "ENXIO" },
    { E2BIG, "E2BIG" },
    { ENOEXEC, "ENOEXEC" },
    { EBADF, "EBADF" },
    { ECHILD, "ECHILD" },
    { EAGAIN, "EAGAIN" },
    { ENOMEM, "ENOMEM" },
    { EACCES, "EACCES" },
    { EFAULT, "EFAULT" },
    { EBUSY, "EBUSY" },
    { EEXIST, "EEXIST" },
    { EXDEV, "EXDEV" },
    { ENODEV, "ENODEV" },
    { ENOTDIR, "ENOTDIR" },
    { EISDIR, "EISDIR" },
    { EINVAL, "EINVAL" },
    { ENFILE, "ENFILE" },
    { EMFILE, "EMFILE" },
    { ENOTTY, "ENOTTY" },
    { ETXTBSY, "ETXTBSY" },
    { EFBIG, "EFBIG" },
    { ENOSPC, "ENOSPC" },
    { ESPIPE, "ESPIPE" },
    { EROFS, "EROFS" },
    { EMLINK, "EMLINK" },
    { EPIPE, "EPIPE" },
    { EDOM, "EDOM" },
    { ERANGE, "ERANGE" },
    { ENOSYS, "ENOSYS" },
    { ELOOP, "ELOOP" },
    { ENAMETOOLONG, "ENAMETOOLONG" },
    { ENOTEMPTY, "ENOTEMPTY" },
    { EAFNOSUPPORT, "EAFNOSUPPORT" },
    { EOPNOTSUPP, "EOPNOTSUPP" },
    { ENOKEY, "ENOKEY" },
    { EPROTONOSUPPORT, "EPROTONOSUPPORT" },
    { ECONNREFUSED, "ECONNREFUSED" },
    { EDQUOT, "EDQUOT" },
  };
  for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
    if (tab[i].e == e)
      return tab[i].n;
  static char buf[32];
  snprintf(buf, sizeof buf, "E%d", e);
  return buf;
}

static const char *const cap_names[] = {
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
};

/* "CapEff:\t00000000a80425fb" → cap_eff=CAP_CHOWN,... and cap_eff_hex=... */
static void print_caps(const char *key, const char *hex)
{
  uint64_t mask = strtoull(hex, NULL, 16);
  char names[2048] = "";
  size_t n = sizeof(cap_names) / sizeof(cap_names[0]);
  for (size_t i = 0; i < 64; i++) {
    if (!(mask & (1ULL << i)))
      continue;
    char one[40];
    if (i < n)
      snprintf(one, sizeof one, "%s", cap_names[i]);
    else
      snprintf(one, sizeof one, "CAP_%zu", i);
    if (names[0])
      strncat(names, ",", sizeof names - strlen(names) - 1);
    strncat(names, one, sizeof names - strlen(names) - 1);
  }
  out("%s=%s", key, names);
  out("%s_hex=%016" PRIx64, key, mask);
}

static void print_status(void)
{
  static const struct {
    const char *field, *key;
    int caps;
  } map[] = {
    { "CapInh", "cap_inh", 1 },  { "CapPrm", "cap_prm", 1 },
    { "CapEff", "cap_eff", 1 },  { "CapBnd", "cap_bnd", 1 },
    { "CapAmb", "cap_amb", 1 },  { "NoNewPrivs", "no_new_privs", 0 },
    { "Seccomp", "seccomp", 0 }, { "Seccomp_filters", "seccomp_filters", 0 },
    { "Umask", "umask", 0 },
  };
  FILE *f = fopen("/proc/self/status", "re");
  if (!f) {
    out("status=%s", errno_name(errno));
    return;
  }
  char line[512];
  while (fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (!colon)
      continue;
    *colon = '\0';
    char *val = colon + 1;
    val += strspn(val, " \t");
    val[strcspn(val, "\n")] = '\0';
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
      if (strcmp(line, map[i].field) != 0)
        continue;
      if (map[i].caps)
        print_caps(map[i].key, val);
      else
        out("%s=%s", map[i].key, val);
    }
  }
  fclose(f);
}

/* fds=0,1,2 plus fd.N=<target>; the directory stream's own descriptor is left out */
static int cmd_fds(void)
{
  DIR *d = opendir("/proc/self/fd");
  if (!d) {
    out("fds=%s", errno_name(errno));
    return 1;
  }
  int self = dirfd(d);
  char list[4096] = "";
  int fds[512], n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 512) {
    if (e->d_name[0] == '.')
      continue;
    int fd = atoi(e->d_name);
    if (fd != self)
      fds[n++] = fd;
  }
  for (int i = 0; i < n; i++) {
    char num[16];
    snprintf(num, sizeof num, "%s%d", i ? "," : "", fds[i]);
    strncat(list, num, sizeof list - strlen(list) - 1);
  }
  out("fds=%s", list);
  for (int i = 0; i < n; i++) {
    char path[64], target[PATH_MAX];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fds[i]);
    ssize_t len = readlink(path, target, sizeof target - 1);
    target[len < 0 ? 0 : len] = '\0';
    out("fd.%d=%s", fds[i], target);
  }
  closedir(d);
  return 0;
}

static void print_rlimits(void)
{
  static const struct {
    int res;
    const char *name;
  } tab[] = {
    { RLIMIT_AS, "as" },           { RLIMIT_CORE, "core" },         { RLIMIT_CPU, "cpu" },
    { RLIMIT_DATA, "data" },       { RLIMIT_FSIZE, "fsize" },       { RLIMIT_LOCKS, "locks" },
    { RLIMIT_MEMLOCK, "memlock" }, { RLIMIT_MSGQUEUE, "msgqueue" }, { RLIMIT_NICE, "nice" },
    { RLIMIT_NOFILE, "nofile" },   { RLIMIT_NPROC, "nproc" },       { RLIMIT_RSS, "rss" },
    { RLIMIT_RTPRIO, "rtprio" },   { RLIMIT_RTTIME, "rttime" },     { RLIMIT_SIGPENDING, "sigpending" },
    { RLIMIT_STACK, "stack" },
  };
  for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
    struct rlimit rl;
    if (getrlimit(tab[i].res, &rl) < 0)
      continue;
    char soft[32], hard[32];
    if (rl.rlim_cur == RLIM_INFINITY)
      snprintf(soft, sizeof soft, "unlimited");
    else
      snprintf(soft, sizeof soft, "%llu", (unsigned long long) rl.rlim_cur);
    if (rl.rlim_max == RLIM_INFINITY)
      snprintf(hard, sizeof hard, "unlimited");
    else
      snprintf(hard, sizeof hard, "%llu", (unsigned long long) rl.rlim_max);
    out("rlimit.%s=%s:%s", tab[i].name, soft, hard);
  }
}

static void print_file_line(const char *key, const char *path)
{
  char buf[256] = "";
  FILE *f = fopen(path, "re");
  if (!f) {
    out("%s=%s", key, errno_name(errno));
    return;
  }
  if (fgets(buf, sizeof buf, f))
    buf[strcspn(buf, "\n")] = '\0';
  fclose(f);
  out("%s=%s", key, buf);
}

static void print_ids(void)
{
  out("pid=%d", (int) getpid());
  out("ppid=%d", (int) getppid());
  out("uid=%u", (unsigned) getuid());
  out("euid=%u", (unsigned) geteuid());
  out("gid=%u", (unsigned) getgid());
  out("egid=%u", (unsigned) getegid());
  gid_t groups[256];
  int n = getgroups(256, groups);
  char list[2048] = "";
  for (int i = 0; i < n; i++) {
    char num[16];
    snprintf(num, sizeof num, "%s%u", i ? "," : "", (unsigned) groups[i]);
    strncat(list, num, sizeof list - strlen(list) - 1);
  }
  out("groups=%s", list);
}

static int cmd_all(void)
{
  print_ids();
  struct utsname u;
  if (uname(&u) == 0) {
    out("hostname=%s", u.nodename);
    out("domainname=%s", u.domainname);
  }
  char cwd[PATH_MAX];
  out("cwd=%s", getcwd(cwd, sizeof cwd) ? cwd : errno_name(errno));
  print_status();
  print_rlimits();
  print_file_line("oom_score_adj", "/proc/self/oom_score_adj");
  out("personality=0x%x", (unsigned) personality(0xffffffff));
  int envc = 0;
  for (char **e = environ; *e; e++)
    envc++;
  out("env_count=%d", envc);
  return cmd_fds();
}

/* mount=<target> <fstype> <source> <mount options> <super options> <optional fields> */
static int cmd_mounts(void)
{
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) {
    out("mounts=%s", errno_name(errno));
    return 1;
  }
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char *fields[32];
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(line, " ", &save); tok && n < 32;
         tok = strtok_r(NULL, " ", &save))
      fields[n++] = tok;
    int sep = -1;
    for (int i = 6; i < n; i++)
      if (strcmp(fields[i], "-") == 0) {
        sep = i;
        break;
      }
    if (sep < 0 || sep + 3 >= n)
      continue;
    char optional[512] = "";
    for (int i = 6; i < sep; i++) {
      if (optional[0])
        strncat(optional, ",", sizeof optional - strlen(optional) - 1);
      strncat(optional, fields[i], sizeof optional - strlen(optional) - 1);
    }
    char rec[4096];
    snprintf(rec, sizeof rec, "%s %s %s %s %s %s", fields[4], fields[sep + 1], fields[sep + 2], fields[5],
             fields[sep + 3], optional[0] ? optional : "-");
    out("mount=%s", rec);
  }
  fclose(f);
  return 0;
}

static int parse_open_flags(const char *s)
{
  int flags = O_CLOEXEC;
  int acc = O_RDONLY;
  for (; *s; s++) {
    switch (*s) {
    case 'r': break;
    case 'w': acc = acc == O_RDONLY ? O_WRONLY : O_RDWR; break;
    case 'a': flags |= O_APPEND; break;
    case 'c': flags |= O_CREAT; break;
    case 't': flags |= O_TRUNC; break;
    case 'd': flags |= O_DIRECTORY; break;
    case 'n': flags |= O_NOFOLLOW; break;
    case 'p': flags |= O_PATH; break;
    case 'x': flags |= O_EXCL; break;
    default: return -1;
    }
  }
  return flags | acc;
}

/* open <path> <flags: r w a c t d n p x> → open=ok|ERRNO */
static int cmd_open(const char *path, const char *fl)
{
  int flags = parse_open_flags(fl);
  if (flags < 0) {
    out("open=bad-flags");
    return 64;
  }
  int fd = open(path, flags, 0644);
  if (fd < 0) {
    out("open=%s", errno_name(errno));
    return 0;
  }
  out("open=ok");
  close(fd);
  return 0;
}

static const char *fs_name(long type)
{
  switch ((unsigned long) type) {
  case 0x9fa0: return "proc";
  case 0x01021994: return "tmpfs";
  case 0x62656572: return "sysfs";
  case 0x1cd1: return "devpts";
  case 0x19800202: return "mqueue";
  case 0xef53: return "ext4";
  case 0x27e0eb: return "cgroup";
  case 0x63677270: return "cgroup2";
  case 0x794c7630: return "overlay";
  case 0x9123683e: return "btrfs";
  case 0x58465342: return "xfs";
  case 0x858458f6: return "ramfs";
  case 0x1373: return "devtmpfs";
  default: return "other";
  }
}

/* stat <path> → type, mode, major, minor, uid, gid, size, fstype, target (symlinks) */
static int cmd_stat(const char *path)
{
  struct stat st;
  if (lstat(path, &st) < 0) {
    out("stat=%s", errno_name(errno));
    return 0;
  }
  const char *type = S_ISREG(st.st_mode)    ? "file"
                     : S_ISDIR(st.st_mode)  ? "dir"
                     : S_ISCHR(st.st_mode)  ? "chr"
                     : S_ISBLK(st.st_mode)  ? "blk"
                     : S_ISFIFO(st.st_mode) ? "fifo"
                     : S_ISSOCK(st.st_mode) ? "sock"
                     : S_ISLNK(st.st_mode)  ? "link"
                                            : "unknown";
  out("stat=ok");
  out("type=%s", type);
  out("mode=%04o", (unsigned) (st.st_mode & 07777));
  out("major=%u", major(st.st_rdev));
  out("minor=%u", minor(st.st_rdev));
  out("uid=%u", (unsigned) st.st_uid);
  out("gid=%u", (unsigned) st.st_gid);
  out("size=%lld", (long long) st.st_size);
  struct statfs sfs;
  if (statfs(path, &sfs) == 0)
    out("fstype=%s", fs_name(sfs.f_type));
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlink(path, target, sizeof target - 1);
    target[n < 0 ? 0 : n] = '\0';
    out("target=%s", target);
  }
  return 0;
}

static long arg_or(int argc, char **argv, int i, long dflt)
{
  return i < argc ? strtol(argv[i], NULL, 0) : dflt;
}

/* swap A B: exchange the two names (renameat2 RENAME_EXCHANGE) until killed — a racer for
 * code that must not act on a name that changed after it looked at it */
static int cmd_swap(char **argv)
{
  for (;;)
    if (syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], 2 /* RENAME_EXCHANGE */) < 0) {
      out("swap=%s", errno_name(errno));
      return 1;
    }
}

/* syscall <name> [arg] → syscall=ok|ERRNO; calls are harmless or fail on bad arguments */
static int cmd_syscall(int argc, char **argv)
{
  const char *name = argv[2];
  long r;
  errno = 0;
  if (!strcmp(name, "getpid"))
    r = syscall(SYS_getpid);
  else if (!strcmp(name, "getppid"))
    r = syscall(SYS_getppid);
  else if (!strcmp(name, "uname")) {
    struct utsname u;
    r = uname(&u);
  } else if (!strcmp(name, "unshare"))
    r = unshare((int) arg_or(argc, argv, 3, CLONE_NEWUTS));
  else if (!strcmp(name, "keyctl"))
    r = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
  else if (!strcmp(name, "personality"))
    r = personality((unsigned long) arg_or(argc, argv, 3, 0xffffffff));
  else if (!strcmp(name, "mount"))
    r = mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0 ? -1 : 0;
  else if (!strcmp(name, "umount2"))
    r = umount2("/nonexistent-probe-dir", 0);
  else if (!strcmp(name, "socket")) {
    r = socket((int) arg_or(argc, argv, 3, AF_UNIX), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (r >= 0)
      close((int) r);
  } else if (!strcmp(name, "chroot"))
    r = chroot("/");
  else if (!strcmp(name, "sethostname"))
    r = sethostname("probe", 5);
  else if (!strcmp(name, "mkdir"))
    r = mkdir(argc > 3 ? argv[3] : "/tmp/probe-mkdir", 0755);
  else if (!strcmp(name, "mknod"))
    r = mknod(argc > 3 ? argv[3] : "/tmp/probe-null", S_IFCHR | 0666, makedev(1, 3));
  else if (!strcmp(name, "setuid"))
    r = setuid((uid_t) arg_or(argc, argv, 3, 0));
  else if (!strcmp(name, "execveat")) /* an invalid call: EBADF when allowed */
    r = syscall(SYS_execveat, -1, "", NULL, NULL, 0);
  else if (!strcmp(name, "chown"))
    r = chown(argc > 3 ? argv[3] : "/", 0, 0);
  else {
    out("syscall=unknown");
    return 64;
  }
  if (r < 0)
    out("syscall=%s", errno_name(errno));
  else
    out("syscall=ok");
  return 0;
}

/* exe-attack <pid> [host-binary]: CVE-2019-5736. Open /proc/<pid>/exe O_PATH while <pid> is
 * still the runtime's code, print "ready", wait for a line on stdin (the caller starts the
 * container meanwhile), then try to reopen the runtime binary for writing. Never writes to
 * the host binary: if the reopened file is <host-binary> itself it prints same_as_host=1. */
static int cmd_exe_attack(int argc, char **argv)
{
  char path[64], target[PATH_MAX];
  snprintf(path, sizeof path, "/proc/%s/exe", argv[2]);
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) {
    out("exe=%s", errno_name(errno));
    return 1;
  }
  ssize_t n = readlink(path, target, sizeof target - 1);
  target[n < 0 ? 0 : n] = '\0';
  out("exe=%s", target);
  out("ready");
  char line[64];
  if (!fgets(line, sizeof line, stdin))
    out("stdin=eof");
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int wfd = open(path, O_WRONLY | O_CLOEXEC);
  if (wfd < 0) {
    out("reopen=%s", errno_name(errno));
    return 0;
  }
  out("reopen=ok");
  struct stat ws, hs;
  int same = argc > 3 && fstat(wfd, &ws) == 0 && stat(argv[3], &hs) == 0 && ws.st_dev == hs.st_dev &&
             ws.st_ino == hs.st_ino;
  out("same_as_host=%d", same);
  if (!same) {
    /* a private copy: writing to it cannot hurt the host; report whether it is sealed */
    out("write=%s", write(wfd, "", 0) < 0 || pwrite(wfd, "\177", 1, 0) < 0 ? errno_name(errno) : "ok");
  }
  close(wfd);
  return 0;
}

static void on_signal(int sig) { (void) sig; }

/* signal-wait: print "ready", then signal=<number> for each signal; exit 0 on SIGTERM/SIGINT */
static int cmd_signal_wait(void)
{
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  struct sigaction sa = { .sa_handler = on_signal };
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      sigaction(s, &sa, NULL);
  out("ready");
  for (;;) {
    siginfo_t si;
    int s = sigwaitinfo(&all, &si);
    if (s < 0)
      continue;
    out("signal=%d", s);
    if (s == SIGTERM || s == SIGINT)
      return 0;
  }
}

static int cmd_ns(void)
{
  static const char *const types[] = {
    "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"
  };
  for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
    char path[64], target[128];
    snprintf(path, sizeof path, "/proc/self/ns/%s", types[i]);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0)
      snprintf(target, sizeof target, "%s", errno_name(errno));
    else
      target[n] = '\0';
    out("ns.%s=%s", types[i], target);
  }
  return 0;
}

/* net: net.<ifname>=up|down for every interface */
static int cmd_net(void)
{
  struct if_nameindex *ifs = if_nameindex();
  if (!ifs) {
    out("net=%s", errno_name(errno));
    return 1;
  }
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int count = 0;
  for (struct if_nameindex *i = ifs; i->if_index; i++, count++) {
    struct ifreq ifr = { 0 };
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", i->if_name);
    int up = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
    out("net.%s=%s", i->if_name, up ? "up" : "down");
  }
  out("net_count=%d", count);
  if (s >= 0)
    close(s);
  if_freenameindex(ifs);
  return 0;
}

static int cmd_tty(void)
{
  for (int fd = 0; fd < 3; fd++)
    out("tty.%d=%d", fd, isatty(fd));
  char *name = ttyname(0);
  out("ttyname=%s", name ? name : errno_name(errno));
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0) {
    out("rows=%u", ws.ws_row);
    out("cols=%u", ws.ws_col);
  } else {
    out("winsize=%s", errno_name(errno));
  }
  int ctty = open("/dev/tty", O_RDWR | O_CLOEXEC);
  out("ctty=%s", ctty >= 0 ? "ok" : errno_name(errno));
  if (ctty >= 0)
    close(ctty);
  return 0;
}

static int cmd_write_file(const char *path, const char *content)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    out("write=%s", errno_name(errno));
    return 0;
  }
  size_t len = strlen(content);
  ssize_t n = write(fd, content, len);
  out("write=%s", n == (ssize_t) len ? "ok" : errno_name(errno));
  close(fd);
  return 0;
}

static int cmd_sleep(const char *arg)
{
  if (!strcmp(arg, "inf"))
    for (;;)
      pause();
  sleep((unsigned) atoi(arg));
  return 0;
}

/* readlink PATH as key=<target>|ERRNO */
static void print_link(const char *key, const char *path)
{
  char target[PATH_MAX];
  ssize_t len = readlink(path, target, sizeof target - 1);
  if (len < 0) {
    out("%s=%s", key, errno_name(errno));
    return;
  }
  target[len] = '\0';
  out("%s=%s", key, target);
}

/* reach PID: what this process gets of another one through /proc and ptrace (CVE-2016-9962):
 * exe=, fds= (the list), fd.N= for each (a target or an errno name), ptrace=ok|ERRNO */
static int cmd_reach(const char *pid)
{
  char path[64], key[32];
  snprintf(path, sizeof path, "/proc/%s/exe", pid);
  print_link("exe", path);
  snprintf(path, sizeof path, "/proc/%s/fd", pid);
  DIR *d = opendir(path);
  if (!d) {
    out("fds=%s", errno_name(errno));
  } else {
    char list[4096] = "";
    int fds[512], n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 512;)
      if (e->d_name[0] != '.')
        fds[n++] = atoi(e->d_name);
    closedir(d);
    for (int i = 0; i < n; i++) {
      char num[16];
      snprintf(num, sizeof num, "%s%d", i ? "," : "", fds[i]);
      strncat(list, num, sizeof list - strlen(list) - 1);
    }
    out("fds=%s", list);
    for (int i = 0; i < n; i++) {
      snprintf(path, sizeof path, "/proc/%s/fd/%d", pid, fds[i]);
      snprintf(key, sizeof key, "fd.%d", fds[i]);
      print_link(key, path);
    }
  }
  /* seized without a stop; our exit detaches */
  if (ptrace(PTRACE_SEIZE, (pid_t) atoi(pid), NULL, NULL) < 0)
    out("ptrace=%s", errno_name(errno));
  else
    out("ptrace=ok");
  return 0;
}

/* sd_notify: MSG as one datagram to $NOTIFY_SOCKET ("notify=ok" or "notify=<errno name>") */
static int cmd_notify(const char *msg)
{
  const char *path = getenv("NOTIFY_SOCKET");
  if (path == NULL || *path == '\0') {
    out("notify=unset");
    return 0;
  }
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  if (sa.sun_path[0] == '@')
    sa.sun_path[0] = '\0';
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  socklen_t len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path) + (path[0] != '@'));
  if (fd < 0 || sendto(fd, msg, strlen(msg), 0, (struct sockaddr *) &sa, len) < 0)
    out("notify=%s", errno_name(errno));
  else
    out("notify=ok");
  return 0;
}

static int usage(void)
{
  fprintf(stderr, "usage: probe all|fds|mounts|ns|net|tty|env|args ARG...|caps|ids\n"
                  "       probe syscall NAME [ARG] | open PATH FLAGS | stat PATH | swap A B\n"
                  "       probe exe-attack PID [HOST-BINARY] | sleep N|inf | exit N\n"
                  "       probe write-file PATH CONTENT | signal-wait | reach PID | notify MSG\n");
  return 64;
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2)
    return usage();
  const char *c = argv[1];
  if (!strcmp(c, "all"))
    return cmd_all();
  if (!strcmp(c, "fds"))
    return cmd_fds();
  if (!strcmp(c, "mounts"))
    return cmd_mounts();
  if (!strcmp(c, "ns"))
    return cmd_ns();
  if (!strcmp(c, "net"))
    return cmd_net();
  if (!strcmp(c, "tty"))
    return cmd_tty();
  if (!strcmp(c, "ids")) {
    print_ids();
    return 0;
  }
  if (!strcmp(c, "caps")) {
    print_status();
    return 0;
  }
  if (!strcmp(c, "env")) {
    for (char **e = environ; *e; e++)
      out("env=%s", *e);
    return 0;
  }
  if (!strcmp(c, "args")) {
    out("argc=%d", argc);
    for (int i = 0; i < argc; i++)
      out("arg.%d=%s", i, argv[i]);
    return 0;
  }
  if (!strcmp(c, "signal-wait"))
    return cmd_signal_wait();
  if (!strcmp(c, "syscall") && argc >= 3)
    return cmd_syscall(argc, argv);
  if (!strcmp(c, "swap") && argc >= 4)
    return cmd_swap(argv);
  if (!strcmp(c, "open") && argc == 4)
    return cmd_open(argv[2], argv[3]);
  if (!strcmp(c, "stat") && argc == 3)
    return cmd_stat(argv[2]);
  if (!strcmp(c, "exe-attack") && argc >= 3)
    return cmd_exe_attack(argc, argv);
  if (!strcmp(c, "reach") && argc == 3)
    return cmd_reach(argv[2]);
  if (!strcmp(c, "write-file") && argc == 4)
    return cmd_write_file(argv[2], argv[3]);
  if (!strcmp(c, "sleep") && argc == 3)
    return cmd_sleep(argv[2]);
  if (!strcmp(c, "notify") && argc == 3)
    return cmd_notify(argv[2]);
  if (!strcmp(c, "exit") && argc == 3)
    return atoi(argv[2]);
  return usage();
}
