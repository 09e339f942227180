// The message push's Token and EncodingAESKey for `npm start`: the simulated WeChat signs and seals
// the account events it pushes (POST /dev/wechat-events) with them, as WeChat does with the ones
// entered in the console. Made once per data folder (push-keys.json, 0600, in the folder that holds
// the embedded database) and kept, so that a restart pushes and checks with the same ones. Never
// printed: a log or a terminal recording would hand them to whoever reads it.
'use strict';
const { randomBytes } = require('node:crypto');
const { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const FILE_NAME = 'push-keys.json';

/** `length` letters and digits, uniformly (bytes past the last multiple of 62 are dropped). */
function randomAlphanumeric(length) {
  let text = '';
  while (text.length < length) {
    for (const byte of randomBytes(length * 2)) if (byte < 248 && text.length < length) text += ALPHABET[byte % 62];
  }
  return text;
}

/** WeChat's formats: a Token of 3 to 32 letters and digits, an EncodingAESKey of 43. */
const valid = (keys) =>
  keys !== null && typeof keys === 'object' && /^[A-Za-z0-9]{3,32}$/.test(keys.token ?? '') && /^[A-Za-z0-9]{43}$/.test(keys.encodingAesKey ?? '');

/** The keys kept in `dataDir`, made (and the folder, private) on first use; a damaged file is replaced. */
function simulatedPushKeys(dataDir) {
  const file = path.join(dataDir, FILE_NAME);
  if (existsSync(file)) {
    try {
      const kept = JSON.parse(readFileSync(file, 'utf8'));
      if (valid(kept)) return kept;
    } catch {
      // Replaced below.
    }
  }
  if (!existsSync(dataDir)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
  }
  const keys = { token: randomAlphanumeric(32), encodingAesKey: randomAlphanumeric(43) };
  writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return keys;
}

/** The folder `npm start` keeps its data in: the embedded database's (data/ by default). */
function dataDirOf(databaseUrl) {
  if (databaseUrl && databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length).replace(/^\/\//, '');
    return path.dirname(path.resolve(file));
  }
  return path.resolve('data');
}

module.exports = { simulatedPushKeys, dataDirOf, FILE_NAME };
