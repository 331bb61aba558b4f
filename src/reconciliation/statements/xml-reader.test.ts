import { readdirSync, readFileSync } from 'node:fs';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { generateCamt053 } from './generate.js';
import { childrenOf, namespaceOf, readXml, XmlReadError, type XEl } from './xml-reader.js';

const DIR = new URL('../../../test/fixtures/iso20022/', import.meta.url);
const xmlFixtures = readdirSync(DIR).filter((f) => f.endsWith('.xml'));

/** The same shape from both readers: qualified name, attributes, own text, children. */
interface Shape {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: Shape[];
}

const ours = (e: XEl): Shape => ({ name: e.qname, attrs: e.attrs ?? {}, text: e.text, children: childrenOf(e).map(ours) });

type Ordered = Record<string, unknown> & { ':@'?: Record<string, string> };
function theirs(node: Ordered): Shape {
  const name = Object.keys(node).find((k) => k !== ':@')!;
  const texts: string[] = [];
  const children: Shape[] = [];
  for (const c of node[name] as Ordered[]) {
    if ('#text' in c) texts.push(String(c['#text']));
    else children.push(theirs(c));
  }
  return { name, attrs: node[':@'] ?? {}, text: texts.join('').trim(), children };
}

const oracle = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: false,
});
const theirRoot = (xml: string) => theirs((oracle.parse(xml) as Ordered[]).find((n) => !('#text' in n))!);

describe('readXml builds the tree fast-xml-parser builds', () => {
  it.each(xmlFixtures)('%s', (f) => {
    const xml = readFileSync(new URL(f, DIR), 'utf8');
    expect(ours(readXml(xml))).toEqual(theirRoot(xml));
  });

  it('on a generated statement, and on entities, CDATA, comments, self-closing tags and prefixes', () => {
    const gen = generateCamt053({ entries: 25, seed: 3 });
    expect(ours(readXml(gen))).toEqual(theirRoot(gen));
    const odd = `<?xml version="1.0"?>\n<!-- head -->\n<n:Doc xmlns:n="urn:x" a='1' b="&lt;&amp;">\n  <n:T>R&amp;D &quot;x&quot; &apos;y&apos;</n:T><!-- c --><n:E/><n:C><![CDATA[<raw> & ]]></n:C>\n</n:Doc>\n`;
    expect(ours(readXml(odd))).toEqual(theirRoot(odd));
    const root = readXml(odd);
    expect(root.name).toBe('Doc');
    expect(namespaceOf(root)).toBe('urn:x');
    expect(root.attrs).toEqual({ 'xmlns:n': 'urn:x', a: '1', b: '<&' });
    expect(childrenOf(root).map((c) => [c.name, c.text])).toEqual([['T', `R&D "x" 'y'`], ['E', ''], ['C', '<raw> &']]);
    // Character references (fast-xml-parser leaves these as written unless told otherwise).
    expect(readXml('<a b="&#65;&#x42;">&#x20AC;&#8364;</a>')).toMatchObject({ attrs: { b: 'AB' }, text: '€€' });
  });
});

describe('readXml refuses what is not well-formed, with line and column', () => {
  const refuse = (xml: string) => {
    try {
      readXml(xml);
    } catch (e) {
      expect(e).toBeInstanceOf(XmlReadError);
      return (e as Error).message;
    }
    throw new Error('accepted');
  };

  // Cases fast-xml-parser's validator refuses as well: it is the oracle that they are bad.
  it.each([
    ['<a>\n  <b></b>', 'not well-formed XML at line 1, column 1: element <a> is not closed'],
    ['<a>\n<b></c></a>', 'not well-formed XML at line 2, column 4: end tag </c> does not match <b> opened at line 2, column 1'],
    ['<a x=1></a>', 'not well-formed XML at line 1, column 6: value of attribute x of <a> must be quoted'],
    ['<a x="1" x="2"></a>', 'not well-formed XML at line 1, column 10: attribute x appears twice in <a>'],
    ['<a>A & B</a>', "not well-formed XML at line 1, column 6: '&' must start an entity such as &amp;"],
    ['hello<a/>', 'not well-formed XML at line 1, column 1: text before the root element'],
    ['<1a/>', 'not well-formed XML at line 1, column 1: "1a" is not a valid element name'],
  ])('%j', (xml, message) => {
    expect(XMLValidator.validate(xml)).not.toBe(true);
    expect(refuse(xml)).toBe(message);
  });

  // Cases the validator lets through but XML 1.0 forbids (section named).
  it.each([
    ['<a>&nbsp;</a>', 'not well-formed XML at line 1, column 4: unknown entity &nbsp; (only &lt; &gt; &amp; &quot; &apos; and character references)'], // 4.1: declared entities only
    ['<a/><b/>', 'not well-formed XML at line 1, column 5: a second root element <b>; a document has one'], // 2.1: one root
    ['<a x="<"/>', "not well-formed XML at line 1, column 7: '<' is not allowed in the value of attribute x"], // 3.1
    ['<!DOCTYPE a><a/>', 'not well-formed XML at line 1, column 1: a DOCTYPE is not allowed in a statement file'], // ours: no DTDs
    ['<a>x]]>y</a>', "not well-formed XML at line 1, column 5: ']]>' is not allowed in text"], // 2.4
    ['<a/>\n<?xml version="1.0"?>', 'not well-formed XML at line 2, column 1: the XML declaration must be at the very start of the file'], // 2.8
    ['<a><!-- a -- b --></a>', "not well-formed XML at line 1, column 11: '--' is not allowed inside a comment"], // 2.5
    ['', 'not well-formed XML at line 1, column 1: no root element'],
  ])('%j', (xml, message) => {
    expect(refuse(xml)).toBe(message);
  });
});
