export * from './api';
export * from './limits';
export * from './result';
export * from './schemas';
export * from './wire';
export * from './bridge';
export * from './channels';
export * from './runtime';
