// Progress of `npm run drills`: each drill is minutes long, and jest's own
// reporter says nothing until a whole file is done (on a terminal, only which
// file runs). One plain line when a drill starts and one when it ends, with
// its time, on stderr: readable on a terminal and in CI's log alike.
const path = require('node:path');

class DrillProgressReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    this.started = Date.now();
  }

  onTestCaseStart(test, info) {
    this.say(`▸ ${path.relative(this.rootDir, test.path)}: ${info.fullName}`);
  }

  onTestCaseResult(_test, result) {
    const mark = result.status === 'passed' ? '✓' : result.status === 'failed' ? '✗' : '-';
    const took = result.duration == null ? result.status : `${result.status} in ${(result.duration / 1000).toFixed(1)} s`;
    this.say(`${mark} ${result.fullName}: ${took} (${Math.round((Date.now() - this.started) / 1000)} s since the drills started)`);
  }

  say(line) {
    process.stderr.write(`[drills] ${line}\n`);
  }
}

module.exports = DrillProgressReporter;
