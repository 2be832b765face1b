/* src/musl/malloc.c, the allocator of the musl berth-runtime, built here under other names
 * (mm_*) beside glibc's: sizes from 0 to past the large threshold, alignment, reuse, calloc's
 * overflow, realloc, aligned allocations, threads; and the traps — a double free, a wild
 * pointer, an overflow into a free block's header or link — each in a child that must die of
 * SIGILL (__builtin_trap) rather than go on with a corrupt heap. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

void *mm_malloc(size_t n);
void mm_free(void *p);
void *mm_calloc(size_t a, size_t b);
void *mm_realloc(void *p, size_t n);
void *mm_aligned_alloc(size_t align, size_t n);
int mm_posix_memalign(void **out, size_t align, size_t n);
size_t mm_malloc_usable_size(void *p);

static void fill(unsigned char *p, size_t n, unsigned seed)
{
  for (size_t i = 0; i < n; i++)
    p[i] = (unsigned char) (seed + i * 7);
}

static bool same(const unsigned char *p, size_t n, unsigned seed)
{
  for (size_t i = 0; i < n; i++)
    if (p[i] != (unsigned char) (seed + i * 7))
      return false;
  return true;
}

static void test_sizes(void **state)
{
  (void) state;
  static unsigned char *v[400];
  size_t k = 0;
  for (size_t n = 0; n < 70000; n = n < 64 ? n + 1 : n * 5 / 4 + 3) {
    unsigned char *p = mm_malloc(n);
    assert_non_null(p);
    assert_int_equal((uintptr_t) p % 16, 0);
    assert_true(mm_malloc_usable_size(p) >= n);
    fill(p, n, (unsigned) n);
    v[k++] = p;
  }
  k = 0;
  for (size_t n = 0; n < 70000; n = n < 64 ? n + 1 : n * 5 / 4 + 3) {
    assert_true(same(v[k], n, (unsigned) n)); /* no block overlapped another */
    mm_free(v[k++]);
  }
  mm_free(NULL);
}

static void test_reuse_calloc_realloc(void **state)
{
  (void) state;
  void *a = mm_malloc(100);
  mm_free(a);
  void *b = mm_malloc(110); /* the same class: the same block again */
  assert_ptr_equal(a, b);
  mm_free(b);
  unsigned char *z = mm_calloc(300, 7);
  for (size_t i = 0; i < 2100; i++)
    assert_int_equal(z[i], 0);
  errno = 0;
  assert_null(mm_calloc(SIZE_MAX / 2, 3));
  assert_int_equal(errno, ENOMEM);
  errno = 0;
  assert_null(mm_malloc(SIZE_MAX - 8));
  assert_int_equal(errno, ENOMEM);
  fill(z, 2100, 3);
  z = mm_realloc(z, 100000); /* into a mapping of its own */
  assert_true(same(z, 2100, 3));
  z = mm_realloc(z, 10);
  assert_true(same(z, 10, 3));
  mm_free(z);
  unsigned char *r = mm_realloc(NULL, 40);
  assert_non_null(r);
  mm_free(r);
}

static void test_aligned(void **state)
{
  (void) state;
  for (size_t align = 8; align <= 65536; align *= 2) {
    void *p = mm_aligned_alloc(align, 100);
    assert_non_null(p);
    assert_int_equal((uintptr_t) p % align, 0);
    memset(p, 1, 100);
    mm_free(p);
  }
  void *q = NULL;
  assert_int_equal(mm_posix_memalign(&q, 3, 10), EINVAL);
  assert_int_equal(mm_posix_memalign(&q, 4096, 10), 0);
  assert_int_equal((uintptr_t) q % 4096, 0);
  mm_free(q);
  errno = 0;
  assert_null(mm_aligned_alloc(24, 10));
  assert_int_equal(errno, EINVAL);
}

static void *churn(void *arg)
{
  unsigned seed = (unsigned) (uintptr_t) arg;
  unsigned char *keep[64] = { 0 };
  size_t len[64] = { 0 };
  for (unsigned i = 0; i < 40000; i++) {
    unsigned s = (seed * 2654435761u + i * 40503u) >> 7;
    unsigned slot = s % 64;
    if (keep[slot]) {
      if (!same(keep[slot], len[slot], slot + seed))
        return (void *) 1;
      mm_free(keep[slot]);
    }
    len[slot] = s % 3000;
    keep[slot] = mm_malloc(len[slot]);
    fill(keep[slot], len[slot], slot + seed);
  }
  for (unsigned slot = 0; slot < 64; slot++)
    mm_free(keep[slot]);
  return NULL;
}

static void test_threads(void **state)
{
  (void) state;
  pthread_t t[4];
  for (uintptr_t i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&t[i], NULL, churn, (void *) (i + 1)), 0);
  for (int i = 0; i < 4; i++) {
    void *r = (void *) 2;
    assert_int_equal(pthread_join(t[i], &r), 0);
    assert_null(r);
  }
}

/* fn in a child: it must die of SIGILL (the trap), or of SIGSEGV where a forged link leads
 * into unmapped memory, never go on */
static void must_trap(void (*fn)(void))
{
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    /* cmocka catches these in the test process; the child must die of them instead */
    signal(SIGILL, SIG_DFL);
    signal(SIGTRAP, SIG_DFL);
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    fn();
    _exit(0);
  }
  int st = 0;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFSIGNALED(st));
  assert_true(WTERMSIG(st) == SIGILL || WTERMSIG(st) == SIGTRAP || WTERMSIG(st) == SIGSEGV);
}

static void double_free_small(void)
{
  void *p = mm_malloc(40);
  mm_free(p);
  mm_free(p);
}

static void wild_pointer(void)
{
  char *p = mm_malloc(200);
  mm_free(p + 16);
}

/* two blocks of 48 bytes, b right after a (once the class's free list is used up, blocks come
 * from the arena in order) */
static void adjacent(unsigned char **a, unsigned char **b)
{
  do {
    *a = mm_malloc(48);
    *b = mm_malloc(48);
  } while (*b != *a + 48 + 16);
}

/* the block after an overflowing one is free: its header is overwritten */
static void overflow_into_free_header(void)
{
  unsigned char *a, *b;
  adjacent(&a, &b);
  mm_free(b);
  memset(a, 'A', 48 + 16); /* a's bytes, then b's header */
  (void) mm_malloc(48);    /* b again: its header is not a free block's */
}

/* ... or its link, aimed somewhere */
static void overflow_into_free_link(void)
{
  static char target[64] __attribute__((aligned(16)));
  unsigned char *a, *b;
  adjacent(&a, &b);
  mm_free(b);
  void *forged = target + 16;
  memcpy(b, &forged, sizeof forged); /* b's link as an overflow of a would write it: unmasked */
  (void) mm_malloc(48);              /* b */
  if (mm_malloc(48) == forged)       /* where the link points: never handed out */
    _exit(3);
}

static void test_traps(void **state)
{
  (void) state;
  must_trap(double_free_small);
  must_trap(wild_pointer);
  must_trap(overflow_into_free_header);
  must_trap(overflow_into_free_link);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sizes),   cmocka_unit_test(test_reuse_calloc_realloc),
    cmocka_unit_test(test_aligned), cmocka_unit_test(test_threads),
    cmocka_unit_test(test_traps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
