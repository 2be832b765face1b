/* Where `berth save` writes: a tar stream (libarchive, reproducible headers) or a directory.
 * Internal to engine/images/images_save.c (and its unit test). */
#ifndef BERTH_ENGINE_IMAGES_SAVE_SINK_INTERNAL_H
#define BERTH_ENGINE_IMAGES_SAVE_SINK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct save_sink;

int save_sink_tar(int out_fd, struct save_sink **out, berth_error_t *err) BERTH_WUR;
/* dir is created (it may exist when empty; a symlink there is refused, never followed) */
int save_sink_dir(const char *dir, struct save_sink **out, berth_error_t *err) BERTH_WUR;
/* finish the archive (trailer) and free; returns the first error of close */
int save_sink_close(struct save_sink *s, berth_error_t *err) BERTH_WUR;
/* free without finishing (after an error); a directory sink removes what it made */
void save_sink_abort(struct save_sink *s);

int save_sink_mkdir(struct save_sink *s, const char *name, berth_error_t *err) BERTH_WUR;
int save_sink_bytes(struct save_sink *s, const char *name, const void *data, size_t len,
                    berth_error_t *err) BERTH_WUR;
/* a relative symlink (a copy in a directory sink) */
int save_sink_symlink(struct save_sink *s, const char *name, const char *target, const char *target_name,
                      berth_error_t *err) BERTH_WUR;
/* a file of `size` bytes whose content comes from repeated calls of save_sink_data */
int save_sink_begin(struct save_sink *s, const char *name, uint64_t size, berth_error_t *err) BERTH_WUR;
int save_sink_data(struct save_sink *s, const void *data, size_t len, berth_error_t *err) BERTH_WUR;
int save_sink_end(struct save_sink *s, berth_error_t *err) BERTH_WUR;
/* was name already written (dedup of shared layers) */
int save_sink_has(struct save_sink *s, const char *name);

#endif
