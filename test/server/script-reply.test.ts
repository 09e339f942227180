import { fieldList, replyReader } from '../../server/stores/script-reply';

describe('replyReader', () => {
  const read = replyReader('TEST', { revoked: 'integer', name: 'string', user: 'hash' });

  it('reads a script’s JSON answer by name, in any order, with absent names undefined', () => {
    expect(read('{"user":{"id":"u1","nickname":"小明 ✨"},"revoked":2}')).toEqual({ revoked: 2, user: { id: 'u1', nickname: '小明 ✨' } });
    expect(read('{}')).toEqual({});
    expect(read('{}')?.name).toBeUndefined();
  });

  it('reads a script that returned false (Redis: null) as null', () => {
    expect(read(null)).toBeNull();
  });

  it.each([
    ['an undeclared name', '{"revoked":1,"extra":1}', /TEST answered "extra" not as a declared name/],
    ['a string where an integer is declared', '{"revoked":"1"}', /TEST answered "revoked" not as integer/],
    ['a fraction where an integer is declared', '{"revoked":1.5}', /TEST answered "revoked" not as integer/],
    ['a hash with a number in it', '{"user":{"createdAt":1}}', /TEST answered "user" not as hash/],
    ['a list where a hash is declared', '{"user":["id","u1"]}', /TEST answered "user" not as hash/],
    ['a JSON list', '[1,2]', /TEST did not answer a JSON object/],
    ['a positional reply', ['revoked', 1], /TEST did not answer a JSON object/],
    ['an integer', 1, /TEST did not answer a JSON object/],
  ])('throws on %s, rather than guess', (_case, reply, message) => {
    expect(() => read(reply)).toThrow(message);
  });

  it('does not let a reply name reach the object prototype', () => {
    const reply = read('{"user":{"__proto__":"x","id":"u1"}}');
    expect(Object.getPrototypeOf(reply?.user)).toBe(Object.prototype);
    expect(() => read('{"__proto__":{"polluted":"yes"}}')).toThrow(/not as a declared name/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('fieldList', () => {
  it('lists a hash as HSET takes it, numbers as strings', () => {
    expect(fieldList({ id: 'u1', createdAt: 1764000000000 })).toEqual(['id', 'u1', 'createdAt', '1764000000000']);
  });
});
