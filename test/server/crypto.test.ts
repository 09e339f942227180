import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { decryptData, DecryptError, verifySignature } from '../../server/crypto';

// WeChat's published example (the WXBizDataCrypt demo of "开放数据校验与解密").
const WX = {
  appId: 'wx4f4bc4dec97d474b',
  sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==',
  iv: 'r7BXXKkLb8qrSNn05n0qiA==',
  encryptedData:
    'CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==',
};
// WeChat's published signature example from the same page.
const WX_SIGNED = {
  rawData:
    '{"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0"}',
  signature: '75e81ceda165f4ffa64f4068af58c64b8f54b88c',
  sessionKey: 'HyVFkGl5F5OQWJZZaNzBBg==',
};

function encrypt(payload: string | Buffer, key: Buffer, iv: Buffer, autoPadding = true): string {
  const cipher = createCipheriv('aes-128-cbc', key, iv);
  cipher.setAutoPadding(autoPadding);
  return Buffer.concat([cipher.update(payload), cipher.final()]).toString('base64');
}

function reasonOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof DecryptError) return error.reason;
    throw error;
  }
  throw new Error('did not throw');
}

describe('verifySignature', () => {
  it('accepts WeChat’s published example', () => {
    expect(verifySignature(WX_SIGNED.rawData, WX_SIGNED.signature, WX_SIGNED.sessionKey)).toBe(true);
  });

  it('accepts an upper-case hex signature of the same digest', () => {
    expect(verifySignature(WX_SIGNED.rawData, WX_SIGNED.signature.toUpperCase(), WX_SIGNED.sessionKey)).toBe(true);
  });

  it('rejects rawData changed by one character, even only in whitespace', () => {
    expect(verifySignature(WX_SIGNED.rawData.replace('Band', 'Bank'), WX_SIGNED.signature, WX_SIGNED.sessionKey)).toBe(false);
    expect(verifySignature(WX_SIGNED.rawData.replace(',"gender"', ', "gender"'), WX_SIGNED.signature, WX_SIGNED.sessionKey)).toBe(false);
  });

  it('rejects another session_key', () => {
    expect(verifySignature(WX_SIGNED.rawData, WX_SIGNED.signature, WX.sessionKey)).toBe(false);
  });

  it('rejects signatures that are not 40 hex digits without throwing', () => {
    for (const signature of ['', 'abc', WX_SIGNED.signature + '0', WX_SIGNED.signature.slice(0, 39) + 'g', '💥'.repeat(20)]) {
      expect(verifySignature(WX_SIGNED.rawData, signature, WX_SIGNED.sessionKey)).toBe(false);
    }
  });

  it('signs rawData as UTF-8, so emoji and CJK data verify', () => {
    const rawData = JSON.stringify({ nickName: '小明🐱' });
    const sessionKey = randomBytes(16).toString('base64');
    const signature = createHash('sha1').update(rawData + sessionKey, 'utf8').digest('hex');
    expect(verifySignature(rawData, signature, sessionKey)).toBe(true);
  });
});

describe('decryptData', () => {
  it('decrypts WeChat’s published example to the documented payload', () => {
    expect(decryptData(WX.encryptedData, WX.iv, WX.sessionKey, WX.appId)).toEqual({
      openId: 'oGZUI0egBJY1zhBYw2KhdUfwVJJE',
      nickName: 'Band',
      gender: 1,
      language: 'zh_CN',
      city: 'Guangzhou',
      province: 'Guangdong',
      country: 'CN',
      avatarUrl:
        'http://wx.qlogo.cn/mmopen/vi_32/aSKcBBPpibyKNicHNTMM0qJVh8Kjgiak2AHWr8MHM4WgMEm7GFhsf8OYrySdbvAMvTsw3mo8ibKicsnfN5pRjl1p8HQ/0',
      unionId: 'ocMvos6NjeKLIBqg5Mr9QjxrP1FA',
      watermark: { timestamp: 1477314187, appid: 'wx4f4bc4dec97d474b' },
    });
  });

  it('rejects WeChat’s example for any other appid (watermark check)', () => {
    expect(reasonOf(() => decryptData(WX.encryptedData, WX.iv, WX.sessionKey, 'wx0000000000000000'))).toBe('WRONG_APPID');
  });

  it('round-trips data it did not see before, emoji included', () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const payload = { nickName: '👨‍👩‍👧 小明', watermark: { appid: 'wxapp', timestamp: 1 } };
    expect(decryptData(encrypt(JSON.stringify(payload), key, iv), iv.toString('base64'), key.toString('base64'), 'wxapp')).toEqual(payload);
  });

  it('fails with BAD_PADDING for the wrong key or iv instead of returning garbage', () => {
    const wrongKey = randomBytes(16).toString('base64');
    const reasons = new Set(
      Array.from({ length: 20 }, () => {
        try {
          decryptData(WX.encryptedData, WX.iv, wrongKey, WX.appId);
          return 'decrypted';
        } catch (error) {
          return (error as DecryptError).reason;
        }
      }),
    );
    expect(reasons.has('decrypted')).toBe(false);
    expect(reasonOf(() => decryptData(WX.encryptedData, randomBytes(16).toString('base64'), WX.sessionKey, WX.appId))).toMatch(/BAD_JSON|BAD_PADDING/);
  });

  it('rejects padding bytes that are not all equal (strict PKCS#7)', () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const block = Buffer.concat([Buffer.from('{"a":1}1234567'), Buffer.from([3, 2])]);
    expect(reasonOf(() => decryptData(encrypt(block, key, iv, false), iv.toString('base64'), key.toString('base64'), 'x'))).toBe('BAD_PADDING');
  });

  it('rejects a payload without watermark, or one that is not a JSON object', () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const run = (text: string) => reasonOf(() => decryptData(encrypt(text, key, iv), iv.toString('base64'), key.toString('base64'), 'wxapp'));
    expect(run('{"nickName":"x"}')).toBe('WRONG_APPID');
    expect(run('{"watermark":"wxapp"}')).toBe('WRONG_APPID');
    expect(run('not json')).toBe('BAD_JSON');
    expect(run('[1,2]')).toBe('BAD_JSON');
    expect(run('null')).toBe('BAD_JSON');
  });

  it('rejects malformed base64 and wrong lengths before decrypting', () => {
    const cases: [string, string, string][] = [
      [WX.encryptedData, WX.iv, 'short'],
      [WX.encryptedData, WX.iv, Buffer.alloc(32).toString('base64')],
      [WX.encryptedData, 'r7BXXKkLb8qrSNn05n0q', WX.sessionKey],
      [WX.encryptedData.slice(0, -4), WX.iv, WX.sessionKey],
      [WX.encryptedData.replace('C', '*'), WX.iv, WX.sessionKey],
      ['', WX.iv, WX.sessionKey],
    ];
    for (const [data, iv, key] of cases) expect(reasonOf(() => decryptData(data, iv, key, WX.appId))).toBe('BAD_INPUT');
  });
});
