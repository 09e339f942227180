import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AvatarUploadResponse } from '../../typings/api';
import { reencodeAvatar } from '../avatar-image';
import { IMAGE_TYPES, type ImageExt } from '../avatars';
import * as C from '../contract';
import type { Context } from '../context';
import { ApiError } from '../errors';
import { enforceLimit, userLimitKeys } from '../limits';
import { authenticate } from '../session';

/** Room for the multipart framing around the file: boundaries, part headers, a few small fields. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

const tooLarge = (maxBytes: number) => new ApiError('PAYLOAD_TOO_LARGE', `the upload must be at most ${maxBytes} bytes in all`);

const severalFiles = () => new ApiError('BAD_REQUEST', 'the upload must hold one file, not several');

/**
 * The one file of the multipart body, read to its end (a body with a second file is refused, not
 * half-used), reading at most `maxBytes` of body in all. The plugin's limits bound the files and
 * fields, but not what a client sends around or after them (an endless epilogue); counting the raw
 * bytes bounds the whole request. busboy throws plain Errors for a body it cannot parse (no
 * boundary, cut short): that is the client's fault, a 400. The plugin's limit errors carry their
 * own 4xx status and pass through, except its files limit (413), which is this 400.
 */
async function readUpload(request: FastifyRequest, maxBytes: number): Promise<{ fieldname: string; bytes: Buffer }> {
  const declared = Number(request.headers['content-length']);
  if (declared > maxBytes) throw tooLarge(maxBytes);

  const read = async () => {
    let upload: { fieldname: string; bytes: Buffer } | undefined;
    for await (const part of request.parts()) {
      if (part.type !== 'file') continue;
      if (upload) throw severalFiles();
      upload = { fieldname: part.fieldname, bytes: await part.toBuffer() };
    }
    if (!upload) throw new ApiError('BAD_REQUEST', 'the upload has no file');
    return upload;
  };
  // Started first: request.file() pipes the body into busboy before this counter listens, so no chunk passes unseen by either.
  const reading = read();
  let received = 0;
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received > maxBytes) {
      request.raw.unpipe();
      request.raw.pause();
      rejectOverflow(tooLarge(maxBytes));
    }
  };
  let rejectOverflow: (error: ApiError) => void = () => undefined;
  const overflow = new Promise<never>((_, reject) => (rejectOverflow = reject));
  request.raw.on('data', onData);
  try {
    return await Promise.race([reading, overflow]);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'FST_FILES_LIMIT') throw severalFiles();
    if (error instanceof ApiError || typeof (error as { statusCode?: unknown }).statusCode === 'number') throw error;
    throw new ApiError('BAD_REQUEST', 'the multipart body is malformed');
  } finally {
    request.raw.off('data', onData);
    reading.catch(() => undefined);
  }
}

export function avatarRoutes(app: FastifyInstance, ctx: Context): void {
  const { config, avatars } = ctx;

  const maxUploadBytes = config.avatarMaxBytes + MULTIPART_OVERHEAD_BYTES;
  // An answer given before the body was read to its end (no session, rate limited, too large):
  // a body of a declared length within the limit is read and discarded after the answer, so the
  // client gets to read it (wx.uploadFile would otherwise report a broken pipe instead of a 429);
  // anything else (chunked, or over the limit) closes the connection rather than read on.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!request.raw.complete && !(Number(request.headers['content-length']) <= maxUploadBytes)) reply.header('connection', 'close');
    done(null, payload);
  });

  app.post<{ Reply: AvatarUploadResponse }>('/api/avatar', { schema: { response: { 200: C.avatarUploadResponse } } }, async (request) => {
    const { user } = await authenticate(request, ctx.stores);
    if (!request.isMultipart()) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send the avatar as multipart/form-data (wx.uploadFile)');
    await enforceLimit(ctx.stores.limits, userLimitKeys.avatarUpload(user.id), config.avatarUploadLimit, config.avatarUploadWindowMs, 'too many avatar uploads, try again later');

    // The file's own limit is the multipart plugin's (registered for these routes in app.ts): past it, 413.
    const { fieldname, bytes } = await readUpload(request, maxUploadBytes);
    if (fieldname !== 'file') throw new ApiError('BAD_REQUEST', 'the file field must be named "file"');
    const avatar = await reencodeAvatar(bytes, config.avatarMaxBytes);

    const name = await avatars.save(avatar.bytes, avatar.ext);
    const avatarUrl = avatars.urlOf(name);
    let replaced;
    try {
      replaced = await ctx.stores.users.update(user.id, { avatarUrl });
    } catch (error) {
      // Never throws (see AvatarFiles.remove): the store's failure is the answer.
      await avatars.remove(name);
      throw error;
    }
    if (!replaced) {
      await avatars.remove(name);
      throw new ApiError('SESSION_EXPIRED', 'the session is missing or expired, log in again');
    }
    await avatars.discardReplaced(replaced.before.avatarUrl, avatarUrl);
    return { avatarUrl };
  });

  app.get<{ Params: { name: string } }>('/avatars/:name', async (request, reply) => {
    const { name } = request.params;
    // Only regular files under names this server made: nothing else (../, links, other files) is ever read.
    const bytes = await avatars.read(name);
    if (!bytes) throw new ApiError('NOT_FOUND', 'no such avatar');
    const ext = path.extname(name).slice(1) as ImageExt;
    return (
      reply
        .type(IMAGE_TYPES[ext])
        .header('cache-control', 'public, max-age=31536000, immutable')
        // An image, and only ever shown as one: no sniffing it into HTML, a fixed file name if it
        // is saved, and a policy that gives it no script, no plugins and no origin if it is opened.
        .header('x-content-type-options', 'nosniff')
        .header('content-disposition', `inline; filename="avatar.${ext}"`)
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('cross-origin-resource-policy', 'cross-origin')
        .send(bytes)
    );
  });
}
