/**
 * The ledger: one double-entry book for cash and securities. Assets, the chart of accounts,
 * immutable journal entries, balances (current and as of any date), period closes, the
 * hash-chained audit trail, and the hledger export. Other modules import only this file.
 */
export { addAsset, addAssetIn, listAssets, isoCurrency, type Asset } from './assets.js';
export { openAccount, openAccountIn, listAccounts, getAccount, ACCOUNT_TYPES, type Account, type AccountType, type OpenAccountInput } from './accounts.js';
export {
  postEntries, postEntriesIn, stageEntries, writeStagedEntries, getEntry, getEntriesByKey, listEntries, reverseEntry, likePrefix,
  type EntryInput, type PostingInput, type Entry, type PostOutcome, type PostContext, type PostMode, type EntryQuery, type StagedEntries,
} from './journal.js';
export { balances, rolledUpBalances, trialBalance, accountActivity, balanceMismatches, type BalanceRow, type BalanceQuery, type TrialBalance, type Activity } from './balances.js';
export { closePeriod, closedThrough, listCloses } from './periods.js';
export { appendAudit, lockBooks, listAudit, type AuditEvent, type AuditRow } from './audit.js';
export { rowHash } from './row-hash.js';
export { verifyAudit, type VerifyResult, type Broken } from './verify.js';
export { exportHledger } from './hledger.js';
export { EntriesRejected, LedgerCodes } from './errors.js';
export { PostingQueue } from './posting-queue.js';
export { ledgerRoutes } from './http.js';
