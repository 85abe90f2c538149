/**
 * Who listens on a loopback TCP port: this process, another one, or nobody. Linux only (from
 * /proc); elsewhere the answer is `unknown`. Used after Ditto.open to make sure the engine port
 * is Ditto's own (the port was free when chosen, but another process could have taken it first,
 * and the exporter would then be reading someone else's metrics).
 */
import { readdir, readFile, readlink } from 'node:fs/promises';

export type PortOwner = 'self' | 'other' | 'none' | 'unknown';

/** /proc/net/tcp writes an IPv4 address as one little-endian 32-bit word in hex. */
function ipv4Hex(host: string): string {
  return host
    .split('.')
    .map((octet) => Number(octet).toString(16).padStart(2, '0'))
    .reverse()
    .join('')
    .toUpperCase();
}

/** ::1 as /proc/net/tcp6 writes it (four little-endian words). */
const IPV6_LOOPBACK_HEX = '00000000000000000000000001000000';

const LISTEN = '0A';

/**
 * Inodes of sockets that would take a connection to `host:port` (host 127.x.x.x or [::1]): those
 * listening on exactly that address, and those on the wildcard address of either family.
 */
async function listeningInodes(host: string, port: number): Promise<string[] | undefined> {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const wanted = new Set([`${host.startsWith('[') ? IPV6_LOOPBACK_HEX : ipv4Hex(host)}:${portHex}`, `00000000:${portHex}`, `${'0'.repeat(32)}:${portHex}`]);
  const inodes: string[] = [];
  let readable = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table: string;
    try {
      table = await readFile(file, 'utf8');
      readable = true;
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[1] !== undefined && wanted.has(fields[1]) && fields[3] === LISTEN && fields[9]) inodes.push(fields[9]);
    }
  }
  return readable ? inodes : undefined;
}

/** Whether this process (or `pid`) holds every one of these socket inodes. */
async function holdsSocket(inodes: readonly string[], pid: number | 'self'): Promise<boolean | undefined> {
  const dir = `/proc/${pid}/fd`;
  let fds: string[];
  try {
    fds = await readdir(dir);
  } catch {
    return undefined;
  }
  const missing = new Set(inodes.map((inode) => `socket:[${inode}]`));
  for (const fd of fds) {
    try {
      missing.delete(await readlink(`${dir}/${fd}`));
    } catch {
      // The descriptor closed while we looked.
    }
  }
  return missing.size === 0;
}

/**
 * Who would answer a connection to `host:port` (loopback only), as seen from /proc: `self` when
 * every listener that could take it is this process's, `other` when any is not, `none` when there
 * is none; `unknown` where /proc is not there.
 */
export async function portOwner(host: string, port: number, pid: number | 'self' = 'self'): Promise<PortOwner> {
  const inodes = await listeningInodes(host, port);
  if (inodes === undefined) return 'unknown';
  if (inodes.length === 0) return 'none';
  const held = await holdsSocket(inodes, pid);
  if (held === undefined) return 'unknown';
  return held ? 'self' : 'other';
}

/** Every TCP address `pid` listens on, as `host:port` (Linux; undefined without /proc). For tests and diagnostics. */
export async function listeningAddresses(pid: number | 'self' = 'self'): Promise<string[] | undefined> {
  const out: string[] = [];
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  const mine = new Set<string>();
  for (const fd of fds) {
    try {
      const link = await readlink(`/proc/${pid}/fd/${fd}`);
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m) mine.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  for (const [file, v6] of [['/proc/net/tcp', false], ['/proc/net/tcp6', true]] as const) {
    let table: string;
    try {
      table = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] !== LISTEN || !fields[9] || !mine.has(fields[9])) continue;
      const [hex, portHex] = fields[1]!.split(':') as [string, string];
      out.push(`${v6 ? ipv6Text(hex) : ipv4Text(hex)}:${parseInt(portHex, 16)}`);
    }
  }
  return out;
}

function ipv4Text(hex: string): string {
  const octets: number[] = [];
  for (let i = 6; i >= 0; i -= 2) octets.push(parseInt(hex.slice(i, i + 2), 16));
  return octets.join('.');
}

function ipv6Text(hex: string): string {
  // Four little-endian 32-bit words; written out as eight groups, then compressed by the URL parser.
  const groups: string[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    const bytes = [6, 4, 2, 0].map((i) => word.slice(i, i + 2));
    groups.push(bytes[0]! + bytes[1]!, bytes[2]! + bytes[3]!);
  }
  return new URL(`http://[${groups.join(':')}]/`).hostname;
}
