/**
 * The hooks of the image-vae and glyph-cvae kinds (PACK_FORMAT.md), named once for the
 * engines, the index build and pack validation: `latent` (the encoder's mu) and the
 * decoder's spatial map (named by the manifest, `model.spatial.hook`) of an image pack,
 * `style` of a typeface pack; and the width of the activation an SAE reads at each.
 */
import type { Manifest } from './manifest';

export const LATENT_HOOK = 'latent';
export const STYLE_HOOK = 'style';

type ImageModel = Extract<Manifest, { kind: 'image-vae' }>['model'];
type GlyphModel = Extract<Manifest, { kind: 'glyph-cvae' }>['model'];

/** An image pack's hooks → width: latent (latent_dim) and, when it has one, the spatial map. */
export function imageHookWidths(model: ImageModel): Map<string, number> {
  const w = new Map([[LATENT_HOOK, model.latent_dim]]);
  if (model.spatial) w.set(model.spatial.hook, model.spatial.channels);
  return w;
}

/** A typeface pack's one hook → width: style (style_dim). */
export function glyphHookWidths(model: GlyphModel): Map<string, number> {
  return new Map([[STYLE_HOOK, model.style_dim]]);
}
