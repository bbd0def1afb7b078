// Every module of the dashboard parses: a syntax error in a view otherwise shows only in the
// integration test in a browser ("Unexpected token"), minutes later. Node checks each file as
// an ES module without running it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const webRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'web');

function modules(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return modules(path);
    return name.endsWith('.js') ? [path] : [];
  });
}

test('every dashboard module parses', () => {
  const files = modules(join(webRoot, 'js'));
  assert.ok(files.length > 5, `found the dashboard's modules under ${webRoot}`);
  for (const file of files) {
    const check = spawnSync(process.execPath, ['--check', '--input-type=module'],
      { input: readFileSync(file), encoding: 'utf8' });
    assert.equal(check.status, 0, `${relative(webRoot, file)}: ${check.stderr}`);
  }
});
