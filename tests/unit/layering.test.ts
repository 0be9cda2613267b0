/** The layering rules of STYLE.md hold because lint enforces them: check that it does. */
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/tmp';

const eslint = new ESLint({ cwd: repoRoot });

async function errors(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  return (r?.messages ?? []).filter((m) => m.severity === 2).map((m) => m.message);
}

describe('layering lint', () => {
  it('keeps Node and main out of the contract', async () => {
    expect(
      await errors('preload/contract/x.ts', "import fs from 'node:fs';\nexport const a = fs;\n"),
    ).toHaveLength(1);
    expect(
      await errors(
        'preload/contract/x.ts',
        "import { composeApp } from '../../main/app/compose';\nexport const a = composeApp;\n",
      ),
    ).toHaveLength(1);
  });

  it('lets the renderer import main only as types', async () => {
    expect(
      await errors(
        'renderer/src/x.ts',
        "import { composeApp } from '../../main/app/compose';\nexport const a = composeApp;\n",
      ),
    ).toHaveLength(1);
    expect(
      await errors(
        'renderer/src/x.ts',
        "import type { OrreryApp } from '../../main/app/compose';\nexport type A = OrreryApp;\n",
      ),
    ).toEqual([]);
  });

  it('allows one door to onnxruntime-node and one owner of better-sqlite3', async () => {
    const ort = "import * as ort from 'onnxruntime-node';\nexport const a = ort;\n";
    const sql = "import Database from 'better-sqlite3';\nexport const a = Database;\n";
    expect(await errors('main/services/x.ts', ort)).toHaveLength(1);
    expect(await errors('main/runtime/onnx.ts', ort)).toEqual([]);
    expect(await errors('main/services/x.ts', sql)).toHaveLength(1);
    expect(await errors('main/db/connection.ts', sql)).toEqual([]);
    expect(
      await errors(
        'main/services/x.ts',
        "import { app } from 'electron';\nexport const a = app;\n",
      ),
    ).toHaveLength(1);
  });
});
