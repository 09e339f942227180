import { scrubSecrets } from '../../server/logging';
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
