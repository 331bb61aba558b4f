/**
 * Settlement messages: instructions out (ISO 20022 sese.023.001.09, SWIFT MT540-543), statuses in
 * (sese.024, sese.025, MT544-548, CSV), and the validators that check what we send. Pure
 * functions: no database, no I/O. Amounts and quantities are decimal strings throughout.
 */
export {
  toSese023,
  toSese023Batch,
  toMt54x,
  checkObligation,
  mtTypeOf,
  settlementTypeOf,
  type Obligation,
  type InstructionObligation,
  type Mt54xType,
  type Sese023Options,
  type Sese023File,
  type Sese023Batch,
  type Mt54xOptions,
  type CashCorrespondent,
} from './instructions.js';
export {
  parseSettlementStatus,
  detectStatusFormat,
  STATUS_CSV_COLUMNS,
  type SettlementStatus,
  type SettlementStatusCode,
  type StatusFormat,
  type ParseStatusOptions,
} from './statuses.js';
export {
  validateSese023,
  SESE023_STRUCTURE,
  BAH_STRUCTURE,
  SESE023_MSG_DEF,
  SESE023_NAMESPACE,
  BAH_NAMESPACE,
} from './sese023-structure.js';
export { validateMt54x, MT54X_SEQUENCES } from './mt54x-validate.js';
export type { Structure, ComplexType, ElementRule, SimpleType, Occurs } from './xml-structure.js';
export { MessageCodes, type MessageCode } from './errors.js';
