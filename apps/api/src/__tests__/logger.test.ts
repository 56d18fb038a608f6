import { batchedDestination } from '../logger';

function recorder(): { writes: string[]; target: { write(text: string): void } } {
  const writes: string[] = [];
  return { writes, target: { write: (text: string) => writes.push(text) } };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('batchedDestination', () => {
  it('when lines are logged in one turn of the event loop, then they are written together, in order, at the end of the turn', async () => {
    const { writes, target } = recorder();
    const destination = batchedDestination(target);

    destination.write('{"n":1}\n');
    destination.write('{"n":2}\n');
    expect(writes).toEqual([]);
    await nextTurn();
    destination.write('{"n":3}\n');
    await nextTurn();

    expect(writes).toEqual(['{"n":1}\n{"n":2}\n', '{"n":3}\n']);
  });

  it('when a turn logs more than the batch limit, then the batch is written at once', () => {
    const { writes, target } = recorder();
    const destination = batchedDestination(target);
    const line = `${'x'.repeat(1023)}\n`;

    for (let i = 0; i < 64; i += 1) destination.write(line);

    expect(writes).toEqual([line.repeat(64)]);
  });

  it('when flushSync is called, then what is buffered is written before it returns', () => {
    const { writes, target } = recorder();
    const destination = batchedDestination(target);

    destination.write('{"msg":"last words"}\n');
    destination.flushSync();

    expect(writes).toEqual(['{"msg":"last words"}\n']);
  });
});
