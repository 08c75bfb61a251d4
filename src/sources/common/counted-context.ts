// The context a flow's RecordBatcher pushes through, shared by the syslog flows (syslog-tcp/flow.ts)
// and the local flows (unix-dgram/flow.ts): the source's own context, whose push runs the flow's
// hooks around the router's push and never rejects. No sockets here.
//
//   batcher ─► push(b) ─► before(b) ─► ctx.push(b) (router) ─┬─► after(b): backlog -= batch bytes
//                           └─ throws ─► failed(err, b) ───────┘
//
// Never rejecting matters: a rejection would break the batcher's chain of pushes, and the bytes of
// every later batch would stay counted as backlog forever.

import type { Batch } from '../../core/batch.js';
import type { SourceContext } from '../../core/component.js';

/** What a flow does around each push of a batch (once per batch, never per record). */
export interface PushHooks {
  /** Before the router sees the batch (it may rewrite the batch in place); a throw counts as a failed push. */
  readonly before?: (b: Batch) => void;
  /** The push failed: count it (it is not retried: the input cannot be re-read). */
  readonly failed: (err: unknown, b: Batch) => void;
  /** After the push, failed or not: the batch's bytes are no longer waiting for the router. */
  readonly after: (b: Batch) => void;
}

/** `ctx` with a push that runs `hooks` around ctx.push and never rejects. */
export function countedContext(ctx: SourceContext, hooks: PushHooks): SourceContext {
  const { before, failed, after } = hooks;
  return {
    id: ctx.id,
    node: ctx.node,
    log: ctx.log,
    telemetry: ctx.telemetry,
    push: async (b: Batch) => {
      try {
        before?.(b);
        await ctx.push(b);
      } catch (err) {
        failed(err, b);
      } finally {
        after(b);
      }
    },
  };
}
