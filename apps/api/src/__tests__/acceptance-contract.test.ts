// The acceptance check that runs after every deployment asks the service for
// what the contract declares (health path, example route, security headers,
// the JSON 404). Run against the real app, it proves they agree: a fork that
// replaces the example route without updating ACCEPTANCE_ROUTE fails here,
// not in its pipeline after a deployment.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { runAcceptance } from '@conveyor/acceptance';
import { HEALTH_PATH } from '@conveyor/config';

import { buildTestApp } from './helpers';

describe('the acceptance check against the service', () => {
  it('when the app serves its declared routes, then every acceptance check passes against it', async () => {
    const { app } = buildTestApp({ healthPath: HEALTH_PATH, buildInfo: { version: '1.2.3', commit: 'abc1234def', builtAt: undefined } });
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

    try {
      const result = await runAcceptance({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, commit: 'abc1234def' });

      expect(result.checks.filter((check) => !check.passed)).toEqual([]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
