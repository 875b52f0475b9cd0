/* SPDX-License-Identifier: MIT */
/*
 * hsmsg.c: post-handshake messages across record boundaries.  A message
 * is a 4-byte header (type, 24-bit length) and a body; either may be
 * cut anywhere by a record boundary, except that a KeyUpdate must end
 * its record, since the records after it are under the next key.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/hsmsg.h"

#define MT_NEW_SESSION_TICKET 4
#define MT_KEY_UPDATE	      24
/* lifetime, age_add, nonce<0..255>, ticket<1..>, extensions<0..> */
#define TICKET_MIN	      (4 + 4 + 1 + 2 + 1 + 2)

#define AD_UNEXPECTED_MESSAGE 10
#define AD_DECODE_ERROR	      50
#define AD_ILLEGAL_PARAMETER  47

static int refuse(struct hsmsg_result *res, uint8_t alert, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(struct hsmsg_result *res, uint8_t alert, const char *fmt, ...)
{
	va_list ap;

	res->alert = alert;
	va_start(ap, fmt);
	vsnprintf(res->why, sizeof(res->why), fmt, ap);
	va_end(ap);
	return -1;
}

void
hsmsg_init(struct hsmsg *h, int peer_server)
{
	memset(h, 0, sizeof(*h));
	h->peer_server = peer_server != 0;
}

int
hsmsg_busy(const struct hsmsg *h)
{
	return h->have > 0;
}

/* begin: a message's header is complete: is it one we take? */
static int
begin(struct hsmsg *h, struct hsmsg_result *res)
{
	h->left = (uint32_t)h->hdr[1] << 16 | (uint32_t)h->hdr[2] << 8 |
	    h->hdr[3];
	switch (h->hdr[0]) {
	case MT_NEW_SESSION_TICKET:
		if (!h->peer_server)
			return refuse(res, AD_UNEXPECTED_MESSAGE,
			    "a NewSessionTicket from a client");
		if (h->left < TICKET_MIN)
			return refuse(res, AD_DECODE_ERROR,
			    "a NewSessionTicket of %u bytes", h->left);
		return 0;
	case MT_KEY_UPDATE:
		if (h->left != 1)
			return refuse(res, AD_DECODE_ERROR,
			    "a KeyUpdate of %u bytes", h->left);
		return 0;
	default:
		return refuse(res, AD_UNEXPECTED_MESSAGE,
		    "handshake message %u after the handshake", h->hdr[0]);
	}
}

int
hsmsg_tickets_only(const struct hsmsg *h)
{
	return h->have == 0 || h->hdr[0] == MT_NEW_SESSION_TICKET;
}

int
hsmsg_record(struct hsmsg *h, const uint8_t *p, size_t n,
    struct hsmsg_result *res)
{
	memset(res, 0, sizeof(*res));
	res->key_update = -1;
	if (n == 0)
		return refuse(res, AD_UNEXPECTED_MESSAGE,
		    "an empty handshake record");
	while (n > 0) {
		size_t take;

		if (h->have < 4) {
			h->hdr[h->have++] = *p++;
			n--;
			if (h->have == 4 && begin(h, res) != 0)
				return -1;
			continue;
		}
		if (h->hdr[0] == MT_KEY_UPDATE) {
			if (*p > 1)
				return refuse(res, AD_ILLEGAL_PARAMETER,
				    "a "
				    "KeyUpdate whose request_update is %u",
				    *p);
			if (n != 1)
				return refuse(res, AD_UNEXPECTED_MESSAGE,
				    "a KeyUpdate not at the end of its record");
			res->key_update = *p;
			h->have = 0;
			return 0;
		}
		take = n < h->left ? n : h->left; /* a ticket: skipped */
		p += take;
		n -= take;
		if ((h->left -= (uint32_t)take) == 0) {
			res->tickets++;
			h->have = 0;
		}
	}
	return 0;
}
