/** Registers the engine of every pack kind. Imported once, by the worker. */
import { isHfModel } from '../packs/manifest';
import { registerEngine } from './engines';
import { GlyphEngine } from './glyph/glyphEngine';
import { HfTextEngine } from './hf/hfTextEngine';
import { ImageEngine } from './image/imageEngine';
import { TextEngine } from './text/textEngine';

// A text model is a pack of split graphs or a Hugging Face export opened in place.
registerEngine('text-lm', (pack) =>
  pack.manifest.kind === 'text-lm' && isHfModel(pack.manifest.model)
    ? HfTextEngine.load(pack)
    : TextEngine.load(pack),
);
registerEngine('image-vae', (pack) => ImageEngine.load(pack));
registerEngine('glyph-cvae', (pack) => GlyphEngine.load(pack));
