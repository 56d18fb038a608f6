// Prints one plain closing line totalled over every JUnit file in a folder:
// "N passed, N failed, N skipped". CI reads such a line to know tests ran.
const fs = require('node:fs');
const path = require('node:path');

const dir = process.argv[2] ?? 'reports/junit';
let tests = 0;
let failed = 0;
let skipped = 0;
for (const file of fs.readdirSync(dir).filter((name) => name.endsWith('.xml'))) {
  const root = fs.readFileSync(path.join(dir, file), 'utf8').match(/<testsuites[^>]*>/)?.[0] ?? '';
  const count = (attribute) => Number(root.match(new RegExp(`\\b${attribute}="(\\d+)"`))?.[1] ?? 0);
  tests += count('tests');
  failed += count('failures') + count('errors');
  skipped += count('skipped');
}
if (tests === 0) {
  console.error(`no test results in ${dir}`);
  process.exit(1);
}
console.log(`${tests - failed - skipped} passed, ${failed} failed, ${skipped} skipped`);
