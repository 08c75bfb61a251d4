// Bounded waiting: every wait in the tests ends by itself.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const lastText = String(last); // taken before `last ?` narrows it from unknown to {}
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${lastText}` : ''}`);
    }
    await sleep(everyMs);
  }
}
