/**
 * Real images for the avatar tests, and the hostile files of the audit (issue #22): a PNG bomb, a
 * polyglot, a cut-off file. Made on the fly, so every test says what its image is.
 */
import { deflateRawSync, constants as zlib } from 'node:zlib';
import sharp from 'sharp';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A 2 × 2 PNG (opaque red, with a pHYs chunk), small enough for any upload limit: 94 bytes. */
export const SMALL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAEElEQVQI12P4z8AARAwQCgAf7gP9QDZ6TgAAAABJRU5ErkJggg==',
  'base64',
);

/** A solid image of the given type and size, with an alpha channel where the type has one. */
export function solidImage(format: 'png' | 'jpeg' | 'gif' | 'webp', width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: format === 'jpeg' ? 3 : 4, background: { r: 40, g: 120, b: 200, alpha: 1 } } })
    .toFormat(format)
    .toBuffer();
}

/** An animated image of `frames` solid frames of different colours. */
export async function animatedImage(format: 'gif' | 'webp', width: number, height: number, frames: number): Promise<Buffer> {
  const pictures = await Promise.all(
    Array.from({ length: frames }, (_, i) => sharp({ create: { width, height, channels: 4, background: { r: (i * 80) % 256, g: 60, b: 200 - i * 40, alpha: 1 } } }).png().toBuffer()),
  );
  return sharp(pictures, { join: { animated: true } }).toFormat(format, { loop: 0, delay: Array(frames).fill(100) }).toBuffer();
}

function crc32(bytes: Buffer): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return ~crc >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * The zlib stream of `total` zero bytes, built from one compressed megabyte repeated: each block
 * ends with a full flush, so it refers to nothing before it and copies of it chain. The Adler-32
 * of n zero bytes is (n mod 65521) << 16 | 1. Compressing 312 MB afresh would take seconds.
 */
function zlibOfZeros(total: number): Buffer {
  const piece = 1 << 20;
  const flushed = (length: number) => deflateRawSync(Buffer.alloc(length), { level: 9, finishFlush: zlib.Z_FULL_FLUSH });
  const blocks: Buffer[] = [Buffer.from([0x78, 0xda])];
  const whole = flushed(piece);
  for (let left = total; left > 0; left -= piece) blocks.push(left >= piece ? whole : flushed(left));
  // The final, empty, stored block, then the checksum.
  blocks.push(Buffer.from([0x01, 0x00, 0x00, 0xff, 0xff]));
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((total % 65521) << 16) | 1) >>> 0);
  blocks.push(adler);
  return Buffer.concat(blocks);
}

/**
 * A complete, valid black-and-white PNG of `width` × `height` pixels (1 bit each, all black): the
 * audit's decompression bomb is 50000 × 50000, about 300 KB on disk and 10 GB as RGBA.
 */
export function pngBomb(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  // Each row: filter byte 0, then width bits, all zero.
  const raw = height * (1 + Math.ceil(width / 8));
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', header), pngChunk('IDAT', zlibOfZeros(raw)), pngChunk('IEND', Buffer.alloc(0))]);
}
