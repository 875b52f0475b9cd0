/* SPDX-License-Identifier: MIT */
/*
 * reload.c: all-or-nothing reload.  A new generation (config and every TLS
 * context) is built from the files; only if all of it loads, and the
 * config keeps the shape a running agent can take (same tunnels, modes
 * and addresses), is it installed.  Otherwise the agent keeps what it
 * has, logs why and counts the failure.  Open connections are never
 * touched: they hold their own generation.
 *
 * With reload = "watch" the directories holding the files are watched
 * (inotify through libuv).  Watching directories, not files, follows
 * atomic renames and Kubernetes' "..data" symlink swap, where the file
 * named in the config is a symlink whose target changes.  Events start a
 * short settling timer so a burst of renames becomes one reload.
 */
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>
#include <openssl/x509.h>

#include "common/allow.h"
#include "common/log.h"
#include "agent/gen.h"
#include "agent/notify.h"
#include "agent/reload.h"
#include "agent/stats.h"

#define SETTLE_MS   500
#define DAY_MS	    (24ULL * 3600 * 1000)
#define MAX_WATCHES 64

static uv_loop_t *loop;
static void (*installed)(void);
static const char *config_path;
static unsigned long next_id = 1;
static unsigned long failures;
static uv_signal_t sighup;
static uv_timer_t settle, daily;
static uv_fs_event_t *watches[MAX_WATCHES];
static int nwatches;

static void
free_watch_cb(uv_handle_t *h)
{
	free(h);
}

static void
unwatch(void)
{
	for (int i = 0; i < nwatches; i++)
		uv_close((uv_handle_t *)watches[i], free_watch_cb);
	nwatches = 0;
}

static void settle_cb(uv_timer_t *t);

static void
fs_event_cb(uv_fs_event_t *h, const char *name, int events, int status)
{
	/* Let a burst of renames settle, then reload once. */
	uv_timer_start(&settle, settle_cb, SETTLE_MS, 0);
}

static void
watch_dir(const char *dir)
{
	uv_fs_event_t *h;
	char have[PATH_MAX];
	size_t len;
	int rc;

	for (int i = 0; i < nwatches; i++) {
		len = sizeof(have); /* getpath overwrites it */
		if (uv_fs_event_getpath(watches[i], have, &len) == 0 &&
		    strcmp(have, dir) == 0)
			return;
	}
	if (nwatches == MAX_WATCHES || (h = malloc(sizeof(*h))) == NULL)
		return;
	if ((rc = uv_fs_event_init(loop, h)) != 0) {
		free(h);
		log_warnx("reload: cannot watch %s: %s", dir, uv_strerror(rc));
		return;
	}
	if ((rc = uv_fs_event_start(h, fs_event_cb, dir, 0)) != 0) {
		uv_close((uv_handle_t *)h, free_watch_cb);
		log_warnx("reload: cannot watch %s: %s", dir, uv_strerror(rc));
		return;
	}
	watches[nwatches++] = h;
}

/* watch_file: the directory naming it, and where a symlink leads. */
static void
watch_file(const char *path)
{
	char copy[PATH_MAX], real[PATH_MAX];

	if (path == NULL)
		return;
	snprintf(copy, sizeof(copy), "%s", path);
	watch_dir(dirname(copy));
	if (realpath(path, real) != NULL)
		watch_dir(dirname(real));
}

static void
rewatch(struct gen *g)
{
	unwatch();
	for (size_t i = 0; i < g->cfg->ntunnels; i++) {
		const struct cfg_tls *tls = &g->cfg->tunnels[i].tls;

		if (!tls->watch)
			continue;
		watch_file(tls->cert.path);
		watch_file(tls->key.path);
		watch_file(tls->ca.path);
		watch_file(tls->crl.path);
	}
	if (nwatches > 0)
		log_info("reload: watching %d director%s for new "
			 "certificates",
		    nwatches, nwatches == 1 ? "y" : "ies");
}

void
reload_expiry_check(struct gen *g)
{
	for (size_t i = 0; i < g->cfg->ntunnels; i++) {
		const struct cfg_tunnel *t = &g->cfg->tunnels[i];
		X509 *leaf = SSL_CTX_get0_certificate(g->ctx[i]);
		char id[160], serial[72];
		int days = 0, secs = 0;

		if (leaf == NULL ||
		    !ASN1_TIME_diff(&days, &secs, NULL,
			X509_get0_notAfter(leaf)))
			continue;
		if (days >= (int)t->tls.expiry_warn_days)
			continue;
		allow_identity(leaf, id, sizeof(id));
		allow_serial(leaf, serial, sizeof(serial));
		log_warnx("tunnel=%s: certificate %s (%s, serial %s) %s %d "
			  "day%s",
		    t->name, t->tls.cert.path, id, serial,
		    days < 0 || secs < 0 ? "expired" : "expires in", abs(days),
		    abs(days) == 1 ? "" : "s");
	}
}

static int
reload_failed(const char *why, const char *err)
{
	failures++;
	log_msg(LOG_LVL_ERROR,
	    "reload (%s) failed, keeping the current "
	    "certificates and config (%lu failed reload%s so far): %s",
	    why, failures, failures == 1 ? "" : "s", err);
	return -1;
}

static int
reload_apply(const char *why)
{
	struct gen *g, *old;
	char err[1024], shape[256];

	if ((g = gen_load(config_path, next_id, err, sizeof(err))) == NULL)
		return reload_failed(why, err);
	old = gen_current();
	if (!cfg_same_shape(old->cfg, g->cfg, shape, sizeof(shape))) {
		gen_unref(old);
		gen_unref(g);
		return reload_failed(why, shape);
	}
	gen_unref(old);
	next_id++;
	log_set_level(g->cfg->log_level);
	for (size_t i = 0; i < g->cfg->ntunnels; i++) {
		char serial[72];

		allow_serial(SSL_CTX_get0_certificate(g->ctx[i]), serial,
		    sizeof(serial));
		log_info("reload (%s): tunnel=%s now presents serial %s; open "
			 "connections keep theirs",
		    why, g->cfg->tunnels[i].name, serial);
	}
	reload_expiry_check(g);
	rewatch(g);
	gen_install(g);
	if (installed != NULL)
		installed();
	return 0;
}

int
reload_now(const char *why)
{
	int rc;

	notify_send("RELOADING=1\nSTATUS=reloading (%s)", why);
	rc = reload_apply(why);
	stats_add(&stats_process.reloads[rc == 0], 1);
	notify_send("READY=1\nSTATUS=serving; %s (%lu failed reload%s)",
	    rc == 0 ? "reloaded" : "reload failed, kept the last config",
	    failures, failures == 1 ? "" : "s");
	return rc;
}

static void
sighup_cb(uv_signal_t *h, int signum)
{
	reload_now("SIGHUP");
}

static void
settle_cb(uv_timer_t *t)
{
	reload_now("files changed");
}

static void
daily_cb(uv_timer_t *t)
{
	struct gen *g = gen_current();

	reload_expiry_check(g);
	gen_unref(g);
}

int
reload_start(uv_loop_t *l, const char *path, struct gen *g,
    void (*installed_cb)(void))
{
	int rc;

	loop = l;
	installed = installed_cb;
	config_path = path;
	next_id = g->id + 1;
	if ((rc = uv_signal_init(loop, &sighup)) != 0 ||
	    (rc = uv_signal_start(&sighup, sighup_cb, SIGHUP)) != 0 ||
	    (rc = uv_timer_init(loop, &settle)) != 0 ||
	    (rc = uv_timer_init(loop, &daily)) != 0 ||
	    (rc = uv_timer_start(&daily, daily_cb, DAY_MS, DAY_MS)) != 0)
		return rc;
	reload_expiry_check(g);
	rewatch(g);
	return 0;
}

void
reload_stop(void)
{
	unwatch();
	uv_close((uv_handle_t *)&sighup, NULL);
	uv_close((uv_handle_t *)&settle, NULL);
	uv_close((uv_handle_t *)&daily, NULL);
}
