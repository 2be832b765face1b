/* process.capabilities with raw prctl(2)/capset(2): no libcap state, two syscalls per set. */
#include "linux/caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "oci/names.h"

int berth_caps_last_cap(berth_error_t *err)
{
  cleanup_free char *text = NULL;
  if (berth_read_file("/proc/sys/kernel/cap_last_cap", 64, &text, NULL, err) < 0)
    return berth_error_wrap(err, "read the last capability of the kernel");
  text[strcspn(text, "\n")] = '\0';
  int last;
  if (berth_parse_int(text, &last) < 0 || last < 0 || last > 63)
    return BERTH_ERR(err, "`/proc/sys/kernel/cap_last_cap`: unexpected value `%s`", text);
  return last;
}

static const char *cap_label(int cap)
{
  const char *name = berth_cap_name(cap);
  return name ? name : "?";
}

/* runtime-spec: a capability the kernel does not know is an error */
static BERTH_WUR int check_known(const struct berth_spec_caps *caps, int last, berth_error_t *err)
{
  static const char *const set_names[] = { "bounding", "effective", "inheritable", "permitted", "ambient" };
  const uint64_t sets[] = { caps->bounding, caps->effective, caps->inheritable, caps->permitted,
                            caps->ambient };
  uint64_t known = last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(sets); i++) {
    uint64_t unknown = sets[i] & ~known;
    if (unknown) {
      int cap = __builtin_ctzll(unknown);
      return BERTH_ERR(err, "capability `%s` (%d) in the %s set is not known to the kernel (last is %d)",
                       cap_label(cap), cap, set_names[i], last);
    }
  }
  return 0;
}

int berth_caps_apply_bounding(const struct berth_spec_caps *caps, berth_error_t *err)
{
  if (!caps->present)
    return 0;
  int last = berth_caps_last_cap(err);
  if (last < 0 || check_known(caps, last, err) < 0)
    return -1;
  for (int cap = 0; cap <= last; cap++) {
    if (caps->bounding & (1ULL << cap))
      continue;
    if (prctl(PR_CAPBSET_DROP, (unsigned long) cap, 0, 0, 0) < 0 && errno != EINVAL)
      return BERTH_ERR_ERRNO(err, "drop capability `%s` from the bounding set", cap_label(cap));
  }
  return 0;
}

static BERTH_WUR int set_ambient(uint64_t ambient, int last, berth_error_t *err)
{
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
    if (errno == EINVAL && ambient == 0)
      return 0; /* kernel without ambient capabilities */
    return BERTH_ERR_ERRNO(err, "clear the ambient capabilities");
  }
  for (int cap = 0; cap <= last; cap++) {
    if (!(ambient & (1ULL << cap)))
      continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long) cap, 0, 0) < 0) {
      /* runc's behaviour (its own default spec lists ambient caps without inheritable
       * ones): an ambient cap the kernel refuses is a warning, not a failure */
      if (errno != EPERM)
        return BERTH_ERR_ERRNO(err, "raise ambient capability `%s`", cap_label(cap));
      berth_log_debug("ambient capability `%s` not raised: it must be permitted and inheritable",
                      cap_label(cap));
    }
  }
  return 0;
}

int berth_caps_apply(const struct berth_spec_caps *caps, berth_error_t *err)
{
  if (!caps->present)
    return 0;
  int last = berth_caps_last_cap(err);
  if (last < 0 || check_known(caps, last, err) < 0)
    return -1;
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
    data[i].effective = (uint32_t) (caps->effective >> (32 * i));
    data[i].permitted = (uint32_t) (caps->permitted >> (32 * i));
    data[i].inheritable = (uint32_t) (caps->inheritable >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) < 0)
    return BERTH_ERR_ERRNO(err, "set capabilities (effective 0x%llx, permitted 0x%llx, inheritable 0x%llx)",
                           (unsigned long long) caps->effective, (unsigned long long) caps->permitted,
                           (unsigned long long) caps->inheritable);
  return set_ambient(caps->ambient, last, err);
}
