/* berth-dmz: the last step between the container process and the user's program.
 *
 * `berth-runtime run` does not re-execute itself from a protected copy (CVE-2019-5736): its
 * container process runs the runtime's text until the end of setup, while no other process
 * can be in the container (a new pid namespace, non-dumpable). What it must not do is
 * `execve` the user's program directly: a program whose interpreter is /proc/self/exe (a
 * `#!/proc/self/exe` script, an ELF with that PT_INTERP, a symlink to it) would run the host's
 * runtime binary inside the container, where it could be opened and, once the runtime has
 * exited, rewritten. So it executes this program from a sealed memfd instead, and this
 * program executes the user's: /proc/self/exe during that exec is the sealed copy.
 *
 * No libc (a static glibc spends ~0.4 ms in cpuid at startup on a VM); x86_64 and aarch64.
 *
 * argv: berth-dmz FD PATH ARG0 ARGS...   envp: the program's environment.
 * FD is the start connection: set close-on-exec again (the runtime cleared it), it reads EOF
 * when PATH runs, or a sync error message (base/sync.h's wire format) when execve fails.
 */
#include <asm/unistd.h>

#define DMZ_F_SETFD      2
#define DMZ_FD_CLOEXEC   1
#define DMZ_MSG_NOSIGNAL 0x4000
#define DMZ_SYNC_ERROR   0xE7707u

void dmz_main(long *sp) __attribute__((used, noreturn));

#if defined(__x86_64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %rbp, %rbp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call dmz_main\n"
        "  hlt\n");

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
  long r;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(r)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return r;
}
#elif defined(__aarch64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  mov x29, #0\n"
        "  mov x30, #0\n"
        "  mov x0, sp\n"
        "  bl dmz_main\n"
        "  brk #0\n");

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}
#else
#error "berth-dmz: unsupported architecture"
#endif

static __attribute__((noreturn)) void die(int code)
{
  sys6(__NR_exit_group, code, 0, 0, 0, 0, 0);
  __builtin_trap(); /* exit_group refused (a seccomp profile): never go on */
}

/* the texts glibc's strerror gives, for what execve returns most */
static const char *err_text(long e)
{
  switch (e) {
  case 1: return "Operation not permitted";
  case 2: return "No such file or directory";
  case 7: return "Argument list too long";
  case 8: return "Exec format error";
  case 12: return "Cannot allocate memory";
  case 13: return "Permission denied";
  case 20: return "Not a directory";
  case 21: return "Is a directory";
  case 22: return "Invalid argument";
  case 26: return "Text file busy";
  case 36: return "File name too long";
  case 40: return "Too many levels of symbolic links";
  case 80: return "Accessing a corrupted shared library";
  default: return 0;
  }
}

struct buf {
  char *p;
  unsigned long n, cap;
};

static void put(struct buf *b, const char *s)
{
  while (*s && b->n < b->cap)
    b->p[b->n++] = *s++;
}

static void put_num(struct buf *b, unsigned long v)
{
  char d[24];
  int i = 0;
  do
    d[i++] = (char) ('0' + v % 10);
  while ((v /= 10) && i < (int) sizeof d);
  while (i > 0 && b->n < b->cap)
    b->p[b->n++] = d[--i];
}

/* one SOCK_SEQPACKET message: {type, value, len} then "exec `PATH`: TEXT" */
static void report(long fd, const char *path, long e)
{
  static char msg[12 + 4096];
  struct buf b = { msg + 12, 0, sizeof msg - 12 };
  put(&b, "exec `");
  put(&b, path);
  put(&b, "`: ");
  const char *t = err_text(e);
  if (t) {
    put(&b, t);
  } else {
    put(&b, "errno ");
    put_num(&b, (unsigned long) e);
  }
  unsigned int hdr[3] = { DMZ_SYNC_ERROR, (unsigned int) e, (unsigned int) b.n };
  for (int i = 0; i < 12; i++)
    msg[i] = ((const char *) hdr)[i];
  sys6(__NR_sendto, fd, (long) msg, (long) (12 + b.n), DMZ_MSG_NOSIGNAL, 0, 0);
}

void dmz_main(long *sp)
{
  long argc = sp[0];
  char **argv = (char **) (sp + 1);
  char **envp = argv + argc + 1;
  if (argc < 4)
    die(127);
  long fd = 0;
  if (argv[1][0] == '\0')
    die(127);
  for (const char *s = argv[1]; *s; s++) {
    if (*s < '0' || *s > '9' || fd > 1000000)
      die(127);
    fd = fd * 10 + (*s - '0');
  }
  /* never let the connection reach the program: close it if it cannot be marked */
  if (sys6(__NR_fcntl, fd, DMZ_F_SETFD, DMZ_FD_CLOEXEC, 0, 0, 0) < 0) {
    if (sys6(__NR_close, fd, 0, 0, 0, 0, 0) < 0)
      die(127);
    fd = -1;
  }
  long r = sys6(__NR_execve, (long) argv[2], (long) (argv + 3), (long) envp, 0, 0, 0);
  if (fd >= 0)
    report(fd, argv[2], -r);
  die(1);
}
