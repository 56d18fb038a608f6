import { AppSpecError, parseAppSpec } from '../appspec';

const valid = `
version: 0.0
os: linux
files:
  - source: /
    destination: /opt/app
file_exists_behavior: OVERWRITE
permissions:
  - object: /opt/app
    owner: app
hooks:
  ApplicationStart:
    - location: scripts/start.sh
      timeout: 60
      runas: app
`;

describe('parseAppSpec', () => {
  it('when the file is valid, then files, behaviour, permissions and hooks are read', () => {
    const spec = parseAppSpec(valid);

    expect(spec.files).toEqual([{ source: '/', destination: '/opt/app' }]);
    expect(spec.fileExistsBehavior).toBe('OVERWRITE');
    expect(spec.permissions).toEqual([{ object: '/opt/app', owner: 'app' }]);
    expect(spec.hooks.ApplicationStart).toEqual([{ location: 'scripts/start.sh', timeoutSeconds: 60, runas: 'app' }]);
  });

  it('when file_exists_behavior is absent, then it is CodeDeploy\'s default, DISALLOW', () => {
    expect(parseAppSpec(valid.replace('file_exists_behavior: OVERWRITE\n', '')).fileExistsBehavior).toBe('DISALLOW');
  });

  it.each([
    ['a wrong version', valid.replace('version: 0.0', 'version: 1'), 'version must be 0.0 (line 2)'],
    ['a Windows os', valid.replace('os: linux', 'os: windows'), 'os must be linux'],
    ['an unknown event', valid.replace('ApplicationStart:', 'AppStart:'), 'hooks.AppStart is not a lifecycle event that runs scripts'],
    ['an agent-only event', valid.replace('ApplicationStart:', 'Install:'), 'hooks.Install is not a lifecycle event'],
    ['a relative destination', valid.replace('destination: /opt/app', 'destination: opt/app'), 'files[0].destination must be an absolute path (line 6)'],
    ['timeouts over 3600 s', valid.replace('timeout: 60', 'timeout: 3601'), 'over CodeDeploy\'s 3600 s per event'],
    ['a script without location', valid.replace('location: scripts/start.sh', 'path: x'), 'hooks.ApplicationStart[0].location is required (line 13)'],
  ])('when it has %s, then it is rejected naming the key', (_case, text, message) => {
    expect(() => parseAppSpec(text)).toThrow(AppSpecError);
    expect(() => parseAppSpec(text)).toThrow(message);
  });
});
