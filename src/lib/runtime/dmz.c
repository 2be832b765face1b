/* berth-dmz eligibility (docs/design/runtime.md, "create, step by step", 2). */
#include "runtime/dmz.h"

#include <linux/capability.h>
#include <seccomp.h>
#include <string.h>

static bool action_allows(uint32_t action) { return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG; }

/* What the filter does with NAME, conservatively: every rule naming it must allow it without
 * argument conditions; with no rule, the default action decides. */
static bool seccomp_allows(const struct berth_spec_seccomp *sc, const char *name)
{
  bool named = false;
  for (size_t i = 0; i < sc->n_syscalls; i++) {
    const struct berth_spec_seccomp_rule *r = &sc->syscalls[i];
    for (size_t k = 0; k < r->n_names; k++) {
      if (strcmp(r->names[k], name) != 0)
        continue;
      if (!action_allows(r->action) || r->n_args > 0)
        return false;
      named = true;
    }
  }
  return named || action_allows(sc->default_action);
}

/* what the container process calls after its filter is loaded, on the helper's path */
static bool seccomp_allows_all(const struct berth_spec_seccomp *sc)
{
  static const char *const needed[] = { "execveat", "execve",     "fcntl", "close",
                                        "sendto",   "exit_group", "prctl" };
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
    if (!seccomp_allows(sc, needed[i]))
      return false;
  return true;
}

/* Could a process of the container hold CAP_SYS_PTRACE over the host's user namespace? Then it
 * could open /proc/1/exe, the host's runtime binary, until the container process execs (a
 * non-dumpable process is no obstacle to that capability): runc's rule for runc-dmz. Without
 * process.capabilities the container process keeps the runtime's own (root: all of them). */
static bool may_ptrace_the_host(const berth_spec_t *spec)
{
  const struct berth_spec_caps *c = &spec->process.caps;
  if (spec->linux_.ns[BERTH_NS_USER].present)
    return false; /* its memory belongs to the host's user namespace: caps inside do not reach it */
  if (!c->present)
    return spec->process.user.uid == 0;
  return ((c->bounding | c->inheritable | c->ambient) >> CAP_SYS_PTRACE) & 1;
}

/* The helper's exec gives a user other than root the ambient capabilities alone; the program's
 * exec then computes its sets from those (with no_new_privs, file capabilities are cut down to
 * what the process held before its exec). A direct exec starts from the full permitted set, so
 * the program would lose capabilities through the helper (runc #4125). */
static bool loses_caps_at_the_helper(const berth_spec_t *spec)
{
  const struct berth_spec_caps *c = &spec->process.caps;
  return spec->process.user.uid != 0 && c->present && c->permitted != c->ambient;
}

bool berth_dmz_fits(const berth_spec_t *spec, const char **why)
{
  const char *no = NULL;
  const struct berth_spec_linux *l = &spec->linux_;
  if (!spec->has_process)
    no = "no process";
  else if (!l->ns[BERTH_NS_PID].present || l->ns[BERTH_NS_PID].path != NULL)
    no = "no new pid namespace: other processes could see the container process";
  else if (!l->ns[BERTH_NS_MOUNT].present)
    no = "no mount namespace: the container would see the host's /proc";
  else if (spec->hooks.n[BERTH_HOOK_CREATE_CONTAINER] > 0 || spec->hooks.n[BERTH_HOOK_START_CONTAINER] > 0)
    no = "createContainer or startContainer hooks: programs of the container's filesystem would be "
         "forked from the runtime's own text";
  else if (spec->process.apparmor_profile != NULL || spec->process.selinux_label != NULL)
    no = "an LSM exec label would apply to the helper";
  else if (may_ptrace_the_host(spec))
    no = "CAP_SYS_PTRACE over the host's user namespace: a process of the container could open the "
         "runtime's binary through /proc/1/exe before the container process execs";
  else if (loses_caps_at_the_helper(spec))
    no = "a user other than root would lose its permitted capabilities at the helper's exec";
  else if (l->seccomp.present && !seccomp_allows_all(&l->seccomp))
    no = "the seccomp profile does not allow what the helper calls (execveat, execve, fcntl, close, "
         "sendto, exit_group, prctl) unconditionally";
  if (why)
    *why = no;
  return no == NULL;
}
