/**
 * Test helper: every TCP socket a process is listening on, read from Linux's /proc (the process's
 * socket inodes from /proc/<pid>/fd, matched against /proc/<pid>/net/tcp and tcp6). It sees every
 * listener, whichever library opened it, which a server's own address() cannot promise.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface Listener {
  family: 4 | 6;
  address: string;
  port: number;
}

/** /proc is Linux's; elsewhere the listener checks cannot run. */
export const canListListeners = process.platform === 'linux';

const LISTEN = '0A';

function socketInodes(pid: number | 'self'): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed between readdir and readlink
    }
  }
  return inodes;
}

/** `0100007F` (little-endian words, as the kernel prints them) → `127.0.0.1`; 32 hex digits → IPv6. */
function decodeAddress(hex: string): string {
  const bytes = hex.match(/.{8}/g)!.flatMap((w) =>
    w
      .match(/../g)!
      .reverse()
      .map((b) => parseInt(b, 16)),
  );
  if (bytes.length === 4) return bytes.join('.');
  const v4mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (v4mapped) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

export function listeners(pid: number | 'self' = 'self'): Listener[] {
  const inodes = socketInodes(pid);
  const out: Listener[] = [];
  for (const [file, family] of [
    ['tcp', 4],
    ['tcp6', 6],
  ] as const) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue; // no IPv6 in this kernel
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const [local, , state] = [f[1]!, f[2]!, f[3]!];
      if (state !== LISTEN || !inodes.has(f[9]!)) continue;
      const [addr, port] = local.split(':');
      out.push({ family, address: decodeAddress(addr!), port: parseInt(port!, 16) });
    }
  }
  return out;
}

export function isLoopback(l: Listener): boolean {
  return /^127\./.test(l.address) || l.address === '::1' || /^::ffff:127\./.test(l.address);
}
