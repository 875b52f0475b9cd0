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

int
cfgread_fail(struct cfgread *L, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(L->err, L->errlen, "%s:%d: ", L->file,
	    s ? config_setting_source_line(s) : 0);
	if (n < 0 || (size_t)n >= L->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(L->err + n, L->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

int
cfgread_string(struct cfgread *L, const config_setting_t *group,
    const char *key, const char *what, const char **out)
{
	config_setting_t *s = config_setting_get_member(group, key);

	if (s == NULL)
		return 1;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfgread_fail(L, s,
		    "%s\"%s\" must be a string", what, key);
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

int
cfgread_user(struct cfgread *L, const config_setting_t *g, const char *key,
    const char *what, uid_t *uid, gid_t *gid)
{
	const struct passwd *pw;
	const char *v = NULL;
	int rc;

	if ((rc = cfgread_string(L, g, key, what, &v)) != 0)
		return rc;
	if ((pw = getpwnam(v)) == NULL)
		return cfgread_fail(L, config_setting_get_member(g, key),
		    "%sno user \"%s\"", what, v);
	*uid = pw->pw_uid;
	if (gid != NULL)
		*gid = pw->pw_gid;
	return 0;
}

int
cfgread_group(struct cfgread *L, const config_setting_t *g, const char *key,
    const char *what, gid_t *gid)
{
	const struct group *gr;
	const char *v = NULL;
	int rc;

	if ((rc = cfgread_string(L, g, key, what, &v)) != 0)
		return rc;
	if ((gr = getgrnam(v)) == NULL)
		return cfgread_fail(L, config_setting_get_member(g, key),
		    "%sno group \"%s\"", what, v);
	*gid = gr->gr_gid;
	return 0;
}
