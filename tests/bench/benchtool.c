/* SPDX-License-Identifier: MIT */
/*
 * benchtool.c: the benchmark's traffic: a backend server and the client
 * measurements, the same for every tunnel (and for none).  Streams carry
 * a fixed pattern that the receiving end checks, so a tunnel that loses or
 * corrupts bytes fails the benchmark instead of looking fast.
 *
 *   benchtool server PORT            backend; the first byte of a
 *                                    connection picks its mode:
 *       'S' sink: check and count; at EOF answer the count (8 bytes)
 *       'R' source: send the pattern until the client goes
 *       'E' echo
 *       'C' answer one byte, then wait for EOF (connection rate)
 *       'I' answer one byte, then hold (idle connections)
 *       'H' answer one byte, then never read again (a stalled peer)
 *   benchtool up PORT SECS           upload MB/s (bytes the sink confirmed)
 *   benchtool down PORT SECS         download MB/s
 *   benchtool both PORT SECS         upload and download at once: "up down"
 *   benchtool echo PORT N SIZE       round trips: "median_us p99_us"
 *   benchtool conns PORT SECS PAR    new connections per second
 *   benchtool idle PORT N            open N connections, print "ready",
 *                                    hold them until stdin closes
 *   benchtool many PORT N SIZE       open N connections, then each echoes
 *                                    SIZE bytes of its own and checks
 *                                    them, all held open to the end:
 *                                    "ok N SECS"
 *   benchtool stall PORT N up|down   N connections whose far end stops
 *                                    reading (up: 'H') or whose near end
 *                                    never reads (down: 'R'); keeps them
 *                                    full, prints "stalled" after 2 s,
 *                                    holds them until stdin closes
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PERIOD 65521 /* prime: the pattern never aligns with I/O */
#define CHUNK  (256 * 1024)

static uint8_t pattern[PERIOD + CHUNK];

static void
pattern_init(void)
{
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)((i % PERIOD) * 131 +
		    ((i % PERIOD) >> 9));
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "benchtool: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ------------------------------------------------------------ server */

struct sconn {
	int fd;
	char mode;
	uint64_t count; /* bytes received (S) or sent (R) */
	uint8_t echo[4096];
	size_t echo_len;
};

static int
fcntl_nonblock(int fd)
{
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void
set_nonblock_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)!fcntl_nonblock(fd);
}

static void
sconn_close(int ep, struct sconn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* sconn_read: returns 0 to keep the connection, -1 to close it. */
static int
sconn_read(int ep, struct sconn *c, uint8_t *buf)
{
	/* A few reads per wakeup (level-triggered): fair to other streams. */
	for (int round = 0; round < 4; round++) {
		ssize_t n = read(c->fd, buf, CHUNK);
		size_t off = 0;

		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		if (n == 0) {
			if (c->mode == 'S') {
				uint64_t be = __builtin_bswap64(c->count);

				(void)!write(c->fd, &be, sizeof(be));
			}
			return -1;
		}
		if (c->mode == 0) {
			struct epoll_event ev = { .events = EPOLLIN,
				.data.ptr = c };

			c->mode = (char)buf[0];
			off = 1;
			if (c->mode == 'C' || c->mode == 'I')
				(void)!write(c->fd, c->mode == 'C' ? "k" : "i",
				    1);
			if (c->mode == 'H') { /* left open, never read */
				(void)!write(c->fd, "h", 1);
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				return 0;
			}
			if (c->mode == 'R') {
				ev.events |= EPOLLOUT;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			}
		}
		if (c->mode == 'S') {
			size_t len = (size_t)n - off;

			if (memcmp(buf + off, pattern + c->count % PERIOD,
				len) != 0) {
				fprintf(stderr,
				    "benchtool: upload corrupted "
				    "near byte %llu\n",
				    (unsigned long long)c->count);
				exit(3);
			}
			c->count += len;
		} else if (c->mode == 'E' && (size_t)n > off) {
			/* Echo what came; a slow reader only slows itself. */
			if (write(c->fd, buf + off, (size_t)n - off) < 0 &&
			    errno != EAGAIN)
				return -1;
		}
	}
	return 0;
}

static int
sconn_write(struct sconn *c)
{
	for (int round = 0; round < 4; round++) {
		ssize_t n = write(c->fd, pattern + c->count % PERIOD, CHUNK);

		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->count += (uint64_t)n;
	}
	return 0;
}

static void *
server_loop(void *arg)
{
	int lfd = (int)(intptr_t)arg, ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct epoll_event evs[64];
	uint8_t *buf = malloc(CHUNK);

	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < n; i++) {
			struct sconn *c = evs[i].data.ptr;

			if (c == NULL) {
				int fd = accept(lfd, NULL, NULL);

				if (fd < 0)
					continue;
				set_nonblock_nodelay(fd);
				c = calloc(1, sizeof(*c));
				c->fd = fd;
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				continue;
			}
			if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
			    sconn_read(ep, c, buf) != 0) {
				sconn_close(ep, c);
				continue;
			}
			if ((evs[i].events & EPOLLOUT) && sconn_write(c) != 0)
				sconn_close(ep, c);
		}
	}
	return NULL;
}

static int
listen_on(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 4096) != 0)
		die("listen");
	(void)!fcntl_nonblock(fd);
	return fd;
}

static int
server(int port)
{
	pthread_t th;

	/* Two loops, as many as cores: the backend is never the limit. */
	pthread_create(&th, NULL, server_loop,
	    (void *)(intptr_t)listen_on(port));
	printf("listening\n");
	fflush(stdout);
	server_loop((void *)(intptr_t)listen_on(port));
	return 0;
}

/* ------------------------------------------------------------ client */

static int
dial(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		die("socket");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		die("connect");
	return fd;
}

static void
write_all(int fd, const void *p, size_t n)
{
	const uint8_t *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w <= 0)
			die("write");
		c += w;
		n -= (size_t)w;
	}
}

static void
read_all(int fd, void *p, size_t n)
{
	uint8_t *c = p;

	while (n > 0) {
		ssize_t r = read(fd, c, n);

		if (r <= 0) {
			errno = r == 0 ? ECONNRESET : errno;
			die("read");
		}
		c += r;
		n -= (size_t)r;
	}
}

struct job {
	int port;
	double secs;
	double mbps;
	int par;
	long count;
};

static void *
upload(void *arg)
{
	struct job *j = arg;
	int fd = dial(j->port);
	uint64_t sent = 0, confirmed;
	double t0, end;

	write_all(fd, "S", 1);
	t0 = now();
	end = t0 + j->secs;
	while (now() < end) {
		write_all(fd, pattern + sent % PERIOD, CHUNK);
		sent += CHUNK;
	}
	shutdown(fd, SHUT_WR);
	read_all(fd, &confirmed, sizeof(confirmed));
	confirmed = __builtin_bswap64(confirmed);
	if (confirmed != sent) {
		fprintf(stderr, "benchtool: sent %llu, sink got %llu\n",
		    (unsigned long long)sent, (unsigned long long)confirmed);
		exit(3);
	}
	j->mbps = (double)confirmed / (now() - t0) / 1e6;
	close(fd);
	return NULL;
}

static void *
download(void *arg)
{
	struct job *j = arg;
	int fd = dial(j->port);
	uint8_t *buf = malloc(CHUNK);
	uint64_t got = 0;
	double t0, end;

	write_all(fd, "R", 1);
	t0 = now();
	end = t0 + j->secs;
	while (now() < end) {
		ssize_t r = read(fd, buf, CHUNK);

		if (r <= 0)
			die("read");
		if (memcmp(buf, pattern + got % PERIOD, (size_t)r) != 0) {
			fprintf(stderr,
			    "benchtool: download corrupted near "
			    "byte %llu\n",
			    (unsigned long long)got);
			exit(3);
		}
		got += (uint64_t)r;
	}
	j->mbps = (double)got / (now() - t0) / 1e6;
	close(fd);
	free(buf);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
echo(int port, int n, int size)
{
	int fd = dial(port);
	uint8_t msg[4096], back[4096];
	double *lat = malloc(sizeof(double) * (size_t)n);

	write_all(fd, "E", 1);
	memcpy(msg, pattern, (size_t)size);
	for (int i = -n / 10; i < n; i++) { /* a tenth to warm up */
		double t0 = now();

		write_all(fd, msg, (size_t)size);
		read_all(fd, back, (size_t)size);
		if (memcmp(msg, back, (size_t)size) != 0) {
			fprintf(stderr, "benchtool: echo corrupted\n");
			return 3;
		}
		if (i >= 0)
			lat[i] = (now() - t0) * 1e6;
	}
	qsort(lat, (size_t)n, sizeof(double), cmp_double);
	printf("%.1f %.1f\n", lat[n / 2], lat[(n * 99) / 100]);
	close(fd);
	free(lat);
	return 0;
}

static void *
conn_loop(void *arg)
{
	struct job *j = arg;
	double end = now() + j->secs;
	char k;

	while (now() < end) {
		int fd = dial(j->port);
		struct linger lg = { 1, 0 };

		write_all(fd, "C", 1);
		read_all(fd, &k, 1);
		/* RST, not FIN: thousands of TIME_WAITs would skew the run. */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		j->count++;
	}
	return NULL;
}

static int
conns(int port, double secs, int par)
{
	pthread_t th[64];
	struct job jobs[64];
	long total = 0;
	double t0 = now();

	for (int i = 0; i < par; i++) {
		jobs[i] = (struct job){ .port = port, .secs = secs };
		pthread_create(&th[i], NULL, conn_loop, &jobs[i]);
	}
	for (int i = 0; i < par; i++) {
		pthread_join(th[i], NULL);
		total += jobs[i].count;
	}
	printf("%.1f\n", (double)total / (now() - t0));
	return 0;
}

static int
idle(int port, int n)
{
	int *fds = malloc(sizeof(int) * (size_t)n);
	char c;

	for (int i = 0; i < n; i++) {
		fds[i] = dial(port);
		write_all(fds[i], "I", 1);
	}
	for (int i = 0; i < n; i++)
		read_all(fds[i], &c, 1); /* the whole path is up */
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	return 0;
}

/* many: N connections open at once, each echoing its own slice of the
 * pattern, so bytes of one connection reaching another fail the check. */
static int
many(int port, int n, int size)
{
	int ep = epoll_create1(0), left = n;
	int *fds = malloc(sizeof(int) * (size_t)n);
	int *got = calloc((size_t)n, sizeof(int));
	uint8_t *buf = malloc(CHUNK);
	struct epoll_event evs[256];
	double t0 = now();

	for (int i = 0; i < n; i++)
		fds[i] = dial(port);
	for (int i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

		write_all(fds[i], "E", 1);
		write_all(fds[i], pattern + (size_t)i * 7919 % PERIOD,
		    (size_t)size);
		(void)!fcntl_nonblock(fds[i]);
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	while (left > 0) {
		int k = epoll_wait(ep, evs, 256, 30000);

		if (k <= 0) {
			fprintf(stderr,
			    "benchtool: %d of %d echoes never "
			    "came back\n",
			    left, n);
			return 3;
		}
		for (int e = 0; e < k; e++) {
			int i = (int)evs[e].data.u32;
			ssize_t r = read(fds[i], buf, (size_t)(size - got[i]));

			if (r < 0 && errno == EAGAIN)
				continue;
			if (r <= 0 ||
			    memcmp(buf,
				pattern + (size_t)i * 7919 % PERIOD + got[i],
				(size_t)r) != 0) {
				fprintf(stderr,
				    "benchtool: connection %d: %s "
				    "after %d bytes\n",
				    i, r <= 0 ? "ended" : "corrupted", got[i]);
				return 3;
			}
			got[i] += (int)r;
			if (got[i] == size) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
				left--;
			}
		}
	}
	printf("ok %d %.1f\n", n, now() - t0);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	free(got);
	free(buf);
	return 0;
}

/* fill: write to each connection until its socket takes no more; a
 * connection the tunnel ended fails the run. */
static uint64_t
fill(const int *fds, int n)
{
	uint64_t total = 0;

	for (int i = 0; i < n; i++) {
		ssize_t w;

		while ((w = write(fds[i], pattern, CHUNK)) > 0)
			total += (uint64_t)w;
		if (errno != EAGAIN)
			die("a stalled upload ended");
	}
	return total;
}

/* still_open: each stalled connection is still there at the end: an
 * upload has nothing readable (its far end sends nothing more, so data,
 * EOF or an error all mean it was ended), a download bytes to read. */
static void
still_open(const int *fds, int n, int up)
{
	uint8_t b[1];

	for (int i = 0; i < n; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };
		int gone;

		if (up)
			gone = poll(&p, 1, 0) != 0;
		else
			gone = read(fds[i], b, 1) != 1;
		if (gone) {
			fprintf(stderr,
			    "benchtool: stalled connection %d "
			    "was ended\n",
			    i);
			exit(3);
		}
	}
}

static int
stall(int port, int n, int up)
{
	int *fds = malloc(sizeof(int) * (size_t)n);
	uint64_t pushed = 0;
	struct pollfd in = { .fd = 0, .events = POLLIN };
	char c;

	for (int i = 0; i < n; i++) {
		fds[i] = dial(port);
		write_all(fds[i], up ? "H" : "R", 1);
		if (up) {
			read_all(fds[i], &c, 1);
			(void)!fcntl_nonblock(fds[i]);
		}
	}
	for (int round = 0; round < 20; round++) { /* 2 s of pushing */
		if (up)
			pushed += fill(fds, n);
		usleep(100000);
	}
	printf("stalled %llu\n", (unsigned long long)pushed);
	fflush(stdout);
	while (poll(&in, 1, 100) == 0)
		if (up)
			pushed += fill(fds, n);
	still_open(fds, n, up);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	return 0;
}

int
main(int argc, char **argv)
{
	/* Peers go away mid-stream on purpose; that is an error code here. */
	signal(SIGPIPE, SIG_IGN);
	pattern_init();
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return server(atoi(argv[2]));
	if (argc == 4 &&
	    (strcmp(argv[1], "up") == 0 || strcmp(argv[1], "down") == 0 ||
		strcmp(argv[1], "both") == 0)) {
		struct job u = { atoi(argv[2]), atof(argv[3]), 0, 0, 0 };
		struct job d = u;
		pthread_t tu, td;

		if (argv[1][0] != 'd')
			pthread_create(&tu, NULL, upload, &u);
		if (argv[1][0] != 'u')
			pthread_create(&td, NULL, download, &d);
		if (argv[1][0] != 'd')
			pthread_join(tu, NULL);
		if (argv[1][0] != 'u')
			pthread_join(td, NULL);
		if (argv[1][0] == 'b')
			printf("%.1f %.1f\n", u.mbps, d.mbps);
		else
			printf("%.1f\n", argv[1][0] == 'u' ? u.mbps : d.mbps);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "echo") == 0)
		return echo(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (argc == 5 && strcmp(argv[1], "conns") == 0)
		return conns(atoi(argv[2]), atof(argv[3]), atoi(argv[4]));
	if (argc == 4 && strcmp(argv[1], "idle") == 0)
		return idle(atoi(argv[2]), atoi(argv[3]));
	if (argc == 5 && strcmp(argv[1], "many") == 0)
		return many(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (argc == 5 && strcmp(argv[1], "stall") == 0)
		return stall(atoi(argv[2]), atoi(argv[3]),
		    strcmp(argv[4], "up") == 0);
	fprintf(stderr, "usage: see the top of tests/bench/benchtool.c\n");
	return 2;
}
