import net from 'node:net';

import { freePort, freePorts } from '../ports';

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('freePorts', () => {
  it('when asked for several ports, then they are distinct and each can be bound on 127.0.0.1', async () => {
    const ports = await freePorts(5);

    expect(new Set(ports).size).toBe(5);
    for (const port of ports) expect(await canBind(port)).toBe(true);
  });

  it('when a port is held by another server, then freePort never returns it', async () => {
    const held = net.createServer();
    const heldPort = await new Promise<number>((resolve) => held.listen(0, '127.0.0.1', () => resolve((held.address() as net.AddressInfo).port)));
    try {
      const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));

      expect(ports).not.toContain(heldPort);
      for (const port of ports) expect(await canBind(port)).toBe(true);
    } finally {
      held.close();
    }
  });
});
