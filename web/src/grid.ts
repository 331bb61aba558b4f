/**
 * AG Grid set-up shared by every grid page: Community modules registered once, one theme.
 * Import `gridTheme` from here (rather than from ag-grid-community) so registration always runs.
 */
import { AllCommunityModule, ModuleRegistry, themeQuartz, type ColDef } from 'ag-grid-community';

ModuleRegistry.registerModules([AllCommunityModule]);

export const gridTheme = themeQuartz;

/** Sortable, filterable, resizable columns unless a column says otherwise. */
export const defaultColDef: Pick<ColDef, 'sortable' | 'filter' | 'resizable'> = {
  sortable: true,
  filter: true,
  resizable: true,
};

/**
 * Column settings for decimal-string amounts: right aligned, tabular digits, shown exactly as
 * the server sent them, and sorted as decimals without converting to JS numbers.
 */
export const amountColumn: Pick<ColDef, 'type' | 'cellStyle' | 'comparator' | 'filter'> = {
  type: 'rightAligned',
  cellStyle: { fontVariantNumeric: 'tabular-nums' },
  comparator: (a: unknown, b: unknown) => compareDecimalStrings(String(a ?? ''), String(b ?? '')),
  filter: 'agTextColumnFilter',
};

/** Orders two plain decimal strings ("-12.5", "3", "0.001") exactly, without floating point. */
export function compareDecimalStrings(a: string, b: string): number {
  const pa = parseDecimal(a);
  const pb = parseDecimal(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  if (pa.negative !== pb.negative) return pa.negative ? -1 : 1;
  const magnitude = compareMagnitude(pa, pb);
  return pa.negative ? -magnitude : magnitude;
}

interface ParsedDecimal {
  negative: boolean;
  int: string;
  frac: string;
}

function parseDecimal(s: string): ParsedDecimal | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s.trim());
  if (!m || (!m[2] && !m[3])) return undefined;
  const int = (m[2] ?? '').replace(/^0+/, '');
  const frac = (m[3] ?? '').replace(/0+$/, '');
  // "-0.00" is zero, and zero is not negative.
  return { negative: m[1] === '-' && (int !== '' || frac !== ''), int, frac };
}

function compareMagnitude(a: ParsedDecimal, b: ParsedDecimal): number {
  if (a.int.length !== b.int.length) return a.int.length < b.int.length ? -1 : 1;
  if (a.int !== b.int) return a.int < b.int ? -1 : 1;
  const len = Math.max(a.frac.length, b.frac.length);
  const fa = a.frac.padEnd(len, '0');
  const fb = b.frac.padEnd(len, '0');
  return fa < fb ? -1 : fa > fb ? 1 : 0;
}
