// The baseline: node:http answering a fixed JSON body per path, after reading the request body.
// BODIES (JSON: path -> body text) and PORT come from the environment; see bench/harness.ts.
'use strict';
const http = require('node:http');

const bodies = JSON.parse(process.env.BODIES || '{}');
const fallback = JSON.stringify({ ok: true });

http
  .createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const body = bodies[request.url.split('?')[0]] || fallback;
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    });
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
