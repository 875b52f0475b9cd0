/* SPDX-License-Identifier: MIT */
/*
 * mongo_client.c: the official MongoDB C driver as a test client.  Pings,
 * inserts COUNT documents (one of them 4 MiB, so the stream spans many TLS
 * records), reads them back and checks every byte.
 *
 * usage: mongo_client URI COLLECTION COUNT   (prints "ok N documents")
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#define BIG (4 * 1024 * 1024)

static int
fail(const char *what, const bson_error_t *e)
{
	fprintf(stderr, "mongo_client: %s: %s\n", what, e ? e->message : "");
	return 1;
}

int
main(int argc, char **argv)
{
	mongoc_client_t *client;
	mongoc_collection_t *coll;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t err;
	bson_t *ping, reply, filter = BSON_INITIALIZER;
	char *big;
	int count, seen = 0, rc = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: mongo_client URI COLLECTION COUNT\n");
		return 2;
	}
	count = atoi(argv[3]);
	mongoc_init();
	if ((client = mongoc_client_new(argv[1])) == NULL)
		return fail("bad URI", NULL);
	mongoc_client_set_error_api(client, 2);

	ping = BCON_NEW("ping", BCON_INT32(1));
	if (!mongoc_client_command_simple(client, "admin", ping, NULL, &reply,
		&err))
		return fail("ping", &err);
	bson_destroy(&reply);
	bson_destroy(ping);

	big = malloc(BIG + 1);
	for (int i = 0; i < BIG; i++)
		big[i] = (char)('a' + (int)(((unsigned)i * 7919u) % 26u));
	big[BIG] = '\0';
	coll = mongoc_client_get_collection(client, "test", argv[2]);
	for (int i = 0; i < count; i++) {
		bson_t *d = BCON_NEW("i", BCON_INT32(i), "payload",
		    BCON_UTF8(i == 0 ? big : "small"));

		if (!mongoc_collection_insert_one(coll, d, NULL, NULL, &err))
			return fail("insert", &err);
		bson_destroy(d);
	}

	cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
	while (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;
		uint32_t len;
		const char *s;
		int i;

		if (!bson_iter_init_find(&it, doc, "i"))
			return fail("document without i", NULL);
		i = bson_iter_int32(&it);
		if (!bson_iter_init_find(&it, doc, "payload") ||
		    (s = bson_iter_utf8(&it, &len)) == NULL)
			return fail("document without payload", NULL);
		if (i != seen || strcmp(s, i == 0 ? big : "small") != 0) {
			fprintf(stderr, "mongo_client: document %d differs\n",
			    i);
			goto out;
		}
		seen++;
	}
	if (mongoc_cursor_error(cur, &err))
		return fail("find", &err);
	if (seen != count) {
		fprintf(stderr, "mongo_client: %d of %d documents back\n", seen,
		    count);
		goto out;
	}
	printf("ok %d documents\n", seen);
	rc = 0;
out:
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
	free(big);
	mongoc_cleanup();
	return rc;
}
