// The baseline: node:http answering a fixed JSON body per path, after reading the request body.
// BODIES (JSON: path -> body text) and PORT come from the environment; see bench/harness.ts.
// With REDIS_URL, every answer is first read from Redis with one GET (the bodies are stored there
// at start): the floor of any design that needs one Redis round trip per request. The connection
// takes the same options as the server's Redis store (REDIS_AUTO_PIPELINING, see
// server/stores/redis.ts), so that the two differ only in what they do per request.
// With DATABASE_URL (PostgreSQL) as well, every answer then also waits for one primary-key SELECT of
// a user row through `pg` (a pool of DATABASE_POOL_SIZE, the server's default 10): the floor of a
// read that needs the session from Redis and the user from the database.
'use strict';
const http = require('node:http');

const bodies = JSON.parse(process.env.BODIES || '{}');
const fallback = JSON.stringify({ ok: true });
const redisUrl = process.env.REDIS_URL;
const databaseUrl = process.env.DATABASE_URL;

async function main() {
  let answer = (path, send) => send(bodies[path] || fallback);
  if (redisUrl) {
    const Redis = require('ioredis');
    const redis = new Redis(redisUrl, { enableAutoPipelining: process.env.REDIS_AUTO_PIPELINING === '1' });
    const prefix = `bench-floor:${process.pid}:`;
    for (const [path, body] of Object.entries(bodies)) await redis.set(prefix + path, body);
    await redis.set(`${prefix}*`, fallback);
    answer = (path, send) =>
      redis.get(prefix + (path in bodies ? path : '*')).then(send, (error) => {
        console.error(error);
        send(null);
      });
  }
  if (databaseUrl) {
    const { Pool } = require('pg');
    const pool = new Pool({ connectionString: databaseUrl, max: Number(process.env.DATABASE_POOL_SIZE || 10) });
    const { rows } = await pool.query('select id from users limit 1');
    if (rows.length === 0) throw new Error('no user row to read: log in to the server on this database first');
    const userId = rows[0].id;
    const first = answer;
    answer = (path, send) =>
      first(path, (body) => {
        if (body === null) return send(null);
        pool.query('select * from users where id = $1', [userId]).then(
          (result) => send(result.rows.length === 1 ? body : null),
          (error) => {
            console.error(error);
            send(null);
          },
        );
      });
  }

  http
    .createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        answer(request.url.split('?')[0], (body) => {
          if (body === null) {
            response.writeHead(500).end();
            return;
          }
          response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
          response.end(body);
        });
      });
    })
    .listen(Number(process.env.PORT), '127.0.0.1');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

// Exit normally on SIGTERM, so that node --cpu-prof writes its profile.
process.on('SIGTERM', () => process.exit(0));
