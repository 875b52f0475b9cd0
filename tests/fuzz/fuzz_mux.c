/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mux.c: one side of the streams protocol against a scripted peer
 * that may send anything.  Each input byte is one event (local or a
 * record from the peer).  An independent model of the one invariant that
 * matters checks every step: data reaches a stream only after the server
 * answered its OPEN and before the peer's FIN or ABORT for it.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/mux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mux m;
	int acked = 0, ended = 0; /* the model, for the current stream */

	if (size < 1)
		return 0;
	mux_init(&m, data[0] & 1 ? MUX_SERVER : MUX_CLIENT);
	for (size_t i = 1; i < size; i++) {
		enum mux_event ev = (enum mux_event)(data[i] % MUX_NEVENTS);
		struct mux_step st;

		if (ev == MUX_EV_DATA && mux_delivers(&m) != (acked && !ended))
			abort();
		st = mux_next(&m, ev);
		if (st.actions & MUX_A_DELIVER && !(acked && !ended))
			abort();
		if (st.actions & (MUX_A_DELIVER | MUX_A_DROP) &&
		    ev != MUX_EV_DATA)
			abort();
		if (st.actions & MUX_A_PROTOCOL_ERROR &&
		    !(st.actions & MUX_A_CLOSE_LINK))
			abort(); /* an illegal pair ends the link */
		if (st.to == MUX_CLOSED || st.actions & MUX_A_CLOSE_LINK)
			break;
		/* The model: a stream is acknowledged at START, and ended
		 * for delivery by the peer's FIN or ABORT, or our abort. */
		if (st.actions & MUX_A_START) {
			acked = 1;
			ended = 0;
		}
		if (ev == MUX_EV_FIN || ev == MUX_EV_FIN_LAST ||
		    ev == MUX_EV_ABORT || ev == MUX_EV_LOCAL_FAIL)
			ended = 1;
		if (st.to == MUX_IDLE || st.to == MUX_NEXT ||
		    st.to == MUX_RETIRED)
			acked = 0;
	}
	return 0;
}
