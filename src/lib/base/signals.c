#include "base/signals.h"

#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/strutil.h"

/* the kernel's struct sigaction for rt_sigaction on x86-64 and most architectures */
struct kernel_sigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  unsigned long mask;
};

void berth_signals_reset(void)
{
  struct kernel_sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.handler = SIG_DFL;
  for (int sig = 1; sig < 65; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP)
      continue;
    struct kernel_sigaction cur;
    if (syscall(SYS_rt_sigaction, sig, NULL, &cur, sizeof cur.mask) == 0 && cur.handler != SIG_DFL)
      syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
  }
  unsigned long none = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
}

static const struct {
  const char *name;
  int sig;
} names[] = {
  { "HUP", SIGHUP },       { "INT", SIGINT },   { "QUIT", SIGQUIT },     { "ILL", SIGILL },
  { "TRAP", SIGTRAP },     { "ABRT", SIGABRT }, { "IOT", SIGIOT },       { "BUS", SIGBUS },
  { "FPE", SIGFPE },       { "KILL", SIGKILL }, { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 },     { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },     { "TERM", SIGTERM },
  { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },     { "STOP", SIGSTOP },
  { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },
  { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
  { "WINCH", SIGWINCH },   { "IO", SIGIO },     { "POLL", SIGPOLL },     { "PWR", SIGPWR },
  { "SYS", SIGSYS },
};

const char *berth_signal_name(int sig)
{
  for (size_t i = 0; i < BERTH_N_ELEMENTS(names); i++)
    if (names[i].sig == sig)
      return names[i].name; /* the first of two names for one signal: ABRT, not IOT */
  return NULL;
}

int berth_signal_by_name(const char *s)
{
  const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(names); i++)
    if (strcasecmp(name, names[i].name) == 0)
      return names[i].sig;
  bool min = strncasecmp(name, "RTMIN", 5) == 0;
  if (!min && strncasecmp(name, "RTMAX", 5) != 0)
    return -1;
  int off = 0;
  if (name[5] != '\0' &&
      (name[5] != (min ? '+' : '-') || name[6] < '0' || name[6] > '9' || berth_parse_int(name + 6, &off) < 0))
    return -1;
  if (off > SIGRTMAX - SIGRTMIN)
    return -1;
  return min ? SIGRTMIN + off : SIGRTMAX - off;
}
