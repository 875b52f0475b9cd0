/* SPDX-License-Identifier: MIT */
/*
 * test_tlsin.c: incoming ciphertext: records read in place from a loan,
 * a partial record kept across loans and completed, bytes read out for
 * OpenSSL in order, bad headers named, nothing kept when idle.
 */
#include "common/rec13.h"
#include "common/tlsin.h"
#include "harness.h"

/* record(buf, len, fill): a plausible TLS 1.3 record of body len. */
static size_t
record(uint8_t *buf, size_t len, uint8_t fill)
{
	buf[0] = REC13_APPLICATION_DATA;
	buf[1] = buf[2] = 3;
	buf[3] = (uint8_t)(len >> 8);
	buf[4] = (uint8_t)len;
	memset(buf + REC13_HEADER, fill, len);
	return REC13_HEADER + len;
}

int
main(void)
{
	static uint8_t stream[3 * (REC13_HEADER + 1000)], out[sizeof(stream)];
	struct tlsin q = { 0 };
	const uint8_t *rec;
	size_t len, n = 0, got;

	for (int i = 0; i < 3; i++)
		n += record(stream + n, 1000, (uint8_t)('a' + i));

	/* Whole records in one loan: read in place, nothing copied. */
	tlsin_lend(&q, stream, n);
	CHECK_EQ(tlsin_record(&q, &rec, &len), TLSIN_RECORD);
	CHECK(rec == stream && len == REC13_HEADER + 1000);
	tlsin_drop(&q, len);
	CHECK_EQ(tlsin_pending(&q), n - len);
	CHECK_EQ(tlsin_end(&q), 0);
	CHECK(q.spill != NULL && q.spill_len == n - len);

	/* The kept rest, then a loan cut inside a header and a body. */
	CHECK_EQ(tlsin_record(&q, &rec, &len), TLSIN_RECORD);
	CHECK_EQ(rec[REC13_HEADER], 'b');
	tlsin_drop(&q, len);
	CHECK_EQ(tlsin_record(&q, &rec, &len), TLSIN_RECORD);
	CHECK_EQ(rec[REC13_HEADER], 'c');
	tlsin_drop(&q, len);
	CHECK(q.spill == NULL && tlsin_pending(&q) == 0);
	for (size_t cut = 1; cut < REC13_HEADER + 1000; cut += 97) {
		tlsin_lend(&q, stream, cut);
		CHECK_EQ(tlsin_record(&q, &rec, &len), TLSIN_PARTIAL);
		CHECK_EQ(tlsin_end(&q), 0);
		tlsin_lend(&q, stream + cut, n - cut);
		CHECK_EQ(tlsin_record(&q, &rec, &len), TLSIN_RECORD);
		CHECK(memcmp(rec, stream, len) == 0); /* whole, in order */
		tlsin_drop(&q, len);
		while (tlsin_record(&q, &rec, &len) == TLSIN_RECORD)
			tlsin_drop(&q, len);
		CHECK_EQ(tlsin_end(&q), 0);
		CHECK(q.spill == NULL && tlsin_pending(&q) == 0);
	}

	/* Read out in small pieces (OpenSSL's BIO), kept bytes first. */
	tlsin_lend(&q, stream, 10);
	CHECK_EQ(tlsin_end(&q), 0);
	tlsin_lend(&q, stream + 10, n - 10);
	got = 0;
	while ((len = tlsin_read(&q, out + got, 333)) > 0)
		got += len;
	CHECK_EQ(got, n);
	CHECK(memcmp(out, stream, n) == 0);
	CHECK_EQ(tlsin_end(&q), 0);

	/* A second loan before the first is used up keeps the first. */
	tlsin_lend(&q, stream, 7);
	tlsin_lend(&q, stream + 7, n - 7);
	CHECK_EQ(tlsin_pending(&q), n);
	got = 0;
	while ((len = tlsin_read(&q, out + got, 4096)) > 0)
		got += len;
	CHECK(got == n && memcmp(out, stream, n) == 0);
	CHECK_EQ(tlsin_end(&q), 0);

	/* A header no TLS 1.3 peer sends after its handshake. */
	memcpy(out, "\x15\x03\x03\x00\x02\x01\x00", 7);
	tlsin_lend(&q, out, 7);
	CHECK_EQ(tlsin_record(&q, &rec, &len), TLSIN_BAD_HEADER);
	CHECK(rec == out);
	CHECK_EQ(tlsin_end(&q), 0);
	tlsin_clear(&q);
	CHECK(q.spill == NULL && tlsin_pending(&q) == 0);
	return harness_done("test_tlsin");
}
