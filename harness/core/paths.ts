// Absolute paths of the project's top-level folders, so modules never depend on the current directory.
import { fileURLToPath } from 'node:url';

export const rootDir = fileURLToPath(new URL('../../', import.meta.url));
export const specsDir = fileURLToPath(new URL('../../specs/', import.meta.url));
export const referenceDir = fileURLToPath(new URL('../../reference/', import.meta.url));
export const loadDir = fileURLToPath(new URL('../../load/', import.meta.url));
export const resultsDir = fileURLToPath(new URL('../../results/', import.meta.url));

export function specFile(slug: string, name = 'openapi.yaml'): string {
  return fileURLToPath(new URL(`../../specs/${slug}/${name}`, import.meta.url));
}
