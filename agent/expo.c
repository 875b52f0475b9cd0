/* SPDX-License-Identifier: MIT */
/*
 * expo.c: /metrics.  Each family is written once with HELP and TYPE,
 * then a sample per tunnel (and per label value); the names are the ones
 * dashboards are written against, so they never change.  Counters are the
 * workers' own, summed here; a histogram's buckets are stored apart and
 * made cumulative here, so +Inf always equals _count.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <uv.h>

#include "agent/expo.h"
#include "agent/gen.h"
#include "agent/stats.h"
#include "agent/worker.h"

#define STALL_NS (5ULL * 1000000000) /* a loop this quiet is stuck */

void
expo_printf(struct expo_buf *b, const char *fmt, ...)
{
	va_list ap;

	for (;;) {
		int n;

		va_start(ap, fmt);
		n = vsnprintf(b->data ? b->data + b->len : NULL,
		    b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0 || b->failed)
			return;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 16384;
		char *d;

		while (cap - b->len <= (size_t)n)
			cap *= 2;
		if ((d = realloc(b->data, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
}

void
expo_free(struct expo_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* label: a label value, escaped as the format says (\\, \", \n). */
static const char *
label(const char *v, char *buf, size_t len)
{
	size_t n = 0;

	for (; *v != '\0' && n + 3 < len; v++) {
		if (*v == '\\' || *v == '"' || *v == '\n')
			buf[n++] = '\\';
		buf[n++] = (char)(*v == '\n' ? 'n' : *v);
	}
	buf[n] = '\0';
	return buf;
}

static void
family(struct expo_buf *b, const char *name, const char *type, const char *help)
{
	expo_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* sum: the counter at offset off in every worker's stats of tunnel i. */
static unsigned long long
sum(const struct agent *a, size_t i, size_t off)
{
	unsigned long long n = 0;

	for (unsigned w = 0; w < a->nworkers; w++)
		n += stats_get((const _Atomic uint64_t *)(const void
			*)((const char *)&a->workers[w].stats[i] + off));
	return n;
}

#define FIELD(f) offsetof(struct stats_tunnel, f)

/* per_tunnel: one sample per tunnel of the counter at off. */
static void
per_tunnel(struct expo_buf *b, const struct agent *a, const char *name,
    size_t off)
{
	for (size_t i = 0; i < a->ntunnels; i++) {
		char l[300];

		expo_printf(b, "%s{tunnel=\"%s\"} %llu\n", name,
		    label(a->tunnels[i].cfg->name, l, sizeof(l)),
		    sum(a, i, off));
	}
}

/* per_tunnel_by: the same, with one more label, key="value". */
static void
per_tunnel_by(struct expo_buf *b, const struct agent *a, const char *name,
    const char *key, const char *value, size_t off)
{
	for (size_t i = 0; i < a->ntunnels; i++) {
		char l[300];

		expo_printf(b, "%s{tunnel=\"%s\",%s=\"%s\"} %llu\n", name,
		    label(a->tunnels[i].cfg->name, l, sizeof(l)), key, value,
		    sum(a, i, off));
	}
}

/* hist_of: which < 0: the handshake histogram; else dial[which]. */
static const struct stats_hist *
hist_of(const struct stats_tunnel *st, int which)
{
	return which < 0 ? &st->handshake : &st->dial[which];
}

/* histogram: tunnel i's histogram, cumulative over the buckets. */
static void
histogram(struct expo_buf *b, const struct agent *a, const char *name, size_t i,
    int which, const char *labels)
{
	unsigned long long cum = 0;
	uint64_t sum_ns = 0;

	for (unsigned w = 0; w < a->nworkers; w++)
		sum_ns += stats_get(
		    &hist_of(&a->workers[w].stats[i], which)->sum_ns);
	for (size_t k = 0; k <= STATS_BUCKETS; k++) {
		for (unsigned w = 0; w < a->nworkers; w++)
			cum += stats_get(
			    &hist_of(&a->workers[w].stats[i], which)
				 ->bucket[k]);
		if (k < STATS_BUCKETS)
			expo_printf(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name,
			    labels, stats_bounds[k], cum);
		else
			expo_printf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name,
			    labels, cum);
	}
	expo_printf(b, "%s_sum{%s} %.9f\n%s_count{%s} %llu\n", name, labels,
	    (double)sum_ns / 1e9, name, labels, cum);
}

static void
traffic(struct expo_buf *b, struct agent *a)
{
	family(b, "dbtls_connections_open", "gauge",
	    "App connections open now.");
	per_tunnel(b, a, "dbtls_connections_open", FIELD(conns_open));
	family(b, "dbtls_connections_total", "counter",
	    "App connections taken on (refused ones are not counted).");
	per_tunnel(b, a, "dbtls_connections_total", FIELD(conns_total));
	family(b, "dbtls_bytes_total", "counter",
	    "Bytes of app data carried, toward and from the database.");
	per_tunnel_by(b, a, "dbtls_bytes_total", "direction", "to_db",
	    FIELD(to_db));
	per_tunnel_by(b, a, "dbtls_bytes_total", "direction", "from_db",
	    FIELD(from_db));
	family(b, "dbtls_refused_total", "counter",
	    "Connections refused, by reason.");
	for (int r = 0; r < REFUSED_N; r++)
		per_tunnel_by(b, a, "dbtls_refused_total", "reason",
		    stats_refusal_name(r),
		    FIELD(refused) + (size_t)r * sizeof(uint64_t));
	family(b, "dbtls_links_open", "gauge",
	    "TLS connections to or from the other agent (or a TLS peer) "
	    "open now.");
	per_tunnel(b, a, "dbtls_links_open", FIELD(links_open));
	family(b, "dbtls_streams_total", "counter",
	    "App connections started as streams over kept TLS connections.");
	per_tunnel(b, a, "dbtls_streams_total", FIELD(streams_total));
}

static void
timing(struct expo_buf *b, struct agent *a)
{
	family(b, "dbtls_handshakes_total", "counter",
	    "TLS handshakes completed and accepted, full or resumed.");
	per_tunnel_by(b, a, "dbtls_handshakes_total", "resumed", "no",
	    FIELD(handshakes));
	per_tunnel_by(b, a, "dbtls_handshakes_total", "resumed", "yes",
	    FIELD(handshakes) + sizeof(uint64_t));
	family(b, "dbtls_handshake_seconds", "histogram",
	    "From the first byte of negotiation to an accepted peer.");
	for (size_t i = 0; i < a->ntunnels; i++) {
		char l[300], labels[320];

		snprintf(labels, sizeof(labels), "tunnel=\"%s\"",
		    label(a->tunnels[i].cfg->name, l, sizeof(l)));
		histogram(b, a, "dbtls_handshake_seconds", i, -1, labels);
	}
	family(b, "dbtls_dial_seconds", "histogram",
	    "Connecting to the TLS peer (target=agent) or to the database "
	    "(target=database); successful connects only.");
	for (size_t i = 0; i < a->ntunnels; i++) {
		char l[300], labels[340];

		label(a->tunnels[i].cfg->name, l, sizeof(l));
		for (int t = 0; t < TARGET_N; t++) {
			snprintf(labels, sizeof(labels),
			    "tunnel=\"%s\","
			    "target=\"%s\"",
			    l, stats_target_name(t));
			histogram(b, a, "dbtls_dial_seconds", i, t, labels);
		}
	}
}

static void
certificates(struct expo_buf *b, struct agent *a)
{
	struct gen *g = gen_current();
	char why[512];

	family(b, "dbtls_certificate_expiry_timestamp_seconds", "gauge",
	    "When each tunnel's certificate (and the first of its CA file's) "
	    "expires, in Unix time, as loaded now.");
	for (size_t i = 0; i < a->ntunnels; i++) {
		const struct cfg_tunnel *t = &g->cfg->tunnels[i];
		char l[300], f[4200];

		label(t->name, l, sizeof(l));
		expo_printf(b,
		    "dbtls_certificate_expiry_timestamp_seconds{"
		    "tunnel=\"%s\",file=\"%s\"} %lld\n",
		    l, label(t->tls.cert.path, f, sizeof(f)),
		    (long long)g->cert_until[i]);
		expo_printf(b,
		    "dbtls_certificate_expiry_timestamp_seconds{"
		    "tunnel=\"%s\",file=\"%s\"} %lld\n",
		    l, label(t->tls.ca.path, f, sizeof(f)),
		    (long long)g->ca_until[i]);
	}
	gen_unref(g);
	family(b, "dbtls_reloads_total", "counter",
	    "Reloads (SIGHUP or file changes), by result.");
	expo_printf(b,
	    "dbtls_reloads_total{result=\"ok\"} %llu\n"
	    "dbtls_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)stats_get(&stats_process.reloads[1]),
	    (unsigned long long)stats_get(&stats_process.reloads[0]));
	family(b, "dbtls_ready", "gauge", "1 when /readyz answers 200.");
	expo_printf(b, "dbtls_ready %d\n", expo_readiness(a, why, sizeof(why)));
	family(b, "dbtls_build_info", "gauge",
	    "The version of dbtls and of the OpenSSL it runs on.");
	expo_printf(b, "dbtls_build_info{version=\"%s\",openssl=\"%s\"} 1\n",
	    DBTLS_VERSION, OpenSSL_version(OPENSSL_VERSION_STRING));
}

/*
 * stat_num(s, i, &v): field i of /proc/self/stat, counted from s, the ')'
 * that ends the command name (fields split by spaces, 0 the state), into
 * v if it is a number; else v is left as it was.
 */
static void
stat_num(const char *s, int i, unsigned long *v)
{
	unsigned long x;
	char *end;

	for (; i >= 0 && s != NULL; i--)
		if ((s = strchr(s, ' ')) != NULL)
			s++;
	if (s == NULL || *s < '0' || *s > '9')
		return;
	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno != ERANGE && (*end == ' ' || *end == '\n' || *end == '\0'))
		*v = x;
}

/* process: the usual process_* gauges, from /proc/self. */
static void
process(struct expo_buf *b)
{
	unsigned long utime = 0, stime = 0, vsize = 0, rss = 0;
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	struct rlimit rl = { 0, 0 };
	unsigned fds = 0;
	FILE *f;
	DIR *d;

	if ((f = fopen("/proc/self/stat", "r")) != NULL) {
		char line[1024], *p;

		/* Fields after the command name, which may hold spaces. */
		if (fgets(line, sizeof(line), f) != NULL &&
		    (p = strrchr(line, ')')) != NULL) {
			stat_num(p, 11, &utime);
			stat_num(p, 12, &stime);
			stat_num(p, 20, &vsize);
			stat_num(p, 21, &rss);
		}
		fclose(f);
	}
	if ((d = opendir("/proc/self/fd")) != NULL) {
		struct dirent *e;

		while ((e = readdir(d)) != NULL)
			fds += e->d_name[0] != '.';
		closedir(d);
		fds--; /* the directory's own */
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	family(b, "process_cpu_seconds_total", "counter",
	    "User and system CPU time spent, in seconds.");
	expo_printf(b, "process_cpu_seconds_total %.2f\n",
	    (double)(utime + stime) / (double)tick);
	family(b, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.");
	expo_printf(b, "process_resident_memory_bytes %lld\n",
	    (long long)rss * page);
	family(b, "process_virtual_memory_bytes", "gauge",
	    "Virtual memory size in bytes.");
	expo_printf(b, "process_virtual_memory_bytes %lu\n", vsize);
	family(b, "process_open_fds", "gauge", "Open file descriptors.");
	expo_printf(b, "process_open_fds %u\n", fds);
	family(b, "process_max_fds", "gauge",
	    "The most file descriptors the process may open.");
	expo_printf(b, "process_max_fds %llu\n",
	    (unsigned long long)rl.rlim_cur);
	family(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since the Unix epoch, in seconds.");
	expo_printf(b, "process_start_time_seconds %.3f\n",
	    stats_process.start_time);
}

int
expo_health(struct agent *a, char *why, size_t len)
{
	/* Each beat is read before the clock, so it is never later. */
	uint64_t beat = atomic_load(&a->main_beat), now = uv_hrtime();

	if (now - beat > STALL_NS) {
		snprintf(why, len, "the main loop has not run for %.1fs",
		    (double)(now - beat) / 1e9);
		return 0;
	}
	for (unsigned i = 0; i < a->nworkers; i++) {
		beat = atomic_load(&a->workers[i].beat);
		now = uv_hrtime();
		if (now - beat > STALL_NS) {
			snprintf(why, len, "worker %u has not run for %.1fs", i,
			    (double)(now - beat) / 1e9);
			return 0;
		}
	}
	snprintf(why, len, "ok");
	return 1;
}

int
expo_readiness(struct agent *a, char *why, size_t len)
{
	time_t now = time(NULL);
	struct gen *g;
	int ok = 1;

	if (!atomic_load(&a->ready)) {
		snprintf(why, len, "%s",
		    atomic_load(&a->draining) ? "draining" : "starting");
		return 0;
	}
	g = gen_current();
	for (size_t i = 0; i < g->cfg->ntunnels && ok; i++) {
		if (g->cert_until[i] <= now) {
			snprintf(why, len,
			    "tunnel %s: certificate %s has "
			    "expired",
			    g->cfg->tunnels[i].name,
			    g->cfg->tunnels[i].tls.cert.path);
			ok = 0;
		}
	}
	gen_unref(g);
	if (ok)
		snprintf(why, len, "ready");
	return ok;
}

void
expo_metrics(struct expo_buf *b, struct agent *a)
{
	traffic(b, a);
	timing(b, a);
	certificates(b, a);
	process(b);
}
