// YAML output for -o yaml. A static import here (this module is itself loaded lazily) avoids the
// ESM/CJS interop trap of `(await import('yaml')).stringify`, which is undefined in the bundle.
import { stringify } from 'yaml';

export function toYaml(value: unknown): string {
  return stringify(value);
}
