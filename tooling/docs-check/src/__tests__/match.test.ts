import { lineMatches, matchOutput, outputLines } from '../match';

describe('lineMatches', () => {
  it('when the line is the same, then it matches', () => {
    expect(lineMatches('{"greeting":"Hello, Ada!"}', '{"greeting":"Hello, Ada!"}')).toBe(true);
  });

  it('when … stands for the variable parts, then any text there matches, including none', () => {
    const pattern = '[rehearse] deployment d-… succeeded in … s (total …)';

    expect(lineMatches(pattern, '[rehearse] deployment d-AB12CD34E succeeded in 12.3 s (total 3 min 2 s)')).toBe(true);
    expect(lineMatches('v…', 'v')).toBe(true);
  });

  it('when only part of the line is documented without …, then it does not match (whole lines only)', () => {
    expect(lineMatches('Hello', '{"greeting":"Hello, Ada!"}')).toBe(false);
  });

  it('when the documented line has three ASCII dots or regex characters, then they are literal', () => {
    expect(lineMatches('install ... SUCCEEDED (…)', 'install ... SUCCEEDED (4.2 s)')).toBe(true);
    expect(lineMatches('install ... SUCCEEDED (…)', 'install xyz SUCCEEDED (4.2 s)')).toBe(false);
    expect(lineMatches('a.*b [x]', 'a.*b [x]')).toBe(true);
    expect(lineMatches('a.*b', 'aXXb')).toBe(false);
  });

  it('when indentation differs, then it still matches (leading and trailing spaces are ignored)', () => {
    expect(lineMatches('  PASS src/a.test.ts', 'PASS src/a.test.ts   ')).toBe(true);
  });
});

describe('outputLines', () => {
  it('when the output has colour codes and carriage-return progress, then only the visible text is kept', () => {
    const raw = '\u001b[32mPASS\u001b[39m a.test.ts\n10%\r50%\rdone\r\n';

    expect(outputLines(raw)).toEqual(['PASS a.test.ts', 'done', '']);
  });
});

describe('matchOutput', () => {
  const real = ['npm warn something', 'build started', 'install ... SUCCEEDED (40.1 s)', 'noise', 'build ... SUCCEEDED (90.0 s)', 'Serving http://127.0.0.1:8080 from slot blue, commit 3f2c1e0'].join('\n');

  it('when documented lines appear in order with real lines skipped between, then it passes', () => {
    const result = matchOutput(['install ... SUCCEEDED (…)', '', 'build ... SUCCEEDED (…)', 'Serving http://127.0.0.1:8080 from slot blue, commit …'], real);

    expect(result).toEqual({ ok: true });
  });

  it('when documented lines appear in another order, then it fails naming the first line not found after the previous match', () => {
    const result = matchOutput(['build ... SUCCEEDED (…)', 'install ... SUCCEEDED (…)'], real);

    expect(result).toEqual({ ok: false, missing: 'install ... SUCCEEDED (…)', index: 1 });
  });

  it('when a documented line is not in the output at all, then it fails naming it', () => {
    const result = matchOutput(['build started', 'Serving http://127.0.0.1:8080 from slot green, commit …'], real);

    expect(result).toEqual({ ok: false, missing: 'Serving http://127.0.0.1:8080 from slot green, commit …', index: 1 });
  });

  it('when the same documented line appears twice, then the output needs it twice', () => {
    expect(matchOutput(['noise', 'noise'], real)).toMatchObject({ ok: false, index: 1 });
    expect(matchOutput(['noise', 'noise'], `${real}\nnoise`)).toEqual({ ok: true });
  });
});
