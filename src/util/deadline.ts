// A wait with a deadline: stop() paths wait for connections and pushes to finish, but never past
// their bound. Dependency-free.

/** Resolves when `p` does or at `deadline` (ms since epoch), whichever is first. */
export function withDeadline(p: Promise<void>, deadline: number): Promise<void> {
  const ms = deadline - Date.now();
  if (ms <= 0) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
