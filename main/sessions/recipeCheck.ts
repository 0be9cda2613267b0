/**
 * A recipe (an exported session) is checked against what is installed before it is stored:
 * its JSON is bounded (nesting depth, number of values), it is for a pack that is here, each
 * step is of the pack's kind and its input is one the run call accepts, and every dial names
 * an SAE of the pack and a feature that SAE has. Each refusal is a named error saying which
 * step and what is wrong; nothing is stored.
 */
import {
  limits,
  OrreryError,
  RecipeSchema,
  runtimeInputs,
  type Recipe,
} from '../../preload/contract';
import type { PackService } from '../packs/packService';

/** Values (objects, arrays, scalars) in one recipe at most. */
const MAX_VALUES = 200_000;

const stepKindOf = { 'text-lm': 'text', 'image-vae': 'image', 'glyph-cvae': 'glyph' } as const;

const runSchema = {
  text: runtimeInputs.textGenerate,
  image: runtimeInputs.imageSteer,
  glyph: runtimeInputs.glyphSpecimen,
} as const;

/** Nesting depth and value count of a JSON value, walked without recursion. */
function checkShape(raw: unknown): void {
  const stack: [unknown, number][] = [[raw, 1]];
  let values = 0;
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (++values > MAX_VALUES)
      throw new OrreryError('too_large', `the recipe holds more than ${MAX_VALUES} values`);
    if (v === null || typeof v !== 'object') continue;
    if (depth > limits.recipeDepth)
      throw new OrreryError(
        'too_large',
        `the recipe nests deeper than ${limits.recipeDepth} levels; the limit (recipeDepth) is ${limits.recipeDepth}`,
      );
    for (const child of Array.isArray(v) ? v : Object.values(v as object))
      stack.push([child, depth + 1]);
  }
}

function describeIssue(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  const i = error.issues[0];
  return i ? `${i.path.map(String).join('.') || '(root)'}: ${i.message}` : 'invalid';
}

/** The recipe, parsed and checked against the installed packs; throws a named error. */
export async function checkRecipe(raw: unknown, packs: PackService): Promise<Recipe> {
  checkShape(raw);
  const parsed = RecipeSchema.safeParse(raw);
  if (!parsed.success)
    throw new OrreryError('bad_input', `not an Orrery recipe: ${describeIssue(parsed.error)}`);
  const recipe = parsed.data;
  let pack;
  try {
    pack = (await packs.find(recipe.packId)).pack;
  } catch (e) {
    if (e instanceof OrreryError && e.code === 'not_found')
      throw new OrreryError(
        'not_found',
        `the recipe is for pack "${recipe.packId}", which is not installed; import the pack first`,
      );
    throw e;
  }
  const kind = stepKindOf[pack.manifest.kind];
  const saes = new Map(pack.saes.map((s) => [s.id, s]));
  for (const s of recipe.steps) {
    const at = `recipe step ${s.ref}`;
    if (s.kind !== kind)
      throw new OrreryError(
        'bad_input',
        `${at} is of kind "${s.kind}", but ${recipe.packId} is a ${pack.manifest.kind} pack`,
      );
    for (const d of s.dials) {
      const sae = saes.get(d.saeId);
      if (!sae)
        throw new OrreryError(
          'bad_input',
          `${at}: SAE "${d.saeId}" is not in pack ${recipe.packId} (it has ${[...saes.keys()].join(', ')})`,
        );
      if (sae.dSae !== null && d.feature >= sae.dSae)
        throw new OrreryError(
          'bad_input',
          `${at}: feature ${d.feature} is out of range; SAE ${sae.id} has ${sae.dSae} features (0…${sae.dSae - 1})`,
        );
    }
    const run = runSchema[s.kind].safeParse({ ...s.input, packId: recipe.packId, dials: s.dials });
    if (!run.success)
      throw new OrreryError('bad_input', `${at}: input ${describeIssue(run.error)}`);
  }
  return recipe;
}
