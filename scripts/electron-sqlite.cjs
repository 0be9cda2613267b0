// better-sqlite3 is a native addon built for Node's ABI by `npm ci`; Electron's ABI differs.
// Before the desktop app starts, build a second copy of the addon against Electron's headers
// (once per Electron version) and hand its path to the app in ORRERY_SQLITE_BINDING, so the
// same install keeps serving Node (tests, headless mode) and Electron alike.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

function nodeGyp() {
  const npmDir = path.dirname(
    path.dirname(
      require.resolve('npm/package.json', {
        paths: [
          path.dirname(process.execPath),
          path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules'),
        ],
      }),
    ),
  );
  return path.join(npmDir, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}

/** Returns the path of better-sqlite3 built for this Electron version, building it if needed. */
function electronSqlite(root, electronVersion) {
  const out = path.join(
    root,
    'node_modules',
    '.orrery-electron',
    `better_sqlite3-electron-${electronVersion}.node`,
  );
  if (fs.existsSync(out)) return { path: out };
  const src = path.dirname(require.resolve('better-sqlite3/package.json', { paths: [root] }));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'orrery-sqlite-'));
  try {
    fs.cpSync(src, work, {
      recursive: true,
      filter: (p) => !p.includes(`${path.sep}build${path.sep}`),
    });
    const r = spawnSync(
      process.execPath,
      [
        nodeGyp(),
        'rebuild',
        '--release',
        `--target=${electronVersion}`,
        '--dist-url=https://electronjs.org/headers',
      ],
      {
        cwd: work,
        encoding: 'utf8',
        timeout: 600_000,
      },
    );
    const built = path.join(work, 'build', 'Release', 'better_sqlite3.node');
    if (r.status !== 0 || !fs.existsSync(built)) {
      const lines = `${r.stderr || ''}`.split('\n');
      const why =
        lines.find((l) => /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|fetch failed|stack Error/.test(l)) ||
        lines.filter((l) => /ERR!/.test(l))[0] ||
        'node-gyp failed';
      return { error: why.trim().slice(0, 200) };
    }
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.copyFileSync(built, out);
    return { path: out };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { electronSqlite };
