import { monotonicFactory } from 'ulid';

const next = monotonicFactory();

/** Prefixed, time-sortable ids: `je_01J...`. */
export const newId = (prefix: string): string => `${prefix}_${next()}`;
