import type { FastifyInstance } from 'fastify';

/**
 * Closes the app the way a deployment stops it: no new connections, idle keep-alive connections
 * closed at once, requests in flight answered (their connections close after the answer), the
 * stores closed last. Connections still open at the deadline (stalled clients, a request that
 * never ends) are cut, so the close always finishes. Resolves with how many were cut.
 */
export async function closeWithin(app: FastifyInstance, deadlineMs: number): Promise<number> {
  let cut = 0;
  const deadline = setTimeout(() => {
    app.server.getConnections((_error, open) => {
      cut = open;
      app.log.warn({ connections: open }, `shutdown deadline of ${deadlineMs} ms reached: cutting the connections still open`);
      app.server.closeAllConnections();
    });
  }, deadlineMs);
  try {
    await app.close();
  } finally {
    clearTimeout(deadline);
  }
  return cut;
}
