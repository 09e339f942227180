/**
 * The XML of WeChat's pushes, and nothing more: an optional `<?xml ...?>` declaration, then one
 * `<xml>` element whose children are elements holding CDATA sections, text, or further elements
 * (a few pushes nest lists). No attributes, comments, DOCTYPE or entity declarations (so no XXE,
 * no entity expansion), no character references beyond XML's five named escapes; anything else is
 * refused, rather than half-read.
 */

/** An element's content: its text, or its children by name (a name given twice becomes a list). */
export type XmlValue = string | XmlRecord;
export interface XmlRecord {
  [name: string]: XmlValue | XmlValue[];
}

export class PushXmlError extends Error {
  constructor(message: string) {
    super(`the XML body is not a WeChat push: ${message}`);
    this.name = 'PushXmlError';
  }
}

const NAME = /[A-Za-z_][A-Za-z0-9_.-]*/y;
const ESCAPES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
/** Deeper than any push WeChat documents; a bound on the recursion, not a limit anyone meets. */
const MAX_DEPTH = 8;

/** The `<xml>` root's children. Throws PushXmlError for anything outside the shape above. */
export function parsePushXml(text: string): XmlRecord {
  let at = 0;
  const fail = (what: string): never => {
    throw new PushXmlError(`${what} at offset ${at}`);
  };
  const skipSpace = () => {
    while (at < text.length && (text[at] === ' ' || text[at] === '\n' || text[at] === '\r' || text[at] === '\t')) at++;
  };
  const name = (): string => {
    NAME.lastIndex = at;
    const match = NAME.exec(text);
    if (!match) return fail('an element name was expected');
    at += match[0].length;
    return match[0];
  };
  const expect = (literal: string) => {
    if (!text.startsWith(literal, at)) fail(`"${literal}" was expected`);
    at += literal.length;
  };
  const unescape = (raw: string): string =>
    raw.replace(/&([a-z]*);?/g, (entity: string, ref: string) => {
      if (!entity.endsWith(';') || !Object.hasOwn(ESCAPES, ref)) fail(`"${entity}" is not one of XML's five escapes (entities are refused)`);
      return ESCAPES[ref];
    });

  /** After `<name>`: text and CDATA, or child elements, up to `</name>`. */
  const content = (element: string, depth: number): XmlValue => {
    let textValue = '';
    let children: XmlRecord | null = null;
    for (;;) {
      if (text.startsWith('<![CDATA[', at)) {
        const end = text.indexOf(']]>', at + 9);
        if (end === -1) fail('an unterminated CDATA section');
        textValue += text.slice(at + 9, end);
        at = end + 3;
      } else if (text.startsWith('</', at)) {
        at += 2;
        if (name() !== element) fail(`"</${element}>" was expected`);
        skipSpace();
        expect('>');
        if (children === null) return textValue;
        if (textValue.trim() !== '') fail(`<${element}> mixes text and elements`);
        return children;
      } else if (text[at] === '<') {
        if (text[at + 1] === '!' || text[at + 1] === '?') fail('comments, declarations and processing instructions are refused');
        if (depth >= MAX_DEPTH) fail('elements nested too deep');
        at++;
        const child = name();
        skipSpace();
        let value: XmlValue = '';
        if (text.startsWith('/>', at)) at += 2;
        else {
          expect('>');
          value = content(child, depth + 1);
        }
        children ??= Object.create(null) as XmlRecord;
        const known = children[child];
        if (known === undefined) children[child] = value;
        else if (Array.isArray(known)) known.push(value);
        else children[child] = [known, value];
      } else if (at >= text.length) {
        fail(`<${element}> is not closed`);
      } else {
        const next = text.indexOf('<', at);
        const end = next === -1 ? text.length : next;
        textValue += unescape(text.slice(at, end));
        at = end;
      }
    }
  };

  if (text.charCodeAt(0) === 0xfeff) at = 1;
  skipSpace();
  if (text.startsWith('<?xml', at)) {
    const end = text.indexOf('?>', at);
    if (end === -1) fail('an unterminated XML declaration');
    at = end + 2;
    skipSpace();
  }
  expect('<xml>');
  const root = content('xml', 0);
  skipSpace();
  if (at !== text.length) fail('nothing may follow </xml>');
  return typeof root === 'string' ? (root.trim() === '' ? (Object.create(null) as XmlRecord) : fail('<xml> holds text, not elements')) : root;
}

/** Flat fields as WeChat writes them: strings in CDATA, numbers bare. */
export function pushXml(fields: Record<string, string | number>): string {
  const parts = Object.entries(fields).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not an XML element name: ${name}`);
    if (typeof value === 'number') return `<${name}>${value}</${name}>`;
    // "]]>" would end the section: WeChat's own writers split it across two sections.
    return `<${name}><![CDATA[${value.split(']]>').join(']]]]><![CDATA[>')}]]></${name}>`;
  });
  return `<xml>${parts.join('')}</xml>`;
}
