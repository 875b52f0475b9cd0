/* SPDX-License-Identifier: MIT */
/*
 * privdrop.h: becoming the config's user and group after start-up, and
 * making sure that user can still read what a reload reads.
 */
#ifndef AGENT_PRIVDROP_H
#define AGENT_PRIVDROP_H

#include <stddef.h>

#include "common/cfg.h"

/*
 * privdrop_become(c): switch real, effective and saved ids to c's user
 * and group for good, with no supplementary groups, then prove root
 * cannot be regained.  Nothing to do without a user, or when already
 * running as it.  0, or -1 with the reason in err.
 */
int privdrop_become(const struct cfg *c, char *err, size_t len);

/*
 * privdrop_readable(c, err, len): the config file, each tunnel's cert,
 * key, CA and CRL, and with reload = "watch" their directories, are
 * readable by the current real ids.  0, or -1 naming the first that is
 * not, with its line.
 */
int privdrop_readable(const struct cfg *c, char *err, size_t len);

/*
 * privdrop_check(c, err, len): for --check, run as root: privdrop_readable
 * as c's user, in a child that drops first.  0 if fine or no user is set.
 */
int privdrop_check(const struct cfg *c, char *err, size_t len);

#endif
