import { DEFAULT_TIMEOUT_SECONDS, MarkerError, parseSteps } from '../markers';

const fence = (lang: string, body: string) => `\`\`\`${lang}\n${body}\n\`\`\``;

describe('parseSteps: runnable blocks', () => {
  it('when a sh block follows <!-- run -->, then it is a run step with its command, line and defaults', () => {
    const md = ['# Module', '', '<!-- run -->', fence('sh', 'npm ci\nnpm test'), ''].join('\n');

    const steps = parseSteps(md, 'm.md');

    expect(steps).toEqual([{ kind: 'run', line: 4, command: 'npm ci\nnpm test\n', timeoutSeconds: DEFAULT_TIMEOUT_SECONDS, expectExit: 0 }]);
  });

  it('when blocks carry no marker, then they are never steps (output examples, AWS commands)', () => {
    const md = [fence('sh', 'npx cdk deploy --all'), '', fence('text', 'Serving ...'), '', '<!-- a plain comment -->', fence('sh', 'rm -rf /')].join('\n');

    const steps = parseSteps(md, 'm.md');

    expect(steps).toEqual([]);
  });

  it('when the marker has timeout and expect-exit, then the step carries them', () => {
    const md = ['<!-- run: expect-exit=1 timeout=600 -->', fence('bash', 'npm run rehearse')].join('\n');

    const [step] = parseSteps(md, 'm.md');

    expect(step).toMatchObject({ kind: 'run', timeoutSeconds: 600, expectExit: 1 });
  });

  it('when the marker says background with a name and a ready URL, then it is a background step', () => {
    const md = ['<!-- run: background name=api ready=http://127.0.0.1:3000/health timeout=120 -->', fence('sh', 'npm start')].join('\n');

    const [step] = parseSteps(md, 'm.md');

    expect(step).toEqual({ kind: 'background', line: 2, command: 'npm start\n', name: 'api', ready: 'http://127.0.0.1:3000/health', timeoutSeconds: 120 });
  });

  it('when background blocks have no name, then each gets its own', () => {
    const md = ['<!-- run: background -->', fence('sh', 'a'), '<!-- run: background -->', fence('sh', 'b')].join('\n');

    const steps = parseSteps(md, 'm.md');

    expect(steps.map((s) => (s.kind === 'background' ? s.name : s.kind))).toEqual(['background-1', 'background-2']);
  });

  it('when a stop marker stands alone, then it is a stop step with its names (none: all)', () => {
    const md = ['<!-- run: stop api watch -->', '', 'Press Ctrl-C.', '', '<!-- run: stop -->'].join('\n');

    const steps = parseSteps(md, 'm.md');

    expect(steps).toEqual([
      { kind: 'stop', line: 1, names: ['api', 'watch'] },
      { kind: 'stop', line: 5, names: [] },
    ]);
  });

  it('when markers sit inside a list item, then the indented block is still found', () => {
    const md = ['1. Install:', '', '   <!-- run -->', '   ```sh', '   npm ci', '   ```'].join('\n');

    const steps = parseSteps(md, 'm.md');

    expect(steps).toMatchObject([{ kind: 'run', command: 'npm ci\n' }]);
  });
});

describe('parseSteps: output blocks', () => {
  it('when <!-- output --> follows a runnable block (text between allowed), then its lines belong to that block', () => {
    const md = ['<!-- run -->', fence('sh', 'curl localhost:3000/health'), '', 'You should see:', '', '<!-- output -->', fence('text', '{"status":"ok",…}\n')].join('\n');

    const [step] = parseSteps(md, 'm.md');

    expect(step).toMatchObject({ kind: 'run', output: { line: 9, lines: ['{"status":"ok",…}', '', ''] } });
  });

  it('when an output block has no runnable block before it, then parsing fails naming file and line', () => {
    const md = ['# M', '', '<!-- output -->', fence('text', 'x')].join('\n');

    expect(() => parseSteps(md, 'docs/m.md')).toThrow(
      new MarkerError('docs/m.md', 3, '<!-- output --> must follow a runnable block (<!-- run --> or <!-- run: background -->) or a stop of one name'),
    );
  });

  it('when <!-- output --> follows a stop of one name, then it belongs to the stop (what the process printed on its way out)', () => {
    const md = ['<!-- run: background name=api -->', fence('sh', 'npm start'), '<!-- run: stop api -->', '', '<!-- output -->', fence('text', 'Shutdown complete')].join('\n');

    const steps = parseSteps(md, 'm.md');

    expect(steps[1]).toEqual({ kind: 'stop', line: 5, names: ['api'], output: { line: 8, lines: ['Shutdown complete', ''] } });
  });

  it('when <!-- output --> follows a stop of every background block, then parsing fails (whose output would it be?)', () => {
    const md = ['<!-- run: background name=api -->', fence('sh', 'npm start'), '<!-- run: stop -->', '<!-- output -->', fence('text', 'x')].join('\n');

    expect(() => parseSteps(md, 'm.md')).toThrow(/or a stop of one name/);
  });

  it('when a block gets two output blocks, then parsing fails', () => {
    const md = ['<!-- run -->', fence('sh', 'echo'), '<!-- output -->', fence('text', 'a'), '<!-- output -->', fence('text', 'b')].join('\n');

    expect(() => parseSteps(md, 'm.md')).toThrow(/already has an output block/);
  });
});

describe('parseSteps: mistakes are errors, never silently skipped steps', () => {
  it.each([
    ['an unknown option', '<!-- run: timout=5 -->', /unknown option "timout"/],
    ['an unknown word', '<!-- run: backgrund -->', /unknown word "backgrund"/],
    ['a bad timeout', '<!-- run: timeout=5m -->', /timeout must be a whole number/],
    ['a bad exit code', '<!-- run: expect-exit=-1 -->', /expect-exit must be a whole number/],
    ['a ready that is not a URL', '<!-- run: background ready=localhost:3000 -->', /ready must be an http\(s\) URL/],
    ['a ready on a run step', '<!-- run: ready=http://x/ -->', /unknown option "ready" for run/],
    ['a marker missing its closing', '<!-- run', /malformed marker/],
  ])('when the marker has %s, then parsing fails naming the line', (_what, marker, message) => {
    const md = ['# M', '', marker, fence('sh', 'echo')].join('\n');

    expect(() => parseSteps(md, 'm.md')).toThrow(message);
  });

  it('when a run marker is followed by a non-shell block, then parsing fails', () => {
    const md = ['<!-- run -->', fence('text', 'echo')].join('\n');

    expect(() => parseSteps(md, 'm.md')).toThrow('m.md:1: a run marker must come right before a fenced ```sh block');
  });

  it('when a run marker is followed by prose, then parsing fails', () => {
    const md = ['<!-- run -->', '', 'Now run:', '', fence('sh', 'echo')].join('\n');

    expect(() => parseSteps(md, 'm.md')).toThrow(/must come right before a fenced/);
  });
});
