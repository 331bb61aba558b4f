/**
 * Clearing and settlement: CNS-style net obligations per (settlement date, counterparty,
 * security) and net cash per (settlement date, counterparty, currency), from the street side of
 * booked trades at their execution prices, open fails carried forward; the gross-against-net
 * report; confirmation matching (CSV, FIX 4.4 AK/AS); standing settlement instructions; settlement
 * instructions out (sese.023, MT540-543) and statuses in (sese.024/025, MT544-548, CSV); fails in
 * the ledger; buy-ins; the end-of-day cycle.
 */
export {
  net, netCashOf, nettingReportOf, obligationView, netCashView, syntheticTrades,
  type NetInput, type FailInput, type NetResult, type Obligation, type NetCash, type ObligationStatus,
  type ObligationView, type NetCashView, type NettingReport, type CurrencyAmount, type TradeSide, type SyntheticOptions,
} from './netting.js';
export {
  computeObligations, listObligations, nettingReport, planObligationAdjustments, adjustObligationsIn, lockForSecurityEvent,
  type SecurityEvent, type ObligationAdjustment, type ObligationAdjustmentPlan,
  type NettingRun, type ObligationChanges, type ObligationQuery, type DatedNettingReport, type SettlementCtx,
} from './obligations.js';
export { settlementCommands, type WithDb, type Print } from './cli.js';
export { SettlementCodes, settlementError, type SettlementCode } from './errors.js';
export {
  importConfirmations, matchConfirmations, listMatches, manualMatch, affirm, matchText, matchingCommands,
  type MatchView, type MatchRun, type Difference, type ConfirmationView, type TradeView, type MatchStatus, type ConfirmationImport,
} from './matching.js';
export { parseConfirmations, affirmationDeadline, isLateAffirmation, ConfirmationCodes, CONFIRMATION_COLUMNS, type ConfirmationInput } from './confirmations.js';
export {
  listFails, agingBuckets, planBuyIn, closeOutDue, failsCommands, FailsCodes, bookFails, failBalances, failAccount,
  type FailsReport, type FailView, type FailBalance, type FailBookingResult,
} from './fails.js';
export { instructObligations, applyStatuses, getInstruction, lifecycleCommands, LifecycleCodes, type InstructionParties } from './lifecycle.js';
export { parseFixConfirmations, isFixText, type FixConfirmationParse, type SkippedFixMessage } from './fix-confirmations.js';
export {
  importSsis, listSsis, parseSsis, loadSsiBook, pickSsi, ssiCommands, SsiCodes, FIRM_PARTY, SSI_COLUMNS, type Ssi, type SsiImport, type SsiBook,
} from './ssi.js';
export {
  createBuyIn, notifyBuyIn, executeBuyIn, cancelBuyIn, listBuyIns, getBuyIn, buyInCommands, BuyInCodes, BUY_IN_STATUSES,
  type BuyIn, type BuyInStatus, type CreateBuyIn,
} from './buy-ins.js';
export { runEod, eodCommands, eodProgress, EOD_STEPS, EodCodes, type EodOptions, type EodReport } from './eod.js';
export * as messages from './messages/index.js';
export { settlementRoutes, eodDay, eodDays, type EodDayView, type EodStepView } from './http.js';
