export * from './errors';
export * from './http';
export * from './account';
export * from './socket';
export * from './messenger';
export * from './retry';
export * from './receiver';
export * from './receipts';
