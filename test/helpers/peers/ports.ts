// Loopback ports for the peers: finding free ones, and telling when a peer listens on one (from
// /proc/net, so no probe connection reaches the peer).
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { PeerError, type Transport } from './common.js';

/** A loopback port that was free for both TCP and UDP a moment ago (from the ephemeral range). */
export async function freeLoopbackPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const srv = createServer();
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const port = (srv.address() as { port: number }).port;
    const udp = createSocket('udp4');
    const udpFree = await new Promise<boolean>((r) => {
      udp.once('error', () => r(false));
      udp.bind(port, '127.0.0.1', () => r(true));
    });
    if (udpFree) await new Promise<void>((r) => udp.close(() => r()));
    else udp.close();
    srv.close();
    await once(srv, 'close');
    if (udpFree) return port;
  }
  throw new PeerError('PEER_NOT_READY', 'no loopback port free for both TCP and UDP after 50 tries');
}

/** `n` ports from freeLoopbackPort, found one after another. */
export async function freeLoopbackPorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await freeLoopbackPort());
  return ports;
}

/** True when some socket of this host listens on (TCP) or is bound to (UDP) `port` on 127.0.0.1 or any address. */
export async function isListening(transport: Transport, port: number): Promise<boolean> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const wanted = new Set([`0100007F:${hexPort}`, `00000000:${hexPort}`]);
  const state = transport === 'tcp' ? '0A' : '07'; // TCP_LISTEN, TCP_CLOSE (an unconnected UDP socket)
  for (const file of transport === 'tcp' ? ['/proc/net/tcp', '/proc/net/tcp6'] : ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = await readFile(file, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (local === undefined || cols[3] !== state) continue;
      if (wanted.has(local) || local.endsWith(`00000000000000000000000000000000:${hexPort}`)) return true;
    }
  }
  return false;
}
