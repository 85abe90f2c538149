import { DittoServerClient, FleetReadError } from './client.js';
import { inventoryPage } from './queries.js';

export interface InventoryReadOptions {
  readonly pageSize: number;
  /** Each page's documents, as they arrive; the caller validates and keeps what it needs. */
  readonly onPage: (items: readonly unknown[]) => void | Promise<void>;
  /** Each warning the server attached to an answer. */
  readonly onWarning?: (warning: string) => void;
}

export interface InventoryReadResult {
  readonly pages: number;
  readonly documents: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads every page of `__small_peer_info` by key, until a page comes back empty. A short page is not
 * the end: a server may cap pages below LIMIT, and taking its short page as the last one would serve
 * a truncated inventory as complete (the price is one more request per read). A non-empty page must
 * end with a document whose `_id` is a string never used as a cursor before, or the read fails as
 * malformed: a server that does not page by key cannot make the read loop forever. Throws
 * FleetReadError; a failure part-way means the whole read failed.
 */
export async function readInventory(client: DittoServerClient, options: InventoryReadOptions): Promise<InventoryReadResult> {
  const cursors = new Set<string>();
  let after: string | undefined;
  let pages = 0;
  let documents = 0;
  for (;;) {
    const { statement, args } = inventoryPage(options.pageSize, after);
    const answer = await client.execute(statement, args);
    pages++;
    documents += answer.items.length;
    for (const w of answer.warnings) options.onWarning?.(w);
    await options.onPage(answer.items);
    if (answer.items.length === 0) return { pages, documents };
    const last = answer.items[answer.items.length - 1];
    const id = isRecord(last) ? last['_id'] : undefined;
    if (typeof id !== 'string' || id === '') throw new FleetReadError('malformed', `page ${pages} has documents but its last one has no string _id to page after`);
    if (cursors.has(id) || id === after) throw new FleetReadError('malformed', `page ${pages} did not move past _id ${JSON.stringify(id).slice(0, 80)}: the server does not page by key`);
    cursors.add(id);
    after = id;
  }
}
