/**
 * A compact structural schema for ISO 20022 XML, as data, and the checker that walks an element
 * tree against it. It says what an XSD says about structure (which elements, in which order, how
 * often, sequence or choice) and about values (lengths, patterns, code lists, dates, decimals with
 * fraction and total digits, attributes). Parts we never write are "any": their place in the order
 * is checked, their content is not.
 */
import type { XmlElement } from './xml.js';

/** How often an element may occur: '1' (default), '0..1', '0..n', '1..n'. */
export type Occurs = '1' | '0..1' | '0..n' | '1..n';

/** The value of a simple-typed element or attribute. */
export type SimpleType =
  | { kind: 'text'; min: number; max: number }
  | { kind: 'pattern'; re: RegExp; label: string }
  | { kind: 'code'; values: readonly string[] }
  | { kind: 'date' }
  | { kind: 'datetime'; utc?: boolean }
  | { kind: 'decimal'; fraction: number; total: number; nonNegative?: boolean }
  | { kind: 'boolean' };

/** One element in a content model: its name, how often, and its type (a name in the schema, or 'any'). */
export interface ElementRule {
  readonly name: string;
  readonly occurs: Occurs;
  readonly type: string;
}

/** A complex type: a sequence (order matters) or a choice (exactly one), and the attributes it takes. */
export interface ComplexType {
  readonly seq?: readonly ElementRule[];
  readonly choice?: readonly ElementRule[];
  /** A simple value with attributes (e.g. an amount with its Ccy). */
  readonly value?: string;
  readonly attrs?: Readonly<Record<string, { type: string; required: boolean }>>;
}

/** A whole schema: the namespace every element must be in, the root, and the named types. */
export interface Structure {
  readonly label: string;
  readonly namespace: string | readonly string[];
  readonly root: ElementRule;
  readonly complex: Readonly<Record<string, ComplexType>>;
  readonly simple: Readonly<Record<string, SimpleType>>;
}

/** Schema-building shorthand, so a content model reads as a list: el('TxId', 'Max35Text'). */
export const el = (name: string, type: string, occurs: Occurs = '1'): ElementRule => ({ name, type, occurs });

const MIN: Record<Occurs, number> = { '1': 1, '0..1': 0, '0..n': 0, '1..n': 1 };
const MAX: Record<Occurs, number> = { '1': 1, '0..1': 1, '0..n': Infinity, '1..n': Infinity };

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$/;
const DATETIME_RE = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;
const XSD_DECIMAL_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

const isCalendarDay = (ymd: string): boolean => {
  const d = new Date(`${ymd}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === ymd;
};

/** Why `value` is not of type `t`, or undefined when it is. */
export function checkSimple(t: SimpleType, value: string): string | undefined {
  switch (t.kind) {
    case 'text':
      return value.length < t.min || value.length > t.max ? `must be ${t.min} to ${t.max} characters, has ${value.length}` : undefined;
    case 'pattern':
      return t.re.test(value) ? undefined : `is not a valid ${t.label}`;
    case 'code':
      return t.values.includes(value) ? undefined : `is not one of ${t.values.join(', ')}`;
    case 'date': {
      const m = DATE_RE.exec(value);
      return m && isCalendarDay(`${m[1]}-${m[2]}-${m[3]}`) ? undefined : 'is not a date (YYYY-MM-DD)';
    }
    case 'datetime': {
      const m = DATETIME_RE.exec(value);
      if (!m || !isCalendarDay(m[1]!)) return 'is not a date-time (YYYY-MM-DDThh:mm:ss)';
      return t.utc && m[4] !== 'Z' ? 'must be in UTC (end in Z)' : undefined;
    }
    case 'decimal': {
      if (!XSD_DECIMAL_RE.test(value)) return 'is not a decimal number';
      if (t.nonNegative && value.startsWith('-') && /[1-9]/.test(value)) return 'must not be negative';
      const [int = '', frac = ''] = value.replace(/^[+-]/, '').split('.');
      const f = frac.replace(/0+$/, '');
      const total = (int.replace(/^0+/, '') + f).length;
      if (f.length > t.fraction) return `has ${f.length} decimals; at most ${t.fraction} allowed`;
      if (total > t.total) return `has ${total} digits; at most ${t.total} allowed`;
      return undefined;
    }
    case 'boolean':
      return ['true', 'false', '1', '0'].includes(value) ? undefined : 'is not a boolean (true or false)';
  }
}

/**
 * Check `root` against `s`. Returns every problem found as "<label>: element <path> <rule>",
 * path from the root's first child down; empty when it conforms.
 */
export function checkStructure(s: Structure, root: XmlElement): string[] {
  const errors: string[] = [];
  const namespaces = typeof s.namespace === 'string' ? [s.namespace] : s.namespace;
  const say = (path: string, rule: string) => errors.push(`${s.label}: element ${path} ${rule}`);

  if (root.name !== s.root.name) {
    errors.push(`${s.label}: root element is ${root.name}, expected ${s.root.name}`);
    return errors;
  }
  if (!root.ns || !namespaces.includes(root.ns)) {
    errors.push(`${s.label}: ${root.name} is in namespace "${root.ns ?? ''}", expected "${namespaces[0]}"`);
    return errors;
  }

  const checkElement = (e: XmlElement, typeName: string, path: string) => {
    if (e.ns !== root.ns) say(path, `is in namespace "${e.ns ?? ''}", expected "${root.ns}"`);
    if (typeName === 'any') return;
    const simple = s.simple[typeName];
    if (simple) {
      if (e.children.length) say(path, `must hold a value, not elements (found ${e.children[0]!.name})`);
      const why = checkSimple(simple, e.text);
      if (why) say(path, `"${e.text}" ${why}`);
      checkAttrs(e, undefined, path);
      return;
    }
    const complex = s.complex[typeName];
    if (!complex) throw new Error(`${s.label} structure: unknown type ${typeName}`);
    checkAttrs(e, complex, path);
    if (complex.value) {
      if (e.children.length) say(path, `must hold a value, not elements (found ${e.children[0]!.name})`);
      const why = checkSimple(s.simple[complex.value]!, e.text);
      if (why) say(path, `"${e.text}" ${why}`);
      return;
    }
    if (e.text) say(path, `must hold elements, not text ("${e.text.slice(0, 20)}")`);
    if (complex.choice) checkChoice(e, complex.choice, path);
    else checkSequence(e, complex.seq ?? [], path);
  };

  const checkAttrs = (e: XmlElement, complex: ComplexType | undefined, path: string) => {
    const allowed = complex?.attrs ?? {};
    for (const [name, value] of Object.entries(e.attrs)) {
      if (name === 'xmlns' || name.startsWith('xmlns:') || name.startsWith('xsi:')) continue;
      const rule = allowed[name];
      if (!rule) {
        say(path, `has an attribute ${name} the standard does not define`);
        continue;
      }
      const why = checkSimple(s.simple[rule.type]!, value);
      if (why) say(`${path}/@${name}`, `"${value}" ${why}`);
    }
    for (const [name, rule] of Object.entries(allowed)) {
      if (rule.required && e.attrs[name] === undefined) say(path, `is missing its attribute ${name}`);
    }
  };

  const checkChoice = (e: XmlElement, options: readonly ElementRule[], path: string) => {
    const names = options.map((o) => o.name);
    if (e.children.length === 0) {
      say(path, `must hold one of ${names.join(', ')}; it is empty`);
      return;
    }
    if (e.children.length > 1) say(path, `must hold exactly one of ${names.join(', ')}; it holds ${e.children.map((c) => c.name).join(', ')}`);
    const c = e.children[0]!;
    const rule = options.find((o) => o.name === c.name);
    if (!rule) say(`${path}/${c.name}`, `is not allowed here (expected one of ${names.join(', ')})`);
    else checkElement(c, rule.type, `${path}/${c.name}`);
  };

  const checkSequence = (e: XmlElement, rules: readonly ElementRule[], path: string) => {
    const counts = new Array<number>(rules.length).fill(0);
    let r = 0;
    const kids = e.children;
    for (let i = 0; i < kids.length; i++) {
      const c = kids[i]!;
      const here = `${path}/${c.name}`;
      const j = rules.findIndex((rule, k) => k >= r && rule.name === c.name);
      if (j < 0) {
        const before = rules.findIndex((rule) => rule.name === c.name);
        if (before >= 0) {
          const next = rules.slice(before + 1).find((_, k) => counts[before + 1 + k]! > 0);
          say(here, `is out of order: it must come before ${next?.name ?? rules[r]!.name}`);
          checkElement(c, rules[before]!.type, here);
        } else {
          say(here, `is not allowed here`);
        }
        continue;
      }
      // Everything skipped over must be optional, unless it turns up later (then it is out of order, said above).
      for (let k = r; k < j; k++) {
        if (counts[k]! < MIN[rules[k]!.occurs] && !kids.slice(i + 1).some((x) => x.name === rules[k]!.name)) {
          say(`${path}/${rules[k]!.name}`, 'is missing');
        }
      }
      r = j;
      counts[j]!++;
      if (counts[j]! > MAX[rules[j]!.occurs]) say(here, `occurs more than ${MAX[rules[j]!.occurs]} time(s)`);
      checkElement(c, rules[j]!.type, here);
    }
    for (let k = r; k < rules.length; k++) {
      if (counts[k]! < MIN[rules[k]!.occurs] && !kids.some((x) => x.name === rules[k]!.name)) say(`${path}/${rules[k]!.name}`, 'is missing');
    }
  };

  const rootType = s.complex[s.root.type];
  if (!rootType) throw new Error(`${s.label} structure: unknown root type ${s.root.type}`);
  // Paths start below the root (Document), as the standard's documentation names them.
  if (rootType.choice) checkChoice(root, rootType.choice, '');
  else checkSequence(root, rootType.seq ?? [], '');
  return errors.map((m) => m.replace(/element \//, 'element '));
}
