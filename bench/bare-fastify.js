// A second baseline: Fastify with no plugins, hooks or logger answering the same fixed bodies,
// so the table shows what the framework costs and what the server's own work costs.
'use strict';
const Fastify = require('fastify');

const bodies = JSON.parse(process.env.BODIES || '{}');
const app = Fastify({ logger: false });
for (const [url, body] of Object.entries(bodies)) {
  app.all(url, async (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
}
app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });

// Exit normally on SIGTERM, so that node --cpu-prof writes its profile.
process.on('SIGTERM', () => process.exit(0));
