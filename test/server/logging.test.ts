import pino from 'pino';
import { loggedPath, RequestLines, scrubSecrets } from '../../server/logging';
import { logSink, testApp } from './helpers';

describe('scrubSecrets', () => {
  it('censors secret keys at any depth and secrets inside text, without touching the original', () => {
    const headers = { host: 'x', authorization: 'Bearer abc', Cookie: 'sid=1' };
    const line = { busboyOptions: { headers, limits: { files: 1 } }, url: '/sns/jscode2session?appid=wx1&secret=s3&js_code=c0de', note: 'sent Bearer abc.def to them' };
    expect(scrubSecrets(line)).toEqual({
      busboyOptions: { headers: { host: 'x', authorization: '[redacted]', Cookie: '[redacted]' }, limits: { files: 1 } },
      url: '/sns/jscode2session?appid=wx1&secret=[redacted]&js_code=[redacted]',
      note: 'sent Bearer [redacted] to them',
    });
    expect(headers.authorization).toBe('Bearer abc');
  });

  it('returns the very same object when nothing is secret (no copy on the per-request line)', () => {
    const line = { method: 'GET', path: '/api/profile', status: 200, ms: 1 };
    expect(scrubSecrets(line)).toBe(line);
  });

  it('keeps an error an error, its message and stack censored', () => {
    const error = Object.assign(new TypeError('GET https://api.weixin.qq.com/sns/jscode2session?secret=abc failed'), { config: { headers: { authorization: 'Bearer t' } } });
    const clean = scrubSecrets(error) as TypeError & { config: { headers: { authorization: string } } };
    expect(clean).toBeInstanceOf(TypeError);
    expect(clean.message).toBe('GET https://api.weixin.qq.com/sns/jscode2session?secret=[redacted] failed');
    expect(clean.stack).not.toContain('secret=abc');
    expect(clean.config.headers.authorization).toBe('[redacted]');
    expect(error.message).toContain('secret=abc');
  });
});

describe('request log lines', () => {
  it('are written for API requests at info, and not for health probes that succeed', async () => {
    const sink = logSink();
    const { app } = await testApp({ log: sink.stream, config: { logLevel: 'info' } });
    await app.inject({ url: '/healthz' });
    await app.inject({ url: '/readyz' });
    await app.inject({ url: '/auth/session' });
    await app.close();
    const paths = sink
      .text()
      .split('\n')
      .filter((line) => line.includes('"msg":"request"'))
      .map((line) => (JSON.parse(line) as { path: string }).path);
    expect(paths).toEqual(['/auth/session']);
  });
});

describe('the request line', () => {
  it('is the line pino writes for the same fields, field for field and in the same order, apart from the time', () => {
    const pinoSink = logSink();
    const oursSink = logSink();
    const logger = pino({ level: 'info' }, pinoSink.stream);
    logger.info({ reqId: 'req-7', method: 'GET', path: '/api/profile', status: 200, ms: 3 }, 'request');
    new RequestLines(logger, oursSink.stream).write('req-7', 'GET', '/api/profile', 200, 3);
    const withoutTime = (line: string) => Object.entries(JSON.parse(line) as Record<string, unknown>).filter(([key]) => key !== 'time');
    expect(withoutTime(oursSink.text())).toEqual(withoutTime(pinoSink.text()));
    expect(Object.keys(JSON.parse(oursSink.text()) as object)).toEqual(Object.keys(JSON.parse(pinoSink.text()) as object));
    expect(oursSink.text().endsWith('}\n')).toBe(true);
  });

  it('escapes what the client wrote into the path, so the line stays one JSON line', () => {
    const sink = logSink();
    new RequestLines(pino({}, sink.stream), sink.stream).write('req-1', 'GET', '/a"b\\c\u2028', 404, 0);
    expect(sink.text().split('\n')).toHaveLength(2);
    expect((JSON.parse(sink.text()) as { path: string }).path).toBe('/a"b\\c\u2028');
  });

  it.each([
    ['/sns/jscode2session?appid=wx1&secret=s3&js_code=c0de', '/sns/jscode2session'],
    ['/api/profile', '/api/profile'],
    ['/x&secret=s3cr3t/y', '/x&secret=[redacted]'],
    ['/x/Bearer%20abc', '/x/Bearer%20abc'],
    [`/${'a'.repeat(300)}`, `/${'a'.repeat(199)}`],
  ])('shows %s as %s: no query string, secrets in the path censored, at most 200 characters', (url, path) => {
    expect(loggedPath(url)).toBe(path);
  });

  it('reaches the destination at the end of the turn it was written in, in order, and at once when the app closes', async () => {
    const sink = logSink();
    const { app } = await testApp({ log: sink.stream, config: { logLevel: 'info' } });
    await app.inject({ url: '/auth/session' });
    await app.inject({ url: '/api/profile' });
    await sink.written();
    expect(sink.text().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { path: string }).path)).toEqual(['/auth/session', '/api/profile']);
    await app.inject({ url: '/api/orders' });
    await app.close();
    expect(sink.text()).toContain('"path":"/api/orders"');
  });
});

describe('lines from anywhere else', () => {
  it('are still scrubbed, at every level down to trace', async () => {
    const sink = logSink();
    const { app } = await testApp({ log: sink.stream, config: { logLevel: 'trace' } });
    app.log.trace({ headers: { authorization: 'Bearer abc.def' }, url: '/cgi-bin/stable_token?access_token=t0k3n' }, 'a plugin line');
    app.log.info('sent Bearer abc.def along');
    await app.close();
    expect(sink.text()).toContain('a plugin line');
    expect(sink.text()).not.toMatch(/abc\.def|t0k3n/);
    expect(sink.text()).toContain('"authorization":"[redacted]"');
  });
});
