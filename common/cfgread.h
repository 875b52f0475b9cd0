/* SPDX-License-Identifier: MIT */
/*
 * cfgread.h: settings read out of a libconfig tree; each error names the
 * file and line ("agent.conf:12: ...") in the reader's buffer.
 */
#ifndef COMMON_CFGREAD_H
#define COMMON_CFGREAD_H

#include <stddef.h>
#include <sys/types.h>

#include <libconfig.h>

#include "common/addr.h"
#include "common/cfg.h"

/* One load: the file's name, and room for the first error. */
struct cfgread {
	const char *file;
	char *err;
	size_t errlen;
};

/*
 * cfgread_say(L, s, fmt, ...): say what is wrong at s.  cfgread_fail(L, s,
 * fmt, ...): the same, and -1 (a macro, so that the analyzer, which does
 * not follow a variadic call, sees the -1 that each caller returns).
 */
void cfgread_say(struct cfgread *L, const config_setting_t *s, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
#define cfgread_fail(...) (cfgread_say(__VA_ARGS__), -1)

/*
 * cfgread_string(L, group, key, what, &out): the non-empty string at key
 * (borrowed until the tree is destroyed): 0; 1 if key is absent; -1 on
 * an error (another type, empty).  what prefixes messages.
 */
int cfgread_string(struct cfgread *L, const config_setting_t *group,
    const char *key, const char *what, const char **out);

/* cfgread_file(...): the same, kept as a path with its line: 0, 1, -1. */
int cfgread_file(struct cfgread *L, const config_setting_t *group,
    const char *key, const char *what, struct cfg_file *out);

/* cfgread_addr(...): the required address at key: 0 or -1. */
int cfgread_addr(struct cfgread *L, const config_setting_t *g, const char *key,
    const char *what, struct addr *out);

/*
 * cfgread_user(L, g, key, what, &uid, &gid) and cfgread_group(L, g, key,
 * what, &gid): a user or group name, looked up now so that --check finds
 * unknown ones; cfgread_user also gives the user's primary group.  0, 1
 * if key is absent (out untouched), -1.
 */
int cfgread_user(struct cfgread *L, const config_setting_t *g, const char *key,
    const char *what, uid_t *uid, gid_t *gid);
int cfgread_group(struct cfgread *L, const config_setting_t *g, const char *key,
    const char *what, gid_t *gid);

#endif
