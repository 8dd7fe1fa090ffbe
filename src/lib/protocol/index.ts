export * from './limits';
export * from './errors';
export * from './common';
export * from './rest';
export * from './body';
export * from './envelope';
export * from './sync-key';
export * from './events';
