/** The pack the page showed last, remembered for the next start (localStorage). */
const KEY = 'orrery.selectedPack';

export const rememberedPack = (): string | null => localStorage.getItem(KEY);

export const rememberPack = (packId: string): void => localStorage.setItem(KEY, packId);
