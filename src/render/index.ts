// The renderer's public surface (see stack.ts).

export type { RenderedStack, RenderStackOptions } from './stack.js';
export { KIND_TIERS, kindTier, renderStack, renderStackDetailed, stackInstance, tiersOf } from './stack.js';
export * from './types.js';
