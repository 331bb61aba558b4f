/**
 * Accounting close: month-end close with checks, prior-period adjustments under maker-checker
 * approval, FX rates and revaluation, and the financial statements (balance sheet, income
 * statement) in the base currency with drill-down and CSV/XLSX/JSON exports.
 * Other modules import only this file. The measurement choices are documented on
 * revaluation.ts (FX), adjustments.ts (prior-period adjustments) and statements.ts (statements).
 */
export { parsePeriod, type Period } from './periods.js';
/** Close a month in order after checks; the close status; the checks alone. */
export { closeMonth, closeStatus, closeChecks, type CloseCheck, type CloseResult, type MonthClose, type CloseContext } from './close.js';
/** Adjustments to closed periods: propose, approve (a second person), reject, list. */
export {
  proposeAdjustment, approveAdjustment, rejectAdjustment, listAdjustments, getAdjustment,
  type Adjustment, type AdjustmentInput, type AdjustmentStatus, type Approver,
} from './adjustments.js';
/** Exchange rates: CSV import, listing, lookups, and the rounding of translations. */
export { importFxRates, listFxRates, RateBook, FX_ROUNDING, roundBase, type FxRate, type FxImportSummary, type FxContext } from './fx-rates.js';
/** FX revaluation of monetary foreign-currency balances. */
export { revalueFx, planRevaluation, listRevaluations, type RevaluationRun, type RevaluationLine, type FxPosition } from './revaluation.js';
/** The contra account of a revaluation and the unrealized FX account. */
export { revaluationAccount, FX_UNREALIZED_ACCOUNT } from './book.js';
/** Financial statements and drill-down. */
export {
  balanceSheet, incomeStatement, accountEntries, FIRM_INVENTORY_PREFIX,
  type BalanceSheet, type IncomeStatement, type Statement, type StatementRow, type Section, type AccountEntries, type RateUsed, type NativeAmount,
} from './statements.js';
/** Statement exports: CSV, XLSX, terminal text. */
export { statementCsv, statementXlsx, statementText, xlsxNumber, CSV_COLUMNS, XLSX_HEADER_ROW, STATEMENT_FORMATS, type StatementFormat } from './export.js';
/** Typed errors. */
export { CloseCodes, closeError, type CloseCode } from './errors.js';
/** HTTP routes and CLI commands. */
export { closeRoutes } from './http.js';
export { closeCommands, type CloseCliContext } from './cli.js';
