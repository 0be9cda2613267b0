/** IPC channel names: one allow-listed prefix, two channels. Kept free of zod so the preload stays tiny. */
export const ipcChannels = {
  call: 'orrery:call',
  event: 'orrery:event',
} as const;
