// Delivery results are values, never exceptions: what a destination says of one batch.
// "delivered" means durable (fsync'd per policy, or acknowledged by the upstream).

export type Outcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'retryable'; readonly error: Error; readonly retryInMs?: number }
  | { readonly kind: 'rejected'; readonly error: Error };

export const DELIVERED: Outcome = Object.freeze({ kind: 'delivered' });

export function retryable(error: Error, retryInMs?: number): Outcome {
  return retryInMs === undefined ? { kind: 'retryable', error } : { kind: 'retryable', error, retryInMs };
}

export function rejected(error: Error): Outcome {
  return { kind: 'rejected', error };
}
