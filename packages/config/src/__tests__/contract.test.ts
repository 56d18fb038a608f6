import { ALB_IDLE_TIMEOUT_SECONDS, DEFAULT_SHUTDOWN_TIMEOUT_MS, HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, configSchema } from '../index';

describe('the service contract', () => {
  it('when the ALB reuses an idle connection, then Node has not closed it yet: keep-alive exceeds the ALB idle timeout', () => {
    expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(ALB_IDLE_TIMEOUT_SECONDS * 1_000);
  });

  it('when a connection idles between requests, then the headers timeout does not fire first: headers exceed keep-alive', () => {
    expect(HEADERS_TIMEOUT_MS).toBeGreaterThan(KEEP_ALIVE_TIMEOUT_MS);
  });

  it('when no SHUTDOWN_TIMEOUT_MS is set, then the default deadline is the contract constant', () => {
    expect(configSchema.parse({}).SHUTDOWN_TIMEOUT_MS).toBe(DEFAULT_SHUTDOWN_TIMEOUT_MS);
  });
});
