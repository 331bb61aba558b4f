import { setImmediate as immediate } from 'node:timers/promises';

/**
 * Let the event loop run the other work that waits (a database reply, the next statement of a
 * transaction being written). Long CPU work that runs beside database work (a pipeline's next
 * stage) calls it every few hundred items, so that the database is never left idle behind it.
 */
export const yieldToLoop = (): Promise<void> => immediate();
