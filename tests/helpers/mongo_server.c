/* SPDX-License-Identifier: MIT */
/*
 * mongo_server.c: a small MongoDB wire-protocol server for tests, since no
 * mongod can be installed here.  It speaks OP_MSG and legacy OP_QUERY
 * (the drivers' first hello) and answers hello/isMaster, ping, insert,
 * find and endSessions, keeping documents in memory.  Plaintext, one
 * thread per connection: it stands where mongod would, behind the server
 * agent.
 *
 * usage: mongo_server PORT   (prints "listening" once ready)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bson/bson.h>

#define OP_REPLY 1
#define OP_QUERY 2004
#define OP_MSG	 2013
#define MAX_MSG	 (48 * 1000 * 1000)
#define MAX_DOCS 100000

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char coll[64];
	bson_t *doc;
} store[MAX_DOCS];
static int nstore;
static int32_t next_request_id = 1;

static int
read_full(int fd, void *p, size_t n)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = read(fd, c, n);

		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
write_full(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t r = write(fd, c, n);

		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
put32(uint8_t *p, int32_t v)
{
	memcpy(p, &v, 4); /* the wire is little-endian, as is x86 */
}

static int32_t
get32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void
hello_reply(bson_t *r)
{
	BSON_APPEND_BOOL(r, "ismaster", true);
	BSON_APPEND_BOOL(r, "isWritablePrimary", true);
	BSON_APPEND_INT32(r, "maxBsonObjectSize", 16 * 1024 * 1024);
	BSON_APPEND_INT32(r, "maxMessageSizeBytes", MAX_MSG);
	BSON_APPEND_INT32(r, "maxWriteBatchSize", 100000);
	BSON_APPEND_DATE_TIME(r, "localTime", (int64_t)time(NULL) * 1000);
	BSON_APPEND_INT32(r, "logicalSessionTimeoutMinutes", 30);
	BSON_APPEND_INT32(r, "connectionId", 1);
	BSON_APPEND_INT32(r, "minWireVersion", 0);
	BSON_APPEND_INT32(r, "maxWireVersion", 17);
	BSON_APPEND_BOOL(r, "readOnly", false);
	BSON_APPEND_DOUBLE(r, "ok", 1.0);
}

static void
insert_docs(const char *coll, bson_iter_t *arr, int *n)
{
	bson_iter_t it;

	if (!bson_iter_recurse(arr, &it))
		return;
	while (bson_iter_next(&it)) {
		const uint8_t *data;
		uint32_t len;

		if (!BSON_ITER_HOLDS_DOCUMENT(&it))
			continue;
		bson_iter_document(&it, &len, &data);
		pthread_mutex_lock(&store_lock);
		if (nstore < MAX_DOCS) {
			snprintf(store[nstore].coll, sizeof(store[0].coll),
			    "%s", coll);
			store[nstore++].doc = bson_new_from_data(data, len);
		}
		pthread_mutex_unlock(&store_lock);
		(*n)++;
	}
}

/* command: answer one command document; seq holds OP_MSG kind-1 docs. */
static void
command(const bson_t *cmd, const bson_t *seq, bson_t *r)
{
	bson_iter_t it;
	const char *name;

	if (!bson_iter_init(&it, cmd) || !bson_iter_next(&it)) {
		BSON_APPEND_DOUBLE(r, "ok", 0.0);
		return;
	}
	name = bson_iter_key(&it);
	if (strcasecmp(name, "hello") == 0 ||
	    strcasecmp(name, "isMaster") == 0) {
		hello_reply(r);
	} else if (strcmp(name, "ping") == 0 ||
	    strcmp(name, "endSessions") == 0) {
		BSON_APPEND_DOUBLE(r, "ok", 1.0);
	} else if (strcmp(name, "insert") == 0) {
		const char *coll = bson_iter_utf8(&it, NULL);
		int n = 0;

		if (coll == NULL)
			coll = "";
		if (bson_iter_init_find(&it, cmd, "documents"))
			insert_docs(coll, &it, &n);
		if (seq != NULL && bson_iter_init_find(&it, seq, "documents"))
			insert_docs(coll, &it, &n);
		BSON_APPEND_INT32(r, "n", n);
		BSON_APPEND_DOUBLE(r, "ok", 1.0);
	} else if (strcmp(name, "find") == 0) {
		const char *coll = bson_iter_utf8(&it, NULL);
		char ns[256];
		bson_t cursor, batch;
		int k = 0;

		if (coll == NULL)
			coll = "";
		snprintf(ns, sizeof(ns), "test.%s", coll);
		BSON_APPEND_DOCUMENT_BEGIN(r, "cursor", &cursor);
		BSON_APPEND_ARRAY_BEGIN(&cursor, "firstBatch", &batch);
		pthread_mutex_lock(&store_lock);
		for (int i = 0; i < nstore; i++) {
			char key[16];

			if (strcmp(store[i].coll, coll) != 0)
				continue;
			snprintf(key, sizeof(key), "%d", k++);
			bson_append_document(&batch, key, -1, store[i].doc);
		}
		pthread_mutex_unlock(&store_lock);
		bson_append_array_end(&cursor, &batch);
		BSON_APPEND_INT64(&cursor, "id", 0);
		BSON_APPEND_UTF8(&cursor, "ns", ns);
		bson_append_document_end(r, &cursor);
		BSON_APPEND_DOUBLE(r, "ok", 1.0);
	} else {
		BSON_APPEND_DOUBLE(r, "ok", 0.0);
		BSON_APPEND_UTF8(r, "errmsg", "no such command");
		BSON_APPEND_INT32(r, "code", 59);
	}
}

static int
send_msg(int fd, int32_t response_to, const bson_t *doc)
{
	uint8_t head[21];
	int32_t total = 16 + 4 + 1 + (int32_t)doc->len;

	put32(head, total);
	put32(head + 4,
	    __atomic_fetch_add(&next_request_id, 1, __ATOMIC_RELAXED));
	put32(head + 8, response_to);
	put32(head + 12, OP_MSG);
	put32(head + 16, 0);
	head[20] = 0;
	if (write_full(fd, head, sizeof(head)) != 0)
		return -1;
	return write_full(fd, bson_get_data(doc), doc->len);
}

static int
send_reply(int fd, int32_t response_to, const bson_t *doc)
{
	uint8_t head[36];
	int32_t total = 36 + (int32_t)doc->len;
	int64_t cursor = 0;

	put32(head, total);
	put32(head + 4,
	    __atomic_fetch_add(&next_request_id, 1, __ATOMIC_RELAXED));
	put32(head + 8, response_to);
	put32(head + 12, OP_REPLY);
	put32(head + 16, 0);
	memcpy(head + 20, &cursor, 8);
	put32(head + 28, 0);
	put32(head + 32, 1);
	if (write_full(fd, head, sizeof(head)) != 0)
		return -1;
	return write_full(fd, bson_get_data(doc), doc->len);
}

/* op_msg: body (kind 0) and document sequences (kind 1) into seq. */
static int
op_msg(int fd, int32_t id, const uint8_t *p, size_t n)
{
	bson_t body, seq, reply, arr;
	int have_body = 0, rc;
	size_t off = 4;

	if (n < 5)
		return -1;
	if (get32(p) & 1)
		n -= 4; /* checksum present */
	bson_init(&seq);
	while (off < n) {
		uint8_t kind = p[off++];
		int32_t len;

		if (off + 4 > n || (len = get32(p + off)) < 5 ||
		    off + (size_t)len > n)
			goto bad;
		if (kind == 0) {
			if (!bson_init_static(&body, p + off, (size_t)len))
				goto bad;
			have_body = 1;
		} else if (kind == 1) {
			const char *ident = (const char *)p + off + 4;
			size_t idlen = strnlen(ident, (size_t)len - 4);
			size_t d = off + 4 + idlen + 1;
			int i = 0;

			BSON_APPEND_ARRAY_BEGIN(&seq, ident, &arr);
			while (d + 4 <= off + (size_t)len) {
				int32_t dl = get32(p + d);
				bson_t doc;
				char key[16];

				if (dl < 5 ||
				    d + (size_t)dl > off + (size_t)len ||
				    !bson_init_static(&doc, p + d, (size_t)dl))
					goto bad;
				snprintf(key, sizeof(key), "%d", i++);
				bson_append_document(&arr, key, -1, &doc);
				d += (size_t)dl;
			}
			bson_append_array_end(&seq, &arr);
		} else {
			goto bad;
		}
		off += (size_t)len;
	}
	if (!have_body)
		goto bad;
	bson_init(&reply);
	command(&body, &seq, &reply);
	rc = send_msg(fd, id, &reply);
	bson_destroy(&reply);
	bson_destroy(&seq);
	return rc;
bad:
	bson_destroy(&seq);
	return -1;
}

static int
op_query(int fd, int32_t id, const uint8_t *p, size_t n)
{
	size_t off = 4, nslen;
	bson_t q, reply;
	int32_t len;
	int rc;

	nslen = strnlen((const char *)p + off, n - off);
	off += nslen + 1 + 8;
	if (off + 4 > n || (len = get32(p + off)) < 5 ||
	    off + (size_t)len > n ||
	    !bson_init_static(&q, p + off, (size_t)len))
		return -1;
	bson_init(&reply);
	command(&q, NULL, &reply);
	rc = send_reply(fd, id, &reply);
	bson_destroy(&reply);
	return rc;
}

static void *
serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t head[16], *body = NULL;

	for (;;) {
		int32_t len, id, op;

		if (read_full(fd, head, sizeof(head)) != 0)
			break;
		len = get32(head);
		id = get32(head + 4);
		op = get32(head + 12);
		if (len < 16 || len > MAX_MSG)
			break;
		free(body);
		if ((body = malloc((size_t)len - 16 + 1)) == NULL ||
		    read_full(fd, body, (size_t)len - 16) != 0)
			break;
		if (op == OP_MSG && op_msg(fd, id, body, (size_t)len - 16) != 0)
			break;
		if (op == OP_QUERY &&
		    op_query(fd, id, body, (size_t)len - 16) != 0)
			break;
	}
	free(body);
	close(fd);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int lfd, one = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: mongo_server PORT\n");
		return 2;
	}
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(lfd, 64) != 0) {
		perror("mongo_server: listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		pthread_t th;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		/* Replies go out as header and body: no Nagle delay between. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (pthread_create(&th, NULL, serve, (void *)(intptr_t)fd) != 0)
			close(fd);
		else
			pthread_detach(th);
	}
}
