/* Internal to src/lib/image/tarsplit*.c: the small pure pieces the recorder and the reader share. */
#ifndef BERTH_IMAGE_TARSPLIT_INTERNAL_H
#define BERTH_IMAGE_TARSPLIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* a set of strings (open addressing; owned copies) */
struct tarsplit_names {
  char **slots;
  size_t cap, n;
};
/* true when added, false when it was there */
bool tarsplit_names_add(struct tarsplit_names *s, const char *name);
bool tarsplit_names_has(const struct tarsplit_names *s, const char *name);
void tarsplit_names_release(struct tarsplit_names *s);

/* LEB128: at most 10 bytes written; returns their number */
size_t tarsplit_varint_put(uint64_t v, unsigned char *out);

/* a tar number field: octal (spaces and NULs around it) or base-256 (high bit of the first byte) */
bool tarsplit_parse_number(const unsigned char *field, size_t len, uint64_t *out);

/* what a pax extended header says that matters here */
struct tarsplit_pax {
  char *path;   /* malloc'd, or NULL */
  int64_t size; /* -1: absent */
  bool sparse;  /* GNU.sparse.* records */
};
/* records "<len> <key>=<value>\n"; malformed ones end the parse (libarchive then refuses the archive) */
void tarsplit_parse_pax(const char *buf, size_t len, struct tarsplit_pax *out);

#endif
