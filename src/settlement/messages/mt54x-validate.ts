/**
 * `validateMt54x`: checks an MT540-543 settlement instruction as SWIFT's network would (block
 * structure, sequences, field order, field formats, the rules tied to the message type) and the
 * settlement market practice that goes with it. The field rules are data (`SEQUENCES`), one
 * ordered list of slots per sequence.
 */
import {
  FIN_BIC_RE,
  FIN_X_RE,
  IBAN_RE,
  ISIN_RE,
  isValidIban,
  currencyDigits,
  finDecimalOk,
  finReferenceOk,
  fromFinDate,
  isinCheckDigitOk,
} from './formats.js';
import {
  BLOCK1_RE,
  BLOCK2_IN_RE,
  BLOCK2_OUT_RE,
  FinSyntaxError,
  allFields,
  finFields,
  finSequences,
  findSeqs,
  genericValue,
  splitFin,
  type FinField,
  type FinSequence,
} from './swift-mt.js';

/**
 * A slot in a sequence: the field tags (letter options) it takes, or a subsequence name; the
 * qualifiers allowed (any when absent); how often; and the qualifiers that must appear in it.
 */
interface Slot {
  readonly tags?: readonly string[];
  readonly seq?: string;
  readonly quals?: readonly string[];
  readonly min: number;
  readonly max: number;
  readonly required?: readonly string[];
}

const one = (tags: string[], extra: Partial<Slot> = {}): Slot => ({ tags, min: 1, max: 1, ...extra });
const opt = (tags: string[], extra: Partial<Slot> = {}): Slot => ({ tags, min: 0, max: 1, ...extra });
const many = (tags: string[], min = 0, extra: Partial<Slot> = {}): Slot => ({ tags, min, max: Infinity, ...extra });
const sub = (seq: string, min: number, max: number): Slot => ({ seq, min, max });

const PARTY_QUALS = ['BUYR', 'DEAG', 'DECU', 'DEI1', 'DEI2', 'PSET', 'REAG', 'RECU', 'REI1', 'REI2', 'SELL'];

/**
 * Sequence E3 Cash Parties (CSHPRTY), after the SWIFT User Handbook as published on iso20022.org
 * (15022/uhb, "MT543: (72) Field 95a: Party": ACCW, BENM, DEBT, INTM or PAYE, options P, Q or R,
 * then ALTE in L or S) and the SWIFT MT manuals' field specifications of the cash-parties 97a
 * ("Account": CASH, CHAR, COMM, TAXE; option A 35x, option E an IBAN, 34x). By the usage rule of
 * that field (MT670/671, same wording), the account in a CSHPRTY belongs to the party named in it:
 * the BENM's cash account is serviced by the ACCW, the DEBT's by the PAYE.
 */
const CASH_PARTY_QUALS = ['ACCW', 'BENM', 'DEBT', 'INTM', 'PAYE'];

/**
 * Sequences of MT540-543 (SR 2023 layout): the slots of each, in the order the fields must come.
 * Sequences listed with no slots (REPO, OTHRPRTY, FIA, BREAK, LINK is checked) are opaque:
 * their place is checked, their fields only for the character set.
 */
export const MT54X_SEQUENCES: Readonly<Record<string, readonly Slot[] | null>> = {
  '': [sub('GENL', 1, 1), sub('TRADDET', 1, 1), sub('FIAC', 1, 1), sub('REPO', 0, 1), sub('SETDET', 1, 1), sub('OTHRPRTY', 0, Infinity)],
  GENL: [one(['20C'], { quals: ['SEME'] }), one(['23G']), opt(['98A', '98C', '98E'], { quals: ['PREP'] }), opt(['99B']), sub('LINK', 0, Infinity)],
  LINK: [opt(['22F']), opt(['13A', '13B']), one(['20C', '20U'])],
  TRADDET: [
    many(['94B', '94H', '94L']),
    many(['98A', '98B', '98C', '98E'], 1, { required: ['SETT'] }),
    opt(['90A', '90B']),
    opt(['99A']),
    one(['35B']),
    sub('FIA', 0, 1),
    many(['22F']),
    many(['70E']),
  ],
  FIAC: [
    many(['36B', '36D'], 1, { required: ['SETT'] }),
    opt(['19A']),
    opt(['70D']),
    many(['13B']),
    opt(['95P', '95R', '95L']),
    many(['97A', '97B', '97D'], 1, { required: ['SAFE'] }),
    many(['94B', '94C', '94F', '94L']),
    sub('BREAK', 0, Infinity),
  ],
  SETDET: [many(['22F'], 1, { required: ['SETR'] }), sub('SETPRTY', 1, Infinity), sub('CSHPRTY', 0, Infinity), sub('AMT', 0, Infinity)],
  SETPRTY: [one(['95C', '95P', '95Q', '95R'], { quals: PARTY_QUALS }), many(['95L', '95S']), opt(['97A', '97B', '97D']), opt(['98A', '98C']), opt(['20C']), many(['70C', '70D', '70E'])],
  AMT: [many(['17B']), many(['19A'], 1), opt(['98A', '98C']), opt(['92B'])],
  REPO: null,
  OTHRPRTY: null,
  FIA: null,
  BREAK: null,
  CSHPRTY: [
    one(['95P', '95Q', '95R'], { quals: CASH_PARTY_QUALS }),
    many(['95L', '95S'], 0, { quals: ['ALTE'] }),
    many(['97A', '97E'], 0, { quals: ['CASH', 'CHAR', 'COMM', 'TAXE'] }),
    opt(['98A', '98C'], { quals: ['PROC'] }),
    opt(['20C'], { quals: ['PROC'] }),
    many(['70C', '70E']),
  ],
};

const TYPES = ['540', '541', '542', '543'];

/** Why a field's value breaks its format, or undefined. `tag` is the field tag with its letter option. */
function fieldFormat(f: FinField): string | undefined {
  const lines = f.value.split('\n');
  for (const ln of lines) if (!FIN_X_RE.test(ln)) return 'holds characters outside the SWIFT x set';
  if (f.tag === '35B') {
    const [first = '', ...rest] = lines;
    const m = /^ISIN ([A-Z0-9]{12})$/.exec(first);
    if (first.startsWith('ISIN') && !m) return `"${first}" is not "ISIN" followed by a space and 12 characters`;
    if (m && !ISIN_RE.test(m[1]!)) return `"${m[1]}" is not an ISIN`;
    if (m && !isinCheckDigitOk(m[1]!)) return `ISIN "${m[1]}" has a wrong check digit`;
    if ((m ? rest : lines).length > 4 || (m ? rest : lines).some((l) => l.length > 35)) return 'description must be at most 4 lines of 35 characters';
    return undefined;
  }
  if (f.tag === '23G') return /^(NEWM|CANC|PREA)(\/(CODU|COPY|DUPL))?$/.test(f.value) ? undefined : `"${f.value}" is not NEWM, CANC or PREA (with an optional /CODU, /COPY, /DUPL)`;
  const g = genericValue(f.value);
  if (!g) return `"${f.value.split('\n')[0]}" is not ":qualifier/[scheme]/data"`;
  const { dss, data } = g;
  const noDss = (): string | undefined => (dss ? `must have no data source scheme (found "${dss}")` : undefined);
  switch (f.tag) {
    case '20C':
      return noDss() ?? (finReferenceOk(data, 16) ? undefined : `"${data}" is not a reference (1 to 16 x characters, no leading, trailing or double '/')`);
    case '98A':
      return noDss() ?? (fromFinDate(data) ? undefined : `"${data}" is not a date (YYYYMMDD)`);
    case '98C':
      return noDss() ?? (/^\d{14}$/.test(data) && fromFinDate(data.slice(0, 8)) && /^([01]\d|2[0-3])[0-5]\d[0-5]\d$/.test(data.slice(8)) ? undefined : `"${data}" is not a date and time (YYYYMMDDhhmmss)`);
    case '22F':
    case '98B':
      return /^[A-Z0-9]{4}$/.test(data) ? undefined : `"${data}" is not a 4-character code`;
    case '13A':
      return noDss() ?? (/^[A-Z0-9]{3}$/.test(data) ? undefined : `"${data}" is not a 3-character number id`);
    case '36B': {
      if (noDss()) return noDss();
      const m = /^(UNIT|FAMT|AMOR)\/(.*)$/.exec(data);
      if (!m) return `"${data}" is not UNIT, FAMT or AMOR followed by '/' and a quantity`;
      return finDecimalOk(m[2]!) ? undefined : `quantity "${m[2]}" is not a SWIFT decimal (digits with a comma as the decimal mark, at most 15 characters)`;
    }
    case '19A': {
      if (noDss()) return noDss();
      const m = /^(N?)([A-Z]{3})(.*)$/.exec(data);
      if (!m) return `"${data}" is not a currency code followed by an amount`;
      const digits = currencyDigits(m[2]!);
      if (digits === undefined) return `currency "${m[2]}" is not an ISO 4217 currency`;
      if (!finDecimalOk(m[3]!)) return `amount "${m[3]}" is not a SWIFT decimal (digits with a comma as the decimal mark, at most 15 characters)`;
      const decimals = (m[3]!.split(',')[1] ?? '').length;
      return decimals > digits ? `amount "${m[3]}" has more decimals than ${m[2]} has (${digits})` : undefined;
    }
    case '97A':
      return noDss() ?? (data.length >= 1 && data.length <= 35 && !data.includes('\n') ? undefined : `"${data}" is not an account (1 to 35 x characters)`);
    case '97E':
      return noDss() ?? (!IBAN_RE.test(data) ? `"${data}" is not an IBAN (2 letters country, 2 check digits, up to 30 letters or digits)`
        : !isValidIban(data) ? `IBAN "${data}" has wrong check digits` : undefined);
    case '95P':
      return noDss() ?? (FIN_BIC_RE.test(data) ? undefined : `"${data}" is not a BIC (4 letters bank, 2 letters country, 2 location, optional 3 branch)`);
    case '95R':
      return /^[A-Z0-9]{1,8}$/.test(dss) && data.length >= 1 && data.length <= 34 ? undefined : `"${dss}/${data}" is not a data source scheme (1 to 8 characters) and a proprietary code (1 to 34)`;
    case '95Q':
    case '70C':
    case '70D':
    case '70E': {
      const ls = data.split('\n');
      const maxLines = f.tag === '95Q' ? 4 : f.tag === '70E' ? 10 : 6;
      return noDss() ?? (ls.length <= maxLines && ls.every((l) => l.length <= 35) ? undefined : `must be at most ${maxLines} lines of 35 characters`);
    }
    default:
      return undefined;
  }
}

function checkSequence(type: string, s: FinSequence, errors: string[]): void {
  const where = s.name ? `sequence ${s.name}` : 'block 4';
  const slots = MT54X_SEQUENCES[s.name];
  if (slots === undefined) {
    errors.push(`MT${type}: sequence ${s.name} (line ${s.line}) is not a sequence of MT540-543`);
    return;
  }
  const counts = slots ? new Array<number>(slots.length).fill(0) : [];
  let rank = 0;
  for (const it of s.items) {
    if (it.kind === 'field') {
      const f = it.field;
      const why = fieldFormat(f);
      const g = genericValue(f.value);
      const label = `:${f.tag}:${g ? `:${g.qualifier}/${g.dss}/` : ''}`;
      if (why) errors.push(`MT${type}: ${where}: field ${label} (line ${f.line}) ${why}`);
      if (!slots) continue;
      const idx = slots.findIndex((sl) => sl.tags?.includes(f.tag));
      if (idx < 0) {
        errors.push(`MT${type}: ${where}: field :${f.tag}: (line ${f.line}) is not allowed here`);
        continue;
      }
      const slot = slots[idx]!;
      if (slot.quals && g && !slot.quals.includes(g.qualifier)) {
        errors.push(`MT${type}: ${where}: field ${label} (line ${f.line}) has qualifier ${g.qualifier}; allowed: ${slot.quals.join(', ')}`);
      }
      if (idx < rank) errors.push(`MT${type}: ${where}: field :${f.tag}: (line ${f.line}) is out of order: it must come before ${describe(slots[rank]!)}`);
      else rank = idx;
      counts[idx]!++;
    } else {
      const sq = it.seq;
      if (slots) {
        const idx = slots.findIndex((sl) => sl.seq === sq.name);
        if (idx < 0) {
          errors.push(`MT${type}: ${where}: sequence ${sq.name} (line ${sq.line}) is not allowed here`);
          continue;
        }
        if (idx < rank) errors.push(`MT${type}: ${where}: sequence ${sq.name} (line ${sq.line}) is out of order: it must come before ${describe(slots[rank]!)}`);
        else rank = idx;
        counts[idx]!++;
      }
      checkSequence(type, sq, errors);
    }
  }
  if (!slots) return;
  slots.forEach((sl, i) => {
    // A slot whose qualifiers are required says which one is missing, below.
    if (counts[i]! < sl.min && !sl.required?.length) errors.push(`MT${type}: ${where}: ${describe(sl)} is missing`);
    if (counts[i]! > sl.max) errors.push(`MT${type}: ${where}: ${describe(sl)} occurs ${counts[i]} times; at most ${sl.max} allowed`);
    for (const q of sl.required ?? []) {
      const present = s.items.some((it) => it.kind === 'field' && sl.tags!.includes(it.field.tag) && genericValue(it.field.value)?.qualifier === q);
      if (!present) errors.push(`MT${type}: ${where}: field :${sl.tags![0]!.slice(0, 2)}a::${q}// is missing`);
    }
  });
}

const describe = (sl: Slot): string => (sl.seq ? `sequence ${sl.seq}` : `field :${sl.tags!.length > 1 ? `${sl.tags![0]!.slice(0, 2)}a` : sl.tags![0]}:${sl.quals?.length === 1 ? `:${sl.quals[0]}//` : ''}`);

/** Rules tied to the message type and to market practice, over the whole of block 4. */
function typeRules(type: string, top: FinSequence, errors: string[]): void {
  const against = type === '541' || type === '543';
  const receive = type === '540' || type === '541';
  const setdet = findSeqs(top, 'SETDET')[0];
  if (!setdet) return;
  const settAmounts = findSeqs(setdet, 'AMT').flatMap(allFields).filter((f) => f.tag === '19A' && genericValue(f.value)?.qualifier === 'SETT');
  if (against && settAmounts.length !== 1) {
    errors.push(`MT${type}: sequence SETDET: ${settAmounts.length ? 'more than one' : 'no'} AMT subsequence with field :19A::SETT//; a settlement against payment needs exactly one`);
  }
  if (!against && settAmounts.length) {
    errors.push(`MT${type}: sequence SETDET: field :19A::SETT// must not be present: MT${type} settles free of payment`);
  }
  const parties = findSeqs(setdet, 'SETPRTY').map((p) => p.items.find((it) => it.kind === 'field' && it.field.tag.startsWith('95')));
  const quals = parties.map((it) => (it?.kind === 'field' ? genericValue(it.field.value)?.qualifier : undefined));
  for (const q of new Set(quals)) {
    if (q && quals.filter((x) => x === q).length > 1) errors.push(`MT${type}: sequence SETDET: party ${q} appears in more than one SETPRTY subsequence`);
  }
  const cashQuals = findSeqs(setdet, 'CSHPRTY').map((p) => p.items.find((it) => it.kind === 'field' && it.field.tag.startsWith('95')))
    .map((it) => (it?.kind === 'field' ? genericValue(it.field.value)?.qualifier : undefined));
  for (const q of new Set(cashQuals)) {
    if (q && cashQuals.filter((x) => x === q).length > 1) errors.push(`MT${type}: sequence SETDET: cash party ${q} appears in more than one CSHPRTY subsequence`);
  }
  if (!against && cashQuals.length) {
    errors.push(`MT${type}: sequence SETDET: subsequence CSHPRTY must not be present: MT${type} settles free of payment, no cash moves (market practice)`);
  }
  if (!quals.includes('PSET')) errors.push(`MT${type}: sequence SETDET: no SETPRTY subsequence with the place of settlement (:95a::PSET//)`);
  const agent = receive ? 'DEAG' : 'REAG';
  if (!quals.includes(agent)) {
    errors.push(`MT${type}: sequence SETDET: no SETPRTY subsequence with the ${receive ? 'delivering' : 'receiving'} agent (:95a::${agent}//), which a ${receive ? 'receipt' : 'delivery'} must name`);
  }
}

/**
 * Check an MT540, MT541, MT542 or MT543.
 *
 * What it checks. Blocks: one message; block 1 "F01" + logical terminal + session + sequence;
 * block 2 input or output with a message type 540-543; block 4 present, every line in the SWIFT x
 * character set, fields ":tag:value", 16R/16S balanced. Sequences: GENL, TRADDET, FIAC, SETDET in
 * that order (REPO and OTHRPRTY where the standard puts them), the subsequences in their parents
 * (LINK, FIA, BREAK, SETPRTY at least once, CSHPRTY, AMT). Fields: allowed in their sequence, in
 * order, as often as allowed; mandatory ones present (:20C::SEME, :23G:, :98a::SETT, :35B:,
 * :36B::SETT, :97a::SAFE, :22F::SETR, a party in each SETPRTY, :19A: in each AMT). Formats: 16x
 * references, YYYYMMDD dates, ISIN (check digit too), UNIT/FAMT/AMOR quantities and amounts with a
 * comma decimal and at most 15 characters, ISO 4217 currencies and their decimals, BICs, 95R/95Q,
 * 4-character codes, 35-character lines. Type rules: exactly one :19A::SETT// for 541/543, none for
 * 540/542; PSET named; the counterparty's agent named (DEAG for 540/541, REAG for 542/543); no
 * party twice. Cash parties (CSHPRTY): one party each (ACCW, BENM, DEBT, INTM, PAYE), none twice,
 * accounts CASH/CHAR/COMM/TAXE (97E an IBAN with its check digits), and only against payment.
 *
 * @returns the problems, each naming the message type, sequence, field (and line) and rule.
 */
export function validateMt54x(text: string): string[] {
  let msgs;
  try {
    msgs = splitFin(text);
  } catch (e) {
    if (e instanceof FinSyntaxError) return [`MT54x: ${e.message}`];
    throw e;
  }
  if (msgs.length !== 1) return [`MT54x: expected one message, found ${msgs.length}`];
  const m = msgs[0]!;
  const errors: string[] = [];
  const type = m.type ?? '54x';
  if (m.block1 === undefined) errors.push(`MT${type}: block 1 (basic header) is missing`);
  else if (!BLOCK1_RE.test(m.block1)) errors.push(`MT${type}: block 1 "${m.block1}" is not F01 + logical terminal (12) + session (4) + sequence (6)`);
  if (m.block2 === undefined) errors.push('MT54x: block 2 (application header) is missing');
  else if (!BLOCK2_IN_RE.test(m.block2) && !BLOCK2_OUT_RE.test(m.block2)) errors.push(`MT${type}: block 2 "${m.block2}" is not an input (I + type + receiver + priority) or output application header`);
  else if (!TYPES.includes(type)) errors.push(`MT${type}: block 2 names MT${type}; expected MT540, MT541, MT542 or MT543`);
  if (m.block4 === undefined) {
    errors.push(`MT${type}: block 4 (text) is missing`);
    return errors;
  }
  let top: FinSequence;
  try {
    top = finSequences(finFields(m.block4));
  } catch (e) {
    if (e instanceof FinSyntaxError) return [...errors, `MT${type}: ${e.message}`];
    throw e;
  }
  checkSequence(type, top, errors);
  if (TYPES.includes(type)) typeRules(type, top, errors);
  return errors;
}
