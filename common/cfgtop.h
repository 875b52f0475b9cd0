/* SPDX-License-Identifier: MIT */
/*
 * cfgtop.h: the config's top-level settings about the process as a whole
 * (workers, drain, logs, pidfile, user and group, metrics), as opposed to
 * the tunnels it serves.
 */
#ifndef COMMON_CFGTOP_H
#define COMMON_CFGTOP_H

#include "common/cfg.h"
#include "common/cfgread.h"

/* cfgtop_load(L, root, c): fill c's process settings from root: 0 or -1. */
int cfgtop_load(struct cfgread *L, const config_setting_t *root, struct cfg *c);

/* cfgtop_same(a, b, why, len): 1 if a reload may go from a to b. */
int cfgtop_same(const struct cfg *a, const struct cfg *b, char *why,
    size_t len);

#endif
