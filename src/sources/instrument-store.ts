import type { Ditto } from '@dittolive/ditto';

export interface InstrumentStoreOptions {
  /** Told about a failing onCommit (the application's write is unaffected either way). */
  readonly onError?: (error: unknown) => void;
}

type Execute = Ditto['store']['execute'];

/**
 * Wraps `ditto.store.execute` so every mutation's `commitID` (a bigint; null for SELECT) is
 * reported with when it resolved (unix seconds). The application gets the very promise the SDK
 * returned, so its result and its rejection pass through untouched; onCommit runs before the
 * application's own continuation but can never break the write.
 *
 * Returns a function that restores the original. If something wrapped `execute` after us, the
 * restore only turns our wrapper into a pass-through, so the other wrapper keeps working.
 * Writes inside `ditto.store.transaction()` are not seen.
 */
export function instrumentStore(
  ditto: Ditto,
  onCommit: (id: bigint, at: number) => void,
  options: InstrumentStoreOptions = {},
): () => void {
  const store = ditto.store;
  const hadOwn = Object.prototype.hasOwnProperty.call(store, 'execute');
  const original = store.execute;
  let active = true;

  const report = (result: unknown) => {
    if (!active) return;
    try {
      const id = (result as { commitID?: unknown } | null | undefined)?.commitID;
      if (typeof id === 'bigint') onCommit(id, Date.now() / 1000);
    } catch (error) {
      try {
        options.onError?.(error);
      } catch {
        // Nothing more to do: the write itself already succeeded.
      }
    }
  };

  const instrumented = function (this: unknown, ...args: Parameters<Execute>) {
    const pending = original.apply(store, args);
    // A side branch: the application's promise is returned as is, and this branch swallows its
    // own rejection so an app that handles the error never sees an unhandled one from us.
    if (active && pending && typeof pending.then === 'function') pending.then(report, () => undefined);
    return pending;
  } as Execute;

  store.execute = instrumented;

  return () => {
    if (!active) return;
    active = false;
    if (store.execute !== instrumented) return;
    if (hadOwn) store.execute = original;
    else delete (store as { execute?: Execute }).execute;
  };
}
