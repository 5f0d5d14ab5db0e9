/**
 * The config module's public surface: environment types, the context reader, naming and tags.
 * Everything environment-specific in the app comes through here.
 */
export * from './environment-config';
export * from './environments';
export * from './naming';
export * from './tags';
