import { createLogger } from '../logger';
import { createClientErrorLog } from '../client-error-log';
import { logSink } from './helpers';

describe('createClientErrorLog', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function setup() {
    const logs = logSink();
    let clock = 1_000_000;
    const log = createClientErrorLog({ logger: createLogger({ level: 'info', service: 'test' }, logs.stream), maxPerInterval: 2, intervalMs: 1_000, now: () => clock });
    return { logs, log, advance: (ms: number) => { clock += ms; jest.advanceTimersByTime(ms); } };
  }
  const msgs = (logs: ReturnType<typeof logSink>) => logs.lines().map((line) => [line.msg, line.suppressed]);

  it('when events exceed the allowance, then the rest are counted and one summary is written when the interval ends, without a further event', () => {
    const { logs, log, advance } = setup();

    for (let i = 0; i < 5; i += 1) log({ code: 'HPE_INVALID_METHOD' });
    const beforeEnd = msgs(logs);
    advance(1_000);

    expect(beforeEnd).toEqual([['Client error', undefined], ['Client error', undefined]]);
    expect(msgs(logs)).toEqual([['Client error', undefined], ['Client error', undefined], ['Client errors suppressed: more than 2 in 1000 ms', 3]]);
  });

  it('when a new interval starts, then the allowance is back, and a quiet interval writes nothing', () => {
    const { logs, log, advance } = setup();

    log({});
    advance(1_500);
    log({});
    log({});
    advance(5_000);

    expect(msgs(logs)).toEqual([['Client error', undefined], ['Client error', undefined], ['Client error', undefined]]);
  });

  it('when flushed with nothing suppressed, then nothing is written', () => {
    const { logs, log } = setup();

    log({});
    log.flush();

    expect(msgs(logs)).toEqual([['Client error', undefined]]);
  });
});
