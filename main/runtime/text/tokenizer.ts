/**
 * A text pack's tokenizer (Hugging Face tokenizer.json, byte-level BPE), read with
 * @huggingface/tokenizers: text → ids without special tokens (the engine adds BOS itself),
 * ids → text, one display string per token, and a stream decoder that turns generated ids
 * into text pieces that never split a UTF-8 character.
 */
import { promises as fs } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';

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
  private readonly special: ReadonlySet<number>;
  private readonly pieceCache = new Map<number, string>();

  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly vocabSize: number,
  ) {
    this.special = new Set(tokenizer.get_added_tokens_decoder().keys());
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
      tokenizer = new Tokenizer(raw as object, { clean_up_tokenization_spaces: false });
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
    return new TextTokenizer(tokenizer, vocabSize);
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
    return new TokenStream(this);
  }
}

/**
 * Turns ids, one at a time, into text pieces whose concatenation is the decoded text. A
 * piece is held back while the text ends in an incomplete UTF-8 character (decoded as
 * U+FFFD), so a character split over two tokens arrives whole with the second.
 */
export class TokenStream {
  private readonly ids: number[] = [];
  private emitted = '';

  constructor(private readonly tokenizer: TextTokenizer) {}

  /** Adds one id; returns the new text it completes (possibly ''). */
  push(id: number): string {
    this.ids.push(id);
    let text = this.tokenizer.decode(this.ids);
    let end = text.length;
    while (end > 0 && text[end - 1] === REPLACEMENT) end--;
    text = text.slice(0, end);
    return this.take(text);
  }

  /** The rest of the text (an incomplete character at the end, as U+FFFD). */
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
