/**
 * Corporate actions (asset servicing): cash dividends (entitlements at the record date on a
 * settlement-date basis, open fails claimed from or owed to counterparties, withholding tax for
 * non-residents at dated rates, payment on the pay date), stock splits and reverse splits
 * (positions of customers, depository and street adjusted, tax lots split, fractions paid in cash
 * in lieu), and symbol and identifier changes (positions and lots carried over, history kept).
 * Announcements come from CSV; each can be previewed per holder before it is applied; applying is
 * idempotent and audited. Other modules import only this file.
 */
export {
  importAnnouncements, listActions, getAction, readAnnouncementRows, checkAnnouncement, ACTION_KINDS, ANNOUNCEMENT_COLUMNS,
  type CorporateAction, type AnnouncementTerms, type AnnouncementImport, type ActionKind, type ActionStatus, type ActionQuery,
} from './announcements.js';
export { previewAction, applyAction, type ApplyResult } from './apply.js';
export { LEDGER as CORPORATE_ACTION_ACCOUNTS, type Preview, type HolderLine } from './holdings.js';
export { importWithholdingRates, loadRates, rateFor, dividendAmount, withholdingAmount, type WithholdingRate } from './withholding.js';
export { CorporateActionCodes } from './errors.js';
export { corporateActionsCommands, previewText } from './cli.js';
export { corporateActionsRoutes } from './http.js';
