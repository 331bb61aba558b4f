import { generateCamt053 } from './src/reconciliation/statements/index.ts';
import { parseStatementFile } from './src/reconciliation/statements/index.ts';
import { readXml } from './src/reconciliation/statements/xml-reader.ts';
const x = generateCamt053({ entries: 100000 });
for (let r=0;r<5;r++){ let c=process.cpuUsage(); let t0=performance.now(); readXml(x,{onClose:(e)=>e.name==='Ntry'}); let u=process.cpuUsage(c); console.log('read', (performance.now()-t0).toFixed(0), 'cpu', (u.user/1000).toFixed(0));
 c=process.cpuUsage(); t0=performance.now(); parseStatementFile(x); u=process.cpuUsage(c); console.log('parse', (performance.now()-t0).toFixed(0), 'cpu', (u.user/1000).toFixed(0), 'sys', (u.system/1000).toFixed(0));}
