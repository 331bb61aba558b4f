import { generateCamt053 } from './src/reconciliation/statements/index.ts';
import { parseStatementFile } from './src/reconciliation/statements/index.ts';
const x = generateCamt053({ entries: 100000 });
globalThis.gc?.();
console.log('---- parse');
const t0=performance.now(); parseStatementFile(x); console.log('ms', performance.now()-t0);
