/**
 * Reference data: securities (each one a ledger asset), customer accounts (with their ledger
 * accounts), counterparties, dated fee rates and market prices. Imported from CSV, all or nothing.
 */
export {
  importSecurities, importCustomerAccounts, importCounterparties, importFees, importPrices,
  listSecurities, getSecurity, listCustomerAccounts, getCustomerAccount, listCounterparties, listFeeRates, latestPrice,
  customerLedgerAccounts, ASSET_CLASSES, FEE_KINDS,
  changeSecurityIdentifiersIn, identifierChangeProblems, securityHistory, securityAsOf, type IdentifierChange, type IdentifierHistory,
  type Security, type CustomerAccount, type Counterparty, type FeeRate, type ImportSummary,
} from './reference.js';
export { isValidIsin, isValidCusip, isValidLei, isValidBic } from './identifiers.js';
export { ReferenceRejected } from './errors.js';
export { referenceRoutes, IMPORTERS } from './http.js';
