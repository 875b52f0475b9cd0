/* SPDX-License-Identifier: MIT */
/*
 * test_takeover.c: the TLS 1.3 takeover's invariants and RFC 8446 section
 * 5 conformance, with records forged under the real traffic secrets
 * (taken from the key log): rec13 starts under the next secret at
 * sequence 0 in both roles; a client takes over whether its server
 * sends no ticket, several or a split one, and answers a KeyUpdate that
 * asks for one; malformed records get the alert the RFC names; the
 * negotiated max fragment length is honoured; and, in ledger builds, a
 * reused nonce aborts the process.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "common/ledger.h"
#include "common/rec13.h"
#include "common/tlsio.h"
#include "harness.h"
#include "testcert.h"
#include "tlspair.h"

static const uint8_t big_zero[REC13_PLAIN_MAX];

/* read_all: feed o to t and read until it stops; the rc it stopped on. */
static enum tlsio_rc
read_all(struct outbuf *o, struct tlsio *t, char *buf, size_t cap,
    size_t *total)
{
	enum tlsio_rc rc;
	size_t n;

	*total = 0;
	tlsio_feed(t, o->p, o->len);
	o->len = 0;
	while ((rc = tlsio_read(t, buf + *total, cap - *total, &n)) == TLSIO_OK)
		*total += n;
	CHECK_EQ(tlsio_feed_end(t), 0);
	return rc;
}

/* ------------------------------------------------------------ cases */

/*
 * Both roles seal from the next secret at sequence 0, so no record is
 * sealed under a key OpenSSL used, and no count is carried over.
 */
static void
test_fresh_key(SSL_CTX *cctx, SSL_CTX *sctx)
{
	for (int side = 0; side < 2; side++) {
		struct tlsio *c, *s, *w;
		struct outbuf *o;
		uint8_t plain[64], type;
		struct rec13 f;
		size_t n, len;

		pair(cctx, sctx, &c, &s);
		w = side ? s : c;
		o = side ? &so : &co;
		CHECK(tlsio_offloaded(c) && tlsio_offloaded(s));
		o->len = 0; /* the handshake's records were delivered */
		CHECK_EQ(tlsio_write(w, "first", 5), 0);
		len = rec13_length(o->p);
		CHECK(len > 0 && len <= o->len);
		forger(&f, side, 0);
		CHECK_EQ(rec13_open(&f, o->p, len, plain, &n, &type), 0);
		CHECK(n == 5 && type == REC13_APPLICATION_DATA &&
		    memcmp(plain, "first", 5) == 0);
		rec13_clear(&f);
		tlsio_free(c);
		tlsio_free(s);
	}
}

static int tickets_seen;

static int
count_ticket_cb(SSL *ssl, SSL_SESSION *sess)
{
	(void)ssl;
	(void)sess;
	tickets_seen++;
	return 0;
}

static int key_updates_seen;

static void
count_ku_cb(int write_p, int version, int type, const void *buf, size_t len,
    SSL *ssl, void *arg)
{
	(void)version;
	(void)ssl;
	(void)arg;
	if (!write_p && type == SSL3_RT_HANDSHAKE && len > 0 &&
	    ((const uint8_t *)buf)[0] == SSL3_MT_KEY_UPDATE)
		key_updates_seen++;
}

/*
 * A client takes over reading whatever tickets its server sends: none
 * (PostgreSQL with ssl=on), several, or one split across records; and
 * answers a KeyUpdate that asks for one back before any data.
 */
static void
test_tickets(SSL_CTX *cctx, SSL_CTX *plain_s)
{
	static const struct {
		int tickets, fragment, ku;
	} cases[] = {
		{ 0, 0, 0 },
		{ 0, 0, 1 },
		{ 3, 0, 0 },
		{ 1, 512, 0 },
		{ 2, 512, 1 },
	};
	struct tlsio *c, *s;

	SSL_CTX_sess_set_new_cb(cctx, count_ticket_cb);
	SSL_CTX_set_session_cache_mode(cctx,
	    SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tickets_seen = key_updates_seen = 0;
		SSL_CTX_set_num_tickets(plain_s, (size_t)cases[i].tickets);
		co.len = so.len = 0;
		s = tlsio_new(plain_s, 1, &ssink);
		c = tlsio_new(cctx, 0, &csink);
		if (cases[i].fragment)
			SSL_set_max_send_fragment(tlsio_ssl(s),
			    (long)cases[i].fragment);
		SSL_set_msg_callback(tlsio_ssl(s), count_ku_cb);
		{
			enum tlsio_rc rc_c, rc_s;

			CHECK(handshake(c, s, &rc_c, &rc_s));
		}
		if (cases[i].ku)
			CHECK_EQ(SSL_key_update(tlsio_ssl(s),
				     SSL_KEY_UPDATE_REQUESTED),
			    1);
		exchange(c, s, 3000, 1 << 20);
		exchange(c, s, 3000, 1 << 20);
		CHECK(tlsio_offloaded(c) && tlsio_ssl(c) == NULL);
		CHECK_EQ(tickets_seen, cases[i].tickets);
		/* Ours at the takeover, and the answer if one was asked. */
		CHECK_EQ(key_updates_seen, 1 + cases[i].ku);
		tlsio_free(c);
		tlsio_free(s);
	}
	SSL_CTX_sess_set_new_cb(cctx, NULL);
	SSL_CTX_set_num_tickets(plain_s, 2);
}

/* A damaged record while a client still hands tickets to OpenSSL:
 * refused in rec13's records; OpenSSL never writes (the ledger). */
static void
test_damaged_ticket(SSL_CTX *cctx, SSL_CTX *sctx)
{
	struct tlsio *c, *s;
	char buf[64];
	size_t n;

	co.len = so.len = 0;
	s = tlsio_new(sctx, 1, &ssink);
	c = tlsio_new(cctx, 0, &csink);
	CHECK_EQ(tlsio_handshake(c), TLSIO_AGAIN); /* ClientHello */
	hand(&co, s);
	CHECK_EQ(tlsio_handshake(s), TLSIO_AGAIN); /* up to Finished */
	hand(&so, c);
	CHECK_EQ(tlsio_handshake(c), TLSIO_OK); /* Finished, KeyUpdate */
	hand(&co, s);
	CHECK_EQ(tlsio_handshake(s), TLSIO_OK); /* ticket, KeyUpdate */
	CHECK(so.len > 20 && tlsio_ssl(c) != NULL);
	so.p[10] ^= 1; /* inside the ticket's record */
	CHECK_EQ(read_all(&so, c, buf, sizeof(buf), &n), TLSIO_FAILED);
	CHECK_CONTAINS(tlsio_error(c), "bad record MAC");
	CHECK(tlsio_ssl(c) == NULL);
	CHECK_EQ(read_all(&co, s, buf, sizeof(buf), &n), TLSIO_FAILED);
	CHECK_CONTAINS(tlsio_error(s), "bad record mac");
	tlsio_free(c);
	tlsio_free(s);
}

/* RFC 8446 5: each malformed record, and the alert it must bring. */
static void
test_conformance(SSL_CTX *cctx, SSL_CTX *sctx)
{
	static const uint8_t ku2[] = { 24, 0, 0, 1, 2 };
	static const uint8_t ku_more[] = { 24, 0, 0, 1, 0, 24, 0, 0, 1, 0 };
	static const uint8_t ticket[] = { 4, 0, 0, 14, 0, 0, 0, 1, 0, 0, 0, 0,
		0, 0, 1, 7, 0, 0 };
	static const struct {
		uint8_t type;
		const uint8_t *p;
		size_t n, pad;
		const char *why, *alert;
		int then_data;
	} cases[] = {
		{ 23, big_zero, REC13_PLAIN_MAX, 200, "over 2^14 + 1",
		    "record overflow", 0 },
		{ 23, big_zero, REC13_PLAIN_MAX, 1, "over 2^14 + 1",
		    "record overflow", 0 },
		{ 0, NULL, 0, 30, "padding only", "unexpected_message", 0 },
		{ 20, (const uint8_t *)"\1", 1, 0, "record type 20",
		    "unexpected_message", 0 },
		{ 22, ku2, sizeof(ku2), 0, "request_update is 2",
		    "illegal parameter", 0 },
		{ 22, ku_more, sizeof(ku_more), 0, "not at the end",
		    "unexpected_message", 0 },
		{ 22, ticket, sizeof(ticket), 0,
		    "NewSessionTicket from a "
		    "client",
		    "unexpected_message", 0 },
		{ 22, NULL, 0, 0, "an empty handshake record",
		    "unexpected_message", 0 },
		{ 22, ticket, 3, 0, "inside a handshake message",
		    "unexpected_message", 1 },
	};
	struct tlsio *c, *s;
	struct rec13 f;
	char buf[64];
	size_t n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pair(cctx, sctx, &c, &s);
		forger(&f, 0, 1);
		forge(&f, &co, cases[i].type, cases[i].p, cases[i].n,
		    cases[i].pad);
		if (cases[i].then_data)
			forge(&f, &co, 23, "data", 4, 0);
		CHECK_EQ(read_all(&co, s, buf, sizeof(buf), &n), TLSIO_FAILED);
		CHECK_CONTAINS(tlsio_error(s), cases[i].why);
		CHECK_EQ(read_all(&so, c, buf, sizeof(buf), &n), TLSIO_FAILED);
		CHECK_CONTAINS(tlsio_error(c), cases[i].alert);
		rec13_clear(&f);
		tlsio_free(c);
		tlsio_free(s);
	}

	/* A server's ticket split across records is taken, after the
	 * takeover too; data inside a handshake message is not. */
	for (int inside = 0; inside < 2; inside++) {
		pair(cctx, sctx, &c, &s);
		forger(&f, 1, 1);
		forge(&f, &so, 22, ticket, 7, 0);
		if (inside)
			forge(&f, &so, 23, "data", 4, 0);
		forge(&f, &so, 22, ticket + 7, sizeof(ticket) - 7, 0);
		forge(&f, &so, 23, "hello", 5, 0);
		if (inside) {
			CHECK_EQ(read_all(&so, c, buf, sizeof(buf), &n),
			    TLSIO_FAILED);
			CHECK_CONTAINS(tlsio_error(c), "inside a handshake");
		} else {
			CHECK_EQ(read_all(&so, c, buf, sizeof(buf), &n),
			    TLSIO_AGAIN);
			CHECK(n == 5 && memcmp(buf, "hello", 5) == 0);
		}
		rec13_clear(&f);
		tlsio_free(c);
		tlsio_free(s);
	}
}

/* RFC 6066 max fragment length: honoured in our records, both ways. */
static void
test_max_fragment(SSL_CTX *cctx, SSL_CTX *sctx, SSL_CTX *plain_c)
{
	struct tlsio *c, *s;
	struct rec13 f;
	char buf[700];
	size_t n;

	/* Plain OpenSSL asks for 512: our records fit, it reads them. */
	SSL_CTX_set_tlsext_max_fragment_length(plain_c,
	    TLSEXT_max_fragment_length_512);
	pair(plain_c, sctx, &c, &s);
	CHECK(tlsio_offloaded(s));
	CHECK_EQ(tlsio_write(s, big_zero, 10000), 0);
	for (size_t off = 0, len = 1; off < so.len && len > 0; off += len) {
		len = rec13_length(so.p + off);
		CHECK(len > 0 && len <= 512 + REC13_OVERHEAD);
	}
	{
		static char all[20000];

		CHECK_EQ(read_all(&so, c, all, sizeof(all), &n), TLSIO_AGAIN);
		CHECK_EQ(n, 10000);
	}
	exchange(c, s, 20000, 1 << 20);
	tlsio_free(c);
	tlsio_free(s);
	SSL_CTX_set_tlsext_max_fragment_length(plain_c,
	    TLSEXT_max_fragment_length_DISABLED);

	/* A peer that sends more than was agreed is refused. */
	co.len = so.len = 0;
	s = tlsio_new(sctx, 1, &ssink);
	c = tlsio_new(cctx, 0, &csink);
	SSL_set_tlsext_max_fragment_length(tlsio_ssl(c),
	    TLSEXT_max_fragment_length_512);
	{
		enum tlsio_rc rc_c, rc_s;

		CHECK(handshake(c, s, &rc_c, &rc_s));
	}
	forger(&f, 1, 1);
	forge(&f, &so, 23, big_zero, 600, 0);
	CHECK_EQ(read_all(&so, c, buf, sizeof(buf), &n), TLSIO_FAILED);
	CHECK_CONTAINS(tlsio_error(c), "over the 512 negotiated");
	rec13_clear(&f);
	tlsio_free(c);
	tlsio_free(s);
}

/* ------------------------------------------------------------ failures */

/* OpenSSL's allocations fail from the armed countdown on (main sets it). */
static int armed;
static long countdown;

static void *
oom_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return armed && --countdown <= 0 ? NULL : malloc(n);
}

static void *
oom_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return armed && --countdown <= 0 ? NULL : realloc(p, n);
}

static void
oom_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/*
 * Memory runs out at each allocation in turn while a KeyUpdate that asks
 * for one back is answered: the connection may fail, but a half-changed
 * key never seals (in ledger builds a reused nonce would abort).
 */
static void
test_key_update_oom(SSL_CTX *cctx, SSL_CTX *sctx)
{
	static const uint8_t ku1[] = { 24, 0, 0, 1, 1 };
	int failed = 0;

	for (long k = 1; k <= 160; k++) {
		pid_t pid;
		int status;

		fflush(NULL);
		if ((pid = fork()) == 0) {
			struct tlsio *c, *s;
			struct rec13 f;
			char buf[64];
			size_t n;
			enum tlsio_rc rc;

			pair(cctx, sctx, &c, &s);
			(void)tlsio_write(s, "x", 1); /* record 0, key 1 */
			forger(&f, 0, 1);
			forge(&f, &co, 22, ku1, sizeof(ku1), 0);
			tlsio_feed(s, co.p, co.len);
			countdown = k;
			armed = 1;
			rc = tlsio_read(s, buf, sizeof(buf), &n);
			armed = 0;
			(void)tlsio_feed_end(s);
			_exit(rc == TLSIO_FAILED ? 3 : 0);
		}
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
		CHECK(WIFEXITED(status) &&
		    (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 3));
		failed += WIFEXITED(status) && WEXITSTATUS(status) == 3;
	}
	CHECK(failed > 0); /* the countdown reached the key change */
}

/* A ticket OpenSSL refuses while a client still reads tickets: OpenSSL
 * must not seal its alert (it would be under rec13's key and nonce). */
static void
test_bad_ticket(SSL_CTX *cctx, SSL_CTX *plain_s)
{
	/* The ticket's length runs past the message's end. */
	static const uint8_t bad[] = { 4, 0, 0, 14, 0, 0, 0, 1, 0, 0, 0, 0, 0,
		0, 32, 7, 0, 0 };
	struct tlsio *c, *s;
	struct rec13 f;
	char buf[64];
	size_t n;

	SSL_CTX_set_num_tickets(plain_s, 0);
	pair(cctx, plain_s, &c, &s);
	CHECK(tlsio_ssl(c) != NULL); /* still reading tickets */
	memset(&f, 0, sizeof(f));    /* the server's first secret, as is */
	CHECK_EQ(rec13_init(&f, 1, 0x1301, secret[1], secret_len[1], 0), 0);
	forge(&f, &so, 22, bad, sizeof(bad), 0);
	CHECK_EQ(read_all(&so, c, buf, sizeof(buf), &n), TLSIO_FAILED);
	CHECK_CONTAINS(tlsio_error(c), "did not take the session ticket");
	CHECK_EQ(read_all(&co, s, buf, sizeof(buf), &n), TLSIO_FAILED);
	CHECK_CONTAINS(tlsio_error(s), "internal error");
	rec13_clear(&f);
	tlsio_free(c);
	tlsio_free(s);
	SSL_CTX_set_num_tickets(plain_s, 2);
}

/* The ledger: a (key, nonce) pair sealed twice kills the process. */
static void
test_ledger(void)
{
#ifdef DBTLS_NONCE_LEDGER
	uint8_t key[48] = { 1 }, rec[64];
	struct rec13 r;
	pid_t pid;
	int status;

	CHECK(ledger_count() > 0); /* the tests above were noted */
	memset(&r, 0, sizeof(r));
	CHECK_EQ(rec13_init(&r, 1, 0x1301, key, 32, 0), 0);
	CHECK(rec13_seal(&r, 23, "a", 1, rec) > 0);
	r.seq = 5;
	CHECK(rec13_seal(&r, 23, "b", 1, rec) > 0); /* fresh: fine */
	fflush(NULL);
	if ((pid = fork()) == 0) {
		r.seq = 0; /* what a counting mistake would do */
		(void)rec13_seal(&r, 23, "c", 1, rec);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	rec13_clear(&r);
#else
	printf("test_takeover: no nonce ledger in this build (the sanitized "
	       "twin has it)\n");
#endif
}

int
main(void)
{
	/* First, before OpenSSL allocates anything. */
	int mem = CRYPTO_set_mem_functions(oom_malloc, oom_realloc, oom_free);
	EVP_PKEY *skey, *ckey;
	X509 *scert = testcert_make("server", "DNS:localhost", &skey);
	X509 *ccert = testcert_make("client", NULL, &ckey);
	SSL_CTX *sctx = spied(ctx_new(1, scert, skey, ccert));
	SSL_CTX *cctx = spied(ctx_new(0, ccert, ckey, scert));
	SSL_CTX *plain_s = ctx_new(1, scert, skey, ccert);
	SSL_CTX *plain_c = ctx_new(0, ccert, ckey, scert);

	CHECK(mem == 1);
	CHECK(tlsio_takeover_tested());
	test_fresh_key(cctx, sctx);
	test_tickets(cctx, plain_s);
	test_damaged_ticket(cctx, sctx);
	test_conformance(cctx, sctx);
	test_max_fragment(cctx, sctx, plain_c);
	test_key_update_oom(cctx, sctx);
	test_bad_ticket(cctx, plain_s);
	test_ledger();

	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	SSL_CTX_free(plain_s);
	SSL_CTX_free(plain_c);
	X509_free(scert);
	X509_free(ccert);
	EVP_PKEY_free(skey);
	EVP_PKEY_free(ckey);
	free(co.p);
	free(so.p);
	return harness_done("test_takeover");
}
