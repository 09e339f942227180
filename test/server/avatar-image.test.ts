import sharp from 'sharp';
import { MAX_SIDE, reencodeAvatar, STORED_SIDE } from '../../server/avatar-image';
import { ApiError } from '../../server/errors';
import { animatedImage, PNG_SIGNATURE, pngBomb, SMALL_PNG, solidImage } from '../support/images';

const ONE_MB = 1024 * 1024;

/** The error code and status reencodeAvatar refused `upload` with. */
async function refusal(upload: Buffer, maxBytes = ONE_MB): Promise<{ code: string; status: number; message: string }> {
  const error = await reencodeAvatar(upload, maxBytes).then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return { code: error.code, status: error.status, message: error.message };
}

const pixels = async (image: Buffer) => (await sharp(image).raw().toBuffer({ resolveWithObject: true })).info;

describe('reencodeAvatar', () => {
  it('keeps PNG, JPEG and WebP as they were and returns a fresh encoding that decodes to the same size', async () => {
    for (const [format, ext] of [
      ['png', 'png'],
      ['jpeg', 'jpg'],
      ['webp', 'webp'],
    ] as const) {
      const upload = await solidImage(format, 120, 80);
      const avatar = await reencodeAvatar(upload, ONE_MB);
      expect(avatar.ext).toBe(ext);
      expect((await sharp(avatar.bytes).metadata()).format).toBe(format);
      expect(await pixels(avatar.bytes)).toMatchObject({ width: 120, height: 80 });
    }
  });

  it('keeps nothing after the image’s end: a PNG followed by an HTML page comes back as the PNG’s pixels alone', async () => {
    const polyglot = Buffer.concat([SMALL_PNG, Buffer.from('<html><script>alert(document.cookie)</script></html>')]);
    const avatar = await reencodeAvatar(polyglot, ONE_MB);
    expect(avatar.ext).toBe('png');
    expect(avatar.bytes.includes('<script')).toBe(false);
    expect(avatar.bytes.includes('<html')).toBe(false);
    expect(await sharp(avatar.bytes).raw().toBuffer()).toEqual(await sharp(SMALL_PNG).raw().toBuffer());
  });

  it('refuses what only looks like an image at its start with 415: the PNG signature alone, a GIF header followed by script, a cut-off PNG or JPEG', async () => {
    const jpeg = await solidImage('jpeg', 64, 64);
    const png = await solidImage('png', 64, 64);
    const cases: Array<[string, Buffer]> = [
      ['the 8-byte PNG signature', PNG_SIGNATURE],
      ['GIF89a=1;alert(1)//', Buffer.from('GIF89a=1;alert(1)//')],
      ['a PNG cut before its end', png.subarray(0, png.length - 20)],
      ['a JPEG cut before its end', jpeg.subarray(0, jpeg.length - 40)],
      ['a PNG whose pixel data is corrupt', Buffer.concat([png.subarray(0, 60), Buffer.alloc(40, 0xaa), png.subarray(100)])],
      ['HTML', Buffer.from('<!doctype html><script>alert(1)</script>')],
    ];
    for (const [what, upload] of cases) {
      expect({ what, ...(await refusal(upload)) }).toMatchObject({ what, code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 });
    }
  });

  it(`refuses the audit’s 50000 × 50000 PNG bomb with 413 on its header: one whose pixel data is garbage gets 413 too, not 415`, async () => {
    const bomb = pngBomb(50000, 50000);
    expect(bomb.length).toBeLessThan(320 * 1024);
    expect(await refusal(bomb)).toEqual({ code: 'PAYLOAD_TOO_LARGE', status: 413, message: `the image is 50000 × 50000 pixels; an avatar may be at most ${MAX_SIDE} × ${MAX_SIDE}` });
    // Had any pixel been decoded, the broken data would have been found (415): the header decided.
    const garbage = Buffer.concat([bomb.subarray(0, 41), Buffer.alloc(bomb.length - 53, 0x5a), bomb.subarray(bomb.length - 12)]);
    expect((await refusal(garbage)).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it(`takes ${MAX_SIDE} pixels on a side, scaled down to fit ${STORED_SIDE} × ${STORED_SIDE}; one pixel more on either side is 413`, async () => {
    const largest = await reencodeAvatar(pngBomb(MAX_SIDE, MAX_SIDE / 2), ONE_MB);
    expect(await pixels(largest.bytes)).toMatchObject({ width: STORED_SIDE, height: STORED_SIDE / 2 });
    expect((await refusal(pngBomb(MAX_SIDE + 1, 16))).status).toBe(413);
    expect((await refusal(pngBomb(16, MAX_SIDE + 1))).status).toBe(413);
    // Small images are not enlarged.
    expect(await pixels((await reencodeAvatar(SMALL_PNG, ONE_MB)).bytes)).toMatchObject({ width: 2, height: 2 });
  });

  it('applies a JPEG’s EXIF orientation and drops its EXIF, GPS position included', async () => {
    const photo = await sharp({ create: { width: 60, height: 40, channels: 3, background: '#336699' } })
      .jpeg()
      .withExif({ IFD0: { Copyright: 'camera-owner-name' }, IFD3: { GPSMapDatum: 'home-position-datum', GPSLatitudeRef: 'N', GPSLatitude: '39/1 54/1 27/1' } })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect(photo.includes('home-position-datum')).toBe(true);
    const avatar = await reencodeAvatar(photo, ONE_MB);
    const stored = await sharp(avatar.bytes).metadata();
    // Orientation 6: the picture is shown turned a quarter, so it is stored 40 wide, 60 high.
    expect({ width: stored.width, height: stored.height, orientation: stored.orientation, exif: stored.exif }).toEqual({ width: 40, height: 60, orientation: undefined, exif: undefined });
    expect(avatar.bytes.includes('home-position-datum')).toBe(false);
    expect(avatar.bytes.includes('camera-owner-name')).toBe(false);
  });

  it('keeps the first frame of an animated GIF (as a PNG) or WebP (as a WebP), a still picture', async () => {
    for (const format of ['gif', 'webp'] as const) {
      const avatar = await reencodeAvatar(await animatedImage(format, 40, 30, 3), ONE_MB);
      expect(avatar.ext).toBe(format === 'gif' ? 'png' : 'webp');
      const stored = await sharp(avatar.bytes).metadata();
      expect({ format, width: stored.width, height: stored.height, pages: stored.pages ?? 1 }).toEqual({ format, width: 40, height: 30, pages: 1 });
      // The first frame's colour (0, 60, 200), not the second's (80, 60, 160); GIF and lossy WebP may shift it a little.
      const [r, g, b] = await sharp(avatar.bytes).removeAlpha().raw().toBuffer();
      expect([r, g, b].map((value, i) => Math.abs(value - [0, 60, 200][i]) <= 12)).toEqual([true, true, true]);
    }
  });

  it('refuses with 413 an image whose fresh encoding is over the byte limit', async () => {
    const noise = await sharp(Buffer.from(Array.from({ length: 200 * 200 * 3 }, (_, i) => (i * 7919) % 251)), { raw: { width: 200, height: 200, channels: 3 } })
      .png()
      .toBuffer();
    expect(await refusal(noise, 1024)).toEqual({ code: 'PAYLOAD_TOO_LARGE', status: 413, message: 'the image takes more than 1024 bytes once re-encoded' });
  });
});
