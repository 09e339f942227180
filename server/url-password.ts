/**
 * A connection URL's password cut out of a message (a driver's error, a refusal at start), for
 * every URL the server connects with (DATABASE_URL, REDIS_URL): the drivers' messages are not
 * known to echo it, this makes sure of it.
 */

const REDACTED = '[redacted]';

/**
 * `message` with the password of `url` replaced, as written in the URL and percent-decoded. A
 * stray % (no escape, as in "50%off") passes the URL parser but not decodeURIComponent: such a
 * password is cut out as written, rather than the report of a failure failing itself.
 */
export function withoutUrlPassword(message: string, url: string): string {
  const { password } = new URL(url);
  if (!password) return message;
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    // URIError: the password as written is all there is to cut out.
  }
  return message.split(decoded).join(REDACTED).split(password).join(REDACTED);
}
