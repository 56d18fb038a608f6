import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { findLeftovers } from '../fork-check';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fork-leftovers-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('findLeftovers', () => {
  it('when a template, a bundle file or a file name mentions an old name in any case, then each is reported with its line', () => {
    // Arrange
    mkdirSync(path.join(dir, 'cdk.out'));
    writeFileSync(path.join(dir, 'cdk.out', 'stack.template.json'), '{\n  "Name": "orders-api",\n  "Path": "Upstream-API-staging/Fleet"\n}\n');
    writeFileSync(path.join(dir, 'upstream-notes.txt'), 'nothing here\n');
    writeFileSync(path.join(dir, 'logo.bin'), Buffer.from([0, 1, ...Buffer.from('upstream')]));

    // Act
    const found = findLeftovers(dir, ['upstream', 'upstream-api']);

    // Assert
    expect(found.sort()).toEqual(['cdk.out/stack.template.json:3: "Path": "Upstream-API-staging/Fleet"', 'upstream-notes.txt: (its name)']);
  });

  it('when given a single log file, then it is scanned', () => {
    // Arrange
    const log = path.join(dir, '05-npm-test.log');
    writeFileSync(log, 'PASS\n@upstream/api:test: ok\n');

    // Act
    const found = findLeftovers(log, ['upstream'], dir);

    // Assert
    expect(found).toEqual(['05-npm-test.log:2: @upstream/api:test: ok']);
  });

  it('when nothing mentions the old names, or the folder does not exist, then nothing is reported', () => {
    // Arrange
    writeFileSync(path.join(dir, 'main.js'), 'const service = "orders-api";\n');

    // Assert
    expect(findLeftovers(dir, ['upstream'])).toEqual([]);
    expect(findLeftovers(path.join(dir, 'missing'), ['upstream'])).toEqual([]);
  });
});
