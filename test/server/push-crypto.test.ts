import { aesKeyFrom, openPush, PushDecryptError, pushSignature, sealPush, signatureMatches } from '../../server/wechat/push-crypto';

/**
 * WeChat's own sample for WXBizMsgCrypt (the C#, Java, PHP and Python downloads share it;
 * https://developer.work.weixin.qq.com/document/path/90968 quotes it): the same algorithm as the
 * mini-program's push, with the appid where WeCom puts its corp id.
 */
const TENCENT_SAMPLE = {
  token: 'QDG6eK',
  encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  appId: 'wx5823bf96d3bd56c7',
  msgSignature: '477715d11cdb4164915debcba66cb864d751f3e6',
  timestamp: '1409659813',
  nonce: '1372623149',
  encrypt:
    'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
};

/** wechatpy's encryption test (tests/test_crypto.py): with its fixed 16 "random" bytes, the exact ciphertext and signature. */
const WECHATPY_SAMPLE = {
  token: '123456',
  encodingAesKey: 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR',
  appId: 'wx49f0ab532d5d035a',
  timestamp: '1411525903',
  nonce: '461056294',
  random: '1234567890123456',
  message:
    '<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n' +
    '<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>',
  encrypt:
    '9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3',
  msgSignature: '407518b7649e86ef23978113f92d27afa9296533',
};

describe('the message push signature', () => {
  test("reproduces the URL check in WeChat's message-push guide (Token AAAAA)", () => {
    expect(pushSignature('AAAAA', '1714036504', '1514711492')).toBe('f464b24fc39322e44b38aa78f5edd27bd1441696');
  });

  test("reproduces the plain-mode push signature in WeChat's encryption guide", () => {
    expect(pushSignature('AAAAA', '1714037059', '486452656')).toBe('899cf89e464efb63f54ddac96b0a0a235f53aa78');
  });

  test("reproduces the msg_signature of Tencent's WXBizMsgCrypt sample over its ciphertext", () => {
    const { token, timestamp, nonce, encrypt, msgSignature } = TENCENT_SAMPLE;
    expect(signatureMatches(msgSignature, token, timestamp, nonce, encrypt)).toBe(true);
  });

  test('refuses a signature with one character changed, of another length, or not hex', () => {
    const { token, timestamp, nonce, encrypt, msgSignature } = TENCENT_SAMPLE;
    const changed = `${msgSignature.slice(0, -1)}${msgSignature.endsWith('6') ? '7' : '6'}`;
    for (const given of [changed, msgSignature.slice(1), `${msgSignature}0`, 'z'.repeat(40), '', undefined]) {
      expect(signatureMatches(given, token, timestamp, nonce, encrypt)).toBe(false);
    }
  });

  test('accepts the signature in upper-case hex too', () => {
    expect(signatureMatches('F464B24FC39322E44B38AA78F5EDD27BD1441696', 'AAAAA', '1714036504', '1514711492')).toBe(true);
  });
});

describe('the safe-mode envelope', () => {
  test("opens Tencent's sample to its XML message, with the appid inside checked", () => {
    const message = openPush(aesKeyFrom(TENCENT_SAMPLE.encodingAesKey), TENCENT_SAMPLE.encrypt, TENCENT_SAMPLE.appId);
    expect(message).toContain('<Content><![CDATA[hello]]></Content>');
    expect(message).toContain('<MsgId>4561255354251345929</MsgId>');
    expect(message.endsWith('</xml>')).toBe(true);
  });

  test("refuses Tencent's sample for any other appid", () => {
    const key = aesKeyFrom(TENCENT_SAMPLE.encodingAesKey);
    for (const appId of ['wx5823bf96d3bd56c8', 'wx5823bf96d3bd56c', 'wx5823bf96d3bd56c70', '']) {
      expect(() => openPush(key, TENCENT_SAMPLE.encrypt, appId)).toThrow(expect.objectContaining({ reason: 'WRONG_APPID' }));
    }
  });

  test("seals wechatpy's vector to exactly its ciphertext and msg_signature, and opens it again", () => {
    const { token, encodingAesKey, appId, timestamp, nonce, random, message, encrypt, msgSignature } = WECHATPY_SAMPLE;
    const key = aesKeyFrom(encodingAesKey);
    const sealed = sealPush(key, message, appId, Buffer.from(random));
    expect(sealed).toBe(encrypt);
    expect(pushSignature(token, timestamp, nonce, sealed)).toBe(msgSignature);
    expect(openPush(key, sealed, appId)).toBe(message);
  });

  test('round-trips messages of every length across two 32-byte pad blocks, multi-byte text included', () => {
    const key = aesKeyFrom(TENCENT_SAMPLE.encodingAesKey);
    for (let length = 0; length <= 64; length++) {
      const message = '注'.repeat(length % 3) + 'x'.repeat(length);
      const sealed = sealPush(key, message, 'wx00000000simulated');
      expect(Buffer.from(sealed, 'base64').length % 32).toBe(0);
      expect(openPush(key, sealed, 'wx00000000simulated')).toBe(message);
    }
  });

  test('refuses ciphertext that is not base64, is empty, or is not whole AES blocks', () => {
    const key = aesKeyFrom(TENCENT_SAMPLE.encodingAesKey);
    for (const encrypted of ['', 'not base64!', 'AAAA', TENCENT_SAMPLE.encrypt.slice(4)]) {
      expect(() => openPush(key, encrypted, TENCENT_SAMPLE.appId)).toThrow(expect.objectContaining({ reason: 'BAD_CIPHERTEXT' }));
    }
  });

  test('refuses every one-byte change of the last block (padding, length or appid no longer check out)', () => {
    const key = aesKeyFrom(TENCENT_SAMPLE.encodingAesKey);
    const bytes = Buffer.from(TENCENT_SAMPLE.encrypt, 'base64');
    let refused = 0;
    for (let i = bytes.length - 32; i < bytes.length; i++) {
      const tampered = Buffer.from(bytes);
      tampered[i] ^= 0x01;
      try {
        openPush(key, tampered.toString('base64'), TENCENT_SAMPLE.appId);
      } catch (error) {
        if (error instanceof PushDecryptError) refused++;
      }
    }
    expect(refused).toBe(32);
  });

  test('refuses the sample opened with another EncodingAESKey', () => {
    const other = aesKeyFrom('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG');
    expect(() => openPush(other, TENCENT_SAMPLE.encrypt, TENCENT_SAMPLE.appId)).toThrow(PushDecryptError);
  });

  test('takes an EncodingAESKey of 43 letters and digits only, as 32 bytes', () => {
    expect(aesKeyFrom(TENCENT_SAMPLE.encodingAesKey)).toHaveLength(32);
    for (const bad of ['', TENCENT_SAMPLE.encodingAesKey.slice(1), `${TENCENT_SAMPLE.encodingAesKey}=`, `${TENCENT_SAMPLE.encodingAesKey.slice(1)}+`]) {
      expect(() => aesKeyFrom(bad)).toThrow('43 letters and digits');
    }
  });
});
