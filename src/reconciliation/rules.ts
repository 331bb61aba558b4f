/**
 * Matching rules as people configure them, per linked account: an ordered list, each rule with
 * its parameters (tolerances as decimal strings in the account's asset, windows in calendar days).
 */
import { z } from 'zod';
import { toMinor, DomainError } from '../kernel/index.js';
import type { EngineRule } from './engine.js';
import { ReconCodes, reconError } from './errors.js';

const Tolerance = z.string().regex(/^\d+(\.\d+)?$/, 'a non-negative decimal string such as "0.01"');
const Days = z.number().int().min(0).max(366);

/** Group rules: window, largest group with a transaction count (maxGroup) and without (maxBlind), candidates searched. */
const GroupParams = z.object({
  amountTolerance: Tolerance.default('0'), days: Days.default(2), maxGroup: z.number().int().min(2).max(20).default(5),
  maxBlind: z.number().int().min(1).max(20).default(2), maxCandidates: z.number().int().min(2).max(200).default(40),
}).strict();

export const CASH_RULES = ['reference', 'amount_date', 'one_to_many', 'many_to_one', 'reversal'] as const;
export const HOLDINGS_RULES = ['position'] as const;

/** One configured rule. Unknown parameters are refused, missing ones take the defaults. */
export const RuleSchema = z.discriminatedUnion('rule', [
  z.object({ rule: z.literal('reference'), params: z.object({ amountTolerance: Tolerance.default('0'), days: Days.default(5) }).strict().default({ amountTolerance: '0', days: 5 }) }),
  z.object({ rule: z.literal('amount_date'), params: z.object({ amountTolerance: Tolerance.default('0'), days: Days.default(2) }).strict().default({ amountTolerance: '0', days: 2 }) }),
  z.object({
    rule: z.literal('one_to_many'),
    params: GroupParams.default({ amountTolerance: '0', days: 2, maxGroup: 5, maxBlind: 2, maxCandidates: 40 }),
  }),
  z.object({
    rule: z.literal('many_to_one'),
    params: GroupParams.default({ amountTolerance: '0', days: 2, maxGroup: 5, maxBlind: 2, maxCandidates: 40 }),
  }),
  z.object({ rule: z.literal('reversal'), params: z.object({}).strict().default({}) }),
  z.object({ rule: z.literal('position'), params: z.object({ quantityTolerance: Tolerance.default('0') }).strict().default({ quantityTolerance: '0' }) }),
]);
export type Rule = z.infer<typeof RuleSchema>;
export const RulesSchema = z.array(RuleSchema).min(1).max(20);

/** The rules a newly linked account starts with. */
export function defaultRules(kind: 'cash' | 'holdings'): Rule[] {
  if (kind === 'holdings') return [{ rule: 'position', params: { quantityTolerance: '0' } }];
  return [
    { rule: 'reference', params: { amountTolerance: '0', days: 5 } },
    { rule: 'amount_date', params: { amountTolerance: '0', days: 2 } },
    { rule: 'one_to_many', params: { amountTolerance: '0', days: 2, maxGroup: 5, maxBlind: 2, maxCandidates: 40 } },
    { rule: 'many_to_one', params: { amountTolerance: '0', days: 2, maxGroup: 5, maxBlind: 2, maxCandidates: 40 } },
    { rule: 'reversal', params: {} },
  ];
}

/**
 * Parse and check a rule list for an account of `kind` (JSON from a file or the API).
 * @throws DomainError RECON_RULE_INVALID naming the rule (position) and the field
 */
export function parseRules(input: unknown, kind: 'cash' | 'holdings'): Rule[] {
  const r = RulesSchema.safeParse(input);
  if (!r.success) {
    const details = r.error.issues.map((i) => {
      const at = i.path.length ? i.path.join('.') : 'rules';
      const record = typeof i.path[0] === 'number' ? `rule #${i.path[0] + 1}` : 'rules';
      return { record, field: at, rule: i.code, message: `${record}: ${at}: ${i.message}` };
    });
    throw reconError(ReconCodes.RULE_INVALID, 'invalid', `the rules are not usable: ${details.map((d) => d.message).join('; ')}`, details);
  }
  const allowed: readonly string[] = kind === 'cash' ? CASH_RULES : HOLDINGS_RULES;
  const bad = r.data.map((x, i) => ({ x, i })).filter(({ x }) => !allowed.includes(x.rule));
  if (bad.length) {
    const details = bad.map(({ x, i }) => ({ record: `rule #${i + 1}`, field: 'rule', rule: 'RULE_KIND', message: `rule #${i + 1}: "${x.rule}" does not apply to a ${kind} account (use ${allowed.join(', ')})` }));
    throw reconError(ReconCodes.RULE_INVALID, 'invalid', details.map((d) => d.message).join('; '), details);
  }
  return r.data;
}

/** Tolerances to minor units of the account's asset. @throws DomainError RECON_RULE_INVALID when too precise */
export function toEngineRules(rules: Rule[], scale: number): EngineRule[] {
  const minor = (v: string, i: number, field: string) => {
    try {
      return toMinor(v, scale, `rule #${i + 1} ${field}`);
    } catch (e) {
      throw reconError(ReconCodes.RULE_INVALID, 'invalid', (e as DomainError).message, [{ record: `rule #${i + 1}`, field, rule: 'SCALE', message: (e as DomainError).message }]);
    }
  };
  return rules.flatMap((r, i): EngineRule[] => {
    switch (r.rule) {
      case 'reference': return [{ rule: 'reference', params: { amountTolerance: minor(r.params.amountTolerance, i, 'amountTolerance'), days: r.params.days } }];
      case 'amount_date': return [{ rule: 'amount_date', params: { amountTolerance: minor(r.params.amountTolerance, i, 'amountTolerance'), days: r.params.days } }];
      case 'one_to_many':
      case 'many_to_one':
        return [{ rule: r.rule, params: { amountTolerance: minor(r.params.amountTolerance, i, 'amountTolerance'), days: r.params.days, maxGroup: r.params.maxGroup, maxBlind: r.params.maxBlind, maxCandidates: r.params.maxCandidates } }];
      case 'reversal': return [{ rule: 'reversal', params: {} }];
      case 'position': return [];
    }
  });
}
