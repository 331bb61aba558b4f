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
