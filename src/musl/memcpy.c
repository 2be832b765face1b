/* memcpy for the musl build of berth-runtime (see malloc.c for why this directory exists).
 *
 * jansson copies byte by byte through memcpy: parsing and dumping a config with Docker's
 * seccomp profile makes ~23,000 calls of 1 to 8 bytes, where musl's generic memcpy (a call
 * into an alignment prologue and a word loop) cost ~0.5 ms of `run`. Small copies here are
 * inline moves; the rest is `rep movsb`, which CPUs with ERMS (every x86-64 since Ivy Bridge)
 * run at full speed. Linked with -Wl,--wrap=memcpy (musl's own memcpy object stays in for
 * memmove's sake, so ours cannot simply have the same name). Other architectures keep musl's. */
#if defined(__x86_64__)
#include <stddef.h>
#include <stdint.h>

void *__wrap_memcpy(void *restrict dst, const void *restrict src, size_t n);

void *__wrap_memcpy(void *restrict dst, const void *restrict src, size_t n)
{
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (n <= 16) {
    if (n >= 8) {
      uint64_t a, b;
      __builtin_memcpy(&a, s, 8);
      __builtin_memcpy(&b, s + n - 8, 8);
      __builtin_memcpy(d, &a, 8);
      __builtin_memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
      uint32_t a, b;
      __builtin_memcpy(&a, s, 4);
      __builtin_memcpy(&b, s + n - 4, 4);
      __builtin_memcpy(d, &a, 4);
      __builtin_memcpy(d + n - 4, &b, 4);
    } else {
      for (size_t i = 0; i < n; i++)
        d[i] = s[i];
    }
    return dst;
  }
  void *ret = dst;
  __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
  return ret;
}
#endif
