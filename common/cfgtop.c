/* SPDX-License-Identifier: MIT */
/*
 * cfgtop.c: the top-level settings that shape the process: how many
 * workers, how long a drain may last, how and how much it logs, where its
 * pidfile and metrics are, and which user it becomes after start-up.
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfgtop.h"

/* seconds: a number from 0 to max at key, as milliseconds: 0, 1, -1. */
static int
seconds(struct cfgread *L, const config_setting_t *root, const char *key,
    double max, const char *zero, unsigned *ms)
{
	const config_setting_t *s = config_setting_get_member(root, key);
	double d;

	if (s == NULL)
		return 1;
	d = config_setting_type(s) == CONFIG_TYPE_INT ?
	    config_setting_get_int(s) :
	    config_setting_type(s) == CONFIG_TYPE_FLOAT ?
	    config_setting_get_float(s) :
	    -1;
	if (d < 0 || d > max)
		return cfgread_fail(L, s,
		    "%s must be a number of seconds "
		    "from 0 (%s) to %.0f",
		    key, zero, max);
	*ms = (unsigned)(d * 1000);
	return 0;
}

static int
load_logging(struct cfgread *L, const config_setting_t *root, struct cfg *c)
{
	const char *v = NULL;
	int rc;

	c->log_level = LOG_LVL_INFO;
	if ((rc = cfgread_string(L, root, "log_level", "", &v)) < 0)
		return -1;
	if (rc == 0 && log_level_parse(v, &c->log_level) != 0)
		return cfgread_fail(L,
		    config_setting_get_member(root, "log_level"),
		    "unknown log_level \"%s\" (error, warning, "
		    "info, debug)",
		    v);
	c->log_format = LOG_FMT_TEXT;
	if ((rc = cfgread_string(L, root, "log_format", "", &v)) < 0)
		return -1;
	if (rc == 0 && log_format_parse(v, &c->log_format) != 0)
		return cfgread_fail(L,
		    config_setting_get_member(root, "log_format"),
		    "unknown log_format \"%s\" (text, json)", v);
	return 0;
}

/* load_identity: user and group, the ids the agent runs as once it has
 * bound its listeners and read its keys. */
static int
load_identity(struct cfgread *L, const config_setting_t *root, struct cfg *c)
{
	const struct group *gr;
	const char *v = NULL;
	int has_user, has_group;

	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	if ((has_user = cfgread_user(L, root, "user", "", &c->uid, &c->gid)) <
		0 ||
	    (has_group = cfgread_group(L, root, "group", "", &c->gid)) < 0)
		return -1;
	if (has_user == 0 && c->uid == 0)
		return cfgread_fail(L, config_setting_get_member(root, "user"),
		    "user \"root\" would keep every power: name an "
		    "unprivileged user, or leave user out");
	if (has_user == 1) {
		if (has_group == 0)
			return cfgread_fail(L,
			    config_setting_get_member(root, "group"),
			    "\"group\" needs \"user\" beside it");
		return 0;
	}
	/* Names kept for messages; the group is the user's own if unset. */
	(void)cfgread_string(L, root, "user", "", &v);
	if ((c->user = strdup(v)) == NULL)
		return cfgread_fail(L, root, "out of memory");
	if (has_group == 0)
		(void)cfgread_string(L, root, "group", "", &v);
	else if ((gr = getgrgid(c->gid)) != NULL)
		v = gr->gr_name;
	else
		v = "(the user's group)";
	if ((c->group = strdup(v)) == NULL)
		return cfgread_fail(L, root, "out of memory");
	return 0;
}

/* flag: true or false at key, else def: 0 or -1. */
static int
flag(struct cfgread *L, const config_setting_t *root, const char *key, int def,
    int *out)
{
	const config_setting_t *s = config_setting_get_member(root, key);

	*out = def;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return cfgread_fail(L, s, "%s must be true or false", key);
	*out = config_setting_get_bool(s);
	return 0;
}

int
cfgtop_load(struct cfgread *L, const config_setting_t *root, struct cfg *c)
{
	const config_setting_t *s;
	const char *v = NULL;
	int rc;

	if ((s = config_setting_get_member(root, "workers")) != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_INT ||
		    config_setting_get_int(s) < 0 ||
		    config_setting_get_int(s) > 256)
			return cfgread_fail(L, s,
			    "workers must be a whole "
			    "number from 0 (one per core) to 256");
		c->workers = (unsigned)config_setting_get_int(s);
	}
	c->drain_timeout_ms = 30000;
	if (seconds(L, root, "drain_timeout", 3600, "close at once",
		&c->drain_timeout_ms) < 0 ||
	    load_logging(L, root, c) != 0 || load_identity(L, root, c) != 0 ||
	    flag(L, root, "close_on_revoke", 1, &c->close_on_revoke) != 0 ||
	    flag(L, root, "close_expired", 0, &c->close_expired) != 0 ||
	    flag(L, root, "sandbox", 1, &c->sandbox) != 0)
		return -1;
	if ((rc = cfgread_string(L, root, "pidfile", "", &v)) < 0)
		return -1;
	if (rc == 0 && (c->pidfile = strdup(v)) == NULL)
		return cfgread_fail(L, root, "out of memory");
	if (config_setting_get_member(root, "metrics") != NULL) {
		if (cfgread_addr(L, root, "metrics", "", &c->metrics) != 0)
			return -1;
		c->has_metrics = 1;
	}
	return 0;
}

int
cfgtop_same(const struct cfg *a, const struct cfg *b, char *why, size_t len)
{
	char x[300], y[300];
	const char *what = NULL;

	if (a->workers != b->workers)
		what = "workers";
	else if (a->uid != b->uid || a->gid != b->gid)
		what = "user or group";
	else if (a->sandbox != b->sandbox)
		what = "sandbox";
	else if (a->log_format != b->log_format)
		what = "log_format";
	else if (a->has_metrics != b->has_metrics ||
	    (a->has_metrics &&
		strcmp(addr_format(&a->metrics, x, sizeof(x)),
		    addr_format(&b->metrics, y, sizeof(y))) != 0))
		what = "metrics";
	else if ((a->pidfile == NULL) != (b->pidfile == NULL) ||
	    (a->pidfile != NULL && strcmp(a->pidfile, b->pidfile) != 0))
		what = "pidfile";
	if (what == NULL)
		return 1;
	snprintf(why, len, "%s changed; that takes a restart", what);
	return 0;
}
