/* SPDX-License-Identifier: MIT */
/*
 * sandbox.c: Landlock (raw system calls; Debian 12's headers may predate
 * the kernel) and a seccomp allow-list (libseccomp).  A kernel without
 * Landlock or seccomp leaves that part off, which the start-up line says;
 * a part the kernel offers but that fails to load stops the agent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/landlock.h>
#include <seccomp.h>

#include "common/log.h"
#include "agent/sandbox.h"

/* scripts/audit.sh's valgrind run builds with DBTLS_VALGRIND: valgrind
 * implements neither Landlock's calls nor seccomp's. */
#ifdef DBTLS_VALGRIND
#define VALGRIND_BUILD 1
#else
#define VALGRIND_BUILD 0
#endif

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

/* What name resolution may read again after start-up (hosts, and the
 * user and group names a reloaded config names). */
static const char *const resolver_files[] = { "/etc/resolv.conf", "/etc/hosts",
	"/etc/nsswitch.conf", "/etc/gai.conf", "/etc/host.conf", "/etc/passwd",
	"/etc/group", NULL };

/* Landlock's structures as ABI 4 has them (headers may be older). */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped; /* ABI 6 */
};
#define LL_SCOPE_SIGNAL (1ULL << 1)
struct ll_net_port_attr {
	/* Read by the kernel (landlock_add_rule). */
	/* cppcheck-suppress unusedStructMember */
	uint64_t allowed_access;
	/* Read by the kernel (landlock_add_rule). */
	/* cppcheck-suppress unusedStructMember */
	uint64_t port;
};
#define LL_RULE_NET_PORT   2
#define LL_NET_BIND_TCP	   (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)

/* The access rights an ABI knows: all of them are denied but by a rule. */
static uint64_t
handled_rights(int abi)
{
	uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return r;
}

/* allow: rights beneath path (a missing path is skipped: 0). */
static int
allow(int ruleset, const char *path, uint64_t rights, uint64_t handled)
{
	struct landlock_path_beneath_attr pb = { 0 };
	int fd, rc;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -1;
	pb.parent_fd = fd;
	pb.allowed_access = rights & handled;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	return rc == 0 ? 0 : -1;
}

/* allow_dir_of: rights in the directory holding path, and in the one
 * its symlinks lead to (a Kubernetes ..data swap, a "current" link). */
static int
allow_dir_of(int ruleset, const char *path, uint64_t rights, uint64_t handled)
{
	char copy[PATH_MAX], real[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", path);
	if (allow(ruleset, dirname(copy), rights, handled) != 0)
		return -1;
	if (realpath(path, real) == NULL)
		return 0;
	return allow(ruleset, dirname(real), rights, handled);
}

/* allow_connect: TCP connections to port (ABI 4 on). */
static int
allow_connect(int ruleset, unsigned port)
{
	struct ll_net_port_attr np = { LL_NET_CONNECT_TCP, port };

	if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &np, 0) !=
	    0)
		return -1;
	return 0;
}

static int
tunnel_rules(int rs, const struct cfg_tunnel *t, uint64_t h, int abi)
{
	const struct cfg_file *files[] = { &t->tls.cert, &t->tls.key,
		&t->tls.ca, &t->tls.crl };

	for (size_t i = 0; i < 4; i++)
		if (files[i]->path != NULL &&
		    allow_dir_of(rs, files[i]->path, FS_READ, h) != 0)
			return -1;
	/* The one TCP port it dials; DNS over TCP when a name is used. */
	if (abi >= 4 && t->connect.kind == ADDR_TCP &&
	    (allow_connect(rs, t->connect.port) != 0 ||
		(!t->connect.numeric && allow_connect(rs, 53) != 0)))
		return -1;
	/* A unix listener's file is removed at exit. */
	if (t->listen.kind == ADDR_UNIX &&
	    allow_dir_of(rs, t->listen.path, LANDLOCK_ACCESS_FS_REMOVE_FILE,
		h) != 0)
		return -1;
	return 0;
}

/* landlock: 0 and the ABI in *abi (0: the kernel has none), or -1. */
static int
landlock(const struct cfg *c, int *abi)
{
	struct ll_ruleset_attr attr;
	uint64_t h;
	size_t size;
	int rs, rc = -1;

	*abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (*abi < 0) {
		*abi = 0;
		return errno == ENOSYS || errno == EOPNOTSUPP ? 0 : -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = h = handled_rights(*abi);
	/* No TCP listening socket can be bound from now on, and only the
	 * configured ports dialled. */
	if (*abi >= 4)
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	/* No signal to a process outside the sandbox (its own threads and
	 * children are inside). */
	if (*abi >= 6) {
		attr.scoped = LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	} else if (*abi >= 4) {
		size = offsetof(struct ll_ruleset_attr, scoped);
	} else {
		size = sizeof(attr.handled_access_fs);
	}
	if ((rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0)) <
	    0)
		return -1;
	if (allow_dir_of(rs, c->path, FS_READ, h) != 0 ||
	    allow(rs, "/proc/self", FS_READ, h) != 0 ||
	    (c->pidfile != NULL &&
		allow_dir_of(rs, c->pidfile, LANDLOCK_ACCESS_FS_REMOVE_FILE,
		    h) != 0) ||
	    (c->has_metrics && c->metrics.kind == ADDR_UNIX &&
		allow_dir_of(rs, c->metrics.path,
		    LANDLOCK_ACCESS_FS_REMOVE_FILE, h) != 0))
		goto out;
	for (const char *const *f = resolver_files; *f != NULL; f++)
		if (allow(rs, *f, LANDLOCK_ACCESS_FS_READ_FILE, h) != 0)
			goto out;
#ifdef DBTLS_COVERAGE_DIR
	/* The tests' coverage build writes its counts there at exit. */
	if (allow(rs, DBTLS_COVERAGE_DIR,
		FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE |
		    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_TRUNCATE,
		h) != 0)
		goto out;
#endif
	for (size_t i = 0; i < c->ntunnels; i++)
		if (tunnel_rules(rs, &c->tunnels[i], h, *abi) != 0)
			goto out;
	rc = (int)syscall(SYS_landlock_restrict_self, rs, 0);
out:
	close(rs);
	return rc == 0 ? 0 : -1;
}

/*
 * The system calls dbtls-agent makes once it serves (its own, libuv's,
 * OpenSSL's, glibc's, libmicrohttpd's), found by tracing the whole test
 * suite; the sanitized test builds need a few more for their runtime.
 */
static const char *const syscalls[] = { "read", "write", "readv", "writev",
	"pread64", "pwrite64", "close", "fstat", "newfstatat", "statx", "lseek",
	"openat", "fcntl", "dup", "getxattr", "lgetxattr", "fgetxattr", "dup3",
	"getdents64", "readlink", "readlinkat", "access", "getcwd", "faccessat",
	"faccessat2", "ftruncate", "unlink", "unlinkat", "fsync", "fdatasync",
	"mmap", "munmap", "mprotect", "mremap", "madvise", "brk",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	/* bind: getaddrinfo binds a netlink socket; Landlock (ABI 4 on)
	 * refuses any TCP bind and any TCP connect but the configured ports. */
	"connect", "accept4", "bind", "sendto", "recvfrom", "sendmsg",
	"recvmsg", "sendmmsg", "recvmmsg", "shutdown", "getsockname",
	"getpeername", "setsockopt", "getsockopt", "socketpair", "pipe2",
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "eventfd2", "poll", "ppoll", "select", "pselect6",
	"inotify_init1", "inotify_add_watch", "inotify_rm_watch", "futex",
	"set_robust_list", "rseq", "exit", "exit_group", "gettid", "getpid",
	"tgkill", "sched_yield", "sched_getaffinity", "nanosleep",
	"clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday",
	"getrandom", "getrusage", "prlimit64", "uname", "sysinfo",
	"restart_syscall", "getuid", "geteuid", "getgid", "getegid",
	"getresuid", "getresgid", "membarrier", "set_tid_address", NULL };

#ifdef DBTLS_SANITIZED
/* AddressSanitizer's leak check stops the threads with ptrace. */
static const char *const sanitizer_syscalls[] = { "clone", "ptrace", "wait4",
	"waitid", "sched_getparam", "getppid", "kill", "open", "stat", "lstat",
	"getdents", "pipe", "dup2", "ioctl", "prctl", NULL };
#endif

static int
allow_calls(scmp_filter_ctx ctx, const char *const *names)
{
	for (; *names != NULL; names++) {
		int nr = seccomp_syscall_resolve_name(*names);

		if (nr != __NR_SCMP_ERROR &&
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
			return -1;
	}
	return 0;
}

/*
 * narrow_calls: calls allowed only with some arguments.  Threads, not
 * processes or namespaces (clone3, whose flags a filter cannot read,
 * fails so that glibc uses clone); sockets of the families the agent uses
 * (IP with TCP or UDP, unix, and the netlink getaddrinfo asks), not
 * MPTCP or raw ones that Landlock's TCP rules would not see.
 */
#ifndef DBTLS_SANITIZED
static int
narrow_calls(scmp_filter_ctx ctx)
{
	const int inet[] = { AF_INET, AF_INET6 };
	const int proto[] = { 0, IPPROTO_TCP, IPPROTO_UDP };
	const scmp_datum_t ioctls[] = { FIONBIO, FIOCLEX, FIONCLEX, FIONREAD,
		TCGETS };
	const scmp_datum_t prctls[] = { PR_SET_NAME, PR_GET_NAME,
		PR_GET_SECCOMP, PR_GET_DUMPABLE };
	int rc = 0;

	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3),
	    0);
	for (size_t f = 0; f < 2; f++)
		for (size_t p = 0; p < 3; p++)
			rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(socket), 2,
			    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)inet[f]),
			    SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)proto[p]));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
	    SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
	    SCMP_A2(SCMP_CMP_EQ, NETLINK_ROUTE));
	/* ioctl: non-blocking and close-on-exec (libuv), bytes waiting,
	 * and the terminal probe of stdio's isatty; no TIOCSTI and the
	 * like.  The kernel reads both as 32-bit values. */
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU, ioctls[i]));
	/* prctl: thread names (libmicrohttpd's thread), and reading. */
	for (size_t i = 0; i < sizeof(prctls) / sizeof(prctls[0]); i++)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffU, prctls[i]));
	return rc == 0 ? 0 : -1;
}
#endif

/* seccomp: any other call kills the process (and the kernel logs it). */
static int
filter(int *active)
{
	scmp_filter_ctx ctx;
	int rc = -1;

	*active = 0;
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL)
		return 0; /* a kernel built without seccomp */
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		return -1;
	*active = 1;
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1) == 0 &&
	    allow_calls(ctx, syscalls) == 0 &&
#ifndef DBTLS_SANITIZED
	    narrow_calls(ctx) == 0 &&
#else
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 0) == 0 &&
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3),
		0) == 0 &&
#endif
#ifdef DBTLS_SANITIZED
	    allow_calls(ctx, sanitizer_syscalls) == 0 &&
#endif
	    seccomp_load(ctx) == 0)
		rc = 0;
	seccomp_release(ctx);
	return rc;
}

int
sandbox_enter(const struct cfg *c, char *said, size_t len)
{
	int abi, sec;

	if (!c->sandbox) {
		snprintf(said, len, "off (sandbox = false)");
		return 0;
	}
	if (VALGRIND_BUILD) {
		snprintf(said, len,
		    "off: a build for valgrind, which runs "
		    "neither Landlock nor seccomp");
		return 0;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(said, len, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (landlock(c, &abi) != 0) {
		snprintf(said, len, "Landlock: %s", strerror(errno));
		return -1;
	}
	if (filter(&sec) != 0) {
		snprintf(said, len, "seccomp: the filter would not load");
		return -1;
	}
	snprintf(said, len, "%s%.0d%s%s", abi > 0 ? "Landlock ABI " : "", abi,
	    abi > 0 && sec ? " and " : "",
	    sec		? "seccomp" :
		abi > 0 ? "" :
			  "nothing: this kernel has neither Landlock nor "
			  "seccomp");
	return 0;
}

#ifdef DBTLS_SANITIZED
void
sandbox_escape_test(void)
{
	const char *env = getenv("DBTLS_TEST_ESCAPE");
	char list[1024], *tok, *save = NULL;

	snprintf(list, sizeof(list), "%s", env ? env : "");
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		char *path = strchr(tok, ':');
		int fd;

		if (path == NULL)
			continue;
		*path++ = '\0';
		if (strcmp(tok, "signal") == 0) {
			int rc = kill((pid_t)strtol(path, NULL, 10), 0);

			log_info("escape test: signal %s: %s", path,
			    rc == 0 ? "ALLOWED" : "refused");
			continue;
		}
		if (strcmp(tok, "exec") == 0) {
			char *argv[] = { path, NULL };

			log_info("escape test: exec %s", path);
			execv(path, argv);
			log_info("escape test: exec %s: %s", path,
			    strerror(errno));
			continue;
		}
		fd = open(path,
		    strcmp(tok, "write") == 0 ?
			O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC :
			O_RDONLY | O_CLOEXEC,
		    0600);
		if (fd < 0) {
			log_info("escape test: %s %s: refused: %s", tok, path,
			    strerror(errno));
		} else {
			log_info("escape test: %s %s: ALLOWED", tok, path);
			close(fd);
		}
	}
}
#endif
