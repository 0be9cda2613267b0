/**
 * A text model's example texts (examples.jsonl: one {"text", "meta"} object a line), shared by
 * the text engines: the first INFO_EXAMPLES as RuntimeInfo lists them, a whole example's text
 * by index (selections), and an even corpus sample. The file is read once, when first needed.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { createInterface } from 'node:readline';
import { OrreryError, type RuntimeInfo } from '../../../preload/contract';
import type { SelectionInput } from '../../../preload/contract/selections';
import { spreadIndices } from '../selectionMath';

/** How many examples info() lists. */
export const INFO_EXAMPLES = 200;
const EXAMPLE_NAME_CHARS = 60;

export class ExampleTexts {
  private lines: Promise<string[]> | null = null;

  /** `file` null: a model without examples. */
  constructor(readonly file: string | null) {}

  /** The example texts' lines (read once). */
  private all(): Promise<string[]> {
    const file = this.file;
    if (file === null) return Promise.resolve([]);
    this.lines ??= fs
      .readFile(file, 'utf8')
      .then((t) => t.split('\n').filter((l) => l.trim() !== ''));
    return this.lines;
  }

  /** `count` of the example texts, evenly spread over the file. */
  async sample(count: number): Promise<SelectionInput[]> {
    const total = (await this.all()).length;
    return spreadIndices(total, count).map((example) => ({ source: { example } }));
  }

  /** An example's whole text (a person's uploaded text is not a source here). */
  async text(source: { example: number } | { blob: string }): Promise<string> {
    const lines = await this.all();
    const i = 'example' in source ? source.example : -1;
    const line = lines[i];
    if (line === undefined) {
      throw new OrreryError(
        'bad_input',
        'example' in source
          ? `example ${i} is not in this pack (0…${lines.length - 1})`
          : 'a text pack reads texts and its own examples, not uploaded files',
      );
    }
    const { text } = JSON.parse(line) as { text?: unknown };
    return typeof text === 'string' ? text : '';
  }

  /** The first INFO_EXAMPLES lines as {index, name, meta}. */
  async listed(): Promise<RuntimeInfo['examples']> {
    return this.file === null ? [] : readExamples(this.file);
  }
}

/** The first INFO_EXAMPLES lines of examples.jsonl as {index, name, meta}. */
async function readExamples(file: string): Promise<RuntimeInfo['examples']> {
  const out: RuntimeInfo['examples'] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (out.length >= INFO_EXAMPLES) break;
      const index = out.length;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch (e) {
        throw new OrreryError(
          'bad_pack',
          `${file}, line ${index + 1}: not JSON (${(e as Error).message})`,
        );
      }
      const { text, meta } = (row ?? {}) as { text?: unknown; meta?: unknown };
      if (typeof text !== 'string') {
        throw new OrreryError('bad_pack', `${file}, line ${index + 1}: no "text" string`);
      }
      out.push({
        index,
        name: [...text].slice(0, EXAMPLE_NAME_CHARS).join(''),
        meta:
          meta !== null && typeof meta === 'object' && !Array.isArray(meta)
            ? (meta as Record<string, unknown>)
            : {},
      });
    }
  } finally {
    lines.close();
  }
  return out;
}
