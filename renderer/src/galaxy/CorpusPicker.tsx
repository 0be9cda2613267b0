/**
 * Which examples the galaxy's index was built over: the pack's own, or a folder of the
 * person's own (texts, images or fonts, as the pack reads). "A folder of your own…" asks for
 * the folder; its index is then built (GalaxyPane shows the build button) into a file of its
 * own, so the pack's index and every other folder's stay as they are.
 */
import { useState } from 'react';
import type { PackKind } from '../../../preload/contract';
import { Dialog, DialogActions, PathField } from '../components/Dialog';

const ADD = '\u0000add';

const WHAT: Record<PackKind, string> = {
  'text-lm': 'text files (.txt, .md; each paragraph is an example)',
  'image-vae': 'images (PNG or JPEG)',
  'glyph-cvae': 'fonts (TTF, OTF or WOFF)',
};

export function CorpusPicker({
  kind,
  corpus,
  corpora,
  onChoose,
}: {
  kind: PackKind;
  corpus: string | null;
  corpora: readonly string[];
  onChoose: (corpus: string | null) => void;
}) {
  const [asking, setAsking] = useState(false);
  const known = corpus && !corpora.includes(corpus) ? [...corpora, corpus] : corpora;
  return (
    <>
      <select
        aria-label="Examples"
        title="The examples the feature index was built over"
        value={corpus ?? ''}
        onChange={(e) => {
          if (e.target.value === ADD) setAsking(true);
          else onChoose(e.target.value || null);
        }}
      >
        <option value="">the pack’s own examples</option>
        {known.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
        <option value={ADD}>a folder of your own…</option>
      </select>
      {asking && (
        <FolderDialog
          what={WHAT[kind]}
          onClose={() => setAsking(false)}
          onChoose={(dir) => {
            setAsking(false);
            onChoose(dir);
          }}
        />
      )}
    </>
  );
}

function FolderDialog({
  what,
  onClose,
  onChoose,
}: {
  what: string;
  onClose: () => void;
  onChoose: (dir: string) => void;
}) {
  const [dir, setDir] = useState('');
  return (
    <Dialog title="Index a folder of your own" onEscape={onClose}>
      <p className="muted">
        A folder of {what}. Subfolders become metadata (<span className="path">folder</span>), so a
        folder per category gives labels. Its index is built into a file of its own; the pack’s
        index stays as it is.
      </p>
      <PathField
        label="Examples folder"
        placeholder="/path/to/folder"
        value={dir}
        onChange={setDir}
        browse={{ use: 'corpus', kind: 'dir', title: 'Choose a folder of examples' }}
        onEnter={() => onChoose(dir.trim())}
      />
      <DialogActions
        closeLabel="Close"
        onClose={onClose}
        actionLabel="Use this folder"
        actionDisabled={dir.trim() === ''}
        onAction={() => onChoose(dir.trim())}
      />
    </Dialog>
  );
}
