/* Private to child.c and child_exec.c. */
#ifndef BERTH_BASE_CHILD_INTERNAL_H
#define BERTH_BASE_CHILD_INTERNAL_H

#include <sys/types.h>

/* the messages of the helper itself on a child's channel (the callback's own are its own) */
#define BERTH_CHILD_DONE 0xC41D0001u /* the callback succeeded */
#define BERTH_CHILD_PID  0xC41D0002u /* value: the pid of a detached program */

/* waitpid, EINTR retried: the status (0 when there was no such child) */
int child_reap(pid_t pid);

#endif
