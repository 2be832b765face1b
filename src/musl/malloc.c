/* malloc for the musl build of berth-runtime (-Dlibc_malloc=berth, see meson.build).
 *
 * musl's mallocng returns freed memory to the kernel eagerly: in `berth-runtime run` that is
 * an mmap/munmap pair (and a TLB shootdown) for many frees, about a tenth of the runtime's
 * CPU time. berth-runtime is a short-lived, single-threaded program that allocates a few
 * hundred kilobytes at most, so this one keeps it simple: segregated free lists over 26 size
 * classes, carved from 256 KiB arenas that are never unmapped; blocks above 64 KiB get their
 * own mapping. Freed blocks are reused by the same class, so long-running commands (`events`,
 * `run` waiting) stay bounded by their peak. A spin lock makes it thread-safe anyway.
 *
 * The runtime reads files of the container's image (its /etc/passwd) and runs inside the
 * container until its exec, so a heap bug must not become a write where the image wants one
 * (docs/design/speed-risks.md). What mallocng checks, this checks too, cheaply: a block's
 * header says whether it is in use; free() of a block not in use (a double free, a wild
 * pointer) and malloc() of a free block whose header or link was overwritten (an overflow of
 * the block before it) trap; free-list links are stored masked by their own address, as glibc
 * does ("safe-linking"), so that a partial overwrite cannot aim them.
 *
 * musl supports replacing malloc in static programs: its own internal allocations use a
 * separate allocator and never reach free().
 */
#include <errno.h>
#include <stddef.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA_SIZE  (256u << 10)
#define LARGE_MIN   (64u << 10)
#define ALIGN       16u
#define MAGIC_SMALL 0x5a11b10cu /* a small block in use */
#define MAGIC_FREE  0xf4eeb10cu /* a small block on its free list */
#define MAGIC_LARGE 0x1a46eb10u

/* every block starts 16 bytes after its header */
struct hdr {
  uint32_t magic;
  uint32_t cls; /* small: class index */
  size_t size;  /* small: class size; large: usable size (mapping length in map_len) */
};
struct large_hdr { /* precedes struct hdr for large blocks */
  void *map;
  size_t map_len;
};

static const uint32_t class_size[] = {
  16,  32,  48,   64,   80,   96,   128,  160,  192,  256,   320,   384,   512,
  640, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 32768, 65536,
};
#define NCLASS (sizeof class_size / sizeof class_size[0])

struct free_block {
  struct free_block *next; /* masked: link() */
};

/* a free-list link as stored at `where` (and back: the mask is its own inverse) */
static struct free_block *link_mask(struct free_block **where, struct free_block *p)
{
  return (struct free_block *) (((uintptr_t) where >> 12) ^ (uintptr_t) p);
}

static struct free_block *free_list[NCLASS];
static char *arena_cur, *arena_end;
static volatile int lock_word;

static void lock(void)
{
  while (__atomic_exchange_n(&lock_word, 1, __ATOMIC_ACQUIRE))
    while (__atomic_load_n(&lock_word, __ATOMIC_RELAXED))
      ;
}

static void unlock(void) { __atomic_store_n(&lock_word, 0, __ATOMIC_RELEASE); }

static int class_of(size_t n)
{
  for (size_t c = 0; c < NCLASS; c++)
    if (n <= class_size[c])
      return (int) c;
  return -1;
}

static void *map(size_t len)
{
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* align: a power of two; 0 or <= 16 for the default */
static void *large_alloc(size_t n, size_t align)
{
  size_t page = 4096;
  size_t lead = sizeof(struct large_hdr) + sizeof(struct hdr);
  size_t room = align > ALIGN ? align : ALIGN;
  if (n > SIZE_MAX - lead - room - page) {
    errno = ENOMEM;
    return NULL;
  }
  size_t len = (n + lead + room + page - 1) & ~(page - 1);
  char *base = map(len);
  if (base == NULL) {
    errno = ENOMEM;
    return NULL;
  }
  uintptr_t user = ((uintptr_t) base + lead + room - 1) & ~(uintptr_t) (room - 1);
  struct hdr *h = (struct hdr *) user - 1;
  struct large_hdr *l = (struct large_hdr *) h - 1;
  l->map = base;
  l->map_len = len;
  h->magic = MAGIC_LARGE;
  h->cls = 0;
  h->size = len - (user - (uintptr_t) base);
  return (void *) user;
}

static void *small_alloc(int c)
{
  lock();
  struct free_block *b = free_list[c];
  if (b) {
    struct hdr *h = (struct hdr *) b - 1;
    struct free_block *next = link_mask(&b->next, b->next);
    if (((uintptr_t) b & (ALIGN - 1)) || h->magic != MAGIC_FREE || h->cls != (uint32_t) c ||
        ((uintptr_t) next & (ALIGN - 1)))
      __builtin_trap(); /* the list was overwritten: an overflow of the block before this one */
    free_list[c] = next;
    h->magic = MAGIC_SMALL;
    unlock();
    return b;
  }
  size_t need = sizeof(struct hdr) + class_size[c];
  if (arena_cur == NULL || (size_t) (arena_end - arena_cur) < need) {
    char *a = map(ARENA_SIZE);
    if (a == NULL) {
      unlock();
      errno = ENOMEM;
      return NULL;
    }
    arena_cur = a;
    arena_end = a + ARENA_SIZE;
  }
  struct hdr *h = (struct hdr *) arena_cur;
  arena_cur += need;
  unlock();
  h->magic = MAGIC_SMALL;
  h->cls = (uint32_t) c;
  h->size = class_size[c];
  return h + 1;
}

void *malloc(size_t n)
{
  int c = n < LARGE_MIN ? class_of(n ? n : 1) : -1;
  return c >= 0 ? small_alloc(c) : large_alloc(n, 0);
}

void free(void *p)
{
  if (p == NULL)
    return;
  struct hdr *h = (struct hdr *) p - 1;
  if (((uintptr_t) p & (ALIGN - 1)))
    __builtin_trap(); /* no block of ours starts there */
  if (h->magic == MAGIC_LARGE) {
    struct large_hdr *l = (struct large_hdr *) h - 1;
    if ((char *) l->map > (char *) l || l->map_len < h->size)
      __builtin_trap();
    h->magic = 0; /* a second free of it faults on the unmapped header or finds no magic */
    munmap(l->map, l->map_len);
    return;
  }
  if (h->magic != MAGIC_SMALL || h->cls >= NCLASS)
    __builtin_trap(); /* not in use: a double free, or a wild pointer */
  struct free_block *b = p;
  lock();
  h->magic = MAGIC_FREE;
  b->next = link_mask(&b->next, free_list[h->cls]);
  free_list[h->cls] = b;
  unlock();
}

void *calloc(size_t a, size_t b)
{
  size_t n;
  if (__builtin_mul_overflow(a, b, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  void *p = malloc(n);
  if (p)
    memset(p, 0, n);
  return p;
}

size_t malloc_usable_size(void *p) { return p ? ((struct hdr *) p - 1)->size : 0; }

void *realloc(void *p, size_t n)
{
  if (p == NULL)
    return malloc(n);
  size_t have = malloc_usable_size(p);
  if (n <= have && (n >= LARGE_MIN || have <= LARGE_MIN))
    return p;
  void *q = malloc(n);
  if (q == NULL)
    return NULL;
  memcpy(q, p, have < n ? have : n);
  free(p);
  return q;
}

void *aligned_alloc(size_t align, size_t n)
{
  if (align == 0 || (align & (align - 1))) {
    errno = EINVAL;
    return NULL;
  }
  return align <= ALIGN ? malloc(n) : large_alloc(n, align);
}

int posix_memalign(void **out, size_t align, size_t n)
{
  if (align < sizeof(void *) || (align & (align - 1)))
    return EINVAL;
  void *p = aligned_alloc(align, n);
  if (p == NULL)
    return ENOMEM;
  *out = p;
  return 0;
}

void *memalign(size_t align, size_t n) { return aligned_alloc(align, n); }
