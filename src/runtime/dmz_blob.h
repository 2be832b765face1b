/* The berth-dmz program (src/dmz/dmz.c), embedded in berth-runtime; berth_dmz_len is 0 where
 * the architecture has none. */
#ifndef BERTH_DMZ_BLOB_H
#define BERTH_DMZ_BLOB_H

extern const unsigned char berth_dmz_blob[];
extern const unsigned long berth_dmz_len;

#endif
