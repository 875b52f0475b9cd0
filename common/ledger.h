/* SPDX-License-Identifier: MIT */
/*
 * ledger.h: a test build's proof that no AEAD nonce is used twice.
 * Built with DBTLS_NONCE_LEDGER (the sanitized twins), every record a
 * process seals, by rec13 or by OpenSSL, is noted as its (key, nonce)
 * pair, and the first pair seen twice aborts the process with a message
 * on stderr.  Other builds have no ledger.
 */
#ifndef COMMON_LEDGER_H
#define COMMON_LEDGER_H

#include <stddef.h>
#include <stdint.h>

/*
 * ledger_note(key, klen, nonce, who): note one sealing; abort() if the
 * pair was noted before.  who names the sealer for that message.
 * Thread-safe.
 */
void ledger_note(const uint8_t *key, size_t klen, const uint8_t nonce[12],
    const char *who);

/* ledger_count(): pairs noted so far in this process. */
size_t ledger_count(void);

#endif
