/** Registers the engine of every pack kind. Imported once, by the worker. */
import { registerEngine } from './engines';
import { GlyphEngine } from './glyph/glyphEngine';
import { ImageEngine } from './image/imageEngine';
import { TextEngine } from './text/textEngine';

registerEngine('text-lm', (pack) => TextEngine.load(pack));
registerEngine('image-vae', (pack) => ImageEngine.load(pack));
registerEngine('glyph-cvae', (pack) => GlyphEngine.load(pack));
