/* Names and ids of the engine's objects, the rules Docker gives containers and volumes alike. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/xalloc.h"
#include "engine/engine.h"

bool berth_engine_name_valid(const char *name)
{
  if (name == NULL)
    return false;
  if (*name == '/')
    name++;
  if (!((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') || (*name >= '0' && *name <= '9')))
    return false;
  size_t n = strlen(name);
  if (n < 2 || n > 255)
    return false;
  for (const char *p = name + 1; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
          *p == '.' || *p == '-'))
      return false;
  return true;
}

void berth_engine_new_id(berth_ctr_id_t id)
{
  static const char hex[] = "0123456789abcdef";
  for (;;) {
    unsigned char b[32];
    if (getrandom(b, sizeof b, 0) != (ssize_t) sizeof b)
      berth_oom();
    bool letter = false;
    for (size_t i = 0; i < 32; i++) {
      id[2 * i] = hex[b[i] >> 4];
      id[2 * i + 1] = hex[b[i] & 15];
    }
    id[64] = '\0';
    for (size_t i = 0; i < 12; i++) /* Docker: the short id must not read as a number */
      letter |= id[i] >= 'a';
    if (letter)
      return;
  }
}
