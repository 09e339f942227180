import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { bearer, login, testApp } from './helpers';

/** Every bad request gets a 4xx in the one envelope, and the server keeps serving. */
describe('hostile input', () => {
  let app: FastifyInstance;
  let skey: string;
  beforeAll(async () => {
    ({ app } = await testApp({ config: { bodyLimitBytes: 2048 } }));
    ({ skey } = await login(app));
  });
  afterAll(() => app.close());
  afterEach(async () => {
    expect((await app.inject({ url: '/auth/session', headers: bearer(skey) })).statusCode).toBe(200);
  });

  const expectEnvelope = (response: { statusCode: number; json(): unknown }, status: number, code: string) => {
    expect(response.statusCode).toBe(status);
    expect(response.json()).toEqual({ error: { code, message: expect.any(String) } });
  };

  const postJson = (payload: string) => app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload });

  it('answers malformed JSON with 400 BAD_REQUEST, saying it is not JSON', async () => {
    const response = await postJson('{"code": "abc"');
    expectEnvelope(response, 400, 'BAD_REQUEST');
    expect(response.json().error.message).toBe('the body is not valid JSON');
  });

  it.each([
    ['{"code":"a","__proto__":{"admin":true}}', '__proto__'],
    ['{"code":"a","\\u005f_proto__":{"admin":true}}', '__proto__'],
    ['{"code":"a","nested":{"__proto__":{"admin":true}}}', '__proto__'],
    ['{"code":"a","constructor":{"prototype":{"admin":true}}}', 'constructor.prototype'],
  ])('answers the valid JSON %s, which would poison a prototype, with 400 naming the forbidden property %s', async (payload, property) => {
    const response = await postJson(payload);
    expectEnvelope(response, 400, 'BAD_REQUEST');
    expect(response.json().error.message).toBe(`forbidden property ${property}: a JSON body may not set an object's prototype`);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])('answers content type %s with 415 UNSUPPORTED_MEDIA_TYPE', async (type) => {
    const response = await app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': type }, payload: 'code=abc' });
    expectEnvelope(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a JSON body that is not an object with 400 BAD_REQUEST', async () => {
    for (const payload of ['"abc"', '[]', 'null', '42']) {
      expectEnvelope(await app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload }), 400, 'BAD_REQUEST');
    }
  });

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { code: 'x'.repeat(4096) } });
    expectEnvelope(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers unknown paths with 404 NOT_FOUND', async () => {
    expectEnvelope(await app.inject({ url: '/wp-admin/?x=1' }), 404, 'NOT_FOUND');
    expectEnvelope(await app.inject({ method: 'DELETE', url: '/auth/nothing' }), 404, 'NOT_FOUND');
    expectEnvelope(await app.inject({ url: '/avatars/..%2f..%2fetc%2fpasswd' }), 404, 'NOT_FOUND');
  });

  it.each([
    ['DELETE', '/api/profile', 'GET, HEAD, PUT'],
    ['PATCH', '/auth/login', 'POST'],
    ['GET', '/auth/login?code=secret', 'POST'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['PUT', '/avatars/0123456789abcdef0123456789abcdef.png', 'GET, HEAD'],
    ['OPTIONS', '/api/orders', 'GET, HEAD'],
  ] as const)('answers %s on %s, a path that exists for other methods, with 405 METHOD_NOT_ALLOWED and Allow: %s', async (method, url, allow) => {
    const response = await app.inject({ method, url });
    expectEnvelope(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.allow).toBe(allow);
    expect(response.json().error.message).toBe(`no route for ${method} ${url.split('?')[0]}; this path takes ${allow}`);
  });

  it('answers a wrong method on a development route with 405 only to this machine, and 404 to anyone else', async () => {
    const local = await app.inject({ method: 'GET', url: '/dev/codes' });
    expectEnvelope(local, 405, 'METHOD_NOT_ALLOWED');
    expect(local.headers.allow).toBe('POST');
    const remote = await app.inject({ method: 'GET', url: '/dev/codes', remoteAddress: '203.0.113.7' });
    expectEnvelope(remote, 404, 'NOT_FOUND');
    expect(remote.headers.allow).toBeUndefined();
  });

  describe('over a real socket', () => {
    let port: number;
    beforeAll(async () => {
      await app.listen({ host: '127.0.0.1', port: 0 });
      port = (app.server.address() as { port: number }).port;
    });

    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(text));
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk.toString()));
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
      });

    it('answers headers beyond Node’s limit with 431 HEADERS_TOO_LARGE in the envelope', async () => {
      const answer = await raw(`GET /auth/session HTTP/1.1\r\nHost: x\r\nX-Junk: ${'a'.repeat(20_000)}\r\n\r\n`);
      expect(answer).toMatch(/^HTTP\/1\.1 431 /);
      expect(JSON.parse(answer.split('\r\n\r\n')[1])).toEqual({ error: { code: 'HEADERS_TOO_LARGE', message: expect.any(String) } });
    });

    it('answers an unparsable request with 400 BAD_REQUEST in the envelope', async () => {
      const answer = await raw('GET /auth/session HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n');
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(answer.split('\r\n\r\n')[1]).error.code).toBe('BAD_REQUEST');
    });

    it('answers a URL that is not validly percent-encoded with 400 BAD_REQUEST in the envelope', async () => {
      const answer = await raw('GET /avatars/%zz%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(answer.split('\r\n\r\n')[1])).toEqual({ error: { code: 'BAD_REQUEST', message: 'the URL is not validly percent-encoded' } });
    });

    it('answers an over-long path parameter with 414 URI_TOO_LONG in the envelope', async () => {
      const answer = await raw(`GET /avatars/${'a'.repeat(500)}.png HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect(answer).toMatch(/^HTTP\/1\.1 414 /);
      expect(JSON.parse(answer.split('\r\n\r\n')[1])).toEqual({ error: { code: 'URI_TOO_LONG', message: 'a path segment of the URL is too long' } });
    });

    const envelopeOf = (answer: string) => JSON.parse(answer.split('\r\n\r\n')[1]) as unknown;

    it('answers an HTTP/1.1 request without Host with 400 BAD_REQUEST in the envelope, and serves HTTP/1.0 without one', async () => {
      const answer = await raw('GET /healthz HTTP/1.1\r\n\r\n');
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toMatch(/\r\nConnection: close\r\n/i);
      expect(envelopeOf(answer)).toEqual({ error: { code: 'BAD_REQUEST', message: 'HTTP/1.1 requires a Host header' } });
      expect(await raw('GET /healthz HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 /);
    });

    it('answers a request with two Host headers with 400 BAD_REQUEST in the envelope, whether they agree or not', async () => {
      for (const second of ['evil.example', '127.0.0.1']) {
        const answer = await raw(`GET /auth/session HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: ${second}\r\nAuthorization: Bearer ${skey}\r\n\r\n`);
        expect(answer).toMatch(/^HTTP\/1\.1 400 /);
        expect(envelopeOf(answer)).toEqual({ error: { code: 'BAD_REQUEST', message: 'a request must carry one Host header, not several' } });
      }
    });

    it('answers a compressed body with 415 UNSUPPORTED_MEDIA_TYPE in the envelope instead of reading it as plain', async () => {
      const body = '{"code":"abc"}';
      for (const encoding of ['gzip', 'br', 'deflate', 'gzip, identity']) {
        const answer = await raw(
          `POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Encoding: ${encoding}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
        expect(answer).toMatch(/^HTTP\/1\.1 415 /);
        expect(answer).toMatch(/\r\nAccept-Encoding: identity\r\n/i);
        expect(envelopeOf(answer)).toEqual({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Encoding is not supported: send the body uncompressed' } });
      }
      const identity = await raw(
        `POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Encoding: identity\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      // Read as JSON and refused by WeChat's rules, not by its encoding.
      expect(identity).toMatch(/^HTTP\/1\.1 401 /);
    });

    it('answers the health probes in JSON, without a session', async () => {
      expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toEqual({ status: 'ok' });
      expect(await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()).toEqual({ status: 'ready' });
    });

    it('survives a client that hangs up halfway through a body', async () => {
      await new Promise<void>((resolve) => {
        const req = httpRequest({ port, method: 'POST', path: '/auth/login', headers: { 'content-type': 'application/json', 'content-length': '1000' } });
        req.on('error', () => resolve());
        req.write('{"code":"ab', () => req.destroy());
        req.on('close', () => resolve());
      });
      const response = await fetch(`http://127.0.0.1:${port}/auth/session`, { headers: bearer(skey) });
      expect(response.status).toBe(200);
    });
  });
});
