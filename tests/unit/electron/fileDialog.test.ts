/**
 * The desktop's Chooser over Electron's dialog (a fake Dialog stands in for the system one):
 * folder or file per request, filters per use, modal to the focused window when there is one,
 * null when cancelled.
 */
import type { BrowserWindow, Dialog, OpenDialogOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { dialogOptions, systemChooser } from '../../../main/electron/fileDialog';

function fakeDialog(answer: { canceled: boolean; filePaths: string[] }) {
  const calls: unknown[][] = [];
  const dialog = {
    showOpenDialog: (...args: unknown[]) => {
      calls.push(args);
      return Promise.resolve(answer);
    },
  } as unknown as Dialog;
  return { dialog, calls };
}

describe('system file dialog', () => {
  it('asks for a folder or a file, with filters for the use', () => {
    expect(dialogOptions({ use: 'corpus', kind: 'dir' })).toEqual({
      title: 'Choose a folder of examples',
      properties: ['openDirectory', 'dontAddToRecent'],
    });
    const zip = dialogOptions({ use: 'pack', kind: 'file' });
    expect(zip.properties).toEqual(['openFile', 'dontAddToRecent']);
    expect(zip.filters).toEqual([{ name: 'Zipped pack', extensions: ['zip'] }]);
    const labels: OpenDialogOptions = dialogOptions({ use: 'labels', kind: 'file', title: 'T' });
    expect(labels.title).toBe('T');
    expect(labels.filters?.[0]?.extensions).toEqual(['jsonl', 'json', 'gz']);
  });

  it('answers the picked path, null when cancelled, modal to the focused window', async () => {
    const win = {} as BrowserWindow;
    const picked = fakeDialog({ canceled: false, filePaths: ['/home/me/texts'] });
    const choose = systemChooser(picked.dialog, () => win);
    expect(await choose({ use: 'corpus', kind: 'dir' })).toBe('/home/me/texts');
    expect(picked.calls[0]?.[0]).toBe(win);
    const cancelled = fakeDialog({ canceled: true, filePaths: [] });
    expect(await systemChooser(cancelled.dialog, () => null)({ use: 'pack', kind: 'dir' })).toBe(
      null,
    );
    expect(cancelled.calls[0]?.[0]).toMatchObject({ title: 'Choose a model pack' });
  });
});
