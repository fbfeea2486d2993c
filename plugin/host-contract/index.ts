export * from './host-api.js';
export * from './manifest-schema.js';
