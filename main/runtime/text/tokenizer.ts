/**
 * A text pack's tokenizer (Hugging Face tokenizer.json, byte-level BPE), read with
 * @huggingface/tokenizers: text → ids without special tokens (the engine adds BOS itself),
 * ids → text, one display string per token, and a stream decoder that turns generated ids
 * into text pieces that never split a UTF-8 character.
 */
import { promises as fs } from 'node:fs';
import type { Tokenizer } from '@huggingface/tokenizers';
import { tokenizers } from '../../packages';

const MAX_TOKENIZER_BYTES = 64 * 1024 * 1024;
const REPLACEMENT = '\uFFFD';

export class TokenizerLoadError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'TokenizerLoadError';
  }
}

export class TextTokenizer {
  /** Ids of special tokens (BOS, EOS, pad …): left out of decoded text. */
  private readonly special: ReadonlySet<number>;
  private readonly pieceCache = new Map<number, string>();
  /** [id] → the bytes the token stands for (byte-level BPE), or null for another decoder. */
  private readonly bytes: (Uint8Array | null)[] | null;

  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly vocabSize: number,
    byteLevel: boolean,
  ) {
    this.special = new Set(
      [...tokenizer.get_added_tokens_decoder()].filter(([, t]) => t.special).map(([id]) => id),
    );
    this.bytes = byteLevel ? tokenBytes(tokenizer, this.special) : null;
  }

  /** Reads tokenizer.json; `vocabSize` (the manifest's) must cover every id it can produce. */
  static async load(file: string, vocabSize: number): Promise<TextTokenizer> {
    let raw: unknown;
    try {
      const st = await fs.stat(file);
      if (st.size > MAX_TOKENIZER_BYTES) {
        throw new TokenizerLoadError(file, `is ${st.size} bytes; the limit is 64 MB`);
      }
      raw = JSON.parse(await fs.readFile(file, 'utf8'));
    } catch (e) {
      if (e instanceof TokenizerLoadError) throw e;
      throw new TokenizerLoadError(file, `cannot be read (${(e as Error).message})`);
    }
    let tokenizer: Tokenizer;
    try {
      tokenizer = new (tokenizers().Tokenizer)(raw as object, {
        clean_up_tokenization_spaces: false,
      });
    } catch (e) {
      throw new TokenizerLoadError(file, `is not a usable tokenizer (${(e as Error).message})`);
    }
    let maxId = -1;
    for (const id of tokenizer.get_vocab(true).values()) maxId = Math.max(maxId, id);
    if (maxId >= vocabSize) {
      throw new TokenizerLoadError(
        file,
        `has token id ${maxId}, but the model's vocab_size is ${vocabSize}`,
      );
    }
    const decoder = (raw as { decoder?: { type?: unknown } | null }).decoder;
    return new TextTokenizer(tokenizer, vocabSize, decoder?.type === 'ByteLevel');
  }

  /** text → ids, without special tokens. */
  encode(text: string): number[] {
    if (text.length === 0) return [];
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** ids → text; special tokens (BOS, EOS, pad) are left out. */
  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode([...ids], { skip_special_tokens: true });
  }

  isSpecial(id: number): boolean {
    return this.special.has(id);
  }

  /**
   * One token as text for display: what it decodes to on its own (" the"), its content for a
   * special token ("<|bos|>"). A token that is part of a multi-byte character shows U+FFFD.
   */
  tokenText(id: number): string {
    let s = this.pieceCache.get(id);
    if (s === undefined) {
      s = this.special.has(id)
        ? (this.tokenizer.id_to_token(id) ?? `<${id}>`)
        : this.tokenizer.decode([id], { skip_special_tokens: false });
      this.pieceCache.set(id, s);
    }
    return s;
  }

  /** A decoder for a stream of generated ids. */
  stream(): TokenStream {
    return this.bytes ? new ByteStream(this.bytes) : new TextStream(this);
  }
}

/**
 * Turns ids, one at a time, into text pieces whose concatenation (with flush()) is the
 * decoded text. A character split over two tokens arrives whole with the second.
 */
export interface TokenStream {
  /** Adds one id; returns the new text it completes (possibly ''). */
  push(id: number): string;
  /** The rest of the text (an incomplete character at the end, as U+FFFD). */
  flush(): string;
}

/** Byte-level BPE: each token is bytes; a streaming UTF-8 decoder joins them, O(1) a token. */
class ByteStream implements TokenStream {
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false });

  constructor(private readonly bytes: readonly (Uint8Array | null)[]) {}

  push(id: number): string {
    const b = this.bytes[id];
    return b ? this.utf8.decode(b, { stream: true }) : '';
  }

  flush(): string {
    return this.utf8.decode();
  }
}

/**
 * Any other decoder: decodes the whole sequence on each id (O(n) a token) and sends what
 * is new, holding back a trailing U+FFFD (an incomplete character).
 */
class TextStream implements TokenStream {
  private readonly ids: number[] = [];
  private emitted = '';

  constructor(private readonly tokenizer: TextTokenizer) {}

  push(id: number): string {
    this.ids.push(id);
    let text = this.tokenizer.decode(this.ids);
    let end = text.length;
    while (end > 0 && text[end - 1] === REPLACEMENT) end--;
    text = text.slice(0, end);
    return this.take(text);
  }

  flush(): string {
    return this.take(this.tokenizer.decode(this.ids));
  }

  private take(text: string): string {
    // Byte-level BPE only ever extends the text. (A decoder that rewrites earlier text would
    // get its pieces from the length already sent: approximate, but never repeated.)
    if (text.length <= this.emitted.length) return '';
    const piece = text.slice(this.emitted.length);
    this.emitted = text;
    return piece;
  }
}

/**
 * GPT-2's byte ↔ unicode table, as byte-level BPE writes bytes in its vocab: printable
 * Latin-1 bytes stand for themselves, the other 68 bytes for U+0100 onwards.
 */
function byteDecoder(): Map<string, number> {
  const bytes: number[] = [];
  for (let b = 33; b <= 126; b++) bytes.push(b);
  for (let b = 161; b <= 172; b++) bytes.push(b);
  for (let b = 174; b <= 255; b++) bytes.push(b);
  const chars = [...bytes];
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + extra++);
    }
  }
  return new Map(chars.map((c, i) => [String.fromCodePoint(c), bytes[i] ?? 0]));
}

/**
 * [id] → bytes for every vocab token (special tokens: none, as decode skips them; other
 * added tokens: their UTF-8). Null when a token holds a character outside the byte table,
 * i.e. the vocab is not byte-level after all.
 */
function tokenBytes(
  tokenizer: Tokenizer,
  special: ReadonlySet<number>,
): (Uint8Array | null)[] | null {
  const table = byteDecoder();
  const added = tokenizer.get_added_tokens_decoder();
  const out: (Uint8Array | null)[] = [];
  const utf8 = new TextEncoder();
  for (const [token, id] of tokenizer.get_vocab(true)) {
    if (special.has(id)) {
      out[id] = null;
      continue;
    }
    if (added.has(id)) {
      out[id] = utf8.encode(token);
      continue;
    }
    const chars = [...token];
    const b = new Uint8Array(chars.length);
    for (let i = 0; i < chars.length; i++) {
      const v = table.get(chars[i] ?? '');
      if (v === undefined) return null;
      b[i] = v;
    }
    out[id] = b;
  }
  return out;
}
