import { createHash } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decoderFeeds } from '../../../main/onnx/decoderFeeds';
import { rewiredModelFile } from '../../../main/onnx/graphCache';
import { OnnxSession } from '../../../main/runtime/onnx';
import { concat } from '../../../main/runtime/protobuf';
import { decoderChunks } from '../../support/decoderGraph';
import { cleanupTmp, tmpDir } from '../../support/tmp';

afterAll(cleanupTmp);

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

async function userModel(): Promise<{ dir: string; model: string; data: string }> {
  const dir = tmpDir('orrery-hf-');
  const spec = {
    style: 'gpt2',
    layers: 2,
    dModel: 8,
    vocab: 11,
    context: 16,
    external: 'model.onnx_data',
  } as const;
  const { model, data } = decoderChunks(spec);
  await writeFile(path.join(dir, 'model.onnx'), concat(model));
  await writeFile(path.join(dir, 'model.onnx_data'), concat(data ?? []));
  return { dir, model: path.join(dir, 'model.onnx'), data: path.join(dir, 'model.onnx_data') };
}

describe('the rewired model cache', () => {
  it('writes the rewired model once, beside links to its external data, and never touches the original', async () => {
    const user = await userModel();
    const before = {
      model: sha(user.model),
      data: sha(user.data),
      mtime: statSync(user.model).mtimeMs,
    };
    const cache = tmpDir('orrery-cache-');
    const options = {
      expose: ['blocks.1.hook_resid_post', 'blocks.0.hook_resid_mid'],
      steer: ['blocks.0.hook_resid_mid'],
    };
    const first = await rewiredModelFile(user.model, options, cache);
    expect(first.cached).toBe(false);
    expect(path.dirname(path.dirname(first.file))).toBe(path.join(cache, 'graphs'));
    expect(first.hooks.nLayers).toBe(2);
    // Same content, options in another order: a hit on the same file.
    const again = await rewiredModelFile(
      user.model,
      { expose: [...options.expose].reverse(), steer: options.steer },
      cache,
    );
    expect(again).toMatchObject({ file: first.file, cached: true });
    expect([...again.hooks.hooks]).toEqual([...first.hooks.hooks]);
    // The same graph bytes elsewhere with their own external data: an entry linking that data.
    const copy = await userModel();
    const copied = await rewiredModelFile(copy.model, options, cache);
    expect(copied.cached).toBe(false);
    expect(statSync(path.join(path.dirname(copied.file), 'model.onnx_data')).ino).toBe(
      statSync(copy.data).ino,
    );
    // Other options: another entry.
    const other = await rewiredModelFile(user.model, { expose: [], steer: [] }, cache);
    expect(other.cached).toBe(false);
    expect(other.file).not.toBe(first.file);

    const linked = path.join(path.dirname(first.file), 'model.onnx_data');
    expect(statSync(linked).ino).toBe(statSync(user.data).ino);
    const session = await OnnxSession.create(first.file);
    const out = await session.run(decoderFeeds(session.inputs, [1, 2], null));
    await session.release();
    expect(out['blocks.1.hook_resid_post']?.dims).toEqual([1, 2, 8]);
    expect({
      model: sha(user.model),
      data: sha(user.data),
      mtime: statSync(user.model).mtimeMs,
    }).toEqual(before);
  });

  it('finds a copy of a model with inline weights by its content', async () => {
    const spec = { style: 'llama', layers: 2, dModel: 8, vocab: 11, context: 16 } as const;
    const [a, b] = [tmpDir('orrery-hf-'), tmpDir('orrery-hf-')].map((d) =>
      path.join(d, 'model.onnx'),
    );
    for (const f of [a, b]) await writeFile(f as string, concat(decoderChunks(spec).model));
    const cache = tmpDir('orrery-cache-');
    const options = { expose: ['blocks.1.hook_resid_mid'], steer: ['blocks.0.hook_resid_pre'] };
    const first = await rewiredModelFile(a as string, options, cache);
    expect(await rewiredModelFile(b as string, options, cache)).toMatchObject({
      file: first.file,
      cached: true,
    });
  });

  it('re-links an external data file that was replaced since', async () => {
    const user = await userModel();
    const cache = tmpDir('orrery-cache-');
    const options = { expose: ['blocks.0.hook_resid_pre'], steer: [] };
    const first = await rewiredModelFile(user.model, options, cache);
    const bytes = readFileSync(user.data);
    writeFileSync(`${user.data}.new`, bytes);
    renameSync(`${user.data}.new`, user.data);
    const again = await rewiredModelFile(user.model, options, cache);
    expect(again.cached).toBe(true);
    expect(statSync(path.join(path.dirname(first.file), 'model.onnx_data')).ino).toBe(
      statSync(user.data).ino,
    );
  });
});
