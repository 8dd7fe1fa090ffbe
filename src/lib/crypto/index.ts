export * from './sodium';
export * from './kdf';
export * from './identity';
export * from './envelope';
export * from './safety';
export * from './takeback';
export * from './file';
