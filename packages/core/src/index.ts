export * from './model';
export * from './node-type';
export * from './duration';
