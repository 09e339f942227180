import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AvatarUploadResponse } from '../../typings/api';
import * as C from '../contract';
import type { Context } from '../context';
import { ApiError } from '../errors';
import { authenticate } from '../session';

const IMAGE_TYPES = { png: 'image/png', jpg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' } as const;
type ImageExt = keyof typeof IMAGE_TYPES;

/** The image type by its first bytes; the client's file name and content type are not evidence. */
function sniffImage(bytes: Buffer): ImageExt | null {
  const starts = (signature: number[], offset = 0) => signature.every((byte, i) => bytes[offset + i] === byte);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (starts([0xff, 0xd8, 0xff])) return 'jpg';
  if (starts([0x47, 0x49, 0x46, 0x38])) return 'gif';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  return null;
}

/**
 * The first file of the multipart body. busboy throws plain Errors for a body it cannot parse (no
 * boundary, cut short): that is the client's fault, a 400. The plugin's limit errors carry their
 * own 4xx status and pass through.
 */
async function readUpload(request: FastifyRequest): Promise<{ fieldname: string; bytes: Buffer }> {
  try {
    const file = await request.file();
    if (!file) throw new ApiError('BAD_REQUEST', 'the upload has no file');
    return { fieldname: file.fieldname, bytes: await file.toBuffer() };
  } catch (error) {
    if (error instanceof ApiError || typeof (error as { statusCode?: unknown }).statusCode === 'number') throw error;
    throw new ApiError('BAD_REQUEST', 'the multipart body is malformed');
  }
}

const STORED_NAME = /^[0-9a-f]{32}\.(png|jpg|gif|webp)$/;

export function avatarRoutes(app: FastifyInstance, ctx: Context): void {
  const dir = ctx.config.uploadDir;

  app.post<{ Reply: AvatarUploadResponse }>('/api/avatar', { schema: { response: { 200: C.avatarUploadResponse } } }, async (request) => {
    await authenticate(request, ctx.stores);
    if (!request.isMultipart()) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send the avatar as multipart/form-data (wx.uploadFile)');
    // Size and count limits are the multipart plugin's (registered for these routes in app.ts): past them, 413.
    const { fieldname, bytes } = await readUpload(request);
    if (fieldname !== 'file') throw new ApiError('BAD_REQUEST', 'the file field must be named "file"');
    const ext = sniffImage(bytes);
    if (!ext) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'the avatar must be a PNG, JPEG, GIF or WebP image');

    const name = `${randomBytes(16).toString('hex')}.${ext}`;
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, name), bytes, { flag: 'wx' });
    return { avatarUrl: `${ctx.origin()}/avatars/${name}` };
  });

  app.get<{ Params: { name: string } }>('/avatars/:name', async (request, reply) => {
    const { name } = request.params;
    const notFound = new ApiError('NOT_FOUND', 'no such avatar');
    // Only names this server made: nothing else (../, other files) is ever read.
    if (!STORED_NAME.test(name)) throw notFound;
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(dir, name));
    } catch {
      throw notFound;
    }
    return reply
      .type(IMAGE_TYPES[path.extname(name).slice(1) as ImageExt])
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .send(bytes);
  });
}
