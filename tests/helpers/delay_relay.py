#!/usr/bin/python3
"""delay_relay.py LISTEN_PORT HOST PORT DELAY_MS: a TCP relay that adds
DELAY_MS to every byte, each way (this kernel has no netem).  Each chunk
read is held until its time is due, in order; at most 16 MiB waits per
direction, so a slow side still holds the other back.  A FIN is passed on
as a FIN, after the data before it; an error ends both sides at once.
Prints "listening" when ready."""
import asyncio
import sys
import time

QUEUE_CHUNKS = 256          # x 64 KiB: 16 MiB in flight per direction


async def pump(reader, writer, delay):
    q = asyncio.Queue(maxsize=QUEUE_CHUNKS)

    async def take():
        while True:
            data = await reader.read(65536)
            await q.put((time.monotonic() + delay, data))
            if not data:
                return

    async def give():
        while True:
            due, data = await q.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    await asyncio.gather(take(), give())


async def main():
    port, host, dport = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    delay = float(sys.argv[4]) / 1000

    async def handle(r1, w1):
        try:
            r2, w2 = await asyncio.open_connection(host, dport)
        except OSError:
            w1.transport.abort()
            return
        try:
            await asyncio.gather(pump(r1, w2, delay), pump(r2, w1, delay))
            w1.close()
            w2.close()
        except OSError:
            w1.transport.abort()
            w2.transport.abort()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("listening", flush=True)
    await server.serve_forever()


asyncio.run(main())
