import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from '@conveyor/config';

import { DEREGISTRATION_DELAY } from '..';

describe('DEREGISTRATION_DELAY', () => {
  it("when derived from the service's shutdown timeout, then it is that timeout rounded up plus 5 seconds", () => {
    // Assert
    expect(DEFAULT_SHUTDOWN_TIMEOUT_MS).toBe(10_000);
    expect(DEREGISTRATION_DELAY.toSeconds()).toBe(15);
  });
});
