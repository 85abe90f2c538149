/** The DQL the fleet source sends to the Ditto Server. */

export const INVENTORY_COLLECTION = '__small_peer_info';

/**
 * One page of the inventory, keyed by `_id` (no OFFSET, so no request grows with the fleet):
 * the first page without a cursor, every later one after the last `_id` of the page before.
 */
export function inventoryPage(pageSize: number, after: string | undefined): { statement: string; args?: Record<string, unknown> } {
  if (!Number.isSafeInteger(pageSize) || pageSize <= 0) throw new RangeError(`page size must be a positive integer, got ${pageSize}`);
  if (after === undefined) return { statement: `SELECT * FROM ${INVENTORY_COLLECTION} ORDER BY _id LIMIT ${pageSize}` };
  return { statement: `SELECT * FROM ${INVENTORY_COLLECTION} WHERE _id > :after ORDER BY _id LIMIT ${pageSize}`, args: { after } };
}

/**
 * Peer keys that can be written into a SYNC CONTEXT condition as a quoted literal. Ditto peer keys
 * are base64url-like (`pkAocCgk…-8YTPhh9asa8`); anything with a quote or a backslash is never sent.
 */
export const SAFE_PEER_KEY = /^[A-Za-z0-9_\-+/=.:]{1,512}$/;

/**
 * `SELECT * FROM system:data_sync_info` on the listed peers, for remote execute. The SYNC CONTEXT
 * form is the one the ditto CLI documents (`SYNC CONTEXT ( PEERS WHERE peerKeyString = '<key>' )`);
 * several peers are joined with OR. Not in Ditto's public reference.
 */
export function liveSessions(peerKeys: readonly string[]): string {
  if (peerKeys.length === 0) throw new RangeError('live sessions need at least one peer key');
  for (const key of peerKeys) if (!SAFE_PEER_KEY.test(key)) throw new RangeError(`peer key cannot be quoted safely: ${JSON.stringify(key).slice(0, 80)}`);
  const condition = peerKeys.map((key) => `peerKeyString = '${key}'`).join(' OR ');
  return `SYNC CONTEXT ( PEERS WHERE ${condition} ) SELECT * FROM system:data_sync_info`;
}
