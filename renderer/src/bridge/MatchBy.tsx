/**
 * What the bridge shown matches by, in the bridge pane's header ("by activations"); where the
 * pair has a bridge built and another way to bridge it (built or not), a select between them: a
 * built one is shown at once, one not built yet is offered to build (BuildBridge).
 */
import { runAction } from '../actions/registry';
import { methodSentence, methodWords, orderedMethods, type BridgeMethodName } from './scoreName';

export function MatchBy({
  shown,
  wanted,
  built,
  methods,
}: {
  /** The method of the bridge shown; null while none is. */
  shown: BridgeMethodName | null;
  /** The method the person chose; null: none. */
  wanted: BridgeMethodName | null;
  /** The pair's built bridges' methods, and the methods it can be built by. */
  built: BridgeMethodName[];
  methods: BridgeMethodName[];
}) {
  const options = orderedMethods(methods, built);
  if (built.length > 0 && options.length > 1)
    return (
      <span className="bridge-method" data-testid="bridge-method" data-method={shown ?? ''}>
        <select
          aria-label="Match by"
          value={shown ?? wanted ?? ''}
          title={shown ? methodSentence(shown) : undefined}
          onChange={(e) =>
            void runAction('set-bridge-method', {
              method: options.find((m) => m === e.target.value) ?? null,
            })
          }
        >
          {!(shown ?? wanted) && <option value="">…</option>}
          {options.map((m) => (
            <option key={m} value={m}>
              by {methodWords(m)}
              {built.includes(m) ? '' : ' (not built)'}
            </option>
          ))}
        </select>
      </span>
    );
  if (!shown) return null;
  return (
    <span
      className="bridge-method"
      data-testid="bridge-method"
      data-method={shown}
      title={methodSentence(shown)}
    >
      by {methodWords(shown)}
    </span>
  );
}
