/* SPDX-License-Identifier: MIT */
/*
 * main.c: dbtls-agent's flags, startup and signals.  Everything that can
 * fail for an operator's reason (config, files, keys, ports) fails here,
 * before any loop runs, with a message naming the file and line.  Then the
 * workers serve, and this thread only waits for signals.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <uv.h>
#include <openssl/ssl.h>

#include "common/analyzer.h"
#include "common/cfg.h"
#include "common/log.h"
#include "common/tlsctx.h"
#include "agent/gen.h"
#include "agent/listen.h"
#include "agent/metrics.h"
#include "agent/notify.h"
#include "agent/privdrop.h"
#include "agent/reload.h"
#include "agent/sandbox.h"
#include "agent/stats.h"
#include "agent/status.h"
#include "agent/worker.h"

static struct agent agent;
static uv_signal_t sig_int, sig_term;
#ifdef DBTLS_SANITIZED
static uv_signal_t sig_escape;

static void
escape_cb(uv_signal_t *h, int signum)
{
	(void)h;
	(void)signum;
	sandbox_escape_test();
}
#endif
static uv_timer_t trim_timer;
static uv_timer_t drain_timer;
static uv_timer_t watchdog_timer;
static uint64_t drain_started;
static unsigned drain_timeout_ms;

/*
 * trim_cb: give memory that glibc keeps after it is freed back to the
 * system: once a burst of new connections is over (the counter moved,
 * then stood still for a tick), and again once a worker has freed its
 * spare chunks.  Thousands of handshakes at once leave a lot of it.
 * Only this thread trims: glibc's arenas are not to be trimmed from
 * several threads at once.
 */
static void
trim_cb(uv_timer_t *t)
{
	static uint64_t seen, trimmed;
	uint64_t now = atomic_load(&agent.next_conn_id);
	int quiet = now == seen;

	atomic_store(&agent.main_beat, uv_hrtime());
	metrics_reap();
	seen = now;
	if ((quiet && now != trimmed) ||
	    atomic_exchange(&agent.trim_wanted, 0)) {
		malloc_trim(0);
		trimmed = now;
	}
}

/* reloaded: workers drop idle connections made with the old material. */
static void
reloaded(void)
{
	for (unsigned i = 0; i < agent.nworkers; i++)
		worker_reloaded(&agent.workers[i]);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dbtls-agent --config FILE [--check | --status]\n"
	    "       dbtls-agent --version | --help\n"
	    "\n"
	    "  -c, --config FILE  the agent's config (libconfig syntax)\n"
	    "  -t, --check        load the config, certificates and keys, "
	    "print \"ok\", exit\n"
	    "  -s, --status       ask the running agent (its metrics address) "
	    "how it is\n"
	    "  -V, --version      print the version\n"
	    "  -h, --help         this text\n"
	    "\n"
	    "Runs in the foreground and logs to stderr.  SIGHUP reloads "
	    "certificates,\nkeys, CAs, CRLs and allow lists; SIGTERM or SIGINT "
	    "drain it (drain_timeout),\na second one stops it at once.\n");
}

/* t->fds is freed with the tunnel, at exit. */
LEAK_CHECK_OFF
static void
open_listeners(struct tunnel *t, unsigned nworkers)
{
	const struct cfg_tunnel *c = t->cfg;
	unsigned short port = c->listen.port;
	char to[300], what[300];

	if ((t->fds = calloc(nworkers, sizeof(int))) == NULL)
		fatal("calloc");
	snprintf(what, sizeof(what), "tunnel \"%s\"", c->name);
	for (unsigned i = 0; i < nworkers; i++) {
		if (c->listen.kind == ADDR_UNIX && i > 0) {
			if ((t->fds[i] = dup(t->fds[0])) < 0)
				fatal("dup");
		} else {
			t->fds[i] = listen_open(&c->listen, &port, what,
			    c->listen_mode, c->listen_uid, c->listen_gid);
		}
	}
	if (c->listen.kind == ADDR_UNIX)
		log_info("tunnel=%s %s %s listening on unix:%s, to %s", c->name,
		    cfg_mode_name(c->mode), cfg_proto_name(c->proto),
		    c->listen.path, addr_format(&c->connect, to, sizeof(to)));
	else
		log_info("tunnel=%s %s %s listening on %s%s%s:%u, to %s",
		    c->name, cfg_mode_name(c->mode), cfg_proto_name(c->proto),
		    strchr(c->listen.host, ':') ? "[" : "", c->listen.host,
		    strchr(c->listen.host, ':') ? "]" : "", port,
		    addr_format(&c->connect, to, sizeof(to)));
}
LEAK_CHECK_ON

static void
setup_tunnels(struct agent *a)
{
	a->ntunnels = a->first->cfg->ntunnels;
	if ((a->tunnels = calloc(a->ntunnels, sizeof(*a->tunnels))) == NULL)
		fatal("calloc");
	for (size_t i = 0; i < a->ntunnels; i++) {
		a->tunnels[i].cfg = &a->first->cfg->tunnels[i];
		a->tunnels[i].index = i;
	}
}

/*
 * pidfile_write: written as root, so never through a symlink; the
 * descriptor is kept so that, if the agent's user may not remove the file
 * at exit, it is at least emptied (no stale pid for anyone to signal).
 */
static int
pidfile_write(const char *path)
{
	struct stat st;
	char pid[24];
	int fd, n;

	if (path == NULL)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		fatal("pidfile %s: not a file that can be written", path);
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, pid, (size_t)n) != n)
		fatal("pidfile %s", path);
	return fd;
}

static void
pidfile_remove(const char *path, int fd)
{
	if (path == NULL)
		return;
	if (unlink(path) != 0)
		(void)!ftruncate(fd, 0);
	close(fd);
}

/* warn_remote_db: a server tunnel's plaintext hop is meant to stay on
 * this host; one that leaves it carries the database's traffic bare. */
static void
warn_remote_db(const struct cfg *c)
{
	char to[300];

	for (size_t i = 0; i < c->ntunnels; i++) {
		const struct cfg_tunnel *t = &c->tunnels[i];

		if (t->mode == CFG_MODE_SERVER && !addr_is_local(&t->connect))
			log_warnx(
			    "%s:%d: tunnel \"%s\": connect = \"%s\" is "
			    "not loopback or a unix socket: the plaintext to "
			    "the database leaves this host",
			    c->path, t->line, t->name,
			    addr_format(&t->connect, to, sizeof(to)));
	}
}

/* become_user: root's part is done (listeners bound, keys read). */
static void
become_user(const struct cfg *c)
{
	char err[1024];

	if (c->user == NULL)
		return;
	if (privdrop_become(c, err, sizeof(err)) != 0 ||
	    privdrop_readable(c, err, sizeof(err)) != 0)
		fatalx("%s", err);
	log_info("running as user %s (uid %u), group %s (gid %u)", c->user,
	    (unsigned)c->uid, c->group, (unsigned)c->gid);
}

/* stop_all: close every connection now; the loops then end. */
static void
stop_all(void)
{
	for (unsigned i = 0; i < agent.nworkers; i++)
		worker_stop(&agent.workers[i]);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_close((uv_handle_t *)&sig_term, NULL);
#ifdef DBTLS_SANITIZED
	uv_close((uv_handle_t *)&sig_escape, NULL);
#endif
	uv_close((uv_handle_t *)&trim_timer, NULL);
	uv_close((uv_handle_t *)&drain_timer, NULL);
	uv_close((uv_handle_t *)&watchdog_timer, NULL);
	reload_stop();
}

/* watchdog_cb: the service manager asked to hear from the agent. */
static void
watchdog_cb(uv_timer_t *timer)
{
	(void)timer;
	notify_send("WATCHDOG=1");
}

/* drain_tick_cb: stop once the last app connection ended, or at the
 * drain timeout. */
static void
drain_tick_cb(uv_timer_t *timer)
{
	unsigned open = atomic_load(&agent.streams);
	uint64_t spent = uv_now(timer->loop) - drain_started;

	if (open == 0) {
		log_info("drained: every app connection ended (%.1fs)",
		    (double)spent / 1000);
		stop_all();
	} else if (spent >= drain_timeout_ms) {
		log_info("drain timed out after %.1fs: closing %u app "
			 "connection(s)",
		    (double)spent / 1000, open);
		stop_all();
	}
}

/*
 * signal_cb: SIGTERM or SIGINT drains: no new connections, idle ones
 * closed, open app connections let run up to drain_timeout.  A second
 * signal, or a drain_timeout of 0, closes everything at once.
 */
static void
signal_cb(uv_signal_t *h, int signum)
{
	struct gen *g;

	if (atomic_load(&agent.draining)) {
		log_info("%s again: shutting down now", strsignal(signum));
		stop_all();
		return;
	}
	atomic_store(&agent.ready, 0);
	notify_send("STOPPING=1\nSTATUS=stopping: %u app connection(s) open",
	    atomic_load(&agent.streams));
	g = gen_current();
	drain_timeout_ms = g->cfg->drain_timeout_ms;
	gen_unref(g);
	if (drain_timeout_ms == 0) {
		log_info("%s: shutting down", strsignal(signum));
		stop_all();
		return;
	}
	atomic_store(&agent.ready, 0); /* /readyz fails from now on */
	atomic_store(&agent.draining, 1);
	drain_started = uv_now(h->loop);
	log_info("%s: draining: %u app connection(s) open, for up to %.1fs "
		 "(a second signal stops at once)",
	    strsignal(signum), atomic_load(&agent.streams),
	    (double)drain_timeout_ms / 1000);
	for (unsigned i = 0; i < agent.nworkers; i++)
		worker_drain(&agent.workers[i]);
	uv_timer_start(&drain_timer, drain_tick_cb, 0, 50);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 't' },
		{ "status", no_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	int check = 0, status = 0, metrics_fd, pidfd, ch, rc;
	struct timeval tv;
	char err[1024];
	uv_loop_t *loop;

	log_init("dbtls-agent", LOG_LVL_INFO);
	notify_init();
	gettimeofday(&tv, NULL);
	stats_process.start_time = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
	while ((ch = getopt_long(argc, argv, "c:tsVh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 's':
			status = 1;
			break;
		case 'V':
			printf("dbtls-agent %s (%s, libuv %s)\n", DBTLS_VERSION,
			    OpenSSL_version(OPENSSL_VERSION),
			    uv_version_string());
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}

	if (status)
		return status_main(path);
	if ((agent.first = gen_load(path, 1, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	log_set_level(agent.first->cfg->log_level);
	log_set_format(agent.first->cfg->log_format);
	setup_tunnels(&agent);
	warn_remote_db(agent.first->cfg);
	if (check) {
		if (privdrop_check(agent.first->cfg, err, sizeof(err)) != 0)
			fatalx("%s", err);
		printf("ok: %s: %zu tunnel(s), certificates and keys load%s%s"
		       "\n",
		    path, agent.ntunnels,
		    agent.first->cfg->user ? ", and user " : "",
		    agent.first->cfg->user ? agent.first->cfg->user : "");
		if (agent.first->cfg->user != NULL && geteuid() == 0)
			printf("ok: user %s can read them\n",
			    agent.first->cfg->user);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	agent.nworkers = agent.first->cfg->workers ? agent.first->cfg->workers :
						     uv_available_parallelism();
	if ((agent.workers = calloc(agent.nworkers, sizeof(*agent.workers))) ==
	    NULL)
		fatal("calloc");
	for (size_t i = 0; i < agent.ntunnels; i++)
		open_listeners(&agent.tunnels[i], agent.nworkers);
	metrics_fd = metrics_bind(agent.first->cfg);

	loop = uv_default_loop();
	uv_signal_init(loop, &sig_int);
	uv_signal_init(loop, &sig_term);
	uv_signal_start(&sig_int, signal_cb, SIGINT);
	uv_signal_start(&sig_term, signal_cb, SIGTERM);
#ifdef DBTLS_SANITIZED
	uv_signal_init(loop, &sig_escape);
	uv_signal_start(&sig_escape, escape_cb, SIGUSR2);
	uv_unref((uv_handle_t *)&sig_escape);
#endif
	gen_install(gen_ref(agent.first));
	pidfd = pidfile_write(agent.first->cfg->pidfile);
	become_user(agent.first->cfg);
	for (unsigned i = 0; i < agent.nworkers; i++)
		if ((rc = worker_start(&agent, i)) != 0)
			fatalx("worker %u: %s", i, uv_strerror(rc));
	/* Everything is open, and no thread exists yet: each inherits the
	 * confinement. */
	if (sandbox_enter(agent.first->cfg, err, sizeof(err)) != 0)
		fatalx("sandbox: %s (sandbox = false turns it off)", err);
	if (strncmp(err, "off", 3) == 0)
		log_warnx("sandbox: %s", err); /* less than the default */
	else
		log_info("sandbox: %s", err);
	if ((rc = reload_start(loop, path, agent.first, reloaded)) != 0)
		fatalx("reload: %s", uv_strerror(rc));
	uv_timer_init(loop, &trim_timer);
	uv_timer_init(loop, &drain_timer);
	uv_timer_start(&trim_timer, trim_cb, 500, 500);
	for (unsigned i = 0; i < agent.nworkers; i++)
		if ((rc = worker_run(&agent.workers[i])) != 0)
			fatalx("worker %u: %s", i, uv_strerror(rc));
	atomic_store(&agent.main_beat, uv_hrtime());
	if (metrics_start(&agent, metrics_fd, err, sizeof(err)) != 0)
		fatalx("%s", err);
	atomic_store(&agent.ready, 1);
	log_info("dbtls-agent %s ready: %zu tunnel(s), %u worker(s)",
	    DBTLS_VERSION, agent.ntunnels, agent.nworkers);
	/* Every listener is bound and listening, all TLS material loaded. */
	notify_send("READY=1\nMAINPID=%ld\nSTATUS=serving %zu tunnel(s) with "
		    "%u worker(s)",
	    (long)getpid(), agent.ntunnels, agent.nworkers);
	uv_timer_init(loop, &watchdog_timer);
	if (notify_watchdog_ms() > 0)
		uv_timer_start(&watchdog_timer, watchdog_cb, 0,
		    notify_watchdog_ms());

	uv_run(loop, UV_RUN_DEFAULT);

	metrics_stop(); /* it reads the workers' counters */
	for (unsigned i = 0; i < agent.nworkers; i++)
		worker_join(&agent.workers[i]);
	for (size_t i = 0; i < agent.ntunnels; i++) {
		struct tunnel *t = &agent.tunnels[i];

		if (t->cfg->listen.kind == ADDR_UNIX)
			unlink(t->cfg->listen.path);
		free(t->fds);
	}
	pidfile_remove(agent.first->cfg->pidfile, pidfd);
	if (agent.first->cfg->has_metrics &&
	    agent.first->cfg->metrics.kind == ADDR_UNIX)
		unlink(agent.first->cfg->metrics.path);
	free(agent.tunnels);
	free(agent.workers);
	gen_install(NULL);
	gen_unref(agent.first);
	uv_loop_close(loop);
	log_info("stopped");
	return 0;
}
