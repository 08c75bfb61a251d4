// Joins the outcomes of every destination a batch went to into the one outcome its source sees.
// Any retryable → retryable (the source keeps the bytes); else any rejected → rejected; else delivered.

import { DELIVERED, type Outcome } from '../core/outcome.js';

export function joinOutcomes(outcomes: readonly Outcome[]): Outcome {
  let rejected: Outcome | undefined;
  for (const o of outcomes) {
    if (o.kind === 'retryable') return o;
    if (o.kind === 'rejected') rejected ??= o;
  }
  return rejected ?? DELIVERED;
}
