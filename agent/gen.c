/* SPDX-License-Identifier: MIT */
/*
 * gen.c: generations of config and TLS contexts.  The pointer to the
 * current one is read under a mutex only when a connection is accepted,
 * never on the data path.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "common/tlsctx.h"
#include "agent/link.h"
#include "agent/gen.h"

static uv_once_t gen_once = UV_ONCE_INIT;
static uv_mutex_t gen_lock;
static struct gen *gen_in_force;

static void
gen_init_lock(void)
{
	if (uv_mutex_init(&gen_lock) != 0)
		abort();
}

static time_t
not_after(const X509 *x)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		return 0;
	return timegm(&tm);
}

/* expiry: when the leaf, and the first of the CA's certificates, end. */
static void
expiry(SSL_CTX *ctx, time_t *leaf, time_t *ca)
{
	STACK_OF(X509_OBJECT) * objs;

	*leaf = not_after(SSL_CTX_get0_certificate(ctx));
	*ca = 0;
	objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		time_t t;

		if (x != NULL && (t = not_after(x)) != 0 &&
		    (*ca == 0 || t < *ca))
			*ca = t;
	}
}

struct gen *
gen_load(const char *path, unsigned long id, char *err, size_t len)
{
	struct gen *g = calloc(1, sizeof(*g));

	if (g == NULL || (g->cfg = cfg_load(path, err, len)) == NULL ||
	    /* NOLINTNEXTLINE(bugprone-sizeof-expression): SSL_CTX *[] */
	    (g->ctx = calloc(g->cfg->ntunnels, sizeof(*g->ctx))) == NULL ||
	    (g->cert_until = calloc(g->cfg->ntunnels, sizeof(time_t))) ==
		NULL ||
	    (g->ca_until = calloc(g->cfg->ntunnels, sizeof(time_t))) == NULL) {
		if (g != NULL && g->cfg != NULL)
			snprintf(err, len, "%s: out of memory", path);
		if (g != NULL) {
			cfg_free(g->cfg);
			free(g->ctx);
			free(g->cert_until);
			free(g->ca_until);
		}
		free(g);
		return NULL;
	}
	atomic_init(&g->refs, 1);
	g->id = id;
	for (size_t i = 0; i < g->cfg->ntunnels; i++) {
		const struct cfg_tunnel *t = &g->cfg->tunnels[i];

		if ((g->ctx[i] = tlsctx_new(g->cfg, t, err, len)) == NULL) {
			gen_unref(g);
			return NULL;
		}
		expiry(g->ctx[i], &g->cert_until[i], &g->ca_until[i]);
		if (t->mode == CFG_MODE_CLIENT) {
			/* Sessions are kept per worker by the callback, not in
			 * OpenSSL's locked internal cache. */
			SSL_CTX_set_session_cache_mode(g->ctx[i],
			    SSL_SESS_CACHE_CLIENT |
				SSL_SESS_CACHE_NO_INTERNAL_STORE);
			SSL_CTX_sess_set_new_cb(g->ctx[i], link_new_session_cb);
		}
	}
	return g;
}

struct gen *
gen_ref(struct gen *g)
{
	atomic_fetch_add(&g->refs, 1);
	return g;
}

void
gen_unref(struct gen *g)
{
	if (g == NULL || atomic_fetch_sub(&g->refs, 1) != 1)
		return;
	for (size_t i = 0; g->ctx != NULL && i < g->cfg->ntunnels; i++)
		SSL_CTX_free(g->ctx[i]);
	free(g->ctx);
	free(g->cert_until);
	free(g->ca_until);
	cfg_free(g->cfg);
	free(g);
}

struct gen *
gen_current(void)
{
	struct gen *g;

	uv_once(&gen_once, gen_init_lock);
	uv_mutex_lock(&gen_lock);
	g = gen_ref(gen_in_force);
	uv_mutex_unlock(&gen_lock);
	return g;
}

int
gen_stale(const struct gen *g)
{
	int stale;

	uv_once(&gen_once, gen_init_lock);
	uv_mutex_lock(&gen_lock);
	stale = g != gen_in_force;
	uv_mutex_unlock(&gen_lock);
	return stale;
}

void
gen_install(struct gen *g)
{
	struct gen *old;

	uv_once(&gen_once, gen_init_lock);
	uv_mutex_lock(&gen_lock);
	old = gen_in_force;
	gen_in_force = g;
	uv_mutex_unlock(&gen_lock);
	gen_unref(old);
}
