/** Today's business date in the browser's time zone, as YYYY-MM-DD. */
export function today(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Path of an account's page; account names contain ':' and may contain anything else. */
export function accountPath(name: string): string {
  return `/accounts/${encodeURIComponent(name)}`;
}

/** Path of a journal entry's page. */
export function entryPath(id: string): string {
  return `/journal/${encodeURIComponent(id)}`;
}

/** Path of a customer (trading) account's page: positions, lots, P&L, trades. */
export function customerPath(account: string): string {
  return `/customers/${encodeURIComponent(account)}`;
}

/** Path of a security's page: reference data, price, inventory, trades. */
export function securityPath(symbol: string): string {
  return `/securities/${encodeURIComponent(symbol)}`;
}
