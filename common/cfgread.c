/* SPDX-License-Identifier: MIT */
/*
 * cfgread.c: reading settings out of a libconfig tree, with every error
 * naming the file and line it is about.  It knows libconfig's types, not
 * dbtls's settings (cfg.c has those).
 */
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfgread.h"

void
cfgread_say(struct cfgread *L, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(L->err, L->errlen, "%s:%d: ", L->file,
	    s ? config_setting_source_line(s) : 0);
	if (n < 0 || (size_t)n >= L->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(L->err + n, L->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

int
cfgread_string(struct cfgread *L, const config_setting_t *group,
    const char *key, const char *what, const char **out)
{
	config_setting_t *s = config_setting_get_member(group, key);

	if (s == NULL)
		return 1;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfgread_fail(L, s, "%s\"%s\" must be a string", what,
		    key);
	*out = config_setting_get_string(s);
	if (**out == '\0')
		return cfgread_fail(L, s, "%s\"%s\" is empty", what, key);
	return 0;
}

int
cfgread_file(struct cfgread *L, const config_setting_t *group, const char *key,
    const char *what, struct cfg_file *out)
{
	const char *v = NULL;
	int rc = cfgread_string(L, group, key, what, &v);

	if (rc != 0)
		return rc;
	free(out->path);
	if ((out->path = strdup(v)) == NULL)
		return cfgread_fail(L, group, "out of memory");
	out->line = config_setting_source_line(
	    config_setting_get_member(group, key));
	return 0;
}

int
cfgread_addr(struct cfgread *L, const config_setting_t *g, const char *key,
    const char *what, struct addr *out)
{
	const char *v = NULL;
	char why[128];
	int rc;

	if ((rc = cfgread_string(L, g, key, what, &v)) < 0)
		return -1;
	if (rc == 1)
		return cfgread_fail(L, g, "%smissing \"%s\"", what, key);
	if (addr_parse(v, out, why, sizeof(why)) != 0)
		return cfgread_fail(L, config_setting_get_member(g, key),
		    "%s%s \"%s\": %s", what, key, v, why);
	return 0;
}

/*
 * Names looked up once are kept: a reload (which cannot change the users
 * and groups it names) then does not depend on reading /etc/passwd and
 * /etc/group again, which the sandbox may no longer allow once a tool has
 * replaced them.
 */
#define NAME_CACHE 16
static struct known {
	char name[64];
	int group;
	uid_t uid;
	gid_t gid;
} known[NAME_CACHE];
static size_t nknown;

static const struct known *
lookup(const char *name, int group)
{
	const struct passwd *pw;
	const struct group *gr;
	struct known k = { .group = group };

	for (size_t i = 0; i < nknown; i++)
		if (known[i].group == group && strcmp(known[i].name, name) == 0)
			return &known[i];
	if (strlen(name) >= sizeof(k.name))
		return NULL;
	if (group) {
		if ((gr = getgrnam(name)) == NULL)
			return NULL;
		k.gid = gr->gr_gid;
	} else {
		if ((pw = getpwnam(name)) == NULL)
			return NULL;
		k.uid = pw->pw_uid;
		k.gid = pw->pw_gid;
	}
	memcpy(k.name, name, strlen(name) + 1); /* its length checked above */
	if (nknown == NAME_CACHE)
		nknown = 0; /* a config never names this many */
	known[nknown] = k;
	return &known[nknown++];
}

int
cfgread_user(struct cfgread *L, const config_setting_t *g, const char *key,
    const char *what, uid_t *uid, gid_t *gid)
{
	const struct known *k;
	const char *v = NULL;
	int rc;

	if ((rc = cfgread_string(L, g, key, what, &v)) != 0)
		return rc;
	if ((k = lookup(v, 0)) == NULL)
		return cfgread_fail(L, config_setting_get_member(g, key),
		    "%sno user \"%s\"", what, v);
	*uid = k->uid;
	if (gid != NULL)
		*gid = k->gid;
	return 0;
}

int
cfgread_group(struct cfgread *L, const config_setting_t *g, const char *key,
    const char *what, gid_t *gid)
{
	const struct known *k;
	const char *v = NULL;
	int rc;

	if ((rc = cfgread_string(L, g, key, what, &v)) != 0)
		return rc;
	if ((k = lookup(v, 1)) == NULL)
		return cfgread_fail(L, config_setting_get_member(g, key),
		    "%sno group \"%s\"", what, v);
	*gid = k->gid;
	return 0;
}
