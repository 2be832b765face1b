/* The runtime-spec "features" document (`berth-runtime features`). */
#ifndef BERTH_OCI_FEATURES_H
#define BERTH_OCI_FEATURES_H

#include <jansson.h>

/* What this build of berth recognises and implements, built from the parser's name
 * tables (never NULL). Only seccomp.supportedFlags depends on the running kernel: each
 * known flag is probed with seccomp(2). */
json_t *berth_features_json(void);

#endif
