/**
 * Trade capture: executions from FIX 4.2/4.4, CSV and JSON become trades in the books, with fees,
 * allocations and settlement dates; cancels and corrections reverse and rebook; what cannot be
 * booked is quarantined. Positions (trade and settlement date), tax lots, realized and
 * unrealized P&L, inventory and cash available.
 */
export { bookExecutions, STREET, FEE_ACCOUNTS, type ExecutionInput, type UnreadableRecord, type ImportResult } from './booking.js';
export { readExecutions, detectFormat, type ExecFormat } from './ingest.js';
export { importExecutions, listTrades, listQuarantine, retryQuarantined, selectLots, type Trade, type TradeQuery, type QuarantinedRecord } from './trades.js';
export { positions, inventory, cashAvailable, type Position, type PositionQuery } from './positions.js';
export { listLots, listRealized, recomputePendingLots, computeLots, applyLotEvent, listLotEvents, cashInLieu, splitQuantity, type LotEvent } from './lots.js';
export { computeFees, FeeBook } from './fees.js';
export { parseFixMessage, splitFixMessages, FixParseError, readGroup, tagName, type FixMessage } from './fix-parser.js';
export { toExecutionReport, replayExecutions, type ExecutionReport } from './execution-report.js';
export { tradingRoutes } from './http.js';
