/**
 * Exports, made in main with sharp (libvips): a picture scaled with the Lanczos-3 filter to the
 * size the person chose, and a dial's sweep (the effect strip's frames, −2× … +4× its typical
 * activation and its calibrated limit) as one strip, an animated WebP or GIF that plays the
 * sweep there and back, or the text packs' continuations with the changed words marked.
 */
import type Sharp from 'sharp';
import type { z } from 'zod';
import {
  OrreryError,
  type EffectStripOutput,
  type effectStripInput,
  type ExportFile,
  type exportInputs,
} from '../../preload/contract';
import type { JobContext } from '../api/jobs';
import { markedTokens, textStepExport } from './textMarks';

type Strip = z.output<typeof EffectStripOutput>;
type Frame = Strip['frames'][number];
type SharpFn = typeof Sharp;

/** What the sweep reads its frames from (the runtime service's cached effect strip). */
export interface StripSource {
  effectStrip(input: z.output<typeof effectStripInput>, job: JobContext): Promise<Strip>;
}

let sharpModule: Promise<SharpFn> | null = null;

function loadSharp(): Promise<SharpFn> {
  sharpModule ??= import('sharp').then(
    (m) => ((m as unknown as { default?: SharpFn }).default ?? m) as SharpFn,
    (e: unknown) => {
      sharpModule = null;
      throw new OrreryError(
        'unavailable',
        `exports need the 'sharp' package, which could not be loaded (${(e as Error).message})`,
      );
    },
  );
  return sharpModule;
}

/** Width and height with the long side `size`, the shape kept. */
export function scaledSize(width: number, height: number, size: number): [number, number] {
  const k = size / Math.max(width, height);
  return [Math.max(1, Math.round(width * k)), Math.max(1, Math.round(height * k))];
}

/** How a frame's strength is written: −2×, 0×, +4×, +6.4×. */
export function multipleLabel(m: number): string {
  const n = Number(m.toFixed(2));
  return `${n > 0 ? '+' : n < 0 ? '−' : ''}${Math.abs(n)}×`;
}

const safeName = (s: string): string => s.replace(/[^\w.-]+/g, '_').slice(0, 120);

async function scaleRgba(
  rgba: Uint8Array,
  width: number,
  height: number,
  size: number,
): Promise<{ data: Buffer; width: number; height: number }> {
  if (rgba.byteLength !== width * height * 4)
    throw new OrreryError(
      'bad_input',
      `the picture has ${rgba.byteLength} bytes; ${width}×${height} RGBA needs ${width * height * 4}`,
    );
  const sharp = await loadSharp();
  const [w, h] = scaledSize(width, height, size);
  const data = await sharp(rgba, { raw: { width, height, channels: 4 } })
    .resize(w, h, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer();
  return { data, width: w, height: h };
}

export class ExportService {
  constructor(private readonly strips: StripSource) {}

  /** The picture as a PNG, its long side `size` pixels. */
  async image(input: z.output<typeof exportInputs.image>): Promise<ExportFile> {
    const sharp = await loadSharp();
    const scaled = await scaleRgba(input.rgba, input.width, input.height, input.size);
    const png = await sharp(scaled.data, {
      raw: { width: scaled.width, height: scaled.height, channels: 4 },
    })
      .png({ compressionLevel: 9 })
      .toBuffer();
    return {
      bytes: new Uint8Array(png),
      mime: 'image/png',
      name: `${safeName(input.name)}-${scaled.width}x${scaled.height}.png`,
      width: scaled.width,
      height: scaled.height,
      frames: 1,
    };
  }

  /** A text run with its diff marked. */
  text(input: z.output<typeof exportInputs.text>): ExportFile {
    const text = textStepExport(input.prompt, input.before, input.after);
    return {
      bytes: new TextEncoder().encode(text),
      mime: 'text/plain',
      name: `${safeName(input.name)}.txt`,
      width: null,
      height: null,
      frames: 1,
    };
  }

  /** One dial's sweep as a strip, an animation or (text packs) marked text. */
  async sweep(input: z.output<typeof exportInputs.sweep>, job: JobContext): Promise<ExportFile> {
    const { format, size, frameMs, ...stripInput } = input;
    const strip = await this.strips.effectStrip(stripInput, job);
    const frames = [...strip.frames].sort((a, b) => a.multiple - b.multiple);
    const base = `${safeName(input.packId)}-feature-${input.feature}-sweep`;
    const texts = frames.filter((f) => f.text !== null);
    if (format === 'text' || texts.length === frames.length) {
      if (texts.length === 0)
        throw new OrreryError('bad_input', 'this pack’s sweep is pictures: export it as a strip');
      return this.sweepText(frames, base, input.prompt);
    }
    const pictures = await Promise.all(
      frames.map((f) => {
        const img = f.image;
        if (!img) throw new OrreryError('internal', 'a sweep frame has no picture');
        return scaleRgba(img.rgba, img.width, img.height, size);
      }),
    );
    const first = pictures[0];
    if (!first) throw new OrreryError('internal', 'the sweep has no frames');
    const { width, height } = first;
    const sharp = await loadSharp();
    if (format === 'strip') {
      const gap = Math.max(2, Math.round(size / 32));
      const total = pictures.length * width + (pictures.length - 1) * gap;
      const png = await sharp({
        create: { width: total, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
      })
        .composite(
          pictures.map((p, i) => ({
            input: p.data,
            raw: { width, height, channels: 4 as const },
            left: i * (width + gap),
            top: 0,
          })),
        )
        .png({ compressionLevel: 9 })
        .toBuffer();
      return {
        bytes: new Uint8Array(png),
        mime: 'image/png',
        name: `${base}-strip.png`,
        width: total,
        height,
        frames: pictures.length,
      };
    }
    // there and back: −2× … limit … −2× (the ends once each), so the loop has no jump
    const order = [...pictures, ...pictures.slice(1, -1).reverse()];
    const stack = Buffer.concat(order.map((p) => p.data));
    const pages = sharp(stack, {
      raw: { width, height: height * order.length, channels: 4, pageHeight: height },
    });
    const delay = order.map(() => frameMs);
    const bytes =
      format === 'webp'
        ? await pages.webp({ loop: 0, delay, lossless: true }).toBuffer()
        : await pages.gif({ loop: 0, delay }).toBuffer();
    return {
      bytes: new Uint8Array(bytes),
      mime: format === 'webp' ? 'image/webp' : 'image/gif',
      name: `${base}.${format}`,
      width,
      height,
      frames: order.length,
    };
  }

  private sweepText(frames: Frame[], base: string, prompt: string | undefined): ExportFile {
    const lines = frames.map((f) => {
      const t = f.text ?? { tokens: [], changed: [] };
      return `${multipleLabel(f.multiple).padStart(7)}  ${markedTokens(t.tokens, t.changed)}`;
    });
    const text = [
      `# Orrery sweep: one dial from −2× to +4× its typical activation; words that differ from 0× are marked {+like this+}`,
      prompt ? `# prompt: ${prompt}` : '# prompt: the pack’s default',
      '',
      ...lines,
      '',
    ].join('\n');
    return {
      bytes: new TextEncoder().encode(text),
      mime: 'text/plain',
      name: `${base}.txt`,
      width: null,
      height: null,
      frames: frames.length,
    };
  }
}
