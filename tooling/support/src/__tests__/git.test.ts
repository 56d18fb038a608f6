import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { git } from '../git';
import { scratch } from './helpers';

const newDir = scratch('git');
let repo: string;

beforeEach(() => {
  repo = newDir();
});

describe('git', () => {
  it('when committing with an author, then the commit carries it whatever the user config says, and stdout comes back', () => {
    git(repo, ['init', '--quiet']);
    writeFileSync(path.join(repo, 'a.txt'), 'a\n');
    git(repo, ['add', '--all']);
    git(repo, ['commit', '--quiet', '-m', 'first'], { author: 'fixture', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' } });

    expect(git(repo, ['log', '-1', '--format=%an <%ae> %s'])).toBe('fixture <fixture@localhost> first\n');
  });

  it('when git fails, then it throws with git’s own message', () => {
    expect(() => git(repo, ['rev-parse', '--verify', 'HEAD'])).toThrow(/Needed a single revision|unknown revision|not a git repository/);
  });
});
