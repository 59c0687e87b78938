// Replaced at build time by scripts/build.mjs (define); the fallback serves tests run from source.
declare const __HIVECTL_VERSION__: string | undefined;
export const VERSION: string = typeof __HIVECTL_VERSION__ === 'string' ? __HIVECTL_VERSION__ : '0.0.0-dev';
