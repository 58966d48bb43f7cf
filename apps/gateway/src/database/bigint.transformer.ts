import type { ValueTransformer } from 'typeorm';

/**
 * Millisecond timestamps are stored as BIGINT; the pg driver returns BIGINT as a string to avoid
 * precision loss beyond 2^53, which Unix milliseconds never reach, so numbers are safe here.
 */
export const bigintMs: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};
