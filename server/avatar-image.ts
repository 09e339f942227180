/**
 * What an uploaded avatar must be, and what is stored of it. The first bytes only say which
 * decoder to try: a file is an avatar when its header is within the pixel budget (read before a
 * single pixel is decoded, so a decompression bomb costs a header parse) and the whole image then
 * decodes. What is stored is a fresh encoding of those pixels, never the upload: bytes after the
 * image's end (an HTML or script polyglot), EXIF (GPS position, camera serial), comments and ICC
 * profiles are gone, the EXIF orientation is applied, and the size is at most STORED_SIDE square,
 * so every viewer's decode stays small too. Animated GIF and WebP keep their first frame: avatars
 * are still pictures wherever WeChat shows them, and a budget per frame would multiply.
 */
import sharp from 'sharp';
import type { ImageExt } from './avatars';
import { limitConcurrency } from './concurrency';
import { ApiError } from './errors';

/** An upload may be at most this many pixels on each side: 4096 × 4096 is 16.8 megapixels, 64 MB as RGBA. */
export const MAX_SIDE = 4096;
/** What is stored fits in this square (larger images are scaled down, smaller ones kept as they are). */
export const STORED_SIDE = 1024;

/**
 * One decode at a time per image (libvips would otherwise start a worker thread per core for each)
 * and no cache of decoded pixels: each avatar is decoded once. Memory then grows with the images
 * being decoded at the moment, which at most DECODES_AT_ONCE are: sharp runs on libuv's threadpool
 * (4 threads by default), and file reads and DNS lookups (every WeChat call) need the others.
 */
sharp.concurrency(1);
sharp.cache(false);
const DECODES_AT_ONCE = 2;
const decodeSlot = limitConcurrency(DECODES_AT_ONCE);

const SHARP_FORMAT: Record<ImageExt, string> = { png: 'png', jpg: 'jpeg', gif: 'gif', webp: 'webp' };

/** The image type by its first bytes: which decoder to try, not yet evidence of an image. */
export function sniffImage(bytes: Buffer): ImageExt | null {
  const starts = (signature: number[], offset = 0) => signature.every((byte, i) => bytes[offset + i] === byte);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (starts([0xff, 0xd8, 0xff])) return 'jpg';
  if (starts([0x47, 0x49, 0x46, 0x38])) return 'gif';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  return null;
}

const notAnImage = () => new ApiError('UNSUPPORTED_MEDIA_TYPE', 'the avatar must be a PNG, JPEG, GIF or WebP image');
const damaged = (cause: unknown) => Object.assign(new ApiError('UNSUPPORTED_MEDIA_TYPE', 'the image is damaged or incomplete'), { cause });
const tooManyPixels = (width: number, height: number) =>
  new ApiError('PAYLOAD_TOO_LARGE', `the image is ${width} × ${height} pixels; an avatar may be at most ${MAX_SIDE} × ${MAX_SIDE}`);
const tooLargeEncoded = (maxBytes: number) => new ApiError('PAYLOAD_TOO_LARGE', `the image takes more than ${maxBytes} bytes once re-encoded`);

/**
 * The avatar to store for an upload: its type (PNG, JPEG and WebP stay what they were; a GIF's
 * first frame becomes a PNG, which keeps its colours exactly) and freshly encoded bytes, at most
 * `maxBytes`. 415 for anything that is not a whole image of the four types, 413 past the budget.
 */
export async function reencodeAvatar(upload: Buffer, maxBytes: number): Promise<{ bytes: Buffer; ext: ImageExt }> {
  const type = sniffImage(upload);
  if (!type) throw notAnImage();
  return decodeSlot(async () => {
    // failOn 'error': a cut-off file or broken pixel data fails; a warning (a few stray bytes
    // between JPEG markers, common from some cameras) does not, since only decoded pixels are kept.
    let header: sharp.Metadata;
    try {
      header = await sharp(upload, { limitInputPixels: false, failOn: 'error' }).metadata();
    } catch (error) {
      throw damaged(error);
    }
    // libvips picks its decoder by content too; any other verdict than the sniffed one is refused.
    if (header.format !== SHARP_FORMAT[type]) throw notAnImage();
    if (header.width > MAX_SIDE || header.height > MAX_SIDE) throw tooManyPixels(header.width, header.height);

    // sharp's `unlimited` stays off: libvips' own guards (progressive JPEG scans, PNG text chunks) apply too.
    const image = sharp(upload, { limitInputPixels: MAX_SIDE * MAX_SIDE, failOn: 'error', autoOrient: true }).resize({
      width: STORED_SIDE,
      height: STORED_SIDE,
      fit: 'inside',
      withoutEnlargement: true,
    });
    const ext: ImageExt = type === 'gif' ? 'png' : type;
    // No withMetadata()/keepExif(): sharp writes none of the input's metadata, in sRGB.
    const encoded = ext === 'jpg' ? image.jpeg({ quality: 85 }) : ext === 'webp' ? image.webp({ quality: 85 }) : image.png();
    let bytes: Buffer;
    try {
      bytes = await encoded.toBuffer();
    } catch (error) {
      throw damaged(error);
    }
    if (bytes.length > maxBytes) throw tooLargeEncoded(maxBytes);
    return { bytes, ext };
  });
}
