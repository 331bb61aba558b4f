/**
 * SWIFT MT535 Statement of Holdings. Sequence A (GENL): :20C::SEME// reference, :28E: page,
 * :98A::STAT// (or :98C::STAT//) statement date, :97A::SAFE// safekeeping account. Sequence B
 * (SUBSAFE, repeated) may name its own :97A::SAFE//; inside it each B1 (FIN) is one holding:
 * :35B: ISIN (or /XX/code, or a description), :93B::AGGR//UNIT/ or FAMT/ quantity ('N' before the
 * amount: negative), :90A:/:90B: price, :19A::HOLD// value. Sequence C (ADDINFO) may carry the
 * totals :19A::HOLP// (page) and :19A::HOLS// (statement), which the holding values must add up to.
 * One statement per safekeeping account.
 */
import { currencyScale, signed, significantDecimals } from './amounts.js';
import { checkHoldings, type HoldingsTotal } from './check.js';
import { refuseFile, statementLabel, type Where } from './errors.js';
import { mtAmount, mtDate8, splitMt, type MtField, type MtMessage } from './mt.js';
import type { HoldingLine, ParsedStatement } from './types.js';

/** ":QUAL/DSS/rest" or ":QUAL//rest" of a generic field. */
const GENERIC = /^:([A-Z0-9]{4})\/([A-Z0-9]{0,8})\/(.*)$/s;

interface Ctx {
  file: string;
  label: string;
}

const at = (c: Ctx, f: MtField): Where => ({ file: c.file, statement: c.label, path: `:${f.tag}: (line ${f.line})` });

function generic(c: Ctx, f: MtField): { qual: string; rest: string } {
  const m = GENERIC.exec(f.value.trim());
  if (!m) throw refuseFile(at(c, f), `"${f.value.trim()}" is not a qualified field (:QUAL//value)`);
  return { qual: m[1]!, rest: m[3]! };
}

function money(c: Ctx, f: MtField, text: string): { value: string; currency: string } {
  const m = /^(N)?([A-Z]{3})(\S+)$/.exec(text);
  if (!m) throw refuseFile(at(c, f), `"${text}" is not an amount ([N]currency amount)`);
  const a = mtAmount(m[3]!);
  if (a === null) throw refuseFile(at(c, f), `"${m[3]}" is not a SWIFT amount (digits, decimal comma)`);
  const scale = currencyScale(m[2]!);
  if (scale === null) throw refuseFile(at(c, f), `"${m[2]}" is not an ISO 4217 currency code`);
  const d = significantDecimals(a);
  if (d > scale) throw refuseFile(at(c, f), `amount "${m[3]}" has ${d} decimals; ${m[2]} allows ${scale} (ISO 4217 minor units)`);
  return { value: signed(a, m[1] === 'N'), currency: m[2]! };
}

interface Group {
  account: string;
  holdings: HoldingLine[];
}

function statements(file: string, msg: MtMessage): ParsedStatement[] {
  const f20 = msg.fields.find((f) => f.tag === '20C' && f.value.startsWith(':SEME//'));
  const c: Ctx = { file, label: `MT535 message ${msg.index}${f20 ? ` (:20C:${f20.value.trim()})` : ''}` };
  if (!f20) throw refuseFile({ file, statement: c.label }, 'field :20C::SEME// (sender\'s reference) is missing');
  const reference = f20.value.trim().slice(7);
  let mainAccount: string | null = null;
  let statementDate: string | null = null;
  let page: string | null = null;
  const groups: Group[] = [];
  const totals: HoldingsTotal[] = [];
  const stack: string[] = [];
  let group: Group | null = null;
  let subAccount: string | null = null;
  let h: HoldingLine | null = null;
  let hAt: MtField = msg.fields[0]!;

  for (const f of msg.fields) {
    if (f.tag === '16R') {
      const name = f.value.trim();
      stack.push(name);
      if (name === 'SUBSAFE') subAccount = null;
      if (name === 'FIN') {
        h = { index: 0, security: '', quantity: '', quantityType: 'UNIT', price: null, priceCurrency: null, value: null, valueCurrency: null };
        hAt = f;
      }
      continue;
    }
    if (f.tag === '16S') {
      const name = f.value.trim();
      if (stack[stack.length - 1] !== name) throw refuseFile(at(c, f), `:16S:${name} closes ${stack.length ? `:16R:${stack[stack.length - 1]}` : 'nothing'}`);
      stack.pop();
      if (name === 'GENL' && mainAccount === null) throw refuseFile({ file, statement: c.label }, 'field :97A::SAFE// (safekeeping account) is missing in sequence A');
      if (name === 'FIN' && h) {
        if (!h.security) throw refuseFile(at(c, hAt), 'holding has no :35B: identification of the security');
        if (!h.quantity) throw refuseFile(at(c, hAt), 'holding has no :93B::AGGR// aggregate quantity');
        const account = subAccount ?? mainAccount!;
        if (!group || group.account !== account) {
          group = groups.find((g) => g.account === account) ?? null;
          if (!group) groups.push((group = { account, holdings: [] }));
        }
        group.holdings.push({ ...h, index: group.holdings.length });
        h = null;
      }
      continue;
    }
    const seq = stack[stack.length - 1];
    if (seq === 'GENL') {
      if (f.tag === '28E') page = f.value.trim();
      else if (f.tag === '98A' || f.tag === '98C') {
        const g = generic(c, f);
        if (g.qual === 'STAT') {
          statementDate = mtDate8(g.rest.slice(0, 8));
          if (!statementDate) throw refuseFile(at(c, f), `"${g.rest}" is not a date (YYYYMMDD)`);
        }
      } else if (f.tag === '97A') {
        const g = generic(c, f);
        if (g.qual === 'SAFE') mainAccount = g.rest.trim();
      }
    } else if (seq === 'SUBSAFE') {
      if (f.tag === '97A') {
        const g = generic(c, f);
        if (g.qual === 'SAFE') subAccount = g.rest.trim();
      }
    } else if (seq === 'FIN' && h) {
      if (f.tag === '35B') {
        const lines = f.value.split('\n').map((x) => x.trim());
        const isin = /^ISIN ([A-Z]{2}[A-Z0-9]{9}\d)$/.exec(lines[0]!);
        const local = lines.map((l) => /^\/([A-Z]{2})\/(\S+)$/.exec(l)).find((x) => x);
        if (isin) h.security = isin[1]!;
        else if (local) h.security = `${local[1]}:${local[2]}`;
        else if (lines[0]) h.security = `DESC:${lines.join(' ').trim()}`;
      } else if (f.tag === '93B') {
        const g = generic(c, f);
        if (g.qual === 'AGGR') {
          const m = /^(UNIT|FAMT|AMOR)\/(N)?(\S+)$/.exec(g.rest.trim());
          if (!m) throw refuseFile(at(c, f), `"${g.rest}" is not a quantity (UNIT/ or FAMT/ then [N]amount)`);
          if (m[1] === 'AMOR') throw refuseFile(at(c, f), 'amortised value (AMOR) is not a quantity this statement model holds (UNIT or FAMT)');
          const q = mtAmount(m[3]!);
          if (q === null) throw refuseFile(at(c, f), `"${m[3]}" is not a SWIFT quantity (digits, decimal comma)`);
          h.quantity = signed(q, m[2] === 'N');
          h.quantityType = m[1] as 'UNIT' | 'FAMT';
        }
      } else if ((f.tag === '90A' || f.tag === '90B') && h.price === null) {
        const g = generic(c, f);
        if (f.tag === '90A') {
          const m = /^(PRCT|YIEL|DISC|PREM)\/(N)?(\S+)$/.exec(g.rest.trim());
          const p = m ? mtAmount(m[3]!) : null;
          if (!m || p === null) throw refuseFile(at(c, f), `"${g.rest}" is not a price (PRCT/ then a rate)`);
          h.price = signed(p, m[2] === 'N');
        } else {
          const m = /^([A-Z]{4})\/([A-Z]{3})(\S+)$/.exec(g.rest.trim());
          const p = m ? mtAmount(m[3]!) : null;
          if (!m || p === null) throw refuseFile(at(c, f), `"${g.rest}" is not a price (ACTU/ then currency and amount)`);
          h.price = p;
          h.priceCurrency = m[2]!;
        }
      } else if (f.tag === '19A') {
        const g = generic(c, f);
        if (g.qual === 'HOLD' && h.value === null) {
          const v = money(c, f, g.rest.trim());
          h.value = v.value;
          h.valueCurrency = v.currency;
        }
      }
    } else if (seq === 'ADDINFO' && f.tag === '19A') {
      const g = generic(c, f);
      if (g.qual === 'HOLP' || g.qual === 'HOLS') {
        const v = money(c, f, g.rest.trim());
        totals.push({ code: `19A::${g.qual}`, amount: v.value, currency: v.currency });
      }
    }
  }
  if (stack.length) throw refuseFile({ file, statement: c.label }, `sequence :16R:${stack[stack.length - 1]} is not closed with :16S:`);
  if (mainAccount === null) throw refuseFile({ file, statement: c.label }, 'field :97A::SAFE// (safekeeping account) is missing');
  if (statementDate === null) throw refuseFile({ file, statement: c.label }, 'field :98A::STAT// (statement date) is missing');
  if (groups.length === 0) groups.push({ account: mainAccount, holdings: [] });

  // Totals: the page total when given; the statement total only when this message is the whole statement.
  const onlyPage = page === null || /^1\/ONLY$/.test(page);
  const total = totals.find((t) => t.code === '19A::HOLP') ?? (onlyPage ? totals.find((t) => t.code === '19A::HOLS') : undefined) ?? null;
  const label = statementLabel(reference, mainAccount);
  const all = groups.flatMap((g) => g.holdings).map((x) => ({ value: x.value ?? null, currency: x.valueCurrency ?? null }));
  const { check, refused } = checkHoldings(label, all, total);
  return groups.map((g) => ({
    kind: 'holdings' as const,
    format: 'mt535',
    messageId: reference,
    statementId: reference,
    sequence: null,
    page,
    account: g.account,
    servicer: msg.sender,
    currency: null,
    createdAt: null,
    fromDate: null,
    toDate: null,
    statementDate,
    balances: [],
    entries: [],
    holdings: g.holdings,
    check,
    refused,
  }));
}

/**
 * Parse an MT535 file (with or without envelopes; several messages).
 * @throws DomainError RECON_STATEMENT_REFUSED: a missing field, unbalanced sequences, a bad
 *   quantity or amount, an amount with more decimals than its currency allows.
 */
export function parseMt535(text: string, file: string): ParsedStatement[] {
  const messages = splitMt(text, file, (f) => f.tag === '16R' && f.value.trim() === 'GENL');
  if (messages.length === 0) throw refuseFile({ file }, 'no MT535 message in the file');
  return messages.flatMap((m) => {
    if (m.type !== null && m.type !== '535') throw refuseFile({ file, statement: `message ${m.index}` }, `is an MT${m.type}; this file is read as MT535 statements of holdings`);
    return statements(file, m);
  });
}
