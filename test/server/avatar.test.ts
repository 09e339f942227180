import type { FastifyInstance } from 'fastify';
import type { AvatarUploadResponse } from '../../typings/api';
import { bearer, login, testApp } from './helpers';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR fake png body')]);

/** Over a real socket, with real multipart bodies, as wx.uploadFile sends them. */
describe('POST /api/avatar', () => {
  let app: FastifyInstance;
  let base: string;
  let skey: string;
  beforeAll(async () => {
    ({ app } = await testApp({ config: { avatarMaxBytes: 4096 } }));
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    ({ skey } = await login(app));
  });
  afterAll(() => app.close());

  const upload = (bytes: Buffer, { field = 'file', type = 'application/octet-stream', auth = skey } = {}) => {
    const form = new FormData();
    form.append('name', 'avatar');
    form.append(field, new Blob([bytes], { type }), 'tmp_avatar.png');
    return fetch(`${base}/api/avatar`, { method: 'POST', headers: bearer(auth), body: form });
  };

  it('stores a PNG and serves it back byte for byte at the URL it answers', async () => {
    const response = await upload(PNG);
    expect(response.status).toBe(200);
    const { avatarUrl } = (await response.json()) as AvatarUploadResponse;
    expect(avatarUrl).toMatch(new RegExp(`^${base}/avatars/[0-9a-f]{32}\\.png$`));
    const served = await fetch(avatarUrl);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await served.arrayBuffer())).toEqual(PNG);
  });

  it('refuses a file over the size limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const response = await upload(Buffer.concat([PNG, Buffer.alloc(5000)]));
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('judges the type by content, not by the declared type: an HTML file named .png gets 415', async () => {
    const response = await upload(Buffer.from('<script>alert(1)</script>'), { type: 'image/png' });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a JSON body with 415 and a file under another field name with 400', async () => {
    const json = await fetch(`${base}/api/avatar`, { method: 'POST', headers: { ...bearer(skey), 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    expect((await upload(PNG, { field: 'avatar' })).status).toBe(400);
  });

  it('needs a session: 401 SESSION_EXPIRED', async () => {
    expect((await upload(PNG, { auth: 'A'.repeat(43) })).status).toBe(401);
  });

  it('serves nothing but names it made itself', async () => {
    for (const name of ['..%2F..%2Fetc%2Fpasswd', 'x.png', `${'0'.repeat(32)}.png`, `${'0'.repeat(32)}.svg`]) {
      expect((await fetch(`${base}/avatars/${name}`)).status).toBe(404);
    }
  });
});
