/* SPDX-License-Identifier: MIT */
/*
 * hsmsg.h: the handshake messages a TLS 1.3 peer may send once its
 * handshake is over (RFC 8446 4.6), reassembled across records: a
 * NewSessionTicket, from a server only, and a KeyUpdate, from either.
 * Pure: decrypted record content in, verdicts out; no keys, no I/O.
 */
#ifndef COMMON_HSMSG_H
#define COMMON_HSMSG_H

#include <stddef.h>
#include <stdint.h>

struct hsmsg {
	uint8_t hdr[4];		/* the current message's header */
	uint8_t have;		/* header bytes gathered */
	uint32_t left;		/* body bytes still to come */
	unsigned peer_server:1; /* tickets may come */
};

struct hsmsg_result {
	unsigned tickets; /* NewSessionTickets completed */
	int key_update;	  /* -1, or its request_update (0, 1) */
	uint8_t alert;	  /* 0, or the alert to end with */
	char why[80];	  /* with alert: what was wrong */
};

/* hsmsg_init(h, peer_server): before the first message of a peer. */
void hsmsg_init(struct hsmsg *h, int peer_server);

/*
 * hsmsg_record(h, p, n, &res): the content of one handshake record.
 * Returns 0 with what completed in res (a KeyUpdate always ends its
 * record: the key changes after it), or -1 with res.alert and res.why:
 * an empty record, a message other than the two above, a ticket from a
 * client, a malformed or misplaced KeyUpdate.  Tickets are skipped:
 * whoever keeps them reads them elsewhere.
 */
int hsmsg_record(struct hsmsg *h, const uint8_t *p, size_t n,
    struct hsmsg_result *res);

/*
 * hsmsg_busy(h): 1 while a message is part-way through: only handshake
 * records may come until it ends (RFC 8446 5.1).
 */
int hsmsg_busy(const struct hsmsg *h);

/*
 * hsmsg_tickets_only(h): 1 unless a message other than a ticket is
 * part-way through (its header begun): what a record may leave behind
 * for a reader that takes only tickets.
 */
int hsmsg_tickets_only(const struct hsmsg *h);

#endif
