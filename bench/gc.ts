/** A full collection, twice (the first can leave finalizable objects for the second). Needs --expose-gc. */
export function forceGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the bench needs node --expose-gc (npm run bench passes it)');
  gc();
  gc();
}

/**
 * Lets the event loop turn, then collects: V8 keeps some garbage reachable (the last awaited
 * results) until the current job ends, so a collection straight after a scrape would count its body.
 */
export async function settledGc(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 10));
  forceGc();
}
