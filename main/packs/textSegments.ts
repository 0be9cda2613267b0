/**
 * A split text-lm pack's graphs in the order one step runs them (PACK_FORMAT.md, text-lm):
 * `below` (tokens → the residual at the first hook), one `middle` graph between each pair of
 * consecutive hooks when the pack has SAEs at several (`model.hooks`), and `above` (the last
 * hook → logits). Each graph after `below` reads the residual the one before gave plus a
 * steering tensor added to it at that hook. Named once for the validator, the text engine and
 * the index build.
 */
import { textHookLayer, type TextGraphs } from './manifest';
import type { z } from 'zod';

/** What a split text model says of its graphs and hooks. */
export interface SegmentedModel {
  onnx: z.infer<typeof TextGraphs>;
  hook: string;
  hooks?: string[] | undefined;
  n_layers: number;
}

export interface TextSegment {
  /** The graph file, relative to the pack. */
  rel: string;
  /** The hook whose residual (plus steering) it reads; null for `below` (it reads tokens). */
  from: string | null;
  /** The hook whose residual it gives; null for `above` (it gives logits). */
  to: string | null;
  /** The blocks it runs, whose KV caches it holds. */
  layers: number[];
  /** Its main output: hook_resid (below), next_hook_resid (middle) or logits (above). */
  output: 'hook_resid' | 'next_hook_resid' | 'logits';
}

/** The hooks the graphs are split at, in layer order. */
export function textHooks(model: Pick<SegmentedModel, 'hook' | 'hooks'>): string[] {
  return model.hooks ?? [model.hook];
}

/** The graphs in run order; throws an Error naming the field when the manifest disagrees. */
export function textSegments(model: SegmentedModel): TextSegment[] {
  const hooks = textHooks(model);
  const layers = hooks.map((h) => textHookLayer(h, model.n_layers));
  layers.forEach((l, i) => {
    if (l === null)
      throw new Error(
        `model.${model.hooks ? `hooks[${i}]` : 'hook'} "${hooks[i] ?? ''}" is not ` +
          `blocks.<layer>.hook_resid_post of one of its ${model.n_layers} layers`,
      );
    const prev = i > 0 ? layers[i - 1] : null;
    if (prev !== null && prev !== undefined && l !== null && l <= prev)
      throw new Error(`model.hooks must name each hook once, in layer order (${hooks.join(', ')})`);
  });
  if (hooks[0] !== model.hook)
    throw new Error(`model.hook "${model.hook}" must be the first of model.hooks ("${hooks[0]}")`);
  const middle = model.onnx.middle ?? [];
  if (middle.length !== hooks.length - 1)
    throw new Error(
      `model.onnx.middle names ${middle.length} graph(s); ${hooks.length} hook(s) need ` +
        `${hooks.length - 1} (one between each pair of consecutive hooks)`,
    );
  const range = (from: number, to: number): number[] =>
    Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
  const at = (i: number): number => layers[i] as number;
  const out: TextSegment[] = [
    {
      rel: model.onnx.below,
      from: null,
      to: model.hook,
      layers: range(0, at(0) + 1),
      output: 'hook_resid',
    },
  ];
  middle.forEach((rel, i) =>
    out.push({
      rel,
      from: hooks[i] as string,
      to: hooks[i + 1] as string,
      layers: range(at(i) + 1, at(i + 1) + 1),
      output: 'next_hook_resid',
    }),
  );
  out.push({
    rel: model.onnx.above,
    from: hooks[hooks.length - 1] as string,
    to: null,
    layers: range(at(hooks.length - 1) + 1, model.n_layers),
    output: 'logits',
  });
  return out;
}
