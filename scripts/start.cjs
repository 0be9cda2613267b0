#!/usr/bin/env node
// `npm start`: build, then open the desktop app. Electron's binary is fetched on first start;
// where it is missing and cannot be fetched, say so in one line and serve the same app
// headless instead, printing its URL.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);

function run(cmd, cmdArgs, opts = {}) {
  return spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', ...opts });
}

function electronBinary() {
  const pkgDir = path.dirname(require.resolve('electron/package.json', { paths: [root] }));
  const pathFile = path.join(pkgDir, 'path.txt');
  const binary = () => {
    if (!fs.existsSync(pathFile)) return null;
    const p = path.join(pkgDir, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
    return fs.existsSync(p) ? p : null;
  };
  if (binary()) return { path: binary() };
  // First start: fetch the binary (Electron's own installer), quietly, with a time limit.
  const r = spawnSync(process.execPath, [path.join(pkgDir, 'install.js')], {
    cwd: pkgDir,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '' },
  });
  if (binary()) return { path: binary() };
  const lines = `${r.stderr || ''}${r.stdout || ''}`.split('\n').map((l) => l.trim());
  const why =
    lines.find((l) => /error|fail|ENOTFOUND|EAI_AGAIN|ECONN/i.test(l) && !l.startsWith('at ')) ||
    (r.error && r.error.message) ||
    'download failed';
  return { error: why.slice(0, 160) };
}

const build = run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build', '--silent']);
if (build.status !== 0) process.exit(build.status ?? 1);

const electron = electronBinary();
if (electron.path && !process.env.ORRERY_HEADLESS) {
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  const version = require(require.resolve('electron/package.json', { paths: [root] })).version;
  const sqlite = require('./electron-sqlite.cjs').electronSqlite(root, version);
  if (sqlite.path) env.ORRERY_SQLITE_BINDING = sqlite.path;
  else
    console.log(
      `SQLite could not be built for Electron ${version} (${sqlite.error}); the feature index will report it as unavailable.`,
    );
  const child = spawn(electron.path, ['.', ...args], { cwd: root, stdio: 'inherit', env });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  if (!process.env.ORRERY_HEADLESS) {
    console.log(
      `Electron's binary is missing and could not be fetched (${electron.error}); starting headless mode instead.`,
    );
  }
  const child = spawn(process.execPath, [path.join(root, 'out', 'main', 'server.js'), ...args], {
    cwd: root,
    stdio: 'inherit',
  });
  const forward = (sig) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code) => process.exit(code ?? 0));
}
