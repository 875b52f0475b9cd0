/* SPDX-License-Identifier: MIT */
/*
 * cfg.c: libconfig tree -> struct cfg.  Every key the file may hold is
 * known here; an unknown key is an error, so a typo never silently turns a
 * setting off.  Numeric limits come from one table that holds each key's
 * default and range, and may be set at top level or in a tunnel.
 */
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "common/analyzer.h"
#include "common/cfg.h"
#include "common/cfgread.h"
#include "common/cfgtop.h"

/* Numeric tunnel settings: seconds unless said otherwise. */
struct limit_def {
	const char *key;
	size_t offset;
	double def, min, max;
	unsigned scale; /* stored value = seconds * scale */
};

#define TUN_OFF(f) offsetof(struct cfg_tunnel, f)
static const struct limit_def limit_defs[] = {
	{ "connect_timeout", TUN_OFF(connect_timeout_ms), 10, 0.001, 3600,
	    1000 },
	{ "handshake_timeout", TUN_OFF(handshake_timeout_ms), 10, 0.001, 3600,
	    1000 },
	{ "idle_timeout", TUN_OFF(idle_timeout_ms), 0, 0, 30 * 86400, 1000 },
	{ "keepalive", TUN_OFF(keepalive_s), 30, 0, 86400, 1 },
	{ "keepalive_interval", TUN_OFF(keepalive_interval_s), 5, 1, 3600, 1 },
	{ "keepalive_count", TUN_OFF(keepalive_count), 3, 1, 100, 1 },
	{ "user_timeout", TUN_OFF(user_timeout_ms), 30, 0, 3600, 1000 },
	{ "max_connections", TUN_OFF(max_connections), 4096, 1, 1000000, 1 },
	{ "prewarm", TUN_OFF(prewarm), 0, 0, 1000, 1 },
};
#define NLIMITS (sizeof(limit_defs) / sizeof(limit_defs[0]))

static const char *const top_keys[] = { "tls", "tunnels", "workers",
	"log_level", "log_format", "pidfile", "drain_timeout", "user", "group",
	"metrics", "close_on_revoke", "close_expired", "sandbox", NULL };
static const char *const tls_keys[] = { "cert", "key", "ca", "crl",
	"min_version", "reload", "expiry_warn_days", NULL };
static const char *const tunnel_keys[] = { "name", "mode", "protocol", "listen",
	"connect", "server_name", "tls", "allow", "allow_any", "listen_mode",
	"listen_owner", "listen_group", NULL };
static const char *const allow_keys[] = { "cn", "dns", "uri", "ou",
	"spki_sha256", NULL };

static int
is_known(const char *name, const char *const *keys, int with_limits)
{
	for (; *keys; keys++)
		if (strcmp(name, *keys) == 0)
			return 1;
	if (with_limits)
		for (size_t i = 0; i < NLIMITS; i++)
			if (strcmp(name, limit_defs[i].key) == 0)
				return 1;
	return 0;
}

static int
check_keys(struct cfgread *L, const config_setting_t *group,
    const char *const *keys, int with_limits, const char *what)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group,
		    (unsigned)i);
		const char *name = config_setting_name(s);

		if (name != NULL && !is_known(name, keys, with_limits))
			return cfgread_fail(L, s, "%sunknown setting \"%s\"",
			    what, name);
	}
	return 0;
}

/* get_string: 0 and *out (borrowed) if present, 1 if absent, -1 on error. */
static int
load_tls(struct cfgread *L, const config_setting_t *g, const char *what,
    struct cfg_tls *t)
{
	config_setting_t *s;
	const char *v = NULL;
	int rc;

	if (!config_setting_is_group(g))
		return cfgread_fail(L, g, "%s\"tls\" must be a group { ... }",
		    what);
	if (check_keys(L, g, tls_keys, 0, what) != 0)
		return -1;
	if (cfgread_file(L, g, "cert", what, &t->cert) < 0 ||
	    cfgread_file(L, g, "key", what, &t->key) < 0 ||
	    cfgread_file(L, g, "ca", what, &t->ca) < 0 ||
	    cfgread_file(L, g, "crl", what, &t->crl) < 0)
		return -1;
	if ((rc = cfgread_string(L, g, "reload", what, &v)) < 0)
		return -1;
	if (rc == 0) {
		if (strcmp(v, "watch") != 0 && strcmp(v, "signal") != 0)
			return cfgread_fail(L,
			    config_setting_get_member(g, "reload"),
			    "%sunknown reload \"%s\" (use \"signal\" or "
			    "\"watch\")",
			    what, v);
		t->watch = strcmp(v, "watch") == 0;
	}
	if ((s = config_setting_get_member(g, "expiry_warn_days")) != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_INT ||
		    config_setting_get_int(s) < 0 ||
		    config_setting_get_int(s) > 3650)
			return cfgread_fail(L, s,
			    "%sexpiry_warn_days must be a whole "
			    "number from 0 to 3650",
			    what);
		t->expiry_warn_days = (unsigned)config_setting_get_int(s);
	}
	if ((rc = cfgread_string(L, g, "min_version", what, &v)) < 0)
		return -1;
	if (rc == 0) {
		if (strcmp(v, "1.2") == 0)
			t->min_version = TLS1_2_VERSION;
		else if (strcmp(v, "1.3") == 0)
			t->min_version = TLS1_3_VERSION;
		else
			return cfgread_fail(L,
			    config_setting_get_member(g, "min_version"),
			    "%sunknown min_version \"%s\" "
			    "(use \"1.2\" or \"1.3\")",
			    what, v);
	}
	return 0;
}

/* What copy_tls and load_list allocate belongs to the config they fill,
 * freed by cfg_free, also when they fail half way. */
LEAK_CHECK_OFF
static int
copy_tls(struct cfg_tls *dst, const struct cfg_tls *src)
{
	const struct cfg_file *s[] = { &src->cert, &src->key, &src->ca,
		&src->crl };
	struct cfg_file *d[] = { &dst->cert, &dst->key, &dst->ca, &dst->crl };

	for (int i = 0; i < 4; i++) {
		d[i]->line = s[i]->line;
		if (s[i]->path && (d[i]->path = strdup(s[i]->path)) == NULL)
			return -1;
	}
	dst->min_version = src->min_version;
	dst->watch = src->watch;
	dst->expiry_warn_days = src->expiry_warn_days;
	return 0;
}

static void free_list(char **l);

static int
load_list(struct cfgread *L, const config_setting_t *g, const char *key,
    const char *what, char ***out, size_t *n)
{
	config_setting_t *s = config_setting_get_member(g, key);
	int len;

	if (s == NULL)
		return 0;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return cfgread_fail(L, s,
		    "%sallow.%s must be a list [ \"...\" ]", what, key);
	len = config_setting_length(s);
	if ((*out = calloc((size_t)len + 1, sizeof(char *))) == NULL)
		return cfgread_fail(L, s, "out of memory");
	for (int i = 0; i < len; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v;

		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    *(v = config_setting_get_string(e)) == '\0')
			return cfgread_fail(L, s,
			    "%sallow.%s holds a value that is "
			    "not a non-empty string",
			    what, key);
		if (((*out)[i] = strdup(v)) == NULL)
			return cfgread_fail(L, s, "out of memory");
		(*n)++;
	}
	return 0;
}
LEAK_CHECK_ON

static int
load_allow(struct cfgread *L, const config_setting_t *g, const char *what,
    struct cfg_allow *a)
{
	if (!config_setting_is_group(g))
		return cfgread_fail(L, g,
		    "%s\"allow\" must be a group { cn = [...]; }", what);
	char **pins = NULL;
	size_t npins = 0;
	int rc = -1;

	if (check_keys(L, g, allow_keys, 0, what) != 0 ||
	    load_list(L, g, "cn", what, &a->cn, &a->ncn) != 0 ||
	    load_list(L, g, "dns", what, &a->dns, &a->ndns) != 0 ||
	    load_list(L, g, "uri", what, &a->uri, &a->nuri) != 0 ||
	    load_list(L, g, "ou", what, &a->ou, &a->nou) != 0 ||
	    load_list(L, g, "spki_sha256", what, &pins, &npins) != 0)
		goto out;
	if (npins > 0 && (a->spki = calloc(npins, CFG_SPKI_LEN)) == NULL) {
		cfgread_say(L, g, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < npins; i++, a->nspki++) {
		if (cfg_spki_parse(pins[i], a->spki[i]) != 0) {
			cfgread_say(L,
			    config_setting_get_member(g, "spki_sha256"),
			    "%sallow.spki_sha256 \"%s\" is not a SHA-256 "
			    "digest (64 hex digits or 44 base64 characters)",
			    what, pins[i]);
			goto out;
		}
	}
	if (a->ncn + a->ndns + a->nuri + a->nou + a->nspki == 0) {
		cfgread_say(L, g,
		    "%s\"allow\" names nobody; list cn, dns, uri, ou "
		    "or spki_sha256 entries, or use allow_any = true",
		    what);
		goto out;
	}
	rc = 0;
out:
	free_list(pins);
	return rc;
}

/* load_limit: tunnel value, else top-level value, else the default. */
static int
load_limit(struct cfgread *L, const config_setting_t *root,
    const config_setting_t *tun, const struct limit_def *d, const char *what,
    struct cfg_tunnel *t)
{
	config_setting_t *s = config_setting_get_member(tun, d->key);
	double v = d->def;

	if (s == NULL)
		s = config_setting_get_member(root, d->key);
	if (s != NULL) {
		int type = config_setting_type(s);

		if (type == CONFIG_TYPE_INT)
			v = config_setting_get_int(s);
		else if (type == CONFIG_TYPE_INT64)
			v = (double)config_setting_get_int64(s);
		else if (type == CONFIG_TYPE_FLOAT)
			v = config_setting_get_float(s);
		else
			return cfgread_fail(L, s, "%s\"%s\" must be a number",
			    what, d->key);
		if (!(v == 0 && d->min == 0) && (v < d->min || v > d->max))
			return cfgread_fail(L, s,
			    "%s\"%s\" = %g is out of range "
			    "(%g to %g)",
			    what, d->key, v, d->min, d->max);
	}
	*(unsigned *)(void *)((char *)t + d->offset) = (unsigned)(v * d->scale +
	    0.5);
	return 0;
}

/*
 * load_socket_perms: listen_mode ("0660"), listen_owner and
 * listen_group (names) for a unix socket listener; names are looked up
 * now, so that --check finds the unknown ones.
 */
static int
load_socket_perms(struct cfgread *L, const config_setting_t *g,
    const char *what, struct cfg_tunnel *t)
{
	const char *v = NULL;
	char *end;
	int rc;

	t->listen_mode = -1;
	t->listen_uid = (uid_t)-1;
	t->listen_gid = (gid_t)-1;
	if ((rc = cfgread_string(L, g, "listen_mode", what, &v)) < 0)
		return -1;
	if (rc == 0) {
		long m = strtol(v, &end, 8);

		if (*end != '\0' || m < 0 || m > 0777)
			return cfgread_fail(L,
			    config_setting_get_member(g, "listen_mode"),
			    "%slisten_mode \"%s\" is not an "
			    "octal mode like \"0660\"",
			    what, v);
		t->listen_mode = (int)m;
	}
	if (cfgread_user(L, g, "listen_owner", what, &t->listen_uid, NULL) <
		0 ||
	    cfgread_group(L, g, "listen_group", what, &t->listen_gid) < 0)
		return -1;
	if ((t->listen_mode >= 0 || t->listen_uid != (uid_t)-1 ||
		t->listen_gid != (gid_t)-1) &&
	    t->listen.kind != ADDR_UNIX)
		return cfgread_fail(L, g,
		    "%slisten_mode, listen_owner and listen_group "
		    "are for a unix socket listener",
		    what);
	return 0;
}

static int
load_tunnel(struct cfgread *L, const config_setting_t *root,
    const config_setting_t *g, const struct cfg_tls *deftls,
    struct cfg_tunnel *t)
{
	config_setting_t *s;
	const char *v = NULL;
	char what[160];
	int rc;

	t->line = config_setting_source_line(g);
	if (!config_setting_is_group(g))
		return cfgread_fail(L, g,
		    "each tunnel must be a group { ... }");
	if ((rc = cfgread_string(L, g, "name", "tunnel: ", &v)) < 0)
		return -1;
	if (rc == 1)
		return cfgread_fail(L, g, "tunnel without a \"name\"");
	/* It labels log lines and metrics: keep it plain. */
	if (strlen(v) > 64 ||
	    strspn(v,
		"abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(v))
		return cfgread_fail(L, config_setting_get_member(g, "name"),
		    "tunnel name \"%s\": use at most 64 letters, digits, "
		    "'.', '_' and '-'",
		    v);
	if ((t->name = strdup(v)) == NULL)
		return cfgread_fail(L, g, "out of memory");
	snprintf(what, sizeof(what), "tunnel \"%s\": ", t->name);
	if (check_keys(L, g, tunnel_keys, 1, what) != 0)
		return -1;

	if ((rc = cfgread_string(L, g, "mode", what, &v)) < 0)
		return -1;
	if (rc == 1)
		return cfgread_fail(L, g,
		    "%smissing \"mode\" (\"client\" or "
		    "\"server\")",
		    what);
	if (strcmp(v, "client") == 0)
		t->mode = CFG_MODE_CLIENT;
	else if (strcmp(v, "server") == 0)
		t->mode = CFG_MODE_SERVER;
	else
		return cfgread_fail(L, config_setting_get_member(g, "mode"),
		    "%sunknown mode \"%s\" (use \"client\" or \"server\")",
		    what, v);

	if ((rc = cfgread_string(L, g, "protocol", what, &v)) < 0)
		return -1;
	if (rc == 1)
		return cfgread_fail(L, g, "%smissing \"protocol\"", what);
	if (strcmp(v, "postgresql") == 0)
		t->proto = CFG_PROTO_POSTGRESQL;
	else if (strcmp(v, "mongodb") == 0)
		t->proto = CFG_PROTO_MONGODB;
	else if (strcmp(v, "tcp") == 0)
		t->proto = CFG_PROTO_TCP;
	else
		return cfgread_fail(L, config_setting_get_member(g, "protocol"),
		    "%sunknown protocol \"%s\" (use \"postgresql\", "
		    "\"mongodb\" or \"tcp\")",
		    what, v);

	if (cfgread_addr(L, g, "listen", what, &t->listen) != 0 ||
	    cfgread_addr(L, g, "connect", what, &t->connect) != 0)
		return -1;

	if (load_socket_perms(L, g, what, t) != 0)
		return -1;
	if ((rc = cfgread_string(L, g, "server_name", what, &v)) < 0)
		return -1;
	if (rc == 0 && t->mode == CFG_MODE_SERVER)
		return cfgread_fail(L,
		    config_setting_get_member(g, "server_name"),
		    "%sserver_name is for client tunnels", what);
	if (rc == 1 && t->mode == CFG_MODE_CLIENT) {
		if (t->connect.kind == ADDR_UNIX)
			return cfgread_fail(L, g,
			    "%sconnect is a unix socket, so "
			    "server_name must say which name the server's "
			    "certificate carries",
			    what);
		v = t->connect.host;
	}
	if (t->mode == CFG_MODE_CLIENT && (t->server_name = strdup(v)) == NULL)
		return cfgread_fail(L, g, "out of memory");

	if (copy_tls(&t->tls, deftls) != 0)
		return cfgread_fail(L, g, "out of memory");
	if ((s = config_setting_get_member(g, "tls")) != NULL &&
	    load_tls(L, s, what, &t->tls) != 0)
		return -1;
	if (t->tls.cert.path == NULL || t->tls.key.path == NULL ||
	    t->tls.ca.path == NULL)
		return cfgread_fail(L, g,
		    "%sneeds tls cert, key and ca (at top level "
		    "or in the tunnel): both sides authenticate",
		    what);

	if ((s = config_setting_get_member(g, "allow")) != NULL) {
		if (load_allow(L, s, what, &t->allow) != 0)
			return -1;
		t->has_allow = 1;
	}
	if ((s = config_setting_get_member(g, "allow_any")) != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			return cfgread_fail(L, s,
			    "%sallow_any must be true or false", what);
		t->allow_any = config_setting_get_bool(s);
		if (t->allow_any && t->has_allow)
			return cfgread_fail(L, s,
			    "%sallow_any = true and an allow "
			    "list contradict each other; keep one",
			    what);
		if (t->allow_any && t->mode == CFG_MODE_CLIENT)
			return cfgread_fail(L, s,
			    "%sallow_any is for server tunnels", what);
	}
	if (t->mode == CFG_MODE_SERVER && !t->has_allow && !t->allow_any)
		return cfgread_fail(L, g,
		    "%sa server tunnel must say who may connect: "
		    "allow = { cn = [...]; dns = [...]; uri = [...]; } or "
		    "allow_any = true",
		    what);

	for (size_t i = 0; i < NLIMITS; i++)
		if (load_limit(L, root, g, &limit_defs[i], what, t) != 0)
			return -1;
	if (t->prewarm > 0 && t->mode == CFG_MODE_SERVER &&
	    config_setting_get_member(g, "prewarm") != NULL)
		return cfgread_fail(L, config_setting_get_member(g, "prewarm"),
		    "%sprewarm is for client tunnels", what);
	if (t->mode == CFG_MODE_SERVER)
		t->prewarm = 0;
	return 0;
}

static int
same_listen(const struct addr *a, const struct addr *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == ADDR_UNIX)
		return strcmp(a->path, b->path) == 0;
	return a->port != 0 && a->port == b->port &&
	    strcmp(a->host, b->host) == 0;
}

static void
free_tls(struct cfg_tls *t)
{
	free(t->cert.path);
	free(t->key.path);
	free(t->ca.path);
	free(t->crl.path);
}

static struct cfg *
load_tree(config_t *conf, struct cfgread *L)
{
	config_setting_t *root = config_root_setting(conf), *s, *list;
	struct cfg_tls deftls = { .min_version = TLS1_3_VERSION,
		.expiry_warn_days = 14 };
	struct cfg *c;
	int n;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(L->file)) == NULL) {
		snprintf(L->err, L->errlen, "%s: out of memory", L->file);
		goto fail;
	}
	if (check_keys(L, root, top_keys, 1, "") != 0 ||
	    cfgtop_load(L, root, c) != 0)
		goto fail;
	if ((s = config_setting_get_member(root, "tls")) != NULL &&
	    load_tls(L, s, "", &deftls) != 0)
		goto fail;

	list = config_setting_get_member(root, "tunnels");
	if (list == NULL || !config_setting_is_list(list) ||
	    (n = config_setting_length(list)) == 0) {
		cfgread_say(L, list,
		    "\"tunnels\" must be a non-empty list ( { ... }, "
		    "... )");
		goto fail;
	}
	if ((c->tunnels = calloc((size_t)n, sizeof(*c->tunnels))) == NULL) {
		snprintf(L->err, L->errlen, "%s: out of memory", L->file);
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		struct cfg_tunnel *t = &c->tunnels[i];

		c->ntunnels++;
		if (load_tunnel(L, root,
			config_setting_get_elem(list, (unsigned)i), &deftls,
			t) != 0)
			goto fail;
		for (int j = 0; j < i; j++) {
			if (strcmp(c->tunnels[j].name, t->name) == 0) {
				cfgread_say(L,
				    config_setting_get_elem(list, (unsigned)i),
				    "tunnel \"%s\": name "
				    "already used on line %d",
				    t->name, c->tunnels[j].line);
				goto fail;
			}
			if (same_listen(&c->tunnels[j].listen, &t->listen)) {
				cfgread_say(L,
				    config_setting_get_elem(list, (unsigned)i),
				    "tunnel \"%s\": listen "
				    "address already used by tunnel \"%s\"",
				    t->name, c->tunnels[j].name);
				goto fail;
			}
		}
	}
	free_tls(&deftls);
	return c;

fail:
	free_tls(&deftls);
	cfg_free(c);
	return NULL;
}

static struct cfg *
load(config_t *conf, int ok, const char *name, char *err, size_t errlen)
{
	struct cfgread L = { name, err, errlen };
	struct cfg *c = NULL;

	if (!ok) {
		const char *file = config_error_file(conf);

		if (config_error_type(conf) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read the file", name);
		else
			snprintf(err, errlen, "%s:%d: %s", file ? file : name,
			    config_error_line(conf), config_error_text(conf));
	} else {
		c = load_tree(conf, &L);
	}
	config_destroy(conf);
	return c;
}

struct cfg *
cfg_load(const char *path, char *err, size_t errlen)
{
	config_t conf;

	config_init(&conf);
	return load(&conf, config_read_file(&conf, path) == CONFIG_TRUE, path,
	    err, errlen);
}

struct cfg *
cfg_load_string(const char *text, const char *name, char *err, size_t errlen)
{
	config_t conf;

	config_init(&conf);
	return load(&conf, config_read_string(&conf, text) == CONFIG_TRUE, name,
	    err, errlen);
}

static void
free_list(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

void
cfg_free(struct cfg *c)
{
	if (c == NULL)
		return;
	/* ntunnels counts what was read into tunnels: none if it is NULL. */
	for (size_t i = 0; c->tunnels != NULL && i < c->ntunnels; i++) {
		struct cfg_tunnel *t = &c->tunnels[i];

		free(t->name);
		free(t->server_name);
		free_tls(&t->tls);
		free_list(t->allow.cn);
		free_list(t->allow.dns);
		free_list(t->allow.uri);
		free_list(t->allow.ou);
		free(t->allow.spki);
	}
	free(c->tunnels);
	free(c->pidfile);
	free(c->user);
	free(c->group);
	free(c->path);
	free(c);
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	    c >= 'a' && c <= 'f'    ? c - 'a' + 10 :
	    c >= 'A' && c <= 'F'    ? c - 'A' + 10 :
				      -1;
}

int
cfg_spki_parse(const char *s, unsigned char out[CFG_SPKI_LEN])
{
	unsigned char buf[CFG_SPKI_LEN + 2];
	size_t digits = 0;
	int hex = 1;

	/* Hex: exactly 64 digits, colons between them allowed. */
	for (const char *p = s; *p && hex; p++) {
		int v = hexval(*p);

		if (*p == ':')
			continue;
		if (v < 0 || digits == (size_t)2 * CFG_SPKI_LEN)
			hex = 0;
		else if (digits++ % 2 == 0)
			buf[digits / 2] = (unsigned char)(v << 4);
		else
			buf[digits / 2 - 1] |= (unsigned char)v;
	}
	if (hex && digits == (size_t)2 * CFG_SPKI_LEN) {
		memcpy(out, buf, CFG_SPKI_LEN);
		return 0;
	}
	/* Base64: 44 characters with one '=' of padding. */
	if (strlen(s) != 44 || s[43] != '=' || s[42] == '=' ||
	    EVP_DecodeBlock(buf, (const unsigned char *)s, 44) != 33)
		return -1;
	memcpy(out, buf, CFG_SPKI_LEN);
	return 0;
}

static int
same_addr(const struct addr *a, const struct addr *b)
{
	char x[300], y[300];

	return strcmp(addr_format(a, x, sizeof(x)),
		   addr_format(b, y, sizeof(y))) == 0;
}

int
cfg_same_shape(const struct cfg *a, const struct cfg *b, char *why, size_t len)
{
	if (a->ntunnels != b->ntunnels) {
		snprintf(why, len, "the number of tunnels changed");
		return 0;
	}
	if (!cfgtop_same(a, b, why, len))
		return 0;
	for (size_t i = 0; i < a->ntunnels; i++) {
		const struct cfg_tunnel *x = &a->tunnels[i],
					*y = &b->tunnels[i];
		const char *what = NULL;

		if (strcmp(x->name, y->name) != 0)
			what = "name";
		else if (x->mode != y->mode)
			what = "mode";
		else if (x->proto != y->proto)
			what = "protocol";
		else if (!same_addr(&x->listen, &y->listen) ||
		    x->listen_mode != y->listen_mode ||
		    x->listen_uid != y->listen_uid ||
		    x->listen_gid != y->listen_gid)
			what = "listen";
		else if (!same_addr(&x->connect, &y->connect))
			what = "connect";
		if (what != NULL) {
			snprintf(why, len,
			    "tunnel \"%s\": %s changed; that "
			    "takes a restart",
			    x->name, what);
			return 0;
		}
	}
	return 1;
}

const char *
cfg_mode_name(enum cfg_mode m)
{
	return m == CFG_MODE_CLIENT ? "client" : "server";
}

const char *
cfg_proto_name(enum cfg_proto p)
{
	switch (p) {
	case CFG_PROTO_POSTGRESQL:
		return "postgresql";
	case CFG_PROTO_MONGODB:
		return "mongodb";
	default:
		return "tcp";
	}
}
