export * from './http';
export * from './account';
export * from './socket';
export * from './messenger';
