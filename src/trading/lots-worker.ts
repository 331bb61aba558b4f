/**
 * The worker thread of a lots recomputation (lotRowsAnywhere in lots.ts): given the trades' COPY
 * text and the lot events, it answers with the lots and realized P&L as COPY text.
 */
import { parentPort } from 'node:worker_threads';
import { lotRows, type LotEventForLots } from './lots.js';

parentPort!.once('message', (m: { text: Uint8Array; events: LotEventForLots[] }) => {
  parentPort!.postMessage(lotRows(m.text, m.events));
});
