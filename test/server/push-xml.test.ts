import { parsePushXml, pushXml, PushXmlError } from '../../server/wechat/push-xml';

/** WeChat's documented sample of the event, as its docs print it (blank lines between elements). */
const DOCUMENTED_REVOKE = `<xml>

<ToUserName><![CDATA[gh_870882ca4b1]]></ToUserName>

<FromUserName><![CDATA[owAqB1v0ahK_Xlc7GshIDdf2yf7E]]></FromUserName>

<CreateTime>1626857200</CreateTime>

<MsgType><![CDATA[event]]></MsgType>

<Event><![CDATA[user_authorization_revoke]]></Event>

<OpenID><![CDATA[owAqB1nqaOYYWl0Ng484G2z5NIwU]]></OpenID>

<AppID><![CDATA[wx13974bf780d3dc89]]></AppID>

<RevokeInfo><![CDATA[1]]></RevokeInfo>

</xml>`;

describe("the push XML reader", () => {
  test("reads WeChat's documented revoke event field by field", () => {
    expect({ ...parsePushXml(DOCUMENTED_REVOKE) }).toEqual({
      ToUserName: 'gh_870882ca4b1',
      FromUserName: 'owAqB1v0ahK_Xlc7GshIDdf2yf7E',
      CreateTime: '1626857200',
      MsgType: 'event',
      Event: 'user_authorization_revoke',
      OpenID: 'owAqB1nqaOYYWl0Ng484G2z5NIwU',
      AppID: 'wx13974bf780d3dc89',
      RevokeInfo: '1',
    });
  });

  test('reads a declaration, a byte-order mark, empty elements, the five escapes and CDATA holding markup', () => {
    const fields = parsePushXml('\ufeff<?xml version="1.0" encoding="UTF-8"?>\n<xml><A>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;</A><B/><C></C><D><![CDATA[<x>&amp;]]></D></xml>');
    expect({ ...fields }).toEqual({ A: 'a <b> & "c" \'d\'', B: '', C: '', D: '<x>&amp;' });
  });

  test('reads nested lists, a name given twice becoming a list', () => {
    const fields = parsePushXml('<xml><List><item><Id>1</Id></item><item><Id>2</Id></item></List></xml>');
    expect(JSON.parse(JSON.stringify(fields))).toEqual({ List: { item: [{ Id: '1' }, { Id: '2' }] } });
  });

  test('gives records without a prototype, so that a field named __proto__ or constructor is only a field', () => {
    const fields = parsePushXml('<xml><__proto__><polluted>yes</polluted></__proto__><constructor>x</constructor></xml>');
    expect(Object.getPrototypeOf(fields)).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(fields.constructor).toBe('x');
  });

  test.each([
    ['a DOCTYPE with an external entity (XXE)', '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><A>&xxe;</A></xml>'],
    ['an entity reference', '<xml><A>&xxe;</A></xml>'],
    ['an entity named after an Object property', '<xml><A>&constructor;</A></xml>'],
    ['a numeric character reference', '<xml><A>&#60;</A></xml>'],
    ['a bare ampersand', '<xml><A>a & b</A></xml>'],
    ['a DOCTYPE inside the root', '<xml><!DOCTYPE x><A>1</A></xml>'],
    ['a comment', '<xml><!-- c --><A>1</A></xml>'],
    ['a processing instruction', '<xml><?php x ?><A>1</A></xml>'],
    ['an attribute', '<xml><A b="1">1</A></xml>'],
    ['another root element', '<root><A>1</A></root>'],
    ['a second root', '<xml></xml><xml></xml>'],
    ['text after the root', '<xml><A>1</A></xml>trailing'],
    ['a mismatched closing tag', '<xml><A>1</B></xml>'],
    ['an unclosed element', '<xml><A>1</A>'],
    ['an unterminated CDATA section', '<xml><A><![CDATA[1</A></xml>'],
    ['text mixed with elements', '<xml>text<A>1</A></xml>'],
    ['nesting deeper than any push', `<xml>${'<a>'.repeat(9)}1${'</a>'.repeat(9)}</xml>`],
    ['not XML at all', '{"A":1}'],
    ['nothing', ''],
  ])('refuses %s', (_what, body) => {
    expect(() => parsePushXml(body)).toThrow(PushXmlError);
  });

  test('reads back what the writer wrote, "]]>" inside a value included', () => {
    const fields = { ToUserName: 'gh_1', CreateTime: 1626857200, Note: 'a ]]> b <c> & d', Empty: '' };
    expect({ ...parsePushXml(pushXml(fields)) }).toEqual({ ToUserName: 'gh_1', CreateTime: '1626857200', Note: 'a ]]> b <c> & d', Empty: '' });
  });
});

describe('the push XML reader on large input', () => {
  test('reads 4000 repeated elements as one list of 4000', () => {
    const fields = parsePushXml(`<xml><List>${'<item>1</item>'.repeat(4000)}</List></xml>`);
    expect((fields.List as { item: string[] }).item).toHaveLength(4000);
  });
});
