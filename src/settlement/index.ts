/**
 * Clearing and settlement (in progress): CNS-style net obligations per (settlement date,
 * counterparty, security) and net cash per (settlement date, counterparty, currency), from the
 * street side of booked trades at their execution prices, open fails carried forward; the
 * gross-against-net report; the `settlement net` and `settlement report` commands; settlement
 * instructions out (sese.023, MT540-543) and statuses in (sese.024/025, MT544-548, CSV).
 */
export {
  net, netCashOf, nettingReportOf, obligationView, netCashView, syntheticTrades,
  type NetInput, type FailInput, type NetResult, type Obligation, type NetCash, type ObligationStatus,
  type ObligationView, type NetCashView, type NettingReport, type CurrencyAmount, type TradeSide, type SyntheticOptions,
} from './netting.js';
export {
  computeObligations, listObligations, nettingReport,
  type NettingRun, type ObligationChanges, type ObligationQuery, type DatedNettingReport, type SettlementCtx,
} from './obligations.js';
export { settlementCommands, type WithDb, type Print } from './cli.js';
export { SettlementCodes, settlementError, type SettlementCode } from './errors.js';
export {
  importConfirmations, matchConfirmations, listMatches, manualMatch, affirm, matchText, matchingCommands,
  type MatchView, type MatchRun, type Difference, type ConfirmationView, type TradeView, type MatchStatus, type ConfirmationImport,
} from './matching.js';
export { parseConfirmations, affirmationDeadline, isLateAffirmation, ConfirmationCodes, CONFIRMATION_COLUMNS, type ConfirmationInput } from './confirmations.js';
export { listFails, agingBuckets, planBuyIn, closeOutDue, failsCommands, FailsCodes } from './fails.js';
export { instructObligations, applyStatuses, getInstruction, lifecycleCommands, LifecycleCodes } from './lifecycle.js';
export { runEod, eodCommands, eodProgress, EOD_STEPS, EodCodes, type EodOptions, type EodReport } from './eod.js';
export * as messages from './messages/index.js';
export { settlementRoutes } from './http.js';
