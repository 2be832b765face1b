/* libarchive, loaded when first needed (dlopen) instead of at every start of `berth`.
 *
 * libarchive.so drags libxml2, ICU and libstdc++ in: linked normally, loading them cost every
 * `berth` command 1.3 ms (a fifth of `berth ps`), though only image import/export/save/load
 * and layer extraction use them. Include this header instead of <archive.h>; every function
 * that starts using libarchive calls berth_archive_load() first (an error value when the
 * library cannot be loaded); after that every archive_* call goes through a pointer resolved
 * at its first use.
 */
#ifndef BERTH_IMAGE_ARCHIVE_DL_H
#define BERTH_IMAGE_ARCHIVE_DL_H

#include <archive.h>
#include <archive_entry.h>

#include "base/dl.h"
#include "base/error.h"

/* load libarchive once; the error names the library and why dlopen failed */
int berth_archive_load(berth_error_t *err) BERTH_WUR;
struct archive *berth_archive_read_new(void);
struct archive *berth_archive_write_new(void);
struct archive_entry *berth_archive_entry_new(void);
/* the symbol NAME of the loaded library (aborts, naming it, if the library lacks it) */
void *berth_archive_sym(const char *name);

/* Decoders for untrusted input (image/archive_filters.c): never archive_read_support_filter_all,
 * which lets libarchive run external programs (lrzip, grzip, lzop) on it. */
enum {
  BERTH_ARCHIVE_GZIP = 1u << 0,
  BERTH_ARCHIVE_BZIP2 = 1u << 1,
  BERTH_ARCHIVE_XZ = 1u << 2,
  BERTH_ARCHIVE_LZMA = 1u << 3,
  BERTH_ARCHIVE_ZSTD = 1u << 4,
  BERTH_ARCHIVE_LZ4 = 1u << 5,
  BERTH_ARCHIVE_DECODERS = (1u << 6) - 1, /* all of the above */
};
/* which of them the loaded libarchive has built in (not as an external program) */
unsigned berth_archive_builtin_filters(void);
/* register on a the decoders of `want` that are built in; an error when one of `need` is not */
int berth_archive_read_filters(struct archive *a, unsigned want, unsigned need, berth_error_t *err) BERTH_WUR;
/* archive_read_open on fd (an ARCHIVE_* code); a stream compressed in a way that is not one of
 * `usable` and built in (lzop, lrzip, grzip, lzip, compress, ...) fails there, its archive error
 * naming the compression */
int berth_archive_read_open_fd(struct archive *a, int fd, unsigned usable) BERTH_WUR;

#define BERTH_ARCHIVE_FN(name) BERTH_DL_FN(berth_archive_sym, name)

#ifndef BERTH_ARCHIVE_DL_NO_MACROS
#define archive_read_new                        berth_archive_read_new
#define archive_write_new                       berth_archive_write_new
#define archive_entry_new                       berth_archive_entry_new
#define archive_entry_atime                     BERTH_ARCHIVE_FN(archive_entry_atime)
#define archive_entry_atime_is_set              BERTH_ARCHIVE_FN(archive_entry_atime_is_set)
#define archive_entry_atime_nsec                BERTH_ARCHIVE_FN(archive_entry_atime_nsec)
#define archive_entry_filetype                  BERTH_ARCHIVE_FN(archive_entry_filetype)
#define archive_entry_free                      BERTH_ARCHIVE_FN(archive_entry_free)
#define archive_entry_gid                       BERTH_ARCHIVE_FN(archive_entry_gid)
#define archive_entry_hardlink                  BERTH_ARCHIVE_FN(archive_entry_hardlink)
#define archive_entry_hardlink_utf8             BERTH_ARCHIVE_FN(archive_entry_hardlink_utf8)
#define archive_entry_mtime                     BERTH_ARCHIVE_FN(archive_entry_mtime)
#define archive_entry_mtime_is_set              BERTH_ARCHIVE_FN(archive_entry_mtime_is_set)
#define archive_entry_mtime_nsec                BERTH_ARCHIVE_FN(archive_entry_mtime_nsec)
#define archive_entry_pathname                  BERTH_ARCHIVE_FN(archive_entry_pathname)
#define archive_entry_pathname_utf8             BERTH_ARCHIVE_FN(archive_entry_pathname_utf8)
#define archive_entry_perm                      BERTH_ARCHIVE_FN(archive_entry_perm)
#define archive_entry_rdevmajor                 BERTH_ARCHIVE_FN(archive_entry_rdevmajor)
#define archive_entry_rdevminor                 BERTH_ARCHIVE_FN(archive_entry_rdevminor)
#define archive_entry_set_filetype              BERTH_ARCHIVE_FN(archive_entry_set_filetype)
#define archive_entry_set_gid                   BERTH_ARCHIVE_FN(archive_entry_set_gid)
#define archive_entry_set_hardlink              BERTH_ARCHIVE_FN(archive_entry_set_hardlink)
#define archive_entry_set_mtime                 BERTH_ARCHIVE_FN(archive_entry_set_mtime)
#define archive_entry_set_pathname              BERTH_ARCHIVE_FN(archive_entry_set_pathname)
#define archive_entry_set_perm                  BERTH_ARCHIVE_FN(archive_entry_set_perm)
#define archive_entry_set_rdevmajor             BERTH_ARCHIVE_FN(archive_entry_set_rdevmajor)
#define archive_entry_set_rdevminor             BERTH_ARCHIVE_FN(archive_entry_set_rdevminor)
#define archive_entry_set_size                  BERTH_ARCHIVE_FN(archive_entry_set_size)
#define archive_entry_set_symlink               BERTH_ARCHIVE_FN(archive_entry_set_symlink)
#define archive_entry_set_uid                   BERTH_ARCHIVE_FN(archive_entry_set_uid)
#define archive_entry_size                      BERTH_ARCHIVE_FN(archive_entry_size)
#define archive_entry_symlink                   BERTH_ARCHIVE_FN(archive_entry_symlink)
#define archive_entry_symlink_utf8              BERTH_ARCHIVE_FN(archive_entry_symlink_utf8)
#define archive_entry_uid                       BERTH_ARCHIVE_FN(archive_entry_uid)
#define archive_entry_xattr_add_entry           BERTH_ARCHIVE_FN(archive_entry_xattr_add_entry)
#define archive_entry_xattr_next                BERTH_ARCHIVE_FN(archive_entry_xattr_next)
#define archive_entry_xattr_reset               BERTH_ARCHIVE_FN(archive_entry_xattr_reset)
#define archive_error_string                    BERTH_ARCHIVE_FN(archive_error_string)
#define archive_read_data                       BERTH_ARCHIVE_FN(archive_read_data)
#define archive_read_data_block                 BERTH_ARCHIVE_FN(archive_read_data_block)
#define archive_read_data_skip                  BERTH_ARCHIVE_FN(archive_read_data_skip)
#define archive_read_free                       BERTH_ARCHIVE_FN(archive_read_free)
#define archive_read_next_header                BERTH_ARCHIVE_FN(archive_read_next_header)
#define archive_read_open                       BERTH_ARCHIVE_FN(archive_read_open)
#define archive_read_open_fd                    BERTH_ARCHIVE_FN(archive_read_open_fd)
#define archive_read_support_filter_bzip2       BERTH_ARCHIVE_FN(archive_read_support_filter_bzip2)
#define archive_read_support_filter_gzip        BERTH_ARCHIVE_FN(archive_read_support_filter_gzip)
#define archive_read_support_filter_lz4         BERTH_ARCHIVE_FN(archive_read_support_filter_lz4)
#define archive_read_support_filter_lzma        BERTH_ARCHIVE_FN(archive_read_support_filter_lzma)
#define archive_read_support_filter_xz          BERTH_ARCHIVE_FN(archive_read_support_filter_xz)
#define archive_read_support_filter_zstd        BERTH_ARCHIVE_FN(archive_read_support_filter_zstd)
#define archive_read_support_format_raw         BERTH_ARCHIVE_FN(archive_read_support_format_raw)
#define archive_read_support_format_tar         BERTH_ARCHIVE_FN(archive_read_support_format_tar)
#define archive_set_error                       BERTH_ARCHIVE_FN(archive_set_error)
#define archive_write_add_filter_gzip           BERTH_ARCHIVE_FN(archive_write_add_filter_gzip)
#define archive_write_add_filter_zstd           BERTH_ARCHIVE_FN(archive_write_add_filter_zstd)
#define archive_write_close                     BERTH_ARCHIVE_FN(archive_write_close)
#define archive_write_data                      BERTH_ARCHIVE_FN(archive_write_data)
#define archive_write_free                      BERTH_ARCHIVE_FN(archive_write_free)
#define archive_write_header                    BERTH_ARCHIVE_FN(archive_write_header)
#define archive_write_open                      BERTH_ARCHIVE_FN(archive_write_open)
#define archive_write_open_fd                   BERTH_ARCHIVE_FN(archive_write_open_fd)
#define archive_write_set_bytes_in_last_block   BERTH_ARCHIVE_FN(archive_write_set_bytes_in_last_block)
#define archive_write_set_bytes_per_block       BERTH_ARCHIVE_FN(archive_write_set_bytes_per_block)
#define archive_write_set_filter_option         BERTH_ARCHIVE_FN(archive_write_set_filter_option)
#define archive_write_set_format_option         BERTH_ARCHIVE_FN(archive_write_set_format_option)
#define archive_write_set_format_pax_restricted BERTH_ARCHIVE_FN(archive_write_set_format_pax_restricted)
#define archive_write_set_format_raw            BERTH_ARCHIVE_FN(archive_write_set_format_raw)

#endif
#endif
