/* Shared by engine/commit/ only. */
#ifndef BERTH_ENGINE_COMMIT_COMMIT_INTERNAL_H
#define BERTH_ENGINE_COMMIT_COMMIT_INTERNAL_H

#include <stddef.h>

#include "engine/commit/commit.h"

/* the changes of the upper dir upperfd against the lower layer dirs (top first) */
int commit_changes_of(int upperfd, int *lowerfds, size_t nlowers, struct berth_change **out, size_t *n,
                      berth_error_t *err) BERTH_WUR;

#endif
