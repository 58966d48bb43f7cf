import type { ValueTransformer } from 'typeorm';

/** BIGINT millisecond timestamps come back from pg as strings; Unix ms fit a JS number exactly. */
export const bigintMs: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};
