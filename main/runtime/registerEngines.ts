/** Registers the engine of every pack kind. Imported once, by the worker. */
import { registerEngine } from './engines';
import { ImageEngine } from './image/imageEngine';
import { TextEngine } from './text/textEngine';

registerEngine('text-lm', (pack) => TextEngine.load(pack));
registerEngine('image-vae', (pack) => ImageEngine.load(pack));
