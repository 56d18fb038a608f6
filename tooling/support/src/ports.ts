import net from 'node:net';

/**
 * `count` distinct ports free on 127.0.0.1 right now: each is bound (port 0,
 * the kernel picks) and all are held together before any is released, so no
 * two are the same. Another process may still take one before the caller
 * binds it; on a machine shared by parallel runs that is rare, not impossible.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      servers.push(server);
    }
    return servers.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** One port free on 127.0.0.1 right now (see freePorts). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}
