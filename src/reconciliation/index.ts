/**
 * Reconciliation: bank and custodian statements against our books.
 * - Statements in (./statements parses camt.052/053/054, MT940/950, semt.002, MT535, CSV), stored
 *   idempotently (by file hash and by account, message type, statement id and sequence).
 * - Links: a statement account is a ledger account (cash) or a ledger account prefix (custody);
 *   each linked account has ordered, configurable matching rules.
 * - Runs: unmatched statement lines against our postings (reference, amount and date, one-to-many,
 *   many-to-one, reversals) or holdings against our positions; what does not match is a break.
 * - Breaks: typed, aged, assigned, commented, matched by hand or resolved by an adjusting entry
 *   under maker-checker; every action audited.
 */
export { importStatementFile, storeStatements, listStatements, familyOf, type ImportResult, type StatementSummary, type StatementRow } from './store.js';
export { linkAccount, listLinks, resolveLink, setRules, type Link, type LinkInput } from './links.js';
export { defaultRules, parseRules, RuleSchema, CASH_RULES, HOLDINGS_RULES, type Rule } from './rules.js';
export { runReconciliation, type RunSummary, type BalanceCheck } from './run.js';
export {
  listBreaks, getBreak, assignBreak, commentBreak, matchBreaks, proposeAdjustment, approveAdjustment, rejectAdjustment, pendingAdjustmentOf,
  AGING_BUCKETS, BREAK_TYPES, bucketOf,
  type BreakView, type BreakDetail, type BreakList, type BreakQuery, type AgingRow, type AdjustmentView, type ProposeInput, type LineItem, type OurItem, type BreakEvent,
} from './breaks.js';
export { getStatementView, type StatementView, type StatementLineView, type OurMovementView, type PositionView, type MatchInfo } from './views.js';
export { matchCash, matchHoldings, memoRefs, type BreakType, type CashLine, type CashMovement, type EngineRule } from './engine.js';
export { reconCommands, runText, breaksText, importText } from './cli.js';
export { ReconCodes, reconError, type ReconCode } from './errors.js';
export type { ReconCtx } from './util.js';
export { reconciliationRoutes } from './http.js';
export type { ParsedStatement, StatementEntry, HoldingLine, StatementBalance, CsvMapping } from './statements/types.js';
